"""A long task says it is still making progress (a training step, a provider poll), so its
worker thread is not taken for stuck (jobs.worker, JOB_STUCK_SECONDS); and a process that can
no longer do its work (a GPU whose CUDA context is lost) asks its worker to exit."""

import logging
import threading
import time

logger = logging.getLogger(__name__)
_local = threading.local()
_restart = threading.Event()
EXIT_RESTART = 75  # EX_TEMPFAIL: the supervisor should start the worker again


def running_in(thread) -> None:
    """Called by the worker thread as it starts a task."""
    _local.thread = thread
    thread.progress_at = time.monotonic()


def still_working() -> None:
    thread = getattr(_local, "thread", None)
    if thread is not None and thread.progress_at is not None:
        thread.progress_at = time.monotonic()


def request_restart(reason: str) -> None:
    """This process cannot run more work (its GPU's CUDA context is lost until it exits): the
    worker finishes the tasks in hand, takes no other, and exits with EXIT_RESTART so that its
    supervisor starts a fresh process with a fresh context."""
    if not _restart.is_set():
        logger.error("this worker will exit after the tasks in hand: %s", reason)
    _restart.set()


def restart_requested() -> bool:
    return _restart.is_set()
