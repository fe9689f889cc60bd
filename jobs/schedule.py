"""Recurring tasks, queued exactly once per period however many workers run.

RECURRING_TASKS in settings maps a name to (task path, seconds). Every worker calls run_due()
from its heartbeat; the first to lock a due row queues the task and moves the row forward."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from jobs.models import RecurringTask
from jobs.queue import enqueue


def run_due(now=None) -> list[str]:
    now = now or timezone.now()
    queued = []
    for name, (task_path, every) in settings.RECURRING_TASKS.items():
        RecurringTask.objects.get_or_create(name=name, defaults={"next_run_at": now})
        with transaction.atomic():
            row = (RecurringTask.objects.select_for_update(skip_locked=True)
                   .filter(name=name, next_run_at__lte=now).first())
            if row is None:
                continue
            enqueue(import_string(task_path))
            row.last_run_at = now
            row.next_run_at = now + timedelta(seconds=every)
            row.save(update_fields=["last_run_at", "next_run_at"])
            queued.append(name)
    return queued
