"""The worker process: N threads claim and run tasks (django-tasks-db's claim, our loop), and one
heartbeat thread per process renews the leases of all of them in one statement, then runs the
reaper and the recurring-task scheduler once. On PostgreSQL one listener thread per process wakes
an idle thread the moment a task is queued (jobs.notify); the threads' polling every `--interval`
seconds stays as the fallback.

Each thread has its own worker id (tasks record which thread claimed them) and its own heartbeat
row. A thread that has spent more than JOB_STUCK_SECONDS in one task without reporting progress
(jobs.progress.still_working) is no longer renewed: its lease runs out and the reaper gives its task
to another worker, while the thread may still finish (every task is idempotent). One SIGINT/SIGTERM
lets every thread finish the task in hand; a second one exits at once."""

import logging
import os
import random
import signal
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from jobs.models import WorkerHeartbeat
from jobs.notify import Doorbell, Listener, can_listen, queue_filter
from jobs.progress import restart_requested, running_in
from jobs.reaper import reap_orphaned_tasks
from jobs.schedule import run_due

logger = logging.getLogger("jobs")


class WorkerThread(db_worker.Worker):
    """django-tasks-db's worker, run in a thread of a Pool. Its loop is django-tasks-db's
    (claim with SKIP LOCKED, run, poll again at once after a task), except that an idle thread
    waits on the pool's doorbell, which a queued task rings, rather than sleeping."""

    def __init__(self, *, doorbell: Doorbell | None = None, **kwargs):
        super().__init__(**kwargs)
        self.progress_at: float | None = None  # set while a task runs
        self.doorbell = doorbell or Doorbell()

    def claim_next(self) -> tuple[DBTaskResult | None, bool]:
        """(the task claimed or None, whether the queue could be read)."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)  # no other worker runs it now
                return task_result, True
            except OperationalError as exc:
                if is_locked_database_exception(exc):  # SQLite busy: try again
                    return None, False
                raise

    def loop(self):
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id,
                    ",".join(self.queue_names))
        if self.startup_delay and self.interval:
            self.doorbell.wait(random.random())  # no thundering herd at start
        while self.running:
            close_old_connections()
            task_result, read = self.claim_next()
            if task_result is not None:
                self.doorbell.ring()  # one task taken, maybe more are waiting: next thread
                self.run_task(task_result)
            if self.batch and read and task_result is None:
                logger.info("No more tasks to run for worker_id=%s", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                logger.info("Ran %d tasks on worker=%s, stopping", self._run_tasks,
                            self.worker_id)
                return
            close_old_connections()
            if self.running and task_result is None:
                self.doorbell.wait(self.interval)

    def run_task(self, db_task_result):
        running_in(self)
        try:
            super().run_task(db_task_result)
        finally:
            self.progress_at = None
            if restart_requested():
                self.running = False  # take no other task (jobs.progress.request_restart)

    @property
    def healthy(self) -> bool:
        return (self.progress_at is None
                or time.monotonic() - self.progress_at < settings.JOB_STUCK_SECONDS)

    def run(self):
        try:
            self.loop()
        finally:
            connection.close()


class Pool:
    def __init__(self, threads: int, *, worker_id: str, queue_names: list[str], **options):
        self.worker_id = worker_id
        self.queue_names = queue_names
        ids = [worker_id] if threads <= 1 else [f"{worker_id[:56]}-{n}" for n in range(threads)]
        self.doorbell = Doorbell(limit=threads)
        self.threads = [WorkerThread(worker_id=thread_id, queue_names=queue_names,
                                     doorbell=self.doorbell, **options)
                        for thread_id in ids]
        self.stopping = threading.Event()
        self.listener = Listener(
            self.doorbell, queue_filter(queue_names, options.get("excluded_queue_names") or []),
            self.stopping, threads=threads) if can_listen() else None

    def register(self):
        now = timezone.now()
        for thread in self.threads:
            WorkerHeartbeat.objects.update_or_create(worker_id=thread.worker_id, defaults={
                "hostname": socket.gethostname()[:255], "pid": os.getpid(),
                "queues": ",".join(self.queue_names)[:200], "beat_at": now})

    def beat(self) -> int:
        """Renew the lease of every thread that is not stuck, in one statement."""
        alive = [t.worker_id for t in self.threads if t.healthy]
        return WorkerHeartbeat.objects.filter(worker_id__in=alive).update(beat_at=timezone.now())

    def heartbeat_loop(self):
        while not self.stopping.wait(settings.JOB_HEARTBEAT_SECONDS):
            if restart_requested():
                self.stop()  # every thread finishes its task, then the process exits
            try:
                close_old_connections()
                self.beat()
                reap_orphaned_tasks()
                run_due()
            except Exception:  # a failed beat must not kill the worker; the next one retries
                logger.exception("heartbeat failed")
        connection.close()

    def shutdown(self, signum, frame):
        if self.stopping.is_set():
            os._exit(1)  # a second signal: do not wait any longer
        logger.warning("%s: finishing the tasks under way, then stopping",
                       signal.strsignal(signum))
        self.stop()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.running = False
        self.doorbell.close()  # idle threads stop waiting for their interval

    def configure_signals(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.shutdown)

    def run(self):
        beater = threading.Thread(target=self.heartbeat_loop, name="heartbeat", daemon=True)
        runners = [threading.Thread(target=t.run, name=f"worker-{n}")
                   for n, t in enumerate(self.threads)]
        # Start-up is inside the try: a SIGTERM that lands during it must still remove the rows.
        try:
            self.register()
            reap_orphaned_tasks()
            beater.start()
            if self.listener is not None:
                threading.Thread(target=self.listener.run, name="listener", daemon=True).start()
            for runner in runners:
                runner.start()
            while any(runner.is_alive() for runner in runners):
                for runner in runners:
                    runner.join(timeout=0.5)
        finally:
            self.stop()
            if beater.is_alive():  # a beat under way would renew a row deleted below
                beater.join(timeout=settings.JOB_HEARTBEAT_SECONDS + 10)
            WorkerHeartbeat.objects.filter(
                worker_id__in=[t.worker_id for t in self.threads]).delete()
            connection.close()
