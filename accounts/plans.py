"""The plans and credit packs, defined once. The landing page's pricing, the billing page, the
API's GET /plans and every limit in the product read from here; billing sells them."""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    price_cents: int
    interval: str  # "month", or "once" for Free's one-time grant
    monthly_credits: int
    model_slots: int
    private_models: bool
    tagline: str
    features: tuple[str, ...]
    # The likeness guarantee's default for generations with a personal model (generation.tasks:
    # an image under LIKENESS_MIN_SCORE is made again for free, or refunded).
    likeness_guarantee: bool = True


PLANS: dict[str, Plan] = {
    "free": Plan(
        "free", "Free", 0, "once", 5, 1, False,
        "Try Likeness with a few images.",
        ("5 credits once", "1 personal model", "Public model repository"),
        likeness_guarantee=False,
    ),
    "creator": Plan(
        "creator", "Creator", 2000, "month", 200, 1, False,
        "For a personal brand.",
        ("200 credits a month", "1 personal model", "All styles",
         "Likeness guarantee"),
    ),
    "pro": Plan(
        "pro", "Pro", 4000, "month", 400, 3, True,
        "For professionals and families.",
        ("400 credits a month", "3 personal models", "Private model repositories",
         "Likeness guarantee"),
    ),
    "enterprise": Plan(
        "enterprise", "Enterprise", 9900, "month", 1000, 10, True,
        "For studios and teams.",
        ("1,000 credits a month", "10 personal models", "Private model repositories",
         "Likeness guarantee"),
    ),
}
DEFAULT_PLAN = "free"
DEMO_CREDITS = 1000  # the demo account made by `manage.py create_demo_account` holds this many
PLAN_CHOICES = [(plan.id, plan.name) for plan in PLANS.values()]


def get_plan(plan_id: str) -> Plan:
    return PLANS.get(plan_id, PLANS[DEFAULT_PLAN])


@dataclass(frozen=True)
class CreditPack:
    """Credits bought once, on top of any plan. They never expire."""

    id: str
    name: str
    credits: int
    price_cents: int


PACKS: dict[str, CreditPack] = {
    "pack_100": CreditPack("pack_100", "100 credits", 100, 1200),
    "pack_500": CreditPack("pack_500", "500 credits", 500, 5000),
}


def price_id(item_id: str) -> str:
    """The Stripe price of a paid plan or a pack, from settings (STRIPE_PRICE_<PLAN>,
    STRIPE_PRICE_PACK_<N>); empty when not configured."""
    return settings.STRIPE_PRICES.get(item_id, "")


def plan_for_price(stripe_price: str) -> Plan | None:
    for plan in PLANS.values():
        if stripe_price and plan.price_cents and price_id(plan.id) == stripe_price:
            return plan
    return None


def pack_for_price(stripe_price: str) -> CreditPack | None:
    for pack in PACKS.values():
        if stripe_price and price_id(pack.id) == stripe_price:
            return pack
    return None
