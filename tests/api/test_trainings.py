"""POST /models/{id}/train and /cancel, GET /trainings, GET /trainings/{id}, with the demo
trainer, and the webhook endpoints' refusal of forged or unknown deliveries."""

import pytest

from credits.actions import get_balance, grant
from studio import actions
from studio.models import TrainingRun
from tests.api.conftest import assert_error
from tests.factories import consent_for
from tests.studio.photos import person_jpeg


@pytest.fixture
def model(alice):
    grant(alice, 100, reason="test", reference="test:api-train")
    model = actions.create_model(alice, name="Alice", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)  # the consent selfie matched (tests/studio/test_consent.py)
    return model


@pytest.fixture(autouse=True)
def demo(settings):
    settings.TRAINING_PROVIDER = "demo"
    settings.TRAINING_DEMO_SECONDS = 0.001


def test_train_runs_to_ready_and_reads_back(alice_api, model, run_jobs, alice):
    response = alice_api.post(f"/api/v1/models/{model.id}/train", {"steps": 600},
                              content_type="application/json")
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["stage"], body["credits"], body["steps"]) == (
        "queued", "packaging", 20, 600)
    assert body["cost_estimate_cents"] == 120.0 and body["model_id"] == str(model.id)
    assert get_balance(alice) == 85
    run_jobs()
    done = alice_api.get(f"/api/v1/trainings/{body['id']}").json()
    assert (done["status"], done["stage"], done["progress"]) == ("succeeded", "done", 1.0)
    assert {e["stage"] for e in done["events"]} >= {"packaging", "uploading", "training",
                                                    "publishing", "done"}
    listed = alice_api.get("/api/v1/trainings").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert alice_api.get(f"/api/v1/models/{model.id}").json()["status"] == "ready"


def test_bad_training_requests(alice_api, bob_api, model, alice):
    url = f"/api/v1/models/{model.id}/train"
    assert_error(alice_api.post(url, {"steps": 5}, content_type="application/json"),
                 422, "validation_error")
    assert_error(alice_api.post(url, {"provider": "nowhere"}, content_type="application/json"),
                 422, "validation_error")
    assert_error(alice_api.post(url, {"colour": "red"}, content_type="application/json"),
                 422, "validation_error")
    assert_error(bob_api.post(url, {}, content_type="application/json"), 404, "not_found")
    assert not TrainingRun.objects.exists() and get_balance(alice) == 105
    assert alice_api.post(url, {}, content_type="application/json").status_code == 202
    assert_error(alice_api.post(url, {}, content_type="application/json"), 409, "conflict")
    assert TrainingRun.objects.count() == 1


def test_too_few_credits_is_402(bob_api, bob):
    model = actions.create_model(bob, name="Bob", subject_class="man")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)
    response = bob_api.post(f"/api/v1/models/{model.id}/train", {},
                            content_type="application/json")
    assert_error(response, 402, "insufficient_credits")
    assert not TrainingRun.objects.exists()


def test_cancel(alice_api, bob_api, model, alice):
    cancel_url = f"/api/v1/models/{model.id}/cancel"
    assert_error(alice_api.post(cancel_url), 409, "conflict")
    run_id = alice_api.post(f"/api/v1/models/{model.id}/train", {},
                            content_type="application/json").json()["id"]
    assert_error(bob_api.post(cancel_url), 404, "not_found")
    canceled = alice_api.post(cancel_url).json()
    assert (canceled["id"], canceled["status"], canceled["credits_refunded"]) == (
        run_id, "canceled", True)
    assert get_balance(alice) == 105
    assert_error(bob_api.get(f"/api/v1/trainings/{run_id}"), 404, "not_found")
    assert bob_api.get("/api/v1/trainings").json()["items"] == []


def test_forged_webhooks_are_refused(client, model, settings):
    settings.REPLICATE_WEBHOOK_SECRET = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM="
    run = TrainingRun.objects.create(user=model.user, model=model, provider="fal", steps=1000,
                                     learning_rate=0.0004, lora_rank=16, provider_id="req-1")
    forged = client.post(f"/webhooks/fal?run={run.id}&token=nope",
                         {"request_id": "req-1", "status": "OK"},
                         content_type="application/json")
    assert forged.status_code == 400
    unsigned = client.post("/webhooks/replicate", {"id": "x", "status": "succeeded"},
                           content_type="application/json",
                           headers={"webhook-id": "msg_1", "webhook-timestamp": "1",
                                    "webhook-signature": "v1,AAAA"})
    assert unsigned.status_code == 400
    run.refresh_from_db()
    assert run.events.count() == 0 and run.webhooks.count() == 0
