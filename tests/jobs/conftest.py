"""Real worker processes on a SQLite file in a temporary DATA_DIR, for the tests that kill
and stop workers."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DB_NAME = "likeness.sqlite3"


class Site:
    """One Likeness installation in a temporary DATA_DIR, driven through manage.py."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "DATABASE_URL_FILE", "DJANGO_SETTINGS_MODULE")}
        # One image at a time, so a worker can be killed between two of them.
        self.env.update(DATA_DIR=str(data_dir), DEMO_PROVIDER_DELAY="1.5",
                        GENERATION_CONCURRENCY="1",
                        JOB_LEASE_SECONDS="3", JOB_HEARTBEAT_SECONDS="0.5",
                        PYTHONUNBUFFERED="1")
        self.processes: list[subprocess.Popen] = []

    def manage(self, *args, timeout=300):  # a whole Django start: slow on a busy machine
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=True)

    def shell(self, code: str):
        """Run code in `manage.py shell`; it prints one JSON line, which is returned."""
        out = self.manage("shell", "-c", code).stdout
        return json.loads(out.strip().splitlines()[-1])

    def start_worker(self, worker_id: str, threads: int = 1) -> subprocess.Popen:
        log = open(self.data_dir / f"{worker_id}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2",
             "--no-startup-delay", "--threads", str(threads), "--worker-id", worker_id],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes.append(process)
        return process

    def log(self, worker_id: str) -> str:
        return (self.data_dir / f"{worker_id}.log").read_text()

    def query(self, sql, *params):
        db = sqlite3.connect(self.data_dir / DB_NAME, timeout=10)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def wait_for(self, condition, timeout, what, poll=0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(poll)
        logs = {p.args[-1]: self.log(p.args[-1]) for p in self.processes}
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; logs: {logs}")

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("template")
    Site(data_dir).manage("migrate", "--no-input")
    return data_dir / DB_NAME


@pytest.fixture
def site(tmp_path, migrated):
    shutil.copy(migrated, tmp_path / DB_NAME)
    site = Site(tmp_path)
    try:
        yield site
    finally:
        site.stop_all()


