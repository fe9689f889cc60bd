"""Text the API cannot take is a clear 422 that changes nothing: a lone surrogate, NUL and
the other control characters, and prompts that show nothing (likeness.text), wherever they are
sent: a body, the query, a header. Also times no database can hold."""

import json

import pytest
from django_tasks_db.models import DBTaskResult

from api.models import ApiKey, IdempotencyRecord
from credits.actions import get_balance
from generation.models import Generation, Image
from studio.models import PersonalModel, TrainingRun
from tests.api.conftest import assert_error
from tests.factories import make_image, make_personal_model


def post_raw(client, path, body: str, **headers):
    # Raw JSON text: "\ud800" stays the escape JSON allows, as an attacker sends it.
    return client.post(path, body, content_type="application/json", **headers)


def nothing_recorded(user, balance):
    assert not Generation.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert get_balance(user) == balance


@pytest.mark.parametrize(("body", "field"), [
    ('{"prompt": "\\ud800"}', "prompt"),
    ('{"prompt": "a fox \\udc00 in the snow"}', "prompt"),
    ('{"prompt": "a fox", "negative_prompt": "\\ud800"}', "negative_prompt"),
    ('{"prompt": "a\\u0000fox"}', "prompt"),
    ('{"prompt": "a fox\\u001b[2J"}', "prompt"),
    ('{"prompt": "a fox\\u0085"}', "prompt"),
    ('{"prompt": "a fox", "callback_url": "https://example.com/\\ud800"}', "callback_url"),
    ('{"prompt": "a fox", "model_id": "\\u0000"}', "model_id"),
])
def test_text_that_is_not_text_is_refused(alice_api, alice, body, field):
    balance = get_balance(alice)
    details = assert_error(post_raw(alice_api, "/api/v1/generations", body), 422,
                           "validation_error")
    assert details["field"] == field
    nothing_recorded(alice, balance)


@pytest.mark.parametrize("prompt", ["\u200b", "\u200b\u200c\u200d\u2060", "\ufeff",
                                    " \u00a0\u3000 ", "\u3164", "\u2800\u2800",
                                    "\u034f\u0301"])
def test_a_prompt_that_shows_nothing_is_refused(alice_api, alice, prompt):
    balance = get_balance(alice)
    details = assert_error(post_raw(alice_api, "/api/v1/generations",
                                    json.dumps({"prompt": prompt})), 422, "validation_error")
    assert details["field"] == "prompt"
    nothing_recorded(alice, balance)


def test_the_same_with_an_idempotency_key_and_in_its_header(alice_api, alice):
    balance = get_balance(alice)
    response = post_raw(alice_api, "/api/v1/generations", '{"prompt": "\\ud800"}',
                        HTTP_IDEMPOTENCY_KEY="k-1")
    assert_error(response, 422, "validation_error")
    response = post_raw(alice_api, "/api/v1/generations", '{"prompt": "a fox"}',
                        HTTP_IDEMPOTENCY_KEY="k\x01")
    assert_error(response, 422, "validation_error")
    nothing_recorded(alice, balance)
    assert not IdempotencyRecord.objects.filter(key="k\x01").exists()


@pytest.mark.parametrize("body", ['{"name": "Al\\u0000ice", "subject_class": "woman"}',
                                  '{"name": "\\ud800", "subject_class": "woman"}',
                                  '{"name": "\\u200b\\u200b", "subject_class": "woman"}',
                                  '{"name": "Alice", "subject_class": "woman", '
                                  '"trigger_word": "zor\\u0000vek"}'])
def test_a_model_name_that_is_not_text_creates_nothing(alice_api, body):
    assert_error(post_raw(alice_api, "/api/v1/models", body), 422, "validation_error")
    assert not PersonalModel.objects.exists()


def test_a_training_with_such_text_starts_nothing(alice_api, alice):
    model = make_personal_model(alice, status=PersonalModel.Status.DRAFT)
    for body in ('{"provider": "\\ud800"}', '{"callback_url": "http://[::1/"}',
                 '{"callback_url": "https://example.com/\\u0000"}'):
        assert_error(post_raw(alice_api, f"/api/v1/models/{model.pk}/train", body), 422,
                     "validation_error")
    assert not TrainingRun.objects.exists()


@pytest.mark.parametrize("query", ["q=%00", "q=fox%1b", "cursor=%00", "model_id=%07"])
def test_query_text_that_is_not_text_is_refused(alice_api, alice, query):
    make_image(alice)
    assert_error(alice_api.get(f"/api/v1/images?{query}"), 422, "validation_error")


@pytest.mark.parametrize("query", ["until=9999-12-31T23:59:59-01:00",
                                   "since=0001-01-01T00:00:00%2B01:00",
                                   "until=9999-12-31T23:30:00-00:45"])
def test_a_time_no_database_can_hold_is_refused(alice_api, alice, query):
    make_image(alice)
    details = assert_error(alice_api.get(f"/api/v1/images?{query}"), 422, "validation_error")
    assert details["field"] in ("since", "until")


@pytest.mark.parametrize("query", ["until=9999-12-31", "until=9999-12-31T23:59:59Z",
                                   "since=0001-01-01", "since=0001-01-01T00:00:00Z"])
def test_the_ends_of_the_calendar_still_work(alice_api, alice, query):
    image = make_image(alice)
    response = alice_api.get(f"/api/v1/images?{query}")
    assert response.status_code == 200, response.content
    assert [i["id"] for i in response.json()["items"]] == [str(image.pk)]


def test_bulk_ids_that_are_not_text_are_refused(alice_api, alice):
    image = make_image(alice)
    body = json.dumps({"ids": [str(image.pk), "x\x00"]})
    assert_error(post_raw(alice_api, "/api/v1/images/bulk-delete", body), 422,
                 "validation_error")
    assert Image.objects.filter(pk=image.pk).exists()


def test_an_api_key_name_that_is_not_text_makes_no_key(alice_client, alice):
    before = ApiKey.objects.count()
    response = alice_client.post("/dashboard/api-keys/", {"name": "ci\x1bkey"}, follow=True)
    assert response.status_code == 200
    assert "Remove the control character" in response.content.decode()
    assert ApiKey.objects.count() == before
