"""Idle worker threads wake the moment a task is queued (PostgreSQL LISTEN/NOTIFY); their
polling (`db_worker --interval`) stays as the fallback.

A trigger (migration 0004) sends NOTIFY on CHANNEL, with the queue's name, whenever a task row
becomes ready now (queued, or given back by the reaper). It is sent in the writing transaction,
so PostgreSQL delivers it on commit, never before the row can be seen. One listener thread per
worker process holds a connection of its own, LISTENs, and rings the process's Doorbell for each
notification about a queue the process takes: one idle thread wakes and claims, and a thread
that claimed a task rings again, so that a transaction that queued several tasks (PostgreSQL
folds its identical notifications into one) wakes as many threads as it has tasks. A lost
connection is opened again after a pause, and the bell rung for every thread, since what was
sent meanwhile is lost. On SQLite, or with JOB_LISTEN=0, there is no listener: threads poll."""

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connections, router

logger = logging.getLogger(__name__)
CHANNEL = "likeness_jobs"  # also in jobs/migrations/0004_notify_ready_tasks.py
RECONNECT_SECONDS = 5.0


class Doorbell:
    """Idle threads wait on it, at most their polling interval. Each ring wakes one; a ring
    while no thread waits is kept (up to `limit`), so a ring that lands between a thread's
    empty poll and its wait is not lost. close() wakes every thread for good."""

    def __init__(self, limit: int = 1):
        self._cond = threading.Condition()
        self._rings = 0
        self._limit = max(1, limit)
        self.closed = False

    def ring(self, times: int = 1) -> None:
        with self._cond:
            self._rings = min(self._limit, self._rings + times)
            self._cond.notify(times)

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        """True when rung (or closed), False when `timeout` passed first."""
        with self._cond:
            self._cond.wait_for(lambda: self._rings or self.closed, timeout)
            if self._rings:
                self._rings -= 1
                return True
            return self.closed


def database_alias() -> str:
    from django_tasks_db.models import DBTaskResult

    return router.db_for_write(DBTaskResult)


def can_listen() -> bool:
    return settings.JOB_LISTEN and connections[database_alias()].vendor == "postgresql"


def queue_filter(queue_names: list[str], excluded: list[str]) -> Callable[[str], bool]:
    """Whether a notification's queue is one these worker threads take (as they claim)."""
    if "*" in queue_names:
        return lambda queue: queue not in excluded
    return lambda queue: queue in queue_names


class Listener:
    """The process's LISTEN connection, run in a thread of its own until `stopping` is set."""

    def __init__(self, bell: Doorbell, wants: Callable[[str], bool], stopping: threading.Event,
                 *, threads: int = 1):
        self.bell, self.wants, self.stopping, self.threads = bell, wants, stopping, threads
        self.listening = threading.Event()  # set while notifications can arrive

    def run(self) -> None:
        while not self.stopping.is_set():
            wrapper = connections.create_connection(database_alias())
            try:
                wrapper.ensure_connection()
                wrapper.connection.execute(f"LISTEN {CHANNEL}")
                self.listening.set()
                self.bell.ring(self.threads)  # whatever was queued before we listened
                while not self.stopping.is_set():
                    for note in wrapper.connection.notifies(timeout=1.0):
                        if self.wants(note.payload):
                            self.bell.ring()
            except Exception:  # a lost connection: the threads poll meanwhile
                logger.warning("job notifications lost; listening again in %.0f s",
                               RECONNECT_SECONDS, exc_info=True)
                self.stopping.wait(RECONNECT_SECONDS)
            finally:
                self.listening.clear()
                try:
                    wrapper.close()
                except Exception:  # noqa: BLE001,S110 - already broken
                    pass
