"""`manage.py db_worker`: django-tasks-db's worker options, run as a jobs.worker.Pool (threads
with leases, one heartbeat per process, the reaper and the recurring tasks).

GPU workers (jobs.routes): `--queue-name gpu` makes a worker for the GPU queue, which takes
nothing else and runs GPU_JOBS_PER_DEVICE tasks at once (run one per device, with
CUDA_VISIBLE_DEVICES). Any other worker never takes the GPU queue, `--queue-name '*'` included.
A worker whose GPU lost its CUDA context exits with EXIT_RESTART (75) after its task."""

import os
import sys

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from jobs.progress import EXIT_RESTART, restart_requested
from jobs.routes import gpu_queues
from jobs.worker import Pool


def plan_queues(queue_names: list[str], excluded: list[str],
                threads: int | None) -> tuple[list[str], list[str], int]:
    """The queues a worker takes, those it leaves, and its threads; a worker that mixes the
    GPU queue with others, or asks a GPU worker for more threads than GPU_JOBS_PER_DEVICE, is
    refused with the reason."""
    gpu = gpu_queues()
    named_gpu = gpu & set(queue_names)
    if excluded and "*" not in queue_names:
        raise CommandError("--exclude-queues can only be used with --queue-name=*")
    if not named_gpu:
        if "*" in queue_names:
            excluded = sorted(set(excluded) | gpu)  # every queue but the GPU ones
        return queue_names, excluded, settings.WORKER_THREADS if threads is None else threads
    others = sorted(set(queue_names) - gpu)
    if others:
        raise CommandError(f"A GPU worker takes only its queue ({', '.join(sorted(named_gpu))}):"
                           f" start another worker for {', '.join(others)}.")
    limit = settings.GPU_JOBS_PER_DEVICE
    if threads is not None and threads > limit:
        raise CommandError(f"A GPU worker runs at most GPU_JOBS_PER_DEVICE={limit} task(s) at "
                           f"once (one process per device); --threads {threads} is refused.")
    return queue_names, excluded, limit if threads is None else threads


class Command(db_worker.Command):
    help = ("Run a background worker (database queue) with leases for crashed workers; "
            "--threads runs several tasks at once, for work that waits on providers")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--threads", type=int, default=None,
                            help="Tasks run at once in this process (default: WORKER_THREADS; "
                                 "GPU_JOBS_PER_DEVICE for a GPU worker).")

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, batch, threads=None,
               **options):
        self.configure_logging(verbosity)
        queue_names, excluded, threads = plan_queues(
            queue_name.split(","), exclude_queues.split(",") if exclude_queues else [], threads)
        if threads < 1:
            raise CommandError(f"--threads must be 1 or more, not {threads}.")
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
        if restart_requested():
            sys.exit(EXIT_RESTART)  # a lost GPU: the supervisor starts a fresh process
