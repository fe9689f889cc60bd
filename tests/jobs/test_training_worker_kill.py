"""A real worker process killed with SIGKILL in the middle of a training: a second worker
finishes it, and the provider is asked to train exactly once."""

import os
import signal

import pytest

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
