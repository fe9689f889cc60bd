"""`manage.py db_worker`: django-tasks-db's worker options, run as a jobs.worker.Pool (threads
with leases, one heartbeat per process, the reaper and the recurring tasks)."""

import os

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from jobs.worker import Pool


class Command(db_worker.Command):
    help = ("Run a background worker (database queue) with leases for crashed workers; "
            "--threads runs several tasks at once, for work that waits on providers")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--threads", type=int, default=settings.WORKER_THREADS,
                            help="Tasks run at once in this process (default: WORKER_THREADS).")

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, batch, threads=1,
               **options):
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        options.pop("skip_checks", None)
        for name in ("settings", "pythonpath", "traceback", "no_color", "force_color"):
            options.pop(name, None)
        pool = Pool(threads, queue_names=queue_names, excluded_queue_names=excluded,
                    batch=batch, **options)
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                pool.configure_signals()  # only the child process runs the pool
            run_with_reloader(pool.run)
        else:
            pool.configure_signals()
            pool.run()
