"""POST /billing/checkout, POST /billing/portal and GET /billing/packs. The rules live in
billing.actions (the billing page calls the same functions)."""

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import ConfigDict

from accounts.plans import PACKS, PLANS
from api.errors import ERRORS_AUTH, ApiError, ErrorOut
from billing import actions
from likeness.errors import ProviderError

router = Router(tags=["Billing"])

# The OpenAPI enums follow the catalogue: the plans that are sold, and the packs.
PaidPlan = Literal[tuple(p.id for p in PLANS.values() if p.price_cents)]  # type: ignore[valid-type]
PackId = Literal[tuple(PACKS)]  # type: ignore[valid-type]


class CheckoutIn(Schema):
    model_config = ConfigDict(extra="forbid")

    plan: PaidPlan | None = Field(None, description="A paid plan (GET /plans): a subscription.")
    pack: PackId | None = Field(None, description="Or a credit pack (GET /billing/packs).")


class UrlOut(Schema):
    url: str


class PackOut(Schema):
    id: str
    name: str
    credits: int
    price_cents: int


ERRORS = {**ERRORS_AUTH, 409: ErrorOut, 422: ErrorOut, 502: ErrorOut, 503: ErrorOut}


def _stripe_call(fn, *args, **kwargs) -> dict:
    try:
        return {"url": fn(*args, **kwargs)}
    except ProviderError as exc:  # Stripe could not be reached, or refused
        raise ApiError(502, "payment_provider_error", exc.message)


@router.post("/billing/checkout", response={200: UrlOut, **ERRORS},
             summary="Start a Stripe Checkout",
             description="Send `{\"plan\": \"pro\"}` for a subscription or `{\"pack\": "
                         "\"pack_100\"}` for a one-time credit pack; open the returned `url`. "
                         "A customer who already subscribes changes plan in the portal (409).")
def checkout(request: HttpRequest, payload: CheckoutIn):
    return _stripe_call(actions.start_checkout, request.auth, plan=payload.plan,
                        pack=payload.pack)


@router.post("/billing/portal", response={200: UrlOut, **ERRORS},
             summary="Open the Stripe customer portal",
             description="Upgrades, downgrades, cancellation and payment methods. 409 before "
                         "the first checkout (there is no Stripe customer yet).")
def portal(request: HttpRequest):
    return _stripe_call(actions.portal_url, request.auth)


@router.get("/billing/packs", response=list[PackOut], auth=None, summary="Credit packs",
            description="One-time credit packs, on top of any plan. Needs no authentication.")
def packs(request: HttpRequest):
    return [{"id": p.id, "name": p.name, "credits": p.credits, "price_cents": p.price_cents}
            for p in PACKS.values()]
