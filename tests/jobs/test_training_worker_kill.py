"""A real worker process killed with SIGKILL in the middle of a training: a second worker
finishes it, and the provider is asked to train exactly once; a training whose workers all die
is given up and refunded."""

import os
import signal
import time

import pytest

from fakes import FakeReplicate
from fakes.replicate import TRAINER_VERSION

pytestmark = pytest.mark.slow

SETUP = (
    "import json\n"
    "from accounts.models import User\n"
    "from credits.actions import grant\n"
    "from studio import actions\n"
    "from tests.studio.photos import person_jpeg\n"
    "user = User.objects.create_user('trainer@example.com', 'a-long-password-1')\n"
    "grant(user, 50, reason='test', reference='test:kill')\n"
    "model = actions.create_model(user, name='Kim', subject_class='person')\n"
    "actions.add_photos(model, [(f'{i}.jpg', person_jpeg(i)) for i in range(5)])\n"
    "from tests.factories import consent_for\n"
    "consent_for(model)\n"
    "run = actions.start_training(model)\n"
    "print(json.dumps(run.id.hex))\n"
)

STATE = (
    "import json\n"
    "from credits.actions import get_balance, ledger_is_consistent\n"
    "from studio.models import TrainingRun\n"
    "run = TrainingRun.objects.select_related('model').get()\n"
    "print(json.dumps({\n"
    "  'status': run.status, 'model': run.model.status, 'provider_id': run.provider_id,\n"
    "  'starts': run.events.filter(message='Training started at the provider.').count(),\n"
    "  'balance': get_balance(run.user), 'consistent': ledger_is_consistent(run.user),\n"
    "  'weights': bool(run.model.weights),\n"
    "}))\n"
)


def test_a_training_survives_its_worker_being_killed(site):
    site.env.update(TRAINING_DEMO_SECONDS="6", PYTHONPATH=os.getcwd())
    run_id = site.shell(SETUP)
    first = site.start_worker("first")

    def training_under_way():
        rows = site.query("SELECT stage, progress FROM studio_trainingrun WHERE id = ?", run_id)
        return rows and rows[0][0] == "training" and rows[0][1] > 0

    site.wait_for(training_under_way, 60, "the training to be under way")
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL

    site.start_worker("second")
    site.wait_for(lambda: site.query("SELECT status FROM studio_trainingrun")[0][0]
                  in ("succeeded", "failed", "canceled"), 90, "the second worker to finish")
    state = site.shell(STATE)
    assert (state["status"], state["model"]) == ("succeeded", "ready"), state
    assert state["starts"] == 1 and state["provider_id"]
    assert state["weights"] and state["consistent"] and state["balance"] == 55 - 20


ABANDONED = (
    "import json\n"
    "from credits.actions import get_balance, ledger_is_consistent\n"
    "from django_tasks_db.models import DBTaskResult\n"
    "from studio.models import TrainingRun\n"
    "run = TrainingRun.objects.select_related('model').get()\n"
    "tasks = DBTaskResult.objects.filter(task_path='studio.tasks.advance_training')\n"
    "task = max(tasks, key=lambda t: len(t.worker_ids))\n"
    "print(json.dumps({\n"
    "  'status': run.status, 'model': run.model.status, 'refunded': run.credits_refunded,\n"
    "  'codes': [e.data.get('code') for e in run.events.all()],\n"
    "  'balance': get_balance(run.user), 'consistent': ledger_is_consistent(run.user),\n"
    "  'task': task.status, 'workers': len(task.worker_ids),\n"
    "}))\n"
)


def test_a_training_whose_worker_dies_every_time_is_given_up_and_refunded(site,
                                                                          fake_servers):
    """Each worker hangs on the provider's answer and is killed there, JOB_MAX_ATTEMPTS
    times: the reaper gives the job up, and the studio (through `task_abandoned`) finishes the
    run and gives the credits back, instead of leaving it running for ever."""
    replicate = fake_servers.get(FakeReplicate, training_seconds=60)
    replicate.timeout(seconds=45, times=5, path=r"/trainings$", method="POST")
    site.env.update(PYTHONPATH=os.getcwd(), JOB_MAX_ATTEMPTS="2", TRAINING_PROVIDER="replicate",
                    REPLICATE_API_TOKEN=replicate.token, REPLICATE_BASE_URL=replicate.url,
                    REPLICATE_TRAINER_VERSION=TRAINER_VERSION, REPLICATE_OWNER="likeness",
                    PROVIDER_TIMEOUT_SECONDS="120", PUBLIC_BASE_URL="http://127.0.0.1:9",
                    GENERATION_PROVIDERS="demo")
    site.shell(SETUP)

    def hung(count):
        return lambda: len(replicate.calls("POST", r"/trainings$")) >= count

    def lease_over():
        (until,) = site.query("SELECT lease_until FROM studio_trainingrun")[0]
        return until is None or until < time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())

    for attempt in (1, 2):
        worker = site.start_worker(f"w{attempt}")
        site.wait_for(hung(attempt), 90, f"worker {attempt} to ask Replicate to train")
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
        site.wait_for(lease_over, 120, "the run's lease to run out")

    site.start_worker("w3")
    site.wait_for(lambda: site.query("SELECT status FROM studio_trainingrun")[0][0] == "failed",
                  60, "the run to be given up")
    state = site.shell(ABANDONED)
    assert (state["status"], state["refunded"], state["task"]) == ("failed", True, "FAILED")
    assert state["workers"] == 2 and "worker_lost" in state["codes"], state
    assert state["balance"] == 55 and state["consistent"]
