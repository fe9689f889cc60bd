"""The journey's own stack: the offline demo set-up, with billing pointed at a FakeStripe that
delivers its webhooks to the stack in the background, as Stripe does."""

import os

import pytest

from accounts.plans import PACKS, PLANS
from fakes.stripe import FakeStripe
from tests.browser.camera import filming, write_y4m
from tests.browser_fixtures import ROOT, running_stack
from tests.journey.checks import AXE, Findings

PRICES = {
    "creator": "price_creator_journey",
    "pro": "price_pro_journey",
    "enterprise": "price_enterprise_journey",
    "pack_100": "price_pack100_journey",
    "pack_500": "price_pack500_journey",
}


@pytest.fixture(scope="module")
def stripe_fake(_fake_servers):
    fake = _fake_servers.get(FakeStripe)
    for plan in PLANS.values():
        if plan.price_cents:
            fake.add_price(PRICES[plan.id], plan.price_cents, product=plan.name)
    for pack in PACKS.values():
        fake.add_price(PRICES[pack.id], pack.price_cents, interval=None, product=pack.name)
    return fake


@pytest.fixture(scope="module")
def journey_stack(tmp_path_factory, stripe_fake):
    env = {
        "STRIPE_SECRET_KEY": stripe_fake.token,
        "STRIPE_API_BASE": stripe_fake.url,
        "STRIPE_WEBHOOK_SECRET": stripe_fake.webhook_secret,
        **{f"STRIPE_PRICE_{item.upper()}": price for item, price in PRICES.items()},
    }
    with running_stack(tmp_path_factory.mktemp("journey-data"), env) as stack:
        # Stripe tells the app about payments by webhook, in the background, as it does live.
        stripe_fake.webhook_url = stack.base_url + "/webhooks/stripe"
        stripe_fake.auto_deliver = True
        yield stack


@pytest.fixture(scope="module")
def browser(tmp_path_factory, playwright_session):
    """The journey's Chromium, whose camera films the person in the photos (the consent
    selfie): a video of the astronaut, as tests/studio/photos.py draws her. Launched from the
    session's one Playwright (tests/browser_fixtures.py says why)."""
    from tests.studio.photos import selfie

    video = write_y4m(tmp_path_factory.mktemp("camera") / "selfie.y4m", selfie())
    with filming(playwright_session, video) as chromium:
        yield chromium


@pytest.fixture(scope="session")
def axe_source():
    if not AXE.exists():
        message = f"{AXE.relative_to(ROOT)} is missing: run `npm ci` (scripts/test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


@pytest.fixture(scope="module")
def findings():
    return Findings()
