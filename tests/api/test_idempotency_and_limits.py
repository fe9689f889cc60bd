"""Idempotency-Key and rate limits on the costly endpoints (shown on POST /models/{id}/train;
POST /generations uses the same decorators)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from api.keys import create_api_key
from api.models import IdempotencyRecord
from credits.actions import get_balance, grant
from credits.models import CreditEntry
from studio import actions
from studio.models import TrainingRun
from tests.api.conftest import assert_error
from tests.conftest import requires_postgres
from tests.factories import consent_for
from tests.studio.photos import person_jpeg


@pytest.fixture
def model(alice):
    grant(alice, 100, reason="test", reference="test:idem")
    model = actions.create_model(alice, name="Alice", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)  # the consent selfie matched (tests/studio/test_consent.py)
    return model


def train(api, model, body=None, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/api/v1/models/{model.id}/train", body or {},
                    content_type="application/json", headers=headers)


def test_a_retry_with_the_same_key_returns_the_first_answer(alice_api, model, alice):
    first = train(alice_api, model, {"steps": 700}, key="k-1")
    again = train(alice_api, model, {"steps": 700}, key="k-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert TrainingRun.objects.count() == 1
    assert get_balance(alice) == 85
    assert CreditEntry.objects.filter(kind="spend").count() == 1


def test_the_same_key_with_another_body_is_a_conflict(alice_api, model):
    assert train(alice_api, model, {"steps": 700}, key="k-2").status_code == 202
    assert_error(train(alice_api, model, {"steps": 900}, key="k-2"), 409, "conflict")
    assert TrainingRun.objects.count() == 1


def test_keys_belong_to_one_account(alice_api, bob_api, model, bob):
    assert train(alice_api, model, key="shared").status_code == 202
    other = actions.create_model(bob, name="Bob", subject_class="man")
    response = bob_api.post(f"/api/v1/models/{other.id}/train", {},
                            content_type="application/json", headers={"Idempotency-Key": "shared"})
    assert response.status_code == 422  # bob's own request ran: no photos yet
    assert IdempotencyRecord.objects.count() == 2


def test_errors_are_replayed_too_and_nothing_is_charged(bob_api, bob):
    model = actions.create_model(bob, name="Bob", subject_class="man")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)
    first = train(bob_api, model, key="poor")
    assert_error(first, 402, "insufficient_credits")
    grant(bob, 100, reason="test", reference="test:bob")
    assert train(bob_api, model, key="poor").json() == first.json()  # the recorded answer
    assert train(bob_api, model, key="fresh").status_code == 202


def test_a_long_key_is_refused(alice_api, model):
    assert_error(train(alice_api, model, key="x" * 256), 422, "validation_error")
    assert not TrainingRun.objects.exists()


def test_training_is_rate_limited_per_account_and_key(alice, model, settings):
    settings.RATE_LIMIT_TRAININGS = "2/hour"
    from django.core.cache import cache

    cache.clear()
    first, second = (Client(headers={"Authorization": f"Bearer {create_api_key(alice, n)[1]}"})
                     for n in ("one", "two"))
    for client in (first, second):
        assert train(client, model, {"steps": 5}).status_code == 422  # counted, refused
    response = train(first, model, {"steps": 5})
    assert_error(response, 429, "rate_limited")
    assert 0 < int(response["Retry-After"]) <= 3600
    settings.RATE_LIMIT_TRAININGS = ""
    assert train(first, model).status_code == 202


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_charge_once(alice):
    grant(alice, 100, reason="test", reference="test:concurrent-idem")
    model = actions.create_model(alice, name="Alice", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)
    raw = create_api_key(alice, "retries")[1]
    barrier = threading.Barrier(8)
    answers = []

    def retry():
        try:
            client = Client(headers={"Authorization": f"Bearer {raw}"})
            barrier.wait()
            answers.append(train(client, model, {"steps": 600}, key="same"))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [202] * 8
    assert len({a.json()["id"] for a in answers}) == 1
    assert TrainingRun.objects.count() == 1 and get_balance(alice) == 85
