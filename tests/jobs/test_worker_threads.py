"""`db_worker --threads N`: one process runs several tasks at once (their running intervals
overlap), each exactly once, and a SIGTERM lets every thread finish and removes the heartbeats."""

import signal

import pytest

pytestmark = pytest.mark.slow


def make_generations(site, count):
    return site.shell(
        "import json\n"
        "from accounts.models import User\n"
        "from credits.actions import grant\n"
        "from generation.actions import create_generation\n"
        "user = User.objects.create_user('threads@example.com', 'a-long-password-1')\n"
        "grant(user, 50, reason='test', reference='test:threads')\n"
        f"ids = [create_generation(user, prompt=f'lighthouse {{n}}', num_images=1).id.hex "
        f"for n in range({count})]\n"
        "print(json.dumps(ids))\n"
    )


def runs(site):
    return site.shell(
        "import json\n"
        "from django_tasks_db.models import DBTaskResult\n"
        "from generation.models import Generation\n"
        "from jobs.models import WorkerHeartbeat\n"
        "tasks = DBTaskResult.objects.filter(task_path='generation.tasks.run_generation')\n"
        "print(json.dumps({\n"
        "  'statuses': sorted(g.status for g in Generation.objects.all()),\n"
        "  'images': sorted(g.images.count() for g in Generation.objects.all()),\n"
        "  'intervals': [(t.started_at.timestamp(), t.finished_at.timestamp(), t.worker_ids)\n"
        "                for t in tasks if t.finished_at],\n"
        "  'heartbeats': WorkerHeartbeat.objects.count(),\n"
        "}))\n"
    )


def test_threads_run_tasks_at_the_same_time_each_once(site):
    site.env["DEMO_PROVIDER_DELAY"] = "1.0"
    make_generations(site, 6)
    worker = site.start_worker("pool", threads=6)
    site.wait_for(lambda: len(runs(site)["intervals"]) == 6, 60, "six finished tasks")
    state = runs(site)
    assert state["statuses"] == ["succeeded"] * 6 and state["images"] == [1] * 6
    claimers = {ids[-1] for _, _, ids in state["intervals"]}
    assert len(claimers) > 1 and all(len(ids) == 1 for _, _, ids in state["intervals"])
    intervals = sorted((start, end) for start, end, _ in state["intervals"])
    overlapping = sum(1 for a, b in zip(intervals, intervals[1:], strict=False) if b[0] < a[1])
    assert overlapping >= 1  # at least two tasks were running at the same moment

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0
    assert runs(site)["heartbeats"] == 0
