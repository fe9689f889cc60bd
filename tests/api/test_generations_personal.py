"""POST /generations with a personal model or a style; GET /generations/{id} with the provider
of each image."""

import pytest
from django_tasks_db.models import DBTaskResult

from credits.actions import get_balance, grant
from generation.models import Generation
from tests.api.conftest import assert_error
from tests.factories import make_personal_model


def post(client, body):
    return client.post("/api/v1/generations", body, content_type="application/json")


def test_a_ready_personal_model_generates_with_its_trigger_word(alice, alice_api, run_jobs):
    model = make_personal_model(alice)
    response = post(alice_api, {"prompt": "on a boat", "model_id": str(model.pk),
                                "style": "vintage", "num_images": 2, "lora_scale": 0.7,
                                "base_model": "flux-pro"})
    assert response.status_code == 202, response.content
    assert response.json()["credits_reserved"] == 4
    run_jobs()

    body = alice_api.get(f"/api/v1/generations/{response.json()['id']}").json()
    assert body["status"] == "succeeded" and body["stage"] == "done"
    assert body["slots"] == ["done", "done"]
    assert body["model_id"] == str(model.pk) and body["style"] == "vintage"
    assert body["base_model"] == "flux-dev"  # personal models run on FLUX.1 dev
    assert body["prompt"] == "on a boat"
    assert "a photo of zorvek woman, on a boat" in body["prompt_sent"]
    for image in body["images"]:
        assert image["provider"] == "demo"
        assert image["metadata"]["lora"]["scale"] == 0.7
        assert image["metadata"]["prompt_sent"] == body["prompt_sent"]
    assert get_balance(alice) == 1


def test_another_accounts_model_is_404(alice, bob, alice_api):
    model = make_personal_model(bob, trigger_word="bobzy")
    assert_error(post(alice_api, {"prompt": "x", "model_id": str(model.pk)}), 404, "not_found")
    assert not Generation.objects.exists() and not DBTaskResult.objects.exists()
    assert get_balance(alice) == 5


@pytest.mark.parametrize("status", ["draft", "training", "failed"])
def test_a_model_that_is_not_ready_is_409(alice, alice_api, status):
    model = make_personal_model(alice, status=status)
    details = assert_error(post(alice_api, {"prompt": "x", "model_id": str(model.pk)}), 409,
                           "conflict")
    assert details["model_id"] == str(model.pk) and details["status"] == status
    assert not Generation.objects.exists() and get_balance(alice) == 5


def test_a_model_beyond_the_plans_slots_is_409_limit_reached(alice, alice_api):
    grant(alice, 10, reason="t", reference="t")
    make_personal_model(alice, name="Kept")  # the free plan keeps one model
    locked = make_personal_model(alice, name="Locked", trigger_word="lockd")
    assert_error(post(alice_api, {"prompt": "x", "model_id": str(locked.pk)}), 409,
                 "limit_reached")
    assert not Generation.objects.exists()


def test_styles_and_base_models_catalogue(client, db):
    styles = client.get("/api/v1/styles").json()
    assert len(styles) >= 8
    assert {"id", "name", "description"} <= set(styles[0])
    assert "headshot" in {s["id"] for s in styles}

    models = {m["id"]: m for m in client.get("/api/v1/base-models").json()}
    assert models["flux-dev"]["supports_custom_model"] is True
    assert models["flux-dev"]["custom_model_credits_per_image"] == 2
    assert models["flux-schnell"]["custom_model_credits_per_image"] is None
    assert models["flux-pro"]["supports_negative_prompt"] is False
    assert models["flux-schnell"]["aspect_ratios"] == ["1:1", "4:5", "3:4", "2:3", "9:16", "16:9"]
    assert models["flux-schnell"]["sizes"]["16:9"] == [1344, 768]
    assert models["flux-schnell"]["providers"] == ["demo"]
    assert all(m["available"] for m in models.values())


def test_a_style_is_applied(alice_api):
    response = post(alice_api, {"prompt": "a man", "style": "headshot"})
    body = alice_api.get(f"/api/v1/generations/{response.json()['id']}").json()
    assert body["prompt_sent"].startswith("professional headshot of a man")
    assert body["guidance"] == 3.5 and body["stage"] == "queued"
