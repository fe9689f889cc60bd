"""The job queue at scale: the database backend (PostgreSQL, SKIP LOCKED) against the Redis
backend (RQ), each with three worker processes on 127.0.0.1, measured with a no-op task
(cluster.tasks.touch) so only the queue is timed.

    .venv/bin/python bench/task_queue.py [--tasks 400] [--rate 40]

Prints, per backend: pickup latency (enqueue to start) p50/p95 at a steady rate, the drain rate
of a burst, and how many tasks ran twice (must be 0). Bounded: a few hundred tasks, every wait
capped. Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and redis-server."""

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


def measure(backend: str, tasks: int, rate: float, run_dir: Path) -> dict:
    """Three workers of `backend`; a paced phase (latency) then a burst (throughput)."""
    cluster = Cluster(run_dir / backend, database="likeness_queue_bench")
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
            if backend == "rq":
                cluster.spawn(f"worker{number}", [sys.executable, "manage.py", "rqworker",
                                                  "default", "--with-scheduler",
                                                  "--job-class", "django_tasks_rq.Job"], env=env)
            else:
                cluster.spawn(f"worker{number}", [
                    sys.executable, "manage.py", "db_worker", "--no-reload", "--interval",
                    "0.2", "--threads", "4", "--worker-id", f"w{number}"], env=env)
        time.sleep(3)  # every worker up and polling
        out = cluster.run_dir / "runs.txt"
        result = {}
        for phase, count, pace in (("steady", tasks, rate), ("burst", tasks, 0)):
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
    parser.add_argument("--backends", default="database,rq")
    args = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="likeness-queue-bench-"))
    print(f"queue bench: {args.tasks} tasks at {args.rate}/s, then {args.tasks} at once; "
          f"3 worker processes each (db_worker --threads 4 --interval 0.2; rqworker)")
    for backend in args.backends.split(","):
        result = measure(backend, args.tasks, args.rate, run_dir)
        steady, burst = result["steady"], result["burst"]
        print(f"{backend:>9}: pickup p50 {steady['pickup_p50_ms']} ms, p95 "
              f"{steady['pickup_p95_ms']} ms at {args.rate:g}/s; burst enqueue "
              f"{burst['enqueue_per_s']}/s, drained {burst['drained_per_s']} tasks/s, "
              f"burst pickup p95 {burst['pickup_p95_ms']} ms; ran twice: "
              f"{steady['ran_twice'] + burst['ran_twice']}")
    os.environ.get("KEEP") or subprocess.run(["rm", "-rf", str(run_dir)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
