"""Applying what Stripe tells us: subscriptions and the plan they give, invoices and packs and
the credits they buy, failed payments; the same functions serve the webhooks and the polling
that covers lost ones.

Order does not matter. Stripe's events arrive late, twice or out of order, so nothing here
trusts an event to describe the present:
- a subscription is always re-read from Stripe before it is stored (`sync_subscription`), and
  the customer's plan is then computed from all their stored subscriptions (`refresh_plan`);
- a paid invoice or a paid pack checkout is a Payment with Stripe's id as a unique key, and its
  credits are granted in the same transaction with the reference `stripe:invoice:<id>` or
  `stripe:checkout:<id>`, so the ten-times-delivered event credits once;
- a customer we do not know yet is found through the `user` metadata we put on it."""

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.plans import PACKS, PLANS, get_plan, plan_for_price
from billing.actions import (
    UnknownCustomer,
    current_subscription,
    link_customer,
    user_by_ref,
    user_for_customer,
)
from billing.models import BillingAccount, Notice, Payment, Subscription
from billing.notices import send_notice
from credits import actions as credits
from jobs.queue import enqueue
from providers.stripe import client as stripe_api
from studio import slots
from studio.tasks import sync_repo_visibility

logger = logging.getLogger(__name__)


def _dt(timestamp) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp else None


# ---------------------------------------------------------------------------------------------
# Subscriptions and the plan


def _first_item(sub: dict) -> dict:
    items = (sub.get("items") or {}).get("data") or [{}]
    return items[0]


def sync_subscription(subscription_id: str, *, data: dict | None = None) -> Subscription:
    """Store the subscription as Stripe has it now (read afresh unless `data` is given) and
    recompute the customer's plan."""
    sub = data or stripe_api.retrieve_subscription(subscription_id)
    user = user_for_customer(sub["customer"], ref=(sub.get("metadata") or {}).get("user"))
    item = _first_item(sub)
    stripe_price = (item.get("price") or {}).get("id", "")
    plan = plan_for_price(stripe_price)
    if plan is None:
        plan = PLANS.get((sub.get("metadata") or {}).get("plan", ""))
    if plan is None:
        raise ValueError(f"Subscription {sub['id']} has price {stripe_price!r}, which is no "
                         "plan's STRIPE_PRICE_* setting.")
    # Current API versions keep the period on the item; older ones on the subscription.
    start = item.get("current_period_start") or sub.get("current_period_start")
    end = item.get("current_period_end") or sub.get("current_period_end")

    row, _ = Subscription.objects.update_or_create(stripe_id=sub["id"], defaults={
        "user": user, "plan": plan.id, "price_id": stripe_price, "status": sub["status"],
        "current_period_start": _dt(start), "current_period_end": _dt(end),
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "canceled_at": _dt(sub.get("canceled_at")), "ended_at": _dt(sub.get("ended_at")),
        "started_at": _dt(sub.get("start_date") or sub.get("created")),
        "synced_at": timezone.now(),
    })
    refresh_plan(user)
    return row


def refresh_plan(user) -> str:
    """Set the plan from the subscriptions we hold: the newest entitled one, else Free."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        sub = current_subscription(locked)
        new = sub.plan if sub else "free"
        old = locked.plan
        if new != old:
            locked.plan = new
            locked.save(update_fields=["plan"])
            plan_changed(locked, get_plan(old), get_plan(new))
    user.plan = new
    return new


def plan_changed(user, old_plan, new_plan) -> None:
    logger.info("%s: plan %s -> %s", user, old_plan.id, new_plan.id)
    slots.plan_changed(user, old_plan, new_plan)
    if old_plan.private_models != new_plan.private_models:
        enqueue(sync_repo_visibility, user.pk)


# ---------------------------------------------------------------------------------------------
# Payments and credits


def invoice_subscription(invoice: dict) -> str:
    details = ((invoice.get("parent") or {}).get("subscription_details") or {})
    return details.get("subscription") or invoice.get("subscription") or ""


def invoice_lines(invoice: dict) -> list[tuple[str, int]]:
    """(price id, amount) of each line; current API versions keep the price under pricing."""
    out = []
    for line in (invoice.get("lines") or {}).get("data") or []:
        pricing = (line.get("pricing") or {}).get("price_details") or {}
        price = pricing.get("price") or (line.get("price") or {}).get("id") or ""
        out.append((price, int(line.get("amount") or 0)))
    return out


def invoice_price(invoice: dict) -> str:
    """The price the invoice charges for (not a proration's credit for the old one)."""
    lines = invoice_lines(invoice)
    charged = [price for price, amount in lines if amount >= 0 and price]
    return charged[0] if charged else (lines[0][0] if lines else "")


def invoice_credits(invoice: dict, plan) -> int:
    """A period's invoice buys the plan's credits. A mid-period upgrade's invoice (a proration:
    a credit line for the old price, a charge for the new) buys the difference between the two
    plans -- read from the invoice alone, so the order invoices arrive in cannot change it."""
    if invoice.get("billing_reason") != "subscription_update":
        return plan.monthly_credits
    if not invoice.get("amount_paid"):
        return 0
    old = [plan_for_price(price) for price, amount in invoice_lines(invoice) if amount < 0]
    old = [p for p in old if p is not None]
    return max(0, plan.monthly_credits - old[0].monthly_credits) if old else 0


def _grant_payment(user, *, stripe_id: str, reference: str, reason: str, **fields) -> Payment:
    """Record the payment and grant its credits in one transaction; a repeat is a no-op."""
    with transaction.atomic():
        existing = Payment.objects.filter(stripe_id=stripe_id).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                payment = Payment.objects.create(user=user, stripe_id=stripe_id, **fields)
        except IntegrityError:  # a concurrent delivery recorded it first
            return Payment.objects.get(stripe_id=stripe_id)
        if payment.credits > 0:
            credits.grant(user, payment.credits, reason=reason, reference=reference)
    return payment


def record_invoice_paid(invoice: dict) -> Payment | None:
    """Grant the period's credits for a paid subscription invoice, once."""
    if invoice.get("status") != "paid":
        return None
    subscription_id = invoice_subscription(invoice)
    if not subscription_id:
        return None  # a one-off invoice: not ours to credit
    existing = Payment.objects.filter(stripe_id=invoice["id"]).first()
    if existing is not None:
        return existing
    meta = (((invoice.get("parent") or {}).get("subscription_details") or {})
            .get("metadata") or {})
    user = user_for_customer(invoice["customer"], ref=meta.get("user"))
    sub = (Subscription.objects.filter(stripe_id=subscription_id).first()
           or sync_subscription(subscription_id))
    plan = plan_for_price(invoice_price(invoice)) or get_plan(sub.plan)
    lines = (invoice.get("lines") or {}).get("data") or [{}]
    period = lines[0].get("period") or {}
    start = _dt(period.get("start") or invoice.get("period_start"))
    end = _dt(period.get("end") or invoice.get("period_end"))
    reason = invoice.get("billing_reason") or ""
    credits_for = invoice_credits(invoice, plan)
    when = f"{end.day} {end:%b %Y}" if end else ""
    return _grant_payment(
        user, stripe_id=invoice["id"], reference=f"stripe:invoice:{invoice['id']}",
        reason=f"{plan.name} plan: {credits_for} credits" + (f" (to {when})" if when else ""),
        kind=Payment.Kind.SUBSCRIPTION, item=plan.id, subscription_id=subscription_id,
        billing_reason=reason, amount_cents=int(invoice.get("amount_paid") or 0),
        currency=invoice.get("currency") or "usd", credits=credits_for,
        period_start=start, period_end=end,
        paid_at=_dt((invoice.get("status_transitions") or {}).get("paid_at")
                    or invoice.get("created")),
        hosted_url=invoice.get("hosted_invoice_url") or "",
    )


def record_checkout(session: dict) -> Payment | None:
    """A completed Checkout: link the customer; for a paid pack, grant its credits once; for a
    subscription, store it as Stripe has it now."""
    if session.get("status") != "complete":
        return None
    meta = session.get("metadata") or {}
    ref = session.get("client_reference_id") or meta.get("user")
    user = user_by_ref(ref)
    if user is None and session.get("customer"):
        user = user_for_customer(session["customer"])
    if user is None:
        raise UnknownCustomer(f"Checkout {session['id']} names no account of ours.")
    if session.get("customer"):
        link_customer(user, session["customer"])
    if session.get("mode") == "subscription":
        if session.get("subscription"):
            sync_subscription(session["subscription"])
        return None
    if session.get("payment_status") != "paid":
        return None  # a delayed payment method: async_payment_succeeded will follow
    pack = PACKS.get(meta.get("pack", ""))
    if pack is None:
        raise ValueError(f"Checkout {session['id']} is for no pack we sell ({meta!r}).")
    return _grant_payment(
        user, stripe_id=session["id"], reference=f"stripe:checkout:{session['id']}",
        reason=f"Credit pack: {pack.name}", kind=Payment.Kind.PACK, item=pack.id,
        amount_cents=int(session.get("amount_total") or 0),
        currency=session.get("currency") or "usd", credits=pack.credits,
        paid_at=_dt(session.get("created")) or datetime.now(UTC),
    )


def notify_payment_failed(invoice: dict) -> Notice | None:
    """One e-mail per failed attempt of an invoice, however often Stripe reports it."""
    user = user_for_customer(invoice["customer"])
    key = f"payment_failed:{invoice['id']}:{invoice.get('attempt_count') or 1}"
    amount = f"{int(invoice.get('amount_due') or 0) / 100:,.2f} "\
             f"{(invoice.get('currency') or 'usd').upper()}"
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                key=key, user=user, kind="payment_failed",
                subject="Your Likeness payment did not go through")
            enqueue(send_notice, notice.pk, amount)
    except IntegrityError:
        return None
    return notice


# ---------------------------------------------------------------------------------------------
# Polling: what the webhooks would have told us


def reconcile_customer(user) -> dict:
    """Read the customer's subscriptions and paid invoices from Stripe and apply them; covers
    webhooks that were lost or are late. Idempotent."""
    account = BillingAccount.objects.filter(user=user).first()
    if not account or not account.stripe_customer_id or not stripe_api.configured():
        return {"subscriptions": 0, "invoices": 0}
    subs = stripe_api.list_subscriptions(account.stripe_customer_id)
    for sub in subs:
        try:
            sync_subscription(sub["id"], data=sub)
        except ValueError:
            logger.warning("subscription %s has no plan of ours", sub.get("id"))
    paid = stripe_api.list_invoices(account.stripe_customer_id, limit=24, status="paid")
    for invoice in paid:
        record_invoice_paid(invoice)
    return {"subscriptions": len(subs), "invoices": len(paid)}


def reconcile_checkout(user, session_id: str) -> None:
    """On return from Checkout: apply the session now rather than wait for its webhook."""
    session = stripe_api.retrieve_checkout_session(session_id)
    if str(session.get("client_reference_id")) != str(user.public_id):
        return
    record_checkout(session)
    if session.get("mode") == "subscription":
        reconcile_customer(user)
