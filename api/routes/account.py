"""GET /me, GET /credits, GET /plans."""

from django.http import HttpRequest
from ninja import Query, Router

from accounts.plans import PLANS
from api.errors import ERRORS_AUTH, ErrorOut
from api.pagination import PageParams
from api.schemas import CreditsOut, MeOut, PlanOut
from credits.actions import get_balance
from credits.models import CreditEntry
from likeness.pagination import paginate
from studio.actions import slots

router = Router(tags=["Account"])


def credit_entry(entry: CreditEntry) -> dict:
    return {
        "id": str(entry.id),
        "delta": entry.delta,
        "balance_after": entry.balance_after,
        "reason": entry.reason,
        "kind": entry.kind,
        "reference": entry.reference,
        "created_at": entry.created_at,
    }


@router.get("/me", response={200: MeOut, **ERRORS_AUTH}, summary="The calling account")
def me(request: HttpRequest):
    user = request.auth
    plan = user.plan_info
    return {
        "id": str(user.public_id),
        "email": user.email,
        "name": user.display_name,
        "plan": plan.id,
        "credits": get_balance(user),
        "model_slots": slots(user),
    }


@router.get("/credits", response={200: CreditsOut, 400: ErrorOut, 422: ErrorOut, **ERRORS_AUTH},
            summary="Credit balance and ledger",
            description="The balance and the ledger of credit movements, newest first.")
def credits(request: HttpRequest, page: Query[PageParams]):
    entries = CreditEntry.objects.filter(user=request.auth)
    rows, next_cursor = paginate(entries, kind="credits", cursor=page.cursor, limit=page.limit)
    return {
        "balance": get_balance(request.auth),
        "items": [credit_entry(e) for e in rows],
        "next_cursor": next_cursor,
    }


@router.get("/plans", response=list[PlanOut], auth=None, summary="Subscription plans",
            description="Every plan with its price and limits. Needs no authentication.")
def plans(request: HttpRequest):
    return [
        {
            "id": p.id, "name": p.name, "price_cents": p.price_cents, "interval": p.interval,
            "monthly_credits": p.monthly_credits, "model_slots": p.model_slots,
            "private_models": p.private_models, "likeness_guarantee": p.likeness_guarantee,
            "tagline": p.tagline,
            "features": list(p.features),
        }
        for p in PLANS.values()
    ]
