"""A customer's data rights: export everything, delete everything (here, at the training
provider, on the Hub and at Stripe), and the retention of training photos."""

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import AccountDeletion, User
from billing.models import Subscription
from studio import actions as training
from studio.models import PersonalModel, TrainingPhoto, TrainingRun
from tests.billing.conftest import checkout, deliver, stripe_fake  # noqa: F401
from tests.factories import PASSWORD, make_image
from tests.studio.test_training_providers import (  # noqa: F401
    destinations,
    drive,
    model,
    services,
)

pytestmark = pytest.mark.django_db(transaction=True)


def media_files() -> list[str]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.exists() else []


def test_export_holds_every_image_photo_and_the_data(client, alice, model):  # noqa: F811
    image = make_image(alice)
    client.force_login(alice)
    page = client.get("/dashboard/account/data/")
    assert page.status_code == 200 and b"1 image" in page.content
    response = client.post("/dashboard/account/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == alice.email
    assert [m["id"] for m in data["personal_models"]] == [str(model.id)]
    assert len(data["training_photos"]) == 5 and len(data["images"]) == 1
    assert data["credits"] and data["generations"]
    names = set(archive.namelist())
    for row in data["training_photos"] + data["images"]:
        assert row["file"] in names
    with image.file.open("rb") as handle:
        assert archive.read(data["images"][0]["file"]) == handle.read()
    assert "key_hash" not in json.dumps(data)


def test_export_is_only_for_the_signed_in_owner(client, alice):
    assert client.post("/dashboard/account/export").status_code == 302  # to the sign-in


def test_deleting_the_account_leaves_nothing_anywhere(
        client, alice, model, services, stripe_fake, checkout, deliver, run_jobs):  # noqa: F811
    replicate, hub = services["replicate"], services["hub"]
    deliver.all(checkout(alice, plan="pro"))
    subscription = Subscription.objects.get(user=alice)
    assert subscription.status == "active"
    run = drive(training.start_training(model, provider="replicate"), run_jobs)
    model.refresh_from_db()
    assert run.status == "succeeded" and model.hf_repo_id and destinations(replicate)
    assert hub.repos and model.weights.name
    make_image(alice)
    assert media_files()

    client.force_login(alice)
    page = client.get("/dashboard/account/delete")
    assert page.status_code == 200
    refused = client.post("/dashboard/account/delete", {"email": "bob@example.com",
                                                        "password": PASSWORD})
    assert refused.status_code == 200 and User.objects.filter(pk=alice.pk).exists()
    response = client.post("/dashboard/account/delete", {"email": alice.email,
                                                         "password": PASSWORD})
    assert response.status_code == 302
    receipt = AccountDeletion.objects.get()
    assert response["Location"] == f"/account-deleted/{receipt.token}/"

    assert not User.objects.filter(pk=alice.pk).exists()
    assert not PersonalModel.objects.exists() and not TrainingPhoto.objects.exists()
    assert not TrainingRun.objects.exists()
    assert media_files() == []
    assert stripe_fake.subscriptions[subscription.stripe_id]["status"] == "canceled"
    assert receipt.canceled_subscriptions == [subscription.stripe_id]
    assert receipt.counts["training_photos"] == 5 and receipt.counts["images"] == 1

    pending = client.get(response["Location"])
    assert pending.status_code == 200 and b"Your account is deleted" in pending.content
    run_jobs()  # the clean-up sweep
    assert destinations(replicate) == []
    assert not hub.repos
    shown = client.get(response["Location"])
    assert b'data-all-done="true"' in shown.content
    assert b"subscription was canceled" in shown.content
    assert "alice" not in json.dumps(receipt.counts)
    from django.core import mail

    [receipt_mail] = [m for m in mail.outbox if m.subject == "Your Likeness account is deleted"]
    assert receipt_mail.to == ["alice@example.com"] and receipt.token in receipt_mail.body


def test_deletion_stops_when_stripe_cannot_cancel(client, alice, stripe_fake, checkout,  # noqa: F811
                                                  deliver):  # noqa: F811
    deliver.all(checkout(alice, plan="pro"))
    stripe_fake.fail(503, times=10, path=r"^/v1/subscriptions/")
    client.force_login(alice)
    response = client.post("/dashboard/account/delete", {"email": alice.email,
                                                         "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/account/delete"
    assert User.objects.filter(pk=alice.pk).exists()


def test_retention_deletes_training_photos_days_after_training(alice, model, settings):  # noqa: F811
    run = TrainingRun.objects.create(user=alice, model=model, provider="demo",
                                     status="succeeded", stage="done", steps=1000,
                                     learning_rate=0.0004, lora_rank=16,
                                     finished_at=timezone.now() - timedelta(days=31))
    PersonalModel.objects.filter(pk=model.pk).update(status="ready")
    from studio.cleanup import apply_photo_retention

    assert apply_photo_retention() == 0  # off by default
    settings.TRAINING_PHOTO_RETENTION_DAYS = 45
    assert apply_photo_retention() == 0  # not yet
    settings.TRAINING_PHOTO_RETENTION_DAYS = 30
    assert apply_photo_retention() == 5
    assert not TrainingPhoto.objects.exists()
    assert [f for f in media_files() if f.startswith("photos/")] == []
    assert run.model.__class__.objects.get(pk=model.pk).status == "ready"
    assert "accounts.retention" in settings.RECURRING_TASKS
