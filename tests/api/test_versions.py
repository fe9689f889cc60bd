"""POST /images/{id}/upscale and POST /images/{id}/restore-face: 202 with the version's
generation, polled with GET /generations/{id}; every refusal is the API's error shape and
records and charges nothing."""

import pytest

from credits.actions import get_balance, spend
from generation.catalogue import OPERATIONS
from generation.models import Generation
from tests.api.conftest import assert_error
from tests.factories import make_image


@pytest.fixture(autouse=True)
def demo(settings):
    settings.GENERATION_PROVIDERS = ["demo"]
    settings.GENERATION_ROUTES = {}


def no_versions():
    return not Generation.objects.exclude(operation="").exists()


def test_upscale_then_poll(rich_alice, alice_api, run_jobs):
    image = make_image(rich_alice)
    before = get_balance(rich_alice)
    response = alice_api.post(f"/api/v1/images/{image.id}/upscale", {"scale": 2},
                              content_type="application/json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["operation"] == "upscale_2x" and body["source_image_id"] == str(image.id)
    assert (body["width"], body["height"]) == (128, 96)
    assert body["credits_reserved"] == OPERATIONS["upscale_2x"].credits
    run_jobs()
    polled = alice_api.get(f"/api/v1/generations/{body['id']}").json()
    assert polled["status"] == "succeeded" and polled["operation"] == "upscale_2x"
    assert polled["source_image_id"] == str(image.id)
    (version,) = polled["images"]
    assert version["original_id"] == str(image.id) and version["operation"] == "upscale_2x"
    assert (version["width"], version["height"]) == (128, 96)
    assert polled["credits_charged"] == OPERATIONS["upscale_2x"].credits
    assert get_balance(rich_alice) == before - OPERATIONS["upscale_2x"].credits
    listed = alice_api.get(f"/api/v1/images/{version['id']}").json()
    assert listed["original_id"] == str(image.id)


def test_restore_face(rich_alice, alice_api, run_jobs):
    image = make_image(rich_alice)
    response = alice_api.post(f"/api/v1/images/{image.id}/restore-face")
    assert response.status_code == 202, response.content
    assert response.json()["operation"] == "face_restore"
    run_jobs()
    (version,) = image.versions.all()
    assert version.operation == "face_restore" and (version.width, version.height) == (64, 48)


def test_refusals_charge_nothing(rich_alice, alice_api, bob_api):
    image = make_image(rich_alice)
    before = get_balance(rich_alice)
    url = f"/api/v1/images/{image.id}/upscale"
    details = assert_error(alice_api.post(url, {"scale": 3}, content_type="application/json"),
                           422, "validation_error")
    assert details["field"] == "scale"
    assert_error(alice_api.post(url, {"scale": "2"}, content_type="application/json"),
                 422, "validation_error")
    assert_error(alice_api.post(url, {"scale": 2, "tile": 0}, content_type="application/json"),
                 422, "validation_error")
    assert_error(bob_api.post(url, {"scale": 2}, content_type="application/json"),
                 404, "not_found")
    assert_error(bob_api.post(f"/api/v1/images/{image.id}/restore-face"), 404, "not_found")
    assert_error(alice_api.post("/api/v1/images/nope/restore-face"), 404, "not_found")
    image.width = image.height = 2048
    image.save()
    details = assert_error(alice_api.post(url, {"scale": 4}, content_type="application/json"),
                           422, "validation_error")
    assert details["max_pixels"] == 4096 * 4096 and details["width"] == 8192
    assert get_balance(rich_alice) == before and no_versions()


def test_not_enough_credits_is_402(alice, alice_api):
    image = make_image(alice)
    spend(alice, get_balance(alice), reason="test", reference="test:drain")
    details = assert_error(alice_api.post(f"/api/v1/images/{image.id}/upscale", {"scale": 4},
                                          content_type="application/json"),
                           402, "insufficient_credits")
    assert details["needed"] == OPERATIONS["upscale_4x"].credits
    assert no_versions()


def test_the_same_version_twice_is_409(rich_alice, alice_api):
    image = make_image(rich_alice)
    url = f"/api/v1/images/{image.id}/restore-face"
    assert alice_api.post(url).status_code == 202
    assert_error(alice_api.post(url), 409, "conflict")


def test_an_idempotency_key_charges_once(rich_alice, alice_api):
    image = make_image(rich_alice)
    before = get_balance(rich_alice)
    url = f"/api/v1/images/{image.id}/upscale"
    first = alice_api.post(url, {"scale": 2}, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="k1")
    again = alice_api.post(url, {"scale": 2}, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert get_balance(rich_alice) == before - OPERATIONS["upscale_2x"].credits


def test_the_openapi_documents_the_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    upscale = schema["paths"]["/api/v1/images/{image_id}/upscale"]["post"]
    restore = schema["paths"]["/api/v1/images/{image_id}/restore-face"]["post"]
    for operation in (upscale, restore):
        assert {"202", "402", "404", "409", "422"} <= set(operation["responses"])
    assert "scale" in str(upscale["requestBody"])
