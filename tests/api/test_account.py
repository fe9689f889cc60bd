from accounts.plans import PLANS
from credits import actions as credits
from generation.catalogue import ASPECT_RATIOS, BASE_MODELS
from tests.api.conftest import assert_error


def test_me(alice, alice_api):
    response = alice_api.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(alice.public_id),
        "email": "alice@example.com",
        "name": "Alice",
        "plan": "free",
        "credits": 5,
        "model_slots": {"used": 0, "limit": PLANS["free"].model_slots},
    }


def test_me_follows_the_plan(alice, alice_api):
    alice.plan = "pro"
    alice.save()

    body = alice_api.get("/api/v1/me").json()

    assert body["plan"] == "pro"
    assert body["model_slots"] == {"used": 0, "limit": PLANS["pro"].model_slots}


def test_credits_lists_the_ledger_newest_first(alice, alice_api):
    credits.grant(alice, 10, reason="Top-up", reference="test:topup")
    credits.spend(alice, 3, reason="Spent", reference="test:spend")

    response = alice_api.get("/api/v1/credits")

    assert response.status_code == 200
    body = response.json()
    assert body["balance"] == 12
    assert body["next_cursor"] is None
    assert [i["delta"] for i in body["items"]] == [-3, 10, 5]
    first = body["items"][0]
    assert set(first) >= {"id", "delta", "reason", "kind", "reference", "created_at"}
    assert first["kind"] == "spend" and first["reference"] == "test:spend"
    assert first["reason"] == "Spent" and first["balance_after"] == 12
    assert first["created_at"].endswith("Z")


def test_credits_shows_only_own_entries(alice, bob, alice_api):
    credits.grant(bob, 50, reason="Bob's", reference="test:bob")

    items = alice_api.get("/api/v1/credits").json()["items"]

    assert [i["reference"] for i in items] == [f"signup:{alice.public_id}"]


def test_plans_lists_every_plan(client):
    response = client.get("/api/v1/plans")

    assert response.status_code == 200
    body = response.json()
    assert [p["id"] for p in body] == list(PLANS)
    pro = next(p for p in body if p["id"] == "pro")
    assert {k: pro[k] for k in ("name", "price_cents", "interval", "monthly_credits",
                                "model_slots", "private_models", "likeness_guarantee")} == {
        "name": "Pro", "price_cents": 4000, "interval": "month", "monthly_credits": 400,
        "model_slots": 3, "private_models": True, "likeness_guarantee": True,
    }
    assert not next(p for p in body if p["id"] == "free")["likeness_guarantee"]


def test_base_models(client, db):
    response = client.get("/api/v1/base-models")

    assert response.status_code == 200
    body = response.json()
    assert [m["id"] for m in body] == list(BASE_MODELS)
    schnell = body[0]
    assert schnell["name"] == "FLUX.1 schnell"
    assert schnell["credits_per_image"] == 1
    assert schnell["supports_custom_model"] is False
    assert schnell["aspect_ratios"] == list(ASPECT_RATIOS)
    assert next(m for m in body if m["id"] == "flux-dev")["supports_custom_model"] is True
    assert (schnell["licence"], schnell["commercial_weights"], schnell["family"]) == (
        "Apache-2.0", True, "flux1")
    flux2 = next(m for m in body if m["id"] == "flux-2-dev")
    assert flux2["family"] == "flux2" and not flux2["supports_custom_model"]
    assert "Non-Commercial" in flux2["licence"] and not flux2["commercial_weights"]


def test_credits_limit_out_of_range(alice_api):
    for limit in ("0", "101", "-1", "many"):
        details = assert_error(alice_api.get(f"/api/v1/credits?limit={limit}"), 422,
                               "validation_error")
        assert details["field"] == "limit"
