"""The training pipeline with the offline demo trainer: stages, credits, cancel, failure,
clean-up, notifications, the lease, the reconcile sweep and the recurring scheduler."""

import io
import json
import struct
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from credits.actions import get_balance, grant, ledger_is_consistent
from credits.models import CreditEntry
from jobs.models import RecurringTask
from jobs.schedule import run_due
from likeness.errors import Conflict, InvalidInput
from studio import actions, pipeline, runs, tasks
from studio.models import Cleanup, PersonalModel, TrainingRun
from tests.factories import consent_for
from tests.studio.photos import person_jpeg


@pytest.fixture
def model(alice):
    grant(alice, 100, reason="test", reference="test:alice")
    model = actions.create_model(alice, name="Alice", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)  # the consent selfie matched (tests/studio/test_consent.py)
    return model


@pytest.fixture(autouse=True)
def instant_demo(settings):
    settings.TRAINING_DEMO_SECONDS = 0.001


def safetensors_metadata(data: bytes) -> dict:
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length])["__metadata__"]


def test_a_demo_training_reaches_ready(model, run_jobs, alice):
    run = actions.start_training(model, steps=500)
    assert get_balance(alice) == 105 - 20
    assert (run.cost_estimate_cents, run.credits) == (100, 20)  # 500 steps × 0.2 ¢
    model.refresh_from_db()
    assert model.status == PersonalModel.Status.QUEUED  # until a worker picks the run up
    run_jobs()
    run.refresh_from_db()
    model.refresh_from_db()
    assert (run.status, run.stage, model.status) == ("succeeded", "done", "ready")
    assert run.cost_actual_cents is not None and run.finished_at
    with model.weights.open("rb") as handle:
        assert safetensors_metadata(handle.read())["likeness_demo"] == "true"
    assert model.weights_is_demo
    stages = [event.stage for event in run.events.all()]
    for stage in ("packaging", "uploading", "training", "publishing", "done"):
        assert stage in stages
    assert not default_storage.exists(run.zip_file.name)  # the ZIP was cleaned up
    assert Cleanup.objects.get(target=run.zip_file.name).done_at
    assert mail.outbox[-1].subject == "Alice is ready"
    assert ledger_is_consistent(alice)


def test_the_zip_holds_every_photo_with_a_caption(model, settings):
    settings.TRAINING_DEMO_SECONDS = 3600
    run = actions.start_training(model)
    run = pipeline.claim(run.pk)
    pipeline.package(run)
    with run.zip_file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    names = archive.namelist()
    assert len([n for n in names if n.endswith(".jpg")]) == 5
    assert archive.read("01.txt").decode() == f"a photo of {model.trigger_word} woman"


def test_progress_while_training_and_a_poll_is_queued(model, run_jobs, settings):
    settings.TRAINING_DEMO_SECONDS = 3600
    run = actions.start_training(model)
    run_jobs()
    run.refresh_from_db()
    assert (run.status, run.stage) == ("running", "training")
    assert run.provider_id and 0 <= run.progress < 1
    later = DBTaskResult.objects.ready().count(), DBTaskResult.objects.filter(
        status="READY", run_after__gt=timezone.now()).count()
    assert later == (0, 1)


def test_a_failed_training_is_refunded_cleaned_and_explained(alice, run_jobs):
    grant(alice, 100, reason="test", reference="test:alice2")
    model = actions.create_model(alice, name="Bad [fail-training]", subject_class="man")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)
    run = actions.start_training(model)
    run_jobs()
    run.refresh_from_db()
    model.refresh_from_db()
    assert (run.status, model.status, run.error_code) == ("failed", "failed", "provider_failed")
    assert run.credits_refunded and get_balance(alice) == 105
    assert CreditEntry.objects.filter(reference=f"train:{run.id}:refund").count() == 1
    assert not default_storage.exists(run.zip_file.name)
    assert "failed" in mail.outbox[-1].subject
    assert runs.can_retry(run)
    again = actions.retry(run)
    assert again.pk != run.pk and again.status == "queued"


def test_cancel_before_the_provider_starts_refunds(model, run_jobs, alice):
    run = actions.start_training(model)
    actions.request_cancel(run)
    run_jobs()
    run.refresh_from_db()
    assert (run.status, run.credits_refunded) == ("canceled", True)
    assert get_balance(alice) == 105
    with pytest.raises(Conflict):
        actions.request_cancel(run)


def test_cancel_while_training_keeps_the_charge(model, run_jobs, settings, alice):
    settings.TRAINING_DEMO_SECONDS = 3600
    run = actions.start_training(model)
    run_jobs()
    actions.request_cancel(run)
    run_jobs()
    run.refresh_from_db()
    assert (run.status, run.credits_refunded) == ("canceled", False)
    assert get_balance(alice) == 85
    assert PersonalModel.objects.get(pk=model.pk).status == "canceled"


def test_bad_requests_change_nothing(alice, model):
    few = actions.create_model  # Free has one slot: use the fixture model, remove photos
    assert few
    photo = model.photos.first()
    actions.delete_photo(photo)
    with pytest.raises(InvalidInput):
        actions.start_training(model)
    actions.add_photos(model, [("x.jpg", person_jpeg(9))])
    consent_for(model)
    with pytest.raises(InvalidInput):
        actions.start_training(model, provider="nowhere")
    with pytest.raises(InvalidInput):
        actions.start_training(model, steps=10)
    assert not TrainingRun.objects.exists()
    assert get_balance(alice) == 105
    actions.start_training(model)
    with pytest.raises(Conflict):
        actions.start_training(model)
    assert TrainingRun.objects.count() == 1


def test_too_few_credits_records_nothing(bob):
    from credits.actions import InsufficientCredits

    model = actions.create_model(bob, name="Bob", subject_class="man")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)
    with pytest.raises(InsufficientCredits):
        actions.start_training(model)
    model.refresh_from_db()
    assert model.status == "draft" and not TrainingRun.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_the_lease_lets_one_worker_at_a_time(model):
    run = actions.start_training(model)
    assert pipeline.claim(run.pk) is not None
    assert pipeline.claim(run.pk) is None
    TrainingRun.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert pipeline.claim(run.pk) is not None


def test_reconcile_picks_up_runs_that_stopped_moving(model, run_jobs, settings):
    settings.TRAINING_DEMO_SECONDS = 3600
    run = actions.start_training(model)
    run_jobs()
    DBTaskResult.objects.all().delete()  # the queued poll is lost
    assert tasks.reconcile_trainings.call() == 0  # it moved recently
    TrainingRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert tasks.reconcile_trainings.call() == 1
    settings.TRAINING_DEMO_SECONDS = 0.001
    run_jobs()
    run.refresh_from_db()
    assert run.status == "succeeded"


def test_deleting_a_trained_model_removes_everything(model, run_jobs, settings):
    settings.HF_TOKEN, settings.HF_NAMESPACE = "", ""
    run = actions.start_training(model)
    run_jobs()
    model.refresh_from_db()
    weights = model.weights.name
    assert default_storage.exists(weights)
    actions.delete_model(model)
    assert not default_storage.exists(weights)
    assert not TrainingRun.objects.filter(pk=run.pk).exists()


def test_recurring_tasks_are_queued_once_per_period(db, settings):
    settings.RECURRING_TASKS = {
        "training.reconcile": ("studio.tasks.reconcile_trainings", 30),
        "training.cleanup": ("studio.tasks.sweep_cleanups", 300),
    }
    first = run_due()
    assert set(first) == {"training.reconcile", "training.cleanup"}
    assert run_due() == []  # not due again yet, however many workers ask
    RecurringTask.objects.update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert len(run_due()) == 2
    assert DBTaskResult.objects.count() == 4


def test_the_zip_link_is_signed_and_expires(model, client, settings):
    settings.TRAINING_DEMO_SECONDS = 3600
    run = actions.start_training(model)
    run = pipeline.claim(run.pk)
    pipeline.package(run)
    url = pipeline.zip_url(run)
    path = url.replace(settings.PUBLIC_BASE_URL, "")
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert client.get(path.replace("photos.zip", "x/photos.zip")).status_code == 404
    other = path.replace(str(run.id), "00000000-0000-0000-0000-000000000000")
    assert client.get(other).status_code == 404
    bad = reverse("training_zip", args=[run.id, "not-a-token"])
    assert client.get(bad).status_code == 404
    settings.TRAINING_ZIP_URL_SECONDS = -1
    assert client.get(path).status_code == 404


def test_training_pages_are_private(model, alice_client, client, bob, run_jobs):
    run = actions.start_training(model)
    run_jobs()
    for name in ("training_detail", "training_status"):
        assert alice_client.get(reverse(name, args=[run.pk])).status_code == 200
    assert alice_client.get(reverse("training_list")).status_code == 200
    client.force_login(bob)
    for name in ("training_detail", "training_status"):
        assert client.get(reverse(name, args=[run.pk])).status_code == 404
    for name in ("training_cancel", "training_retry"):
        assert client.post(reverse(name, args=[run.pk])).status_code == 404
    assert client.post(reverse("model_train", args=[model.pk])).status_code == 404
