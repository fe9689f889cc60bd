"""The reaper: it gives the work of dead workers back.

django-tasks-db runs each task once and leaves a task whose worker died RUNNING forever; the
lease (worker heartbeats, jobs.worker) and bounded recoveries are ours. A task recovered from
dead workers JOB_MAX_ATTEMPTS times is given up, and `task_abandoned` (sent on commit) lets the
app that owns it put its row in a final state."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# kwargs: task_path, args, kwargs. Every app connects its receiver in its AppConfig.ready().
task_abandoned = Signal()


def _give_back(candidate_id, owner, now) -> str | None:
    """Requeue (or abandon) one task of a dead worker, under a row lock; what was done."""
    with transaction.atomic():
        row = DBTaskResult.objects.select_for_update().filter(
            id=candidate_id, status=TaskResultStatus.RUNNING).first()
        if row is None or (row.worker_ids and row.worker_ids[-1] != owner):
            return None
        if len(row.worker_ids) >= settings.JOB_MAX_ATTEMPTS:
            row.set_failed(RuntimeError(f"abandoned after {len(row.worker_ids)} dead workers"))
            args = row.args_kwargs
            transaction.on_commit(lambda: task_abandoned.send(
                sender=DBTaskResult, task_path=row.task_path, args=args["args"],
                kwargs=args["kwargs"]))
            outcome = "abandoned"
        else:
            row.status = TaskResultStatus.READY
            row.run_after = now
            row.save(update_fields=["status", "run_after"])
            outcome = "requeued"
    logger.warning("task %s of dead worker %s: %s", candidate_id, owner, outcome)
    return outcome


def reap_orphaned_tasks(now=None) -> dict:
    """Give RUNNING tasks whose worker's lease has expired back to the queue (or give them up
    after JOB_MAX_ATTEMPTS claims). Safe to run from every worker at once."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    alive = set(
        WorkerHeartbeat.objects.filter(beat_at__gte=cutoff).values_list("worker_id", flat=True))
    counts = {"requeued": 0, "abandoned": 0}
    candidates = DBTaskResult.objects.running().filter(started_at__lt=cutoff)
    for candidate in candidates.only("id", "worker_ids"):
        owner = candidate.worker_ids[-1] if candidate.worker_ids else None
        if owner in alive:
            continue
        outcome = _give_back(candidate.id, owner, now)
        if outcome:
            counts[outcome] += 1
    WorkerHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=1)).delete()
    return counts
