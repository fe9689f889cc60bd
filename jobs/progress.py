"""A long task says it is still making progress (a training step, a provider poll), so its
worker thread is not taken for stuck (jobs.worker, JOB_STUCK_SECONDS)."""

import threading
import time

_local = threading.local()


def running_in(thread) -> None:
    """Called by the worker thread as it starts a task."""
    _local.thread = thread
    thread.progress_at = time.monotonic()


def still_working() -> None:
    thread = getattr(_local, "thread", None)
    if thread is not None and thread.progress_at is not None:
        thread.progress_at = time.monotonic()
