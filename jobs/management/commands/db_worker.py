"""`manage.py db_worker`: django-tasks-db's worker plus a heartbeat lease and the reaper.

A thread refreshes this worker's heartbeat row; every beat it also runs the reaper, so a task
left RUNNING by a worker that was killed is picked up again once the lease has expired."""

import logging
import os
import signal
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from jobs.models import WorkerHeartbeat
from jobs.queue import reap_orphaned_tasks
from jobs.schedule import run_due

logger = logging.getLogger("jobs")


class LeasedWorker(db_worker.Worker):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.current_task_id = ""
        self.stop_beating = threading.Event()

    def beat(self):
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "queues": ",".join(self.queue_names)[:200],
                "beat_at": timezone.now(),
                "current_task_id": self.current_task_id,
                "tasks_run": self._run_tasks,
            },
        )

    def heartbeat_loop(self):
        while not self.stop_beating.wait(settings.JOB_HEARTBEAT_SECONDS):
            try:
                close_old_connections()
                self.beat()
                reap_orphaned_tasks()
                run_due()
            except Exception:  # a failed beat must not kill the worker; the next one retries
                logger.exception("heartbeat failed")
        connection.close()

    def run_task(self, db_task_result):
        self.current_task_id = str(db_task_result.id)
        try:
            super().run_task(db_task_result)
        finally:
            self.current_task_id = ""

    def run(self):
        beater = threading.Thread(target=self.heartbeat_loop, name="heartbeat", daemon=True)
        # Startup is inside the try: a SIGTERM that lands during it must still remove the row.
        try:
            self.beat()
            reap_orphaned_tasks()
            beater.start()
            super().run()
        finally:
            self.stop_beating.set()
            if beater.is_alive():  # a beat under way would re-create the row deleted below
                beater.join(timeout=settings.JOB_HEARTBEAT_SECONDS + 10)
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
            connection.close()


class Command(db_worker.Command):
    help = ("Run a background worker (database queue) with leases for crashed workers; "
            "--threads runs several tasks at once, for work that waits on providers")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--threads", type=int, default=settings.WORKER_THREADS,
                            help="Tasks run at once in this process (default: WORKER_THREADS).")

    def handle(self, *args, threads=1, **options):
        if threads > 1 and not options.get("reload"):
            return self.run_pool(threads, **options)
        db_worker.Worker = LeasedWorker  # the parent command builds its Worker by this name
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = LeasedWorker.__mro__[1]

    def run_pool(self, threads, *, verbosity, queue_name, interval, batch, backend_name,
                 startup_delay, max_tasks, worker_id, exclude_queues, **_):
        """Several leased workers in threads of one process. Each claims its own tasks (with
        its own id and heartbeat); one SIGINT/SIGTERM lets every thread finish its task."""
        self.configure_logging(verbosity)
        workers = [
            LeasedWorker(
                queue_names=queue_name.split(","), interval=interval, batch=batch,
                backend_name=backend_name, startup_delay=startup_delay, max_tasks=max_tasks,
                worker_id=f"{worker_id[:56]}-{number}",
                excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
            )
            for number in range(threads)
        ]
        stopping = threading.Event()

        def shutdown(signum, frame):
            if stopping.is_set():
                os._exit(1)  # a second signal: do not wait any longer
            stopping.set()
            logger.warning("%s: finishing the tasks under way, then stopping",
                           signal.strsignal(signum))
            for worker in workers:
                worker.running = False

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, shutdown)
        pool = [threading.Thread(target=worker.run, name=f"worker-{n}")
                for n, worker in enumerate(workers)]
        for thread in pool:
            thread.start()
        while any(thread.is_alive() for thread in pool):
            for thread in pool:
                thread.join(timeout=0.5)
