from django.db import models


class WorkerHeartbeat(models.Model):
    """A live worker process. It refreshes beat_at every few seconds while it runs; a RUNNING
    task whose worker's heartbeat is older than the lease is handed to another worker."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    queues = models.CharField(max_length=200, default="default")
    started_at = models.DateTimeField(auto_now_add=True)
    beat_at = models.DateTimeField(db_index=True)
    current_task_id = models.CharField(max_length=64, blank=True)
    tasks_run = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.hostname}:{self.pid} ({self.worker_id[:8]})"
