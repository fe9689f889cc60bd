"""The database queue at scale, on PostgreSQL with real `db_worker` processes: workers claim
with SKIP LOCKED so none runs a task another has, the recurring tasks are queued once per
period however many workers (and worker threads) race for them, and an idle worker starts a
queued task at once (LISTEN/NOTIFY, jobs.notify), long before its next poll.

These run in the PostgreSQL pass of scripts/test (DATABASE_URL set to PostgreSQL), each on a
database of its own that is created and dropped here, named after DATABASE_URL's database (so
that two suites on one server never share one)."""

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL (the PostgreSQL pass of scripts/test)"),
]

ROOT = Path(__file__).resolve().parents[2]
HOURLY = ("billing.tasks.reconcile_billing", "api.tasks.prune_idempotency_keys")


class PostgresSite:
    def __init__(self, tmp_path: Path):
        base, database = os.environ["DATABASE_URL"].split("?", 1)[0].rsplit("/", 1)
        self.name = f"{database}_prod_{os.getpid()}"
        self.admin = f"{base}/postgres"
        self.url = f"{base}/{self.name}"
        self.tmp = tmp_path
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DJANGO_SETTINGS_MODULE", "TESTING")}
        self.env.update(DATABASE_URL=self.url, DATA_DIR=str(tmp_path / "data"),
                        JOB_HEARTBEAT_SECONDS="0.3", JOB_LEASE_SECONDS="30",
                        PYTHONUNBUFFERED="1")
        self.workers: list[subprocess.Popen] = []
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(self.name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def manage(self, *args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120, check=True).stdout

    def start_worker(self, number: int, threads: int, interval: float = 0.05):
        log = open(self.tmp / f"worker{number}.log", "w")  # noqa: SIM115
        self.workers.append(subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", str(interval),
             "--no-startup-delay", "--threads", str(threads), "--worker-id", f"w{number}"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT))
        log.close()

    def query(self, statement, *params):
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()

    def close(self):
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(self.name)))


@pytest.fixture
def pg_site(tmp_path):
    site = PostgresSite(tmp_path)
    try:
        site.manage("migrate", "--noinput")
        yield site
    finally:
        site.close()


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_workers_on_postgres_share_tasks_and_none_runs_twice(pg_site, tmp_path):
    runs = tmp_path / "runs.txt"
    count = 240
    # Every worker is up (each thread's heartbeat row is there) before any task is queued: on a
    # busy machine one process can take seconds longer to start, and two quick ones would have
    # run everything before it polled once.
    for number in range(1, 4):
        pg_site.start_worker(number, threads=3)
    wait_for(lambda: pg_site.query("SELECT count(*) FROM jobs_workerheartbeat")[0][0] >= 9,
             90, "3 workers x 3 threads to start")
    pg_site.manage("shell", "-c", (
        "from cluster.tasks import touch\n"
        f"for n in range({count}):\n"
        f"    touch.enqueue(f't{{n}}', 0.0, {str(runs)!r}, 0.01)\n"))

    def lines():
        return runs.read_text().splitlines() if runs.exists() else []

    wait_for(lambda: len(lines()) >= count, 90, f"{count} tasks to run")
    time.sleep(1)  # a task claimed twice would land now
    tokens = Counter(line.split()[0] for line in lines())
    assert len(tokens) == count and set(tokens.values()) == {1}, tokens.most_common(3)
    # Every process took a share, and every task row says which worker ran it, once.
    pids = Counter(line.split()[3] for line in lines())
    assert len(pids) == 3, pids
    rows = pg_site.query("SELECT status, worker_ids FROM django_tasks_database_dbtaskresult "
                         "WHERE task_path = 'cluster.tasks.touch'")
    assert len(rows) == count
    assert {status for status, _ in rows} == {"SUCCESSFUL"}
    assert all(len(workers) == 1 for _, workers in rows)


def test_recurring_tasks_are_queued_once_however_many_workers_race(pg_site):
    # 3 processes x 4 threads: 12 heartbeats call the scheduler several times a second.
    for number in range(1, 4):
        pg_site.start_worker(number, threads=4)
    # All twelve beating before the race is judged (a busy machine starts the third late).
    wait_for(lambda: pg_site.query("SELECT count(*) FROM jobs_workerheartbeat")[0][0] == 12,
             120, "the twelve worker threads' heartbeats")
    wait_for(lambda: pg_site.query(
        "SELECT count(*) FROM jobs_recurringtask WHERE last_run_at IS NOT NULL")[0][0] >= 3,
        60, "the recurring tasks to be scheduled")
    time.sleep(3)  # many more beats, in the same period
    rows = pg_site.query("SELECT task_path, count(*) FROM django_tasks_database_dbtaskresult "
                         "GROUP BY task_path")
    queued = dict(rows)
    for path in HOURLY:
        assert queued.get(path) == 1, queued
    assert queued.get("studio.tasks.reconcile_trainings") == 1, queued  # every 30 s
    beats = pg_site.query("SELECT count(*) FROM jobs_workerheartbeat")[0][0]
    assert beats == 12


def test_an_idle_worker_starts_a_queued_task_at_once_not_at_its_next_poll(pg_site, tmp_path):
    """Polling every 30 s, the worker still starts each task within seconds of its commit: the
    NOTIFY sent by the task row's trigger wakes an idle thread. The bound (10 s) is far under
    the interval and far over any pickup, so a busy machine cannot make it fail."""
    runs = tmp_path / "runs.txt"
    pg_site.start_worker(1, threads=2, interval=30)
    wait_for(lambda: pg_site.query("SELECT count(*) FROM jobs_workerheartbeat")[0][0] >= 2,
             90, "the worker's 2 threads to start")
    time.sleep(1)  # both threads have polled once and wait for 30 s
    pg_site.manage("shell", "-c", (
        "import time\n"
        "from cluster.tasks import touch\n"
        "for n in range(3):\n"
        f"    touch.enqueue(f'idle{{n}}', time.time(), {str(runs)!r})\n"
        "    time.sleep(0.5)\n"))

    def lines():
        return runs.read_text().splitlines() if runs.exists() else []

    wait_for(lambda: len(lines()) >= 3, 20, "the 3 tasks to run")
    latencies = {line.split()[0]: float(line.split()[1]) for line in lines()}
    assert sorted(latencies) == ["idle0", "idle1", "idle2"]
    assert max(latencies.values()) < 10, latencies
