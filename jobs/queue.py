"""Enqueueing, so that a job exists exactly when the row it works on does."""

from django.db import transaction
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from jobs.routes import queue_for


def enqueue(task, *args, run_after=None, **kwargs):
    """Queue a task so that it exists exactly when the surrounding transaction commits.

    With the database backend the task row is written inside the caller's transaction, so the
    domain row and its job commit (or vanish) together; any other backend queues on commit.
    The queue is chosen here, by the task's kind (jobs.routes, TASK_ROUTES)."""
    queue = queue_for(task, args, kwargs)
    if queue != task.queue_name:
        task = task.using(queue_name=queue)
    if run_after is not None:
        task = task.using(run_after=run_after)
    if isinstance(task_backends[task.backend], DatabaseBackend):
        return task.enqueue(*args, **kwargs)
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
    return None


def queue_depth() -> int:
    return DBTaskResult.objects.ready().count()
