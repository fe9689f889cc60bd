"""The training pipeline against fakes of Replicate, fal.ai and the Hugging Face Hub that speak
their real protocols (fakes/), driven through the official SDKs pointed at them by the same
settings an operator sets. Webhooks travel for real: the fakes POST them to a live server."""

import hashlib
import json
import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.storage import default_storage
from django.utils import timezone

from credits.actions import get_balance, grant, ledger_is_consistent
from fakes import FakeFal, FakeHuggingFace, FakeReplicate
from fakes.replicate import TRAINER_VERSION
from studio import actions, pipeline, runs, tasks
from studio.models import Cleanup, PersonalModel, TrainingRun, WebhookDelivery
from studio.pipeline import run_token
from tests.factories import consent_for
from tests.studio.photos import person_jpeg

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def services(settings, live_server, fake_servers):
    replicate_fake = fake_servers.get(FakeReplicate, training_seconds=0.4, starting_seconds=0.05)
    fal_fake = fake_servers.get(FakeFal, training_seconds=0.4, queue_seconds=0.05)
    hub_fake = fake_servers.get(FakeHuggingFace, username="likeness")
    settings.PUBLIC_BASE_URL = live_server.url
    settings.REPLICATE_API_TOKEN = replicate_fake.token
    settings.REPLICATE_BASE_URL = replicate_fake.url
    settings.REPLICATE_WEBHOOK_SECRET = replicate_fake.webhook_secret
    settings.REPLICATE_TRAINER_VERSION = TRAINER_VERSION
    settings.REPLICATE_OWNER = "likeness"
    settings.FAL_KEY = fal_fake.token
    settings.FAL_QUEUE_URL = settings.FAL_API_URL = fal_fake.url
    settings.FAL_JWKS_URL = fal_fake.url + "/.well-known/jwks.json"
    settings.HF_TOKEN = hub_fake.token
    settings.HF_NAMESPACE = "likeness"
    settings.HF_ENDPOINT = hub_fake.url
    settings.TRAINING_POLL_SECONDS = 3600  # only webhooks (or the reconcile sweep) move runs
    return {"replicate": replicate_fake, "fal": fal_fake, "hub": hub_fake,
            "live": live_server.url}


@pytest.fixture
def model(alice):
    grant(alice, 100, reason="test", reference="test:providers")
    model = actions.create_model(alice, name="Alice", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)  # the consent selfie matched (tests/studio/test_consent.py)
    return model


def drive(run, run_jobs, *, until=TrainingRun.FINAL, timeout=20.0):
    """Run queued jobs until the run reaches one of `until` (webhooks queue more jobs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_jobs()
        run.refresh_from_db()
        if run.status in until:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run stuck at {run.stage}/{run.status}: "
                         f"{[e.message for e in run.events.all()]}")


def destinations(fake):
    return [key for key in fake.models if key.startswith("likeness/")]


def test_replicate_and_the_hub_take_a_model_to_ready(services, model, run_jobs, alice):
    replicate, hub = services["replicate"], services["hub"]
    run = actions.start_training(model, provider="replicate", steps=800)
    run = drive(run, run_jobs)
    model.refresh_from_db()
    assert (run.status, run.stage, model.status) == ("succeeded", "done", "ready"), [
        (e.message, e.data) for e in run.events.all()][-3:]
    assert len(replicate.trainings) == 1
    (request,) = replicate.calls("POST", r"/trainings$")
    sent = request.json()
    assert sent["input"]["trigger_word"] == model.trigger_word
    assert sent["input"]["steps"] == 800 and sent["destination"] == run.provider_ref
    assert sent["webhook"].startswith(f"{services['live']}/webhooks/replicate?run={run.id}")
    assert WebhookDelivery.objects.filter(run=run).exists()  # it moved by webhook
    assert run.predict_time and run.cost_actual_cents is not None
    assert model.provider_version.startswith(run.provider_ref + ":")
    repo = hub.repo(model.hf_repo_id)
    assert "lora.safetensors" in repo.files and "README.md" in repo.files
    assert repo.private is False  # the Free plan publishes public repositories
    with model.weights.open("rb") as handle:
        assert handle.read() == repo.files["lora.safetensors"]
    assert not default_storage.exists(run.zip_file.name)
    assert get_balance(alice) == 85 and ledger_is_consistent(alice)


def test_a_lost_webhook_is_recovered_by_the_reconcile_sweep(services, model, run_jobs):
    replicate = services["replicate"]
    replicate.lose_webhooks(20)
    # Long enough that the first job surely sees it still running, even on a loaded machine.
    replicate.training_seconds = 4
    try:
        run = actions.start_training(model, provider="replicate")
        run_jobs()
        replicate.wait_for(lambda: all(t.status == "succeeded"
                                       for t in replicate.trainings.values()), timeout=20)
    finally:
        replicate.training_seconds = 0.4
    run_jobs()
    run.refresh_from_db()
    assert run.status == "running"  # no webhook, no poll due yet: it would wait
    TrainingRun.objects.filter(pk=run.pk).update(
        updated_at=timezone.now() - timedelta(minutes=2))
    assert tasks.reconcile_trainings.call() == 1
    run = drive(run, run_jobs)
    assert run.status == "succeeded" and len(replicate.trainings) == 1


def test_duplicate_webhooks_change_nothing(services, model, run_jobs, client):
    replicate = services["replicate"]
    replicate.duplicate_webhooks(10)
    run = drive(actions.start_training(model, provider="replicate"), run_jobs)
    assert run.status == "succeeded"
    deliveries = replicate.webhook_deliveries
    ids = {d.id for d in deliveries if d.delivered}
    assert WebhookDelivery.objects.filter(provider="replicate").count() == len(ids)
    assert any(d.duplicate and d.delivered for d in deliveries)  # some came twice
    assert len(replicate.trainings) == 1


def test_a_forged_replicate_webhook_is_refused(services, model, client):
    body = b'{"id": "anything", "status": "succeeded"}'
    response = client.generic("POST", "/webhooks/replicate", body,
                              content_type="application/json",
                              headers={"webhook-id": "msg_forged",
                                       "webhook-timestamp": str(int(time.time())),
                                       "webhook-signature": "v1,Zm9yZ2Vk"})
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"not json"])
def test_a_signed_webhook_that_is_not_an_object_is_a_json_400(services, model, client, body):
    from fakes.base import WebhookDelivery as Sent

    replicate = services["replicate"]
    headers = replicate.sign_webhook(Sent(id="msg_1", url="", event="completed", body=body))
    response = client.generic("POST", "/webhooks/replicate", body,
                              content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    run = actions.start_training(model, provider="fal")
    response = _fal_delivery(run, body, services["fal"].sign(body, request_id="req-1"), client)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert not WebhookDelivery.objects.exists()


def test_a_transient_error_is_retried_without_a_second_training(services, model, run_jobs):
    replicate = services["replicate"]
    replicate.fail(503, times=2, path=r"/trainings$", method="POST")
    run = drive(actions.start_training(model, provider="replicate"), run_jobs)
    assert run.status == "succeeded"
    assert len(replicate.trainings) == 1
    assert any("Temporary provider error" in e.message for e in run.events.all())


def test_a_crash_after_asking_adopts_the_training_instead_of_paying_twice(services, model,
                                                                         run_jobs):
    """The worker died between the provider's answer and saving its id."""
    replicate = services["replicate"]
    run = actions.start_training(model, provider="replicate")
    claimed = pipeline.claim(run.pk)
    pipeline.package(claimed)
    pipeline.upload(claimed, pipeline.trainer("replicate"))
    pipeline.start_at_provider(claimed, pipeline.trainer("replicate"))
    TrainingRun.objects.filter(pk=run.pk).update(provider_id="", lease_until=None)
    run = drive(run, run_jobs)
    assert run.status == "succeeded"
    assert len(replicate.trainings) == 1
    assert any("Found the training started" in e.message for e in run.events.all())


@pytest.mark.parametrize("stage", ["packaging", "uploading", "training", "publishing"])
def test_a_run_interrupted_at_any_stage_resumes_once(services, model, run_jobs, stage):
    """A worker that died holding the run leaves its lease behind; once it expires the run
    goes on from the stage it reached, without a second training at the provider."""
    replicate = services["replicate"]
    run = actions.start_training(model, provider="replicate")
    claimed = pipeline.claim(run.pk)
    provider = pipeline.trainer("replicate")
    steps = {"packaging": [], "uploading": [pipeline.package],
             "training": [pipeline.package, lambda r: pipeline.upload(r, provider),
                          lambda r: pipeline.start_at_provider(r, provider)],
             "publishing": [pipeline.package, lambda r: pipeline.upload(r, provider),
                            lambda r: pipeline.start_at_provider(r, provider)]}
    for step in steps[stage]:
        step(claimed)
    if stage == "publishing":
        replicate.wait_for(lambda: all(t.status == "succeeded"
                                       for t in replicate.trainings.values()))
        pipeline.follow(claimed, provider)
        claimed.refresh_from_db()
        assert claimed.stage == "publishing"
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the dead worker's job is gone too
    TrainingRun.objects.filter(pk=run.pk).update(
        lease_until=timezone.now() + timedelta(minutes=5))
    assert tasks.reconcile_trainings.call() == 0  # the lease still holds
    TrainingRun.objects.filter(pk=run.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1),
        updated_at=timezone.now() - timedelta(minutes=5))
    assert tasks.reconcile_trainings.call() == 1
    run = drive(run, run_jobs)
    assert run.status == "succeeded"
    assert len(replicate.trainings) == 1


def test_cancel_stops_the_training_and_cleans_up(services, model, run_jobs):
    replicate = services["replicate"]
    replicate.training_seconds = 30
    try:
        run = actions.start_training(model, provider="replicate")
        run_jobs()
        run.refresh_from_db()
        assert run.provider_id
        run = actions.cancel_now(run)
        assert run.status == "canceled" and not run.credits_refunded
        assert replicate.training(run.provider_id)["status"] == "canceled"
        run_jobs()  # the clean-up sweep
        assert destinations(replicate) == []
        assert PersonalModel.objects.get(pk=model.pk).status == "canceled"
    finally:
        replicate.training_seconds = 0.4


def test_a_failed_training_is_refunded_and_leaves_nothing_behind(services, model, run_jobs,
                                                                 alice):
    replicate, hub = services["replicate"], services["hub"]
    replicate.fail_next_training("CUDA out of memory")
    run = drive(actions.start_training(model, provider="replicate"), run_jobs)
    run_jobs()  # the clean-up sweep
    run.refresh_from_db()
    assert (run.status, run.credits_refunded) == ("failed", True)
    assert "CUDA out of memory" in runs.explain(run)
    assert get_balance(alice) == 105 and ledger_is_consistent(alice)
    assert destinations(replicate) == []
    assert not hub.repos
    assert not default_storage.exists(run.zip_file.name)
    assert Cleanup.objects.filter(run=run, done_at__isnull=False).count() == 2


def test_deleting_a_trained_model_removes_it_at_the_providers(services, model, run_jobs):
    replicate, hub = services["replicate"], services["hub"]
    drive(actions.start_training(model, provider="replicate"), run_jobs)
    model.refresh_from_db()
    assert model.hf_repo_id and destinations(replicate)
    actions.delete_model(model)
    run_jobs()
    assert destinations(replicate) == []
    assert not hub.repos


def test_fal_takes_a_model_to_ready_by_its_webhook(services, model, run_jobs):
    fal = services["fal"]
    run = drive(actions.start_training(model, provider="fal"), run_jobs)
    model.refresh_from_db()
    assert (run.status, model.status) == ("succeeded", "ready")
    assert len(fal.jobs) == 1
    job = next(iter(fal.jobs.values()))
    assert job.input["trigger_word"] == model.trigger_word
    assert WebhookDelivery.objects.filter(provider="fal", run=run).exists()
    with model.weights.open("rb") as handle:
        assert handle.read(8)  # a safetensors file, copied into our storage


def test_a_fal_webhook_without_our_token_is_refused(services, model, client):
    run = actions.start_training(model, provider="fal")
    response = client.post(f"/webhooks/fal?run={run.id}&token=wrong",
                           {"request_id": "x", "status": "OK"}, content_type="application/json")
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


# --- fal.ai: what its queue really does --------------------------------------------------------
def _fal_delivery(run, body: bytes, headers: dict, client):
    token = run_token(str(run.id))
    return client.generic("POST", f"/webhooks/fal?run={run.id}&token={token}", body,
                          content_type="application/json", headers=headers)


def _signed_elsewhere(fal, body: bytes) -> dict:
    """Headers shaped like fal's, signed by a key fal never published."""
    headers = fal.sign(body)
    message = "\n".join([headers["X-Fal-Webhook-Request-Id"], headers["X-Fal-Webhook-User-Id"],
                         headers["X-Fal-Webhook-Timestamp"],
                         hashlib.sha256(body).hexdigest()]).encode()
    headers["X-Fal-Webhook-Signature"] = Ed25519PrivateKey.generate().sign(message).hex()
    return headers


@pytest.mark.parametrize("tamper", ["unsigned", "forged", "stale", "another_body",
                                    "another_request"])
def test_a_fal_webhook_fal_did_not_sign_is_refused(services, model, client, tamper):
    fal = services["fal"]
    run = actions.start_training(model, provider="fal")
    TrainingRun.objects.filter(pk=run.pk).update(provider_id="req-1")
    body = json.dumps({"request_id": "req-1", "gateway_request_id": "req-1", "status": "OK",
                       "payload": {}, "error": None}).encode()
    headers = {
        "unsigned": lambda: {},
        "forged": lambda: _signed_elsewhere(fal, body),
        "stale": lambda: fal.sign(body, timestamp=int(time.time()) - 600),
        "another_body": lambda: fal.sign(body.replace(b'"OK"', b'"ERROR"')),
        "another_request": lambda: fal.sign(body.replace(b'req-1', b'req-2')),
    }[tamper]()
    response = _fal_delivery(run, body, headers, client)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "bad_signature"
    assert not WebhookDelivery.objects.exists()
    # The same delivery, signed by fal now, is taken.
    assert _fal_delivery(run, body, fal.sign(body), client).status_code == 200
    assert WebhookDelivery.objects.filter(provider="fal", run=run).count() == 1


def test_fals_keys_are_read_once_and_again_when_they_rotate(services, model, client):
    fal = services["fal"]
    run = actions.start_training(model, provider="fal")
    TrainingRun.objects.filter(pk=run.pk).update(provider_id="req-1")
    for status in ("IN_PROGRESS", "OK"):
        body = json.dumps({"request_id": "req-1", "status": status, "payload": {}}).encode()
        assert _fal_delivery(run, body, fal.sign(body), client).status_code == 200
    assert len(fal.calls("GET", r"/\.well-known/jwks\.json$")) <= 1  # cached


def test_a_fal_training_completed_with_an_error_fails_with_its_text(services, model, run_jobs,
                                                                    alice):
    fal = services["fal"]
    fal.fail_next("fal-ai/flux-lora-fast-training", detail="CUDA error: an illegal memory access",
                  error_type="runner_server_error")
    run = drive(actions.start_training(model, provider="fal"), run_jobs)
    assert (run.status, run.credits_refunded) == ("failed", True)
    assert "CUDA error: an illegal memory access" in runs.explain(run)
    # A failed run is not a result to fetch (let alone five times).
    assert not fal.calls("GET", r"/requests/[^/]+$")
    assert get_balance(alice) == 105 and ledger_is_consistent(alice)


def _running_at_fal(services, model, run_jobs):
    fal = services["fal"]
    fal.queue_seconds, fal.training_seconds = 0, 3600
    run = actions.start_training(model, provider="fal")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run_jobs()
        run.refresh_from_db()
        if run.provider_id:
            fal.tick_now()
            if fal.job(run.provider_id).status == "IN_PROGRESS":
                return run
        time.sleep(0.05)
    raise AssertionError("the training never started at fal")


@pytest.mark.parametrize("ending", ["finishes", "fails"])
def test_canceling_a_running_fal_training_is_refused_and_followed_to_its_end(
        services, model, run_jobs, alice, client, ending):
    fal = services["fal"]
    try:
        run = _running_at_fal(services, model, run_jobs)
        run = actions.cancel_now(run)
        assert (run.status, run.cancel_refused, run.credits_refunded) == ("running", True, False)
        assert fal.job(run.provider_id).cancel_asked  # fal was asked, and it runs on
        assert any("may still finish" in e.message for e in run.events.all())
        client.force_login(alice)
        page = client.get(f"/dashboard/training/{run.pk}/")
        assert b"may still finish" in page.content
        if ending == "fails":
            fal.job(run.provider_id).fail = (500, "Worker lost", "runner_disconnected")
        fal.finish(run.provider_id)
        run = drive(run, run_jobs)
    finally:
        fal.queue_seconds, fal.training_seconds = 0.05, 0.4
    model.refresh_from_db()
    if ending == "finishes":  # the model it made is the customer's: no refund
        assert (run.status, model.status, run.credits_refunded) == ("succeeded", "ready", False)
        assert get_balance(alice) == 85
    else:
        assert (run.status, run.credits_refunded) == ("failed", True)
        assert get_balance(alice) == 105
    assert ledger_is_consistent(alice)
    assert len(fal.calls("PUT", r"/cancel$")) == 1  # asked once, not at every step


def test_canceling_a_queued_fal_training_takes_it_off_the_queue(services, model, run_jobs):
    fal = services["fal"]
    fal.queue_seconds, fal.training_seconds = 3600, 3600
    try:
        run = actions.start_training(model, provider="fal")
        deadline = time.monotonic() + 20
        while not run.provider_id and time.monotonic() < deadline:
            run_jobs()
            run.refresh_from_db()
        run = actions.cancel_now(run)
    finally:
        fal.queue_seconds, fal.training_seconds = 0.05, 0.4
    assert (run.status, run.cancel_refused) == ("canceled", False)
    assert fal.job(run.provider_id).error_type == "client_cancelled"
