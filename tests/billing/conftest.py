"""Billing tests run against the fake Stripe server (fakes/stripe.py), started once per module,
reset per test, with stripe-python pointed at it through the same settings an operator sets."""

from urllib.parse import urlsplit

import pytest

from accounts.plans import PACKS, PLANS
from billing import actions
from fakes.stripe import FakeStripe

PRICES = {
    "creator": "price_creator_test",
    "pro": "price_pro_test",
    "enterprise": "price_enterprise_test",
    "pack_100": "price_pack100_test",
    "pack_500": "price_pack500_test",
}


@pytest.fixture
def stripe_fake(fake_servers, settings):
    fake = fake_servers.get(FakeStripe)
    settings.STRIPE_SECRET_KEY = fake.token
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    settings.STRIPE_PRICES = dict(PRICES)
    settings.PROVIDER_TIMEOUT_SECONDS = 5
    for plan in PLANS.values():
        if plan.price_cents:
            fake.add_price(PRICES[plan.id], plan.price_cents, product=plan.name)
    for pack in PACKS.values():
        fake.add_price(PRICES[pack.id], pack.price_cents, interval=None, product=pack.name)
    return fake


@pytest.fixture
def deliver(client, stripe_fake):
    """POST a signed event to /webhooks/stripe as Stripe does; returns the response."""

    def send(event, *, secret=None, timestamp=None, times=1):
        response = None
        for _ in range(times):
            body, headers = stripe_fake.signed(event, secret=secret, timestamp=timestamp)
            response = client.generic("POST", "/webhooks/stripe", body,
                                      content_type="application/json",
                                      HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"])
        return response

    def send_all(events, **kwargs):
        return [send(event, **kwargs) for event in events]

    send.all = send_all
    return send


def session_id(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


@pytest.fixture
def checkout(stripe_fake):
    """Start a checkout as the billing page does and have the customer pay; the events."""

    def run(user, **item):
        url = actions.start_checkout(user, **item)
        return stripe_fake.complete_checkout(session_id(url))

    return run
