import pytest
from django_tasks_db.models import DBTaskResult

from credits.actions import get_balance, ledger_is_consistent
from generation.models import Generation
from tests.api.conftest import assert_error


def post(client, body):
    return client.post("/api/v1/generations", body, content_type="application/json")


def test_create_generation(alice, alice_api):
    response = post(alice_api, {"prompt": "a lighthouse at dusk", "base_model": "flux-dev",
                                "aspect_ratio": "16:9", "num_images": 2, "seed": 42,
                                "steps": 20, "guidance": 3.5, "negative_prompt": "fog"})

    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) >= {"id", "status", "credits_reserved", "created_at"}
    assert body["status"] == "queued"
    assert body["credits_reserved"] == 4
    generation = Generation.objects.get(pk=body["id"])
    assert generation.user == alice
    assert (generation.base_model, generation.aspect_ratio, generation.num_images) == (
        "flux-dev", "16:9", 2)
    assert (generation.seed, generation.steps, generation.guidance) == (42, 20, 3.5)
    assert generation.negative_prompt == "fog"
    assert get_balance(alice) == 1
    assert DBTaskResult.objects.count() == 1


def test_defaults(alice_api):
    response = post(alice_api, {"prompt": "a cat"})

    assert response.status_code == 202
    generation = Generation.objects.get(pk=response.json()["id"])
    assert (generation.base_model, generation.aspect_ratio, generation.num_images) == (
        "flux-schnell", "1:1", 1)


def test_generation_runs_and_shows_its_images(alice, alice_api, run_jobs):
    created = post(alice_api, {"prompt": "a red bicycle", "num_images": 2}).json()
    run_jobs()

    response = alice_api.get(f"/api/v1/generations/{created['id']}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["status"] == "succeeded"
    assert body["prompt"] == "a red bicycle"
    assert (body["base_model"], body["aspect_ratio"], body["num_images"]) == (
        "flux-schnell", "1:1", 2)
    assert body["credits_reserved"] == 2
    assert body["credits_charged"] == 2
    assert body["credits_refunded"] == 0
    assert body["error"] is None and body["failures"] == []
    assert body["finished_at"] is not None
    assert len(body["images"]) == 2
    image = body["images"][0]
    assert image["generation_id"] == created["id"]
    assert image["url"] == f"http://testserver/api/v1/images/{image['id']}/file"
    assert image["thumbnail_url"] == f"http://testserver/api/v1/images/{image['id']}/thumbnail"
    assert alice_api.get(image["url"]).status_code == 200
    assert ledger_is_consistent(alice)


def test_queued_generation_has_no_images_yet(alice_api):
    created = post(alice_api, {"prompt": "a cat"}).json()

    body = alice_api.get(f"/api/v1/generations/{created['id']}").json()

    assert body["status"] == "queued"
    assert body["images"] == [] and body["credits_charged"] == 0
    assert body["finished_at"] is None


@pytest.mark.parametrize("body,field", [
    ({"prompt": "   "}, "prompt"),
    ({"prompt": "x" * 2001}, "prompt"),
    ({}, "prompt"),
    ({"prompt": "a", "aspect_ratio": "5:1"}, "aspect_ratio"),
    ({"prompt": "a", "base_model": "sdxl"}, "base_model"),
    ({"prompt": "a", "num_images": 0}, "num_images"),
    ({"prompt": "a", "num_images": 5}, "num_images"),
    ({"prompt": "a", "num_images": "2"}, "num_images"),
    ({"prompt": "a", "num_images": True}, "num_images"),
    ({"prompt": "a", "steps": 51}, "steps"),
    ({"prompt": "a", "guidance": 21}, "guidance"),
    ({"prompt": "a", "seed": -1}, "seed"),
    ({"prompt": "a", "lora_scale": 3}, "lora_scale"),
    ({"prompt": "a", "style": "noir"}, "style"),
    ({"prompt": "a", "colour": "red"}, "colour"),
])
def test_invalid_requests_are_422_and_record_nothing(alice, alice_api, body, field):
    details = assert_error(post(alice_api, body), 422, "validation_error")

    assert details["field"] == field
    assert any(e["field"] == field for e in details["errors"])
    assert not Generation.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert get_balance(alice) == 5


def test_unknown_field_message(alice_api):
    details = assert_error(post(alice_api, {"prompt": "a", "colour": "red", "size": 3}), 422,
                           "validation_error")

    assert {e["field"] for e in details["errors"]} == {"colour", "size"}
    assert all(e["type"] == "extra_forbidden" for e in details["errors"])


def test_an_unknown_model_id_is_404_and_records_nothing(alice, alice_api):
    for model_id in ("c0ffee", "7d0c3c4e-8d4b-4a8e-9a53-2f0d7a1c9b11"):
        assert_error(post(alice_api, {"prompt": "a", "model_id": model_id}), 404, "not_found")
    assert not Generation.objects.exists()
    assert get_balance(alice) == 5


def test_malformed_json_is_400(alice_api):
    response = alice_api.post("/api/v1/generations", "{not json",
                              content_type="application/json")

    assert_error(response, 400, "bad_request")
    assert not Generation.objects.exists()


def test_too_few_credits_is_402_and_changes_nothing(alice, alice_api):
    # flux-pro costs 4 a picture: 2 pictures need 8, alice has 5.
    response = post(alice_api, {"prompt": "a", "base_model": "flux-pro", "num_images": 2})

    details = assert_error(response, 402, "insufficient_credits")
    assert details == {"needed": 8, "balance": 5}
    assert get_balance(alice) == 5
    assert not Generation.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert ledger_is_consistent(alice)


def test_unknown_generation_is_404(alice_api):
    for gid in ("7d0c3c4e-8d4b-4a8e-9a53-2f0d7a1c9b11", "not-a-uuid"):
        assert_error(alice_api.get(f"/api/v1/generations/{gid}"), 404, "not_found")


def test_null_options_take_their_defaults(alice_api):
    response = post(alice_api, {"prompt": "a cat", "base_model": None, "aspect_ratio": None,
                                "num_images": None, "seed": None, "steps": None,
                                "guidance": None, "negative_prompt": None, "model_id": None,
                                "style": None})

    assert response.status_code == 202, response.content
    generation = Generation.objects.get(pk=response.json()["id"])
    assert (generation.base_model, generation.aspect_ratio, generation.num_images) == (
        "flux-schnell", "1:1", 1)


def test_body_must_be_an_object(alice_api):
    for body in ("[]", '"a cat"', "3"):
        response = alice_api.post("/api/v1/generations", body, content_type="application/json")
        assert_error(response, 422, "validation_error")
    assert not Generation.objects.exists()
