"""Enqueueing, retries with backoff, and the reaper that gives the work of dead workers back.

django-tasks-db runs each task once and leaves a task whose worker died RUNNING forever; the
lease (worker heartbeats) and bounded retries are ours."""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# Sent when a task was recovered from dead workers too often and is given up:
# receivers put the domain row in a final state (and refund what it reserved).
task_abandoned = Signal()  # kwargs: task_path, args, kwargs


def enqueue(task, *args, run_after=None, **kwargs):
    """Queue a task so that it exists exactly when the surrounding transaction commits.

    With the database backend the task row is written inside the caller's transaction, so the
    domain row and its job commit (or vanish) together; any other backend queues on commit."""
    if run_after is not None:
        task = task.using(run_after=run_after)
    if isinstance(task_backends[task.backend], DatabaseBackend):
        return task.enqueue(*args, **kwargs)
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
    return None


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; a provider's Retry-After wins when it asks for longer."""
    base = settings.JOB_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0))
    delay = min(base, 300) * (0.8 + random.random() * 0.4)
    if retry_after:
        delay = max(delay, retry_after)
    return delay


def retry_later(task, *args, attempt: int, retry_after: float | None = None, **kwargs):
    delay = backoff_seconds(attempt, retry_after)
    logger.info("retrying %s%s in %.1fs (attempt %d)", task.name, args, delay, attempt)
    return enqueue(task, *args, run_after=timezone.now() + timedelta(seconds=delay), **kwargs)


def reap_orphaned_tasks(now=None) -> dict:
    """Give RUNNING tasks whose worker stopped beating back to the queue (or give them up after
    JOB_MAX_ATTEMPTS claims). Safe to run from every worker at once."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    alive = set(
        WorkerHeartbeat.objects.filter(beat_at__gte=cutoff).values_list("worker_id", flat=True)
    )
    requeued = abandoned = 0
    candidates = DBTaskResult.objects.running().filter(started_at__lt=cutoff)
    for candidate in candidates.only("id", "worker_ids"):
        owner = candidate.worker_ids[-1] if candidate.worker_ids else None
        if owner in alive:
            continue
        with transaction.atomic():
            row = DBTaskResult.objects.select_for_update().filter(
                id=candidate.id, status=TaskResultStatus.RUNNING
            ).first()
            if row is None or (row.worker_ids and row.worker_ids[-1] != owner):
                continue
            if len(row.worker_ids) >= settings.JOB_MAX_ATTEMPTS:
                row.set_failed(RuntimeError(f"abandoned after {len(row.worker_ids)} dead workers"))
                args = row.args_kwargs
                transaction.on_commit(
                    lambda row=row, args=args: task_abandoned.send(
                        sender=DBTaskResult, task_path=row.task_path,
                        args=args["args"], kwargs=args["kwargs"],
                    )
                )
                abandoned += 1
            else:
                row.status = TaskResultStatus.READY
                row.run_after = now
                row.save(update_fields=["status", "run_after"])
                requeued += 1
            logger.warning("task %s of dead worker %s: %s", row.id, owner,
                           "abandoned" if row.status == TaskResultStatus.FAILED else "requeued")
    WorkerHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=1)).delete()
    return {"requeued": requeued, "abandoned": abandoned}


def queue_depth() -> int:
    return DBTaskResult.objects.ready().count()
