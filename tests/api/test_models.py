"""POST/GET/DELETE /models: the contract's fields, plan slots, and bad input."""

import re
from datetime import datetime, timedelta

from studio.models import PersonalModel
from tests.api.conftest import assert_error

FIELDS = {"id", "name", "subject_class", "trigger_word", "status", "photo_count",
          "cover_thumbnail_url", "steps", "learning_rate", "lora_rank", "consent_status",
          "suspended", "default_lora_scale", "likeness_report", "created_at", "updated_at"}


def create(client, **body):
    return client.post("/api/v1/models", body, content_type="application/json")


def test_create_answers_201_with_the_contract_fields(alice, alice_api):
    response = create(alice_api, name="Alice", subject_class="woman", trigger_word="Zorvek")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    model = PersonalModel.objects.get(user=alice)
    assert body == {
        "id": str(model.id),
        "name": "Alice",
        "subject_class": "woman",
        "trigger_word": "zorvek",
        "status": "draft",
        "photo_count": 0,
        "cover_thumbnail_url": None,
        "steps": 1000,
        "learning_rate": 0.0004,
        "lora_rank": 16,
        "consent_status": "missing",
        "suspended": False,
        "default_lora_scale": None,
        "likeness_report": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)


def test_a_trigger_word_is_made_up_when_left_out(alice_api):
    for trigger in ({}, {"trigger_word": None}):
        response = create(alice_api, name="Rex", subject_class="dog", **trigger)
        assert response.status_code == 201, response.content
        word = response.json()["trigger_word"]
        assert re.fullmatch(r"[a-z][a-z0-9_]{2,23}", word), word
        assert alice_api.delete(f"/api/v1/models/{response.json()['id']}").status_code == 204


def test_get_and_list_only_own_models_newest_first(alice, bob, alice_api):
    alice.plan = "pro"
    alice.save()
    first = create(alice_api, name="One", subject_class="man").json()
    second = create(alice_api, name="Two", subject_class="cat").json()
    PersonalModel.objects.create(user=bob, name="Bob's", subject_class="man",
                                 trigger_word="bobword")

    detail = alice_api.get(f"/api/v1/models/{first['id']}")
    assert detail.status_code == 200
    assert detail.json() == first

    listing = alice_api.get("/api/v1/models")
    assert listing.status_code == 200
    assert listing.json() == {"items": [second, first], "next_cursor": None}

    page = alice_api.get("/api/v1/models?limit=1").json()
    assert [m["id"] for m in page["items"]] == [second["id"]]
    rest = alice_api.get(f"/api/v1/models?limit=1&cursor={page['next_cursor']}").json()
    assert [m["id"] for m in rest["items"]] == [first["id"]]
    assert rest["next_cursor"] is None


def test_delete_answers_204_and_the_model_is_gone(alice, alice_api):
    model = create(alice_api, name="Gone", subject_class="person").json()

    response = alice_api.delete(f"/api/v1/models/{model['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert not PersonalModel.objects.filter(user=alice).exists()
    assert_error(alice_api.get(f"/api/v1/models/{model['id']}"), 404, "not_found")
    assert_error(alice_api.delete(f"/api/v1/models/{model['id']}"), 404, "not_found")


def test_the_free_plan_holds_one_model_until_it_is_deleted(alice, alice_api):
    first = create(alice_api, name="One", subject_class="man")
    assert first.status_code == 201
    assert alice_api.get("/api/v1/me").json()["model_slots"] == {"used": 1, "limit": 1}

    details = assert_error(create(alice_api, name="Two", subject_class="man"), 409,
                           "limit_reached")

    assert details == {"used": 1, "limit": 1}
    assert PersonalModel.objects.filter(user=alice).count() == 1
    assert alice_api.delete(f"/api/v1/models/{first.json()['id']}").status_code == 204
    again = create(alice_api, name="Two", subject_class="man")
    assert again.status_code == 201, again.content
    assert alice_api.get("/api/v1/me").json()["model_slots"] == {"used": 1, "limit": 1}


def test_bad_input_is_422_and_creates_nothing(alice, bob, alice_api):
    PersonalModel.objects.create(user=bob, name="Bob", subject_class="man",
                                 trigger_word="takenword")
    cases = [
        ({"name": "A", "subject_class": "robot"}, "subject_class"),
        ({"name": "A"}, "subject_class"),
        ({"subject_class": "man"}, "name"),
        ({"name": "", "subject_class": "man"}, "name"),
        ({"name": "   ", "subject_class": "man"}, "name"),
        ({"name": "x" * 81, "subject_class": "man"}, "name"),
        ({"name": 7, "subject_class": "man"}, "name"),
        ({"name": "A", "subject_class": "man", "colour": "red"}, "colour"),
        ({"name": "A", "subject_class": "man", "trigger_word": "takenword"}, "trigger_word"),
        ({"name": "A", "subject_class": "man", "trigger_word": "TakenWord"}, "trigger_word"),
        ({"name": "A", "subject_class": "man", "trigger_word": "1abc"}, "trigger_word"),
    ]

    for body, field in cases:
        details = assert_error(create(alice_api, **body), 422, "validation_error")
        assert details["field"] == field, (body, details)
    unknown = assert_error(create(alice_api, name="A", subject_class="man", steps=5), 422,
                           "validation_error")
    assert unknown["errors"][0]["message"] == "Unknown field."
    assert not PersonalModel.objects.filter(user=alice).exists()


def test_unknown_or_malformed_ids_are_404(alice_api):
    for model_id in ("7d0c3c4e-8d4b-4a8e-9a53-2f0d7a1c9b11", "nope"):
        assert_error(alice_api.get(f"/api/v1/models/{model_id}"), 404, "not_found")
        assert_error(alice_api.delete(f"/api/v1/models/{model_id}"), 404, "not_found")
        assert_error(alice_api.get(f"/api/v1/models/{model_id}/photos"), 404, "not_found")


def test_anonymous_is_401(client, alice):
    model = PersonalModel.objects.create(user=alice, name="A", subject_class="man",
                                         trigger_word="anonword")
    assert_error(client.get("/api/v1/models"), 401, "unauthenticated")
    assert_error(create(client, name="A", subject_class="man"), 401, "unauthenticated")
    assert_error(client.delete(f"/api/v1/models/{model.id}"), 401, "unauthenticated")
    assert PersonalModel.objects.filter(pk=model.pk).exists()


def test_openapi_documents_the_model_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}
    paths = schema["paths"]

    create_op = paths["/api/v1/models"]["post"]
    assert create_op["tags"] == ["Personal models"]
    assert {"201", "401", "409", "422"} <= set(create_op["responses"])
    assert create_op["responses"]["409"]["content"]["application/json"]["schema"] == error_ref
    model_in = schema["components"]["schemas"]["ModelIn"]
    assert model_in["additionalProperties"] is False
    assert set(model_in["properties"]["subject_class"]["enum"]) == {
        "man", "woman", "person", "child", "dog", "cat"}

    upload = paths["/api/v1/models/{model_id}/photos"]["post"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["properties"]["files"]["type"] == "array"
    assert body["properties"]["files"]["items"]["format"] == "binary"
    for status in ("401", "404", "409", "413", "415", "422"):
        assert upload["responses"][status]["content"]["application/json"]["schema"] == error_ref
    for path, operations in paths.items():
        if path.startswith("/api/v1/models"):
            for method, operation in operations.items():
                expected = ["Training"] if path.endswith(("/train", "/cancel")) else [
                    "Packs"] if "/packs/" in path else [
                    "Generations"] if path.endswith("/instant") else ["Personal models"]
                assert operation["tags"] == expected, (method, path)
                assert operation.get("summary"), (method, path)
                assert "404" in operation["responses"] or path == "/api/v1/models", (method, path)
