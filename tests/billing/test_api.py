"""POST /billing/checkout, POST /billing/portal, GET /billing/packs, GET /plans."""

import pytest

from accounts.plans import PACKS, PLANS
from api.keys import create_api_key


@pytest.fixture
def api(client, alice):
    _, raw = create_api_key(alice, "test")

    def call(method, path, json=None):
        return getattr(client, method)(f"/api/v1{path}", json, content_type="application/json",
                                       HTTP_AUTHORIZATION=f"Bearer {raw}")

    return call


def error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_checkout_for_a_plan_and_a_pack(api, stripe_fake):
    response = api("post", "/billing/checkout", {"plan": "pro"})
    assert response.status_code == 200
    assert response.json()["url"].startswith(stripe_fake.url + "/c/pay/cs_test_")
    response = api("post", "/billing/checkout", {"pack": "pack_100"})
    assert response.status_code == 200 and "/c/pay/" in response.json()["url"]
    modes = [r.body.decode() for r in stripe_fake.calls("POST", "/v1/checkout/sessions")]
    assert "mode=subscription" in modes[0] and "mode=payment" in modes[1]
    assert len(stripe_fake.customers) == 1  # one customer, reused


def test_checkout_errors(api, stripe_fake, settings, client, checkout, deliver, alice):
    error(api("post", "/billing/checkout", {}), 422, "validation_error")
    error(api("post", "/billing/checkout", {"plan": "pro", "pack": "pack_100"}), 422,
          "validation_error")
    details = error(api("post", "/billing/checkout", {"plan": "gold"}), 422,
                    "validation_error")["details"]
    assert details["field"] == "plan"
    error(api("post", "/billing/checkout", {"plan": "free"}), 422, "validation_error")
    error(api("post", "/billing/checkout", {"pack": "pack_9"}), 422, "validation_error")
    error(api("post", "/billing/checkout", {"plan": "pro", "coupon": "x"}), 422,
          "validation_error")
    error(client.post("/api/v1/billing/checkout", {"plan": "pro"},
                      content_type="application/json"), 401, "unauthenticated")
    # Already subscribed: plan changes go through the portal.
    deliver.all(checkout(alice, plan="creator"))
    error(api("post", "/billing/checkout", {"plan": "pro"}), 409, "conflict")
    assert api("post", "/billing/checkout", {"pack": "pack_100"}).status_code == 200
    # Stripe down.
    stripe_fake.fail(500, times=5)
    error(api("post", "/billing/checkout", {"pack": "pack_100"}), 502, "payment_provider_error")
    stripe_fake.clear_faults()
    # No key: demo mode.
    settings.STRIPE_SECRET_KEY = ""
    error(api("post", "/billing/checkout", {"pack": "pack_100"}), 503, "billing_not_configured")
    error(api("post", "/billing/portal"), 503, "billing_not_configured")


def test_portal(api, stripe_fake):
    error(api("post", "/billing/portal"), 409, "conflict")  # no customer yet
    api("post", "/billing/checkout", {"pack": "pack_100"})
    response = api("post", "/billing/portal")
    assert response.status_code == 200
    assert response.json()["url"].startswith(stripe_fake.url + "/p/session/bps_")
    sent = stripe_fake.calls("POST", "/v1/billing_portal/sessions")[-1].body.decode()
    assert "return_url=" in sent and "dashboard%2Fbilling" in sent


def test_plans_and_packs_need_no_key(client):
    plans = client.get("/api/v1/plans").json()
    assert [p["id"] for p in plans] == list(PLANS)
    pro = next(p for p in plans if p["id"] == "pro")
    assert (pro["price_cents"], pro["monthly_credits"], pro["model_slots"],
            pro["private_models"]) == (4000, 400, 3, True)
    packs = client.get("/api/v1/billing/packs").json()
    assert [p["id"] for p in packs] == list(PACKS) and packs[0]["credits"] == 100
