"""Real `manage.py db_worker` processes on a SQLite file: a worker killed in the middle of a job
loses nothing (another worker finishes it once the lease runs out), and SIGTERM stops a worker
cleanly."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DB_NAME = "likeness.sqlite3"


class Site:
    """One Likeness installation in a temporary DATA_DIR, driven through manage.py."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "DATABASE_URL_FILE", "DJANGO_SETTINGS_MODULE")}
        self.env.update(DATA_DIR=str(data_dir), DEMO_PROVIDER_DELAY="1.5",
                        JOB_LEASE_SECONDS="3", JOB_HEARTBEAT_SECONDS="0.5",
                        PYTHONUNBUFFERED="1")
        self.processes: list[subprocess.Popen] = []

    def manage(self, *args, timeout=60):
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


def create_generation(site, num_images):
    return site.shell(
        "import json\n"
        "from accounts.models import User\n"
        "from generation.actions import create_generation\n"
        "user = User.objects.create_user('worker@example.com', 'a-long-password-1')\n"
        f"generation = create_generation(user, prompt='a row of lighthouses', "
        f"num_images={num_images})\n"
        "print(json.dumps({'id': generation.id.hex}))\n"
    )["id"]


def generation_state(site, generation_id):
    status, = site.query("SELECT status FROM generation_generation WHERE id = ?", generation_id)[0]
    images, = site.query("SELECT count(*) FROM generation_image WHERE generation_id = ?",
                         generation_id)[0]
    return status, images


def final_state(site):
    return site.shell(
        "import json\n"
        "from django_tasks_db.models import DBTaskResult\n"
        "from credits.actions import get_balance, ledger_is_consistent\n"
        "from generation.models import Generation\n"
        "from jobs.models import WorkerHeartbeat\n"
        "g = Generation.objects.get()\n"
        "print(json.dumps({\n"
        "  'status': g.status, 'attempts': g.attempts,\n"
        "  'indexes': sorted(g.images.values_list('index', flat=True)),\n"
        "  'charged': g.credits_charged, 'refunded': g.credits_refunded,\n"
        "  'balance': get_balance(g.user), 'consistent': ledger_is_consistent(g.user),\n"
        "  'tasks': [(t.status, t.worker_ids) for t in DBTaskResult.objects.filter(\n"
        "      task_path='generation.tasks.run_generation')],\n"
        "  'heartbeats': list(WorkerHeartbeat.objects.values_list('worker_id', flat=True)),\n"
        "}))\n"
    )


def test_a_worker_killed_mid_job_loses_nothing(site):
    generation_id = create_generation(site, num_images=4)
    first = site.start_worker("first")

    def first_image_stored():
        status, images = generation_state(site, generation_id)
        return status == "running" and images >= 1

    site.wait_for(first_image_stored, 30, "the first worker to store an image")
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    status, images = generation_state(site, generation_id)
    assert status == "running" and 1 <= images < 4  # killed in the middle of the job

    site.start_worker("second")
    site.wait_for(lambda: generation_state(site, generation_id)[0] != "running", 60,
                  "the second worker to finish the generation")

    state = final_state(site)
    assert state["status"] == "succeeded", state
    assert state["indexes"] == [0, 1, 2, 3]
    assert state["charged"] == 4 and state["refunded"] == 0
    assert state["balance"] == 5 - 4
    assert state["consistent"] is True
    assert state["attempts"] == 2
    assert state["tasks"] == [["SUCCESSFUL", ["first", "second"]]]
    assert "requeued" in site.log("second")


@pytest.mark.parametrize("busy", [True, False], ids=["mid-task", "idle"])
def test_sigterm_stops_a_worker_cleanly(site, busy):
    worker_id = "graceful"
    if busy:
        generation_id = create_generation(site, num_images=1)
    worker = site.start_worker(worker_id)
    site.wait_for(lambda: site.query("SELECT 1 FROM jobs_workerheartbeat WHERE worker_id = ?",
                                     worker_id), 30, "the worker's first heartbeat",
                  poll=0.01)  # soon after, to stop it while it is still starting up
    if busy:
        site.wait_for(lambda: generation_state(site, generation_id)[0] == "running", 30,
                      "the job to start")

    worker.send_signal(signal.SIGTERM)

    assert worker.wait(timeout=30) == 0, site.log(worker_id)
    assert site.query("SELECT worker_id FROM jobs_workerheartbeat") == []
    if busy:
        # The job in hand was finished before the worker left.
        state = final_state(site)
        assert state["status"] == "succeeded", state
        assert state["tasks"] == [["SUCCESSFUL", [worker_id]]]
        assert state["heartbeats"] == []
