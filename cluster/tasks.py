"""A no-op task for measuring the queue itself (bench/task_queue.py, tests/production): it appends
one line to a file, so the runs can be counted (a task run twice shows twice) and the pickup
latency (enqueue to start) read back."""

import os
import time

from django_tasks import task


@task()
def touch(token: str, sent_at: float, path: str, work_seconds: float = 0.0):
    started = time.time()
    if work_seconds:
        time.sleep(work_seconds)
    line = f"{token} {started - sent_at:.6f} {time.time():.6f} {os.getpid()}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())  # one write with O_APPEND: lines never interleave
    finally:
        os.close(fd)
