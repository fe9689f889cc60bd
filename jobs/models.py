from django.db import models


class WorkerHeartbeat(models.Model):
    """A live worker thread. Its process's heartbeat refreshes beat_at every few seconds while
    the thread is not stuck; a RUNNING task whose worker's heartbeat is older than the lease is
    handed to another worker (the task records which thread claimed it in worker_ids)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    queues = models.CharField(max_length=200, default="default")
    started_at = models.DateTimeField(auto_now_add=True)
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.hostname}:{self.pid} ({self.worker_id[:8]})"


class RecurringTask(models.Model):
    """When a recurring task (reconcile, sweeps, retention) is next due. Workers claim a due
    row under a lock and move next_run_at forward before queueing the task, so each period
    queues it once however many workers run."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name
