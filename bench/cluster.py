"""The production-like run as a benchmark: scripts/cluster's set-up (2 gunicorn web processes,
3 db_worker processes, PostgreSQL, Redis, moto S3, the Together fake with 1 s per image, all
on 127.0.0.1), 300 generations from 30 API clients, 3 trainings and one worker SIGKILLed, then
the gallery API under concurrent load next to a minimal Django view served the same way.

    .venv/bin/python bench/cluster.py [--short] [--bench-seconds 8]

Prints generations/s at the API, queue pickup latency p50/p95, total wall time, the kill and
the exactly-once checks, then requests/s of GET /api/v1/images?limit=24 and of /healthz
(wrk when installed, else Python threads; 32 connections, bounded in time) and their ratio.
bench/task_queue.py measures the queue backends themselves (database vs Redis)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cluster.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["--bench", *sys.argv[1:]]))
