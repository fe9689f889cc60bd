"""Which queue a task goes to (TASK_ROUTES), decided when it is queued.

A task's *kind* says what its work needs. An app names the kind of one of its tasks with
`register_kind(task, kind_of)`, a function of the task's arguments: generation says `local`
when the generation's route asks the local GPU engine first, studio when the run trains on it.
TASK_ROUTES maps a kind, or a task's dotted path, to a queue (the kind wins); a task that
neither names goes to `default`. Deciding at enqueue time, from the row the task works on,
means every way a task is queued (a request, a retry, a poll, the reconcile sweep) routes it
the same way, and the job row carries its queue from then on (the reaper keeps it).

The GPU queue is the one TASK_ROUTES gives the `local` kind (`gpu` unless configured): a worker
takes it only when it names it, and a worker that names it takes nothing else (jobs' db_worker
command), so web and provider-bound work never waits behind a GPU job, nor lands on a GPU
machine."""

from collections.abc import Callable

from django.conf import settings
from django_tasks.base import DEFAULT_TASK_QUEUE_NAME

LOCAL = "local"  # the kind of work for this installation's own GPU (providers.local)
DEFAULT_QUEUE = DEFAULT_TASK_QUEUE_NAME

_kinds: dict[str, Callable[..., str | None]] = {}


def register_kind(task, kind_of: Callable[..., str | None]) -> None:
    """`kind_of(*args, **kwargs)` names the kind of `task` called with those arguments (or
    None); it may read the database, inside the caller's transaction."""
    _kinds[task.module_path] = kind_of


def kind_of(task, args=(), kwargs=None) -> str | None:
    classify = _kinds.get(task.module_path)
    return classify(*args, **(kwargs or {})) if classify else None


def queue_for(task, args=(), kwargs=None) -> str:
    """The queue for `task(*args, **kwargs)`: one chosen in code (`task.using(queue_name=…)`)
    stays; else TASK_ROUTES for its kind, then for its dotted path; else `default`."""
    if task.queue_name != DEFAULT_QUEUE:
        return task.queue_name
    routes = settings.TASK_ROUTES
    for key in (kind_of(task, args, kwargs), task.module_path):
        if key and key in routes:
            return routes[key]
    return DEFAULT_QUEUE


def gpu_queues() -> set[str]:
    """The queues only GPU workers take: the one the `local` kind goes to, unless that is the
    default queue (one machine that does everything)."""
    queue = settings.TASK_ROUTES.get(LOCAL)
    return {queue} if queue and queue != DEFAULT_QUEUE else set()
