"""Real `manage.py db_worker` processes on a SQLite file: a worker killed in the middle of a job
loses nothing (another worker finishes it once the lease runs out), and SIGTERM stops a worker
cleanly."""

import os
import signal

import pytest

pytestmark = pytest.mark.slow

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

    site.wait_for(first_image_stored, 120, "the first worker to store an image")
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
                                     worker_id), 120, "the worker's first heartbeat",
                  poll=0.01)  # soon after, to stop it while it is still starting up
    if busy:
        site.wait_for(lambda: generation_state(site, generation_id)[0] == "running", 120,
                      "the job to start")

    worker.send_signal(signal.SIGTERM)

    assert worker.wait(timeout=120) == 0, site.log(worker_id)
    assert site.query("SELECT worker_id FROM jobs_workerheartbeat") == []
    if busy:
        # The job in hand was finished before the worker left.
        state = final_state(site)
        assert state["status"] == "succeeded", state
        assert state["tasks"] == [["SUCCESSFUL", [worker_id]]]
        assert state["heartbeats"] == []
