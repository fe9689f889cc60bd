"""Liveness and readiness: /readyz really writes to storage and reads the database and queue."""

import pytest
from django.core.files.storage import default_storage

from generation.actions import create_generation


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_database_storage_and_queue(client, alice):
    create_generation(alice, prompt="queued for the check", num_images=1)

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "storage", "queue"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["queue"]["depth"] == 1
    assert "no-cache" in response["Cache-Control"]
    # The storage probe cleans up after itself.
    assert default_storage.listdir("health") == ([], [])


@pytest.mark.django_db
def test_readyz_fails_when_storage_cannot_be_written(client, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a regular file where the media folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": blocker / "media"},
        },
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["storage"]["ok"] is False
    assert body["checks"]["storage"]["error"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["queue"]["ok"] is True
