"""Background work: the task queue, workers, leases, retries and recurring tasks."""

import re

from django.core.exceptions import ImproperlyConfigured

from likeness.env import env, env_bool, env_float, env_int
from likeness.settings.core import REDIS_URL, TASK_BACKEND


def _task_routes(value: str) -> dict[str, str]:
    """`kind=queue,kind=queue` -> {kind: queue}; anything else is refused, naming the part."""
    routes = {}
    for part in filter(None, (part.strip() for part in value.split(","))):
        kind, _, queue = (side.strip() for side in part.partition("="))
        if not re.fullmatch(r"[A-Za-z_][\w.]*", kind) or not re.fullmatch(r"[\w-]+", queue):
            raise ImproperlyConfigured(f"TASK_ROUTES: {part!r} is not kind=queue (e.g. "
                                       "local=gpu, or a task's dotted path=queue).")
        routes[kind] = queue
    return routes


# Which queue a task goes to, decided when it is queued (jobs.routes): a task's kind (`local`:
# work for the local GPU engine, jobs.routes) or its dotted path -> a queue; anything else goes
# to `default`. GPU workers (`db_worker --queue-name gpu`) take only their queue, and run
# GPU_JOBS_PER_DEVICE tasks at once (one process per device).
TASK_ROUTES = _task_routes(env("TASK_ROUTES", "local=gpu"))
TASK_QUEUES = sorted({"default", *TASK_ROUTES.values()})
GPU_JOBS_PER_DEVICE = env_int("GPU_JOBS_PER_DEVICE", 1)
if GPU_JOBS_PER_DEVICE < 1:
    raise ImproperlyConfigured(f"GPU_JOBS_PER_DEVICE must be 1 or more, not "
                               f"{GPU_JOBS_PER_DEVICE}.")

# The task queue: the database (the default, chosen by measurement in docs/deployment.md) or
# Redis through RQ (`pip install -e .[rq]`; workers run `manage.py rqworker --with-scheduler`).
if TASK_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                         "QUEUES": TASK_QUEUES}}
elif TASK_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASK_BACKEND=rq needs REDIS_URL.")
    RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600} for name in TASK_QUEUES}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
else:
    raise ImproperlyConfigured(f"TASK_BACKEND must be 'database' or 'rq', not {TASK_BACKEND!r}")

# A running job whose worker has not sent a heartbeat for this long is handed to another worker.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 60)
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 5)
# A worker thread this long in one task without reporting progress is taken for stuck: its
# lease is no longer renewed, so another worker takes the task over.
JOB_STUCK_SECONDS = env_float("JOB_STUCK_SECONDS", 1800)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 5)
JOB_RETRY_BASE_SECONDS = env_float("JOB_RETRY_BASE_SECONDS", 2)
# Tasks one `db_worker` process runs at once (threads): most work waits on providers.
WORKER_THREADS = env_int("WORKER_THREADS", 4)
# On PostgreSQL, workers LISTEN for new tasks and start them at once (jobs.notify); their
# polling (`--interval`) stays as the fallback. 0: they only poll.
JOB_LISTEN = env_bool("JOB_LISTEN", True)

# Recurring tasks: name -> (task, seconds between runs). Queued once per period by any worker.
RECURRING_TASKS: dict[str, tuple[str, int]] = {
    "training.reconcile": ("studio.tasks.reconcile_trainings", 30),
    "training.cleanup": ("studio.tasks.sweep_cleanups", 300),
    "accounts.retention": ("studio.tasks.apply_photo_retention", 3600),
    "api.idempotency": ("api.tasks.prune_idempotency_keys", 3600),
    "billing.reconcile": ("billing.tasks.reconcile_billing", 3600),
    "providers.catalogue": ("generation.tasks.refresh_catalogue", 3600),
}
