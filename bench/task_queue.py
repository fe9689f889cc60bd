"""The job queue at scale: the database backend (PostgreSQL, SKIP LOCKED, LISTEN/NOTIFY) against
the Redis backend (RQ), each with three worker processes on 127.0.0.1, measured with a no-op task
(cluster.tasks.touch) so only the queue is timed.

    .venv/bin/python bench/task_queue.py [--tasks 400] [--rate 40] [--idle 40]
        [--interval 1] [--database likeness_queue_bench]

Prints, per backend: pickup latency (enqueue to start) p50/p95 on an idle queue (one task at a
time, every worker waiting: the database workers' NOTIFY wake-up, or their polling every
--interval seconds with JOB_LISTEN=0), then at a steady rate, the drain rate of a burst, and
how many tasks ran twice (must be 0). Bounded: a few hundred tasks, every wait capped. Needs
PostgreSQL on 127.0.0.1:5432 (user postgres; the database is made and dropped) and
redis-server."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.checks import percentile  # noqa: E402
from cluster.services import Cluster, free_port, wait_until  # noqa: E402

PRODUCE = """
import time
from cluster.tasks import touch
count, rate, path, prefix = {count}, {rate}, {path!r}, {prefix!r}
start = time.monotonic()
for n in range(count):
    if rate:
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
    touch.enqueue(f"{{prefix}}{{n}}", time.time(), path)
print("{{}}")
"""


def read(path: Path, prefix: str) -> list[tuple[str, float, float]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        token, latency, finished, _pid = line.split()
        if token.startswith(prefix):
            rows.append((token, float(latency), float(finished)))
    return rows


IDLE_TARGET_MS = 10.0  # issue 21: p50 on an idle PostgreSQL queue
IDLE_GAP_SECONDS = 0.25  # between two tasks of the idle phase: every worker is waiting again


def worker_command(backend: str, args, number: int) -> list[str]:
    if backend == "rq":
        return [sys.executable, "manage.py", "rqworker", "default", "--with-scheduler",
                "--job-class", "django_tasks_rq.Job"]
    return [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval",
            str(args.interval), "--threads", "4", "--worker-id", f"w{number}"]


def measure(backend: str, args, run_dir: Path) -> dict:
    """Three workers of `backend`; an idle phase and a paced one (latency), then a burst
    (throughput)."""
    tasks, rate = args.tasks, args.rate
    cluster = Cluster(run_dir / backend, database=args.database)
    cluster.run_dir.mkdir(parents=True, exist_ok=True)
    cluster.data_dir = cluster.run_dir / "data"
    cluster.data_dir.mkdir(exist_ok=True)
    cluster.redis_port, cluster.s3_port, cluster.together_port = free_port(), 0, 0
    cluster.web_urls = ["http://127.0.0.1:1"]
    cluster.create_database()
    try:
        cluster.spawn("redis", ["redis-server", "--port", str(cluster.redis_port), "--bind",
                                "127.0.0.1", "--save", "", "--appendonly", "no"])
        env = cluster.production_env()
        for name in ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL"):
            env.pop(name)
        env["TASK_BACKEND"] = "rq" if backend == "rq" else "database"
        cluster.env = env
        wait_until(lambda: cluster.redis().ping(), 20, "Redis")
        # RQ's workers are started with django_tasks_rq's Job class (`--job-class`).
        cluster.manage("migrate", "--noinput")
        for number in range(1, 4):
            cluster.spawn(f"worker{number}", worker_command(backend, args, number), env=env)
        time.sleep(3)  # every worker up and polling
        out = cluster.run_dir / "runs.txt"
        result = {}
        phases = [("steady", tasks, rate), ("burst", tasks, 0)]
        if args.idle:
            phases.insert(0, ("idle", args.idle, 1 / IDLE_GAP_SECONDS))
        for phase, count, pace in phases:
            started = time.time()
            cluster.manage("shell", "-c", PRODUCE.format(count=count, rate=pace, path=str(out),
                                                        prefix=phase))
            enqueued = time.time() - started
            wait_until(lambda phase=phase, count=count: len(read(out, phase)) >= count, 60,
                       f"{backend} {phase} tasks")
            time.sleep(1)  # a twin run would land now
            rows = read(out, phase)
            latencies = [latency for _, latency, _ in rows]
            tokens = [token for token, _, _ in rows]
            result[phase] = {
                "tasks": count,
                "pickup_p50_ms": round(percentile(latencies, 50) * 1000, 1),
                "pickup_p95_ms": round(percentile(latencies, 95) * 1000, 1),
                "ran_twice": len(tokens) - len(set(tokens)),
                "enqueue_per_s": round(count / enqueued, 1),
            }
            if phase == "burst":
                result[phase]["drained_per_s"] = round(
                    count / (max(f for _, _, f in rows) - started), 1)
        return result
    finally:
        cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--rate", type=float, default=40, help="tasks/s in the steady phase")
    parser.add_argument("--idle", type=int, default=40,
                        help=f"tasks of the idle phase, one every {IDLE_GAP_SECONDS} s (0: none)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="db_worker --interval: the polling fallback (its default, 1 s)")
    parser.add_argument("--database", default="likeness_queue_bench",
                        help="the PostgreSQL database made (and dropped) for the run")
    parser.add_argument("--backends", default="database,rq")
    args = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="likeness-queue-bench-"))
    listen = os.environ.get("JOB_LISTEN", "1") not in ("0", "false", "no", "off")
    wake = "LISTEN/NOTIFY" if listen else "polling only"
    print(f"queue bench: {args.idle} tasks one every {IDLE_GAP_SECONDS} s, {args.tasks} tasks "
          f"at {args.rate}/s, then {args.tasks} at once; 3 worker processes each (db_worker "
          f"--threads 4 --interval {args.interval:g}, {wake}; rqworker)")
    for backend in args.backends.split(","):
        result = measure(backend, args, run_dir)
        steady, burst = result["steady"], result["burst"]
        if "idle" in result and backend == "database":
            idle = result["idle"]
            print(f"database on postgresql, idle queue: pickup p50 {idle['pickup_p50_ms']} ms, "
                  f"p95 {idle['pickup_p95_ms']} ms (target p50 <= {IDLE_TARGET_MS:g} ms; "
                  f"{idle['tasks']} tasks; ran twice: {idle['ran_twice']})")
        elif "idle" in result:
            idle = result["idle"]
            print(f"{backend:>9}, idle queue: pickup p50 {idle['pickup_p50_ms']} ms, p95 "
                  f"{idle['pickup_p95_ms']} ms ({idle['tasks']} tasks)")
        print(f"{backend:>9}: pickup p50 {steady['pickup_p50_ms']} ms, p95 "
              f"{steady['pickup_p95_ms']} ms at {args.rate:g}/s; burst enqueue "
              f"{burst['enqueue_per_s']}/s, drained {burst['drained_per_s']} tasks/s, "
              f"burst pickup p95 {burst['pickup_p95_ms']} ms; ran twice: "
              f"{steady['ran_twice'] + burst['ran_twice']}")
    os.environ.get("KEEP") or subprocess.run(["rm", "-rf", str(run_dir)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
