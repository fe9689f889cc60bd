"""Billing actions: checkout and portal, and applying what Stripe tells us.

Order does not matter. Stripe's events arrive late, twice or out of order, so nothing here
trusts an event to describe the present:
- a subscription is always re-read from Stripe before it is stored (`sync_subscription`), and
  the customer's plan is then computed from all their stored subscriptions (`refresh_plan`);
- a paid invoice or a paid pack checkout is a Payment with Stripe's id as a unique key, and its
  credits are granted in the same transaction with the reference `stripe:invoice:<id>` or
  `stripe:checkout:<id>`, so the ten-times-delivered event credits once;
- a customer we do not know yet is found through the `user` metadata we put on it.
The same functions serve the webhooks and the polling that covers lost webhooks."""

import logging
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing import enforcement, stripe_api
from billing.models import BillingAccount, Notice, Payment, Subscription
from billing.plans import PACKS, PLANS, get_plan, plan_for_price, price_id
from billing.stripe_api import BillingNotConfigured
from credits import actions as credits
from jobs.queue import enqueue
from likeness.errors import Conflict, InvalidInput

logger = logging.getLogger(__name__)


class UnknownCustomer(Exception):
    """A Stripe customer we cannot tie to an account (yet)."""


def _dt(timestamp) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp else None


def account_for(user) -> BillingAccount:
    try:
        account, _ = BillingAccount.objects.get_or_create(user=user)
    except IntegrityError:  # created concurrently
        account = BillingAccount.objects.get(user=user)
    return account


# ---------------------------------------------------------------------------------------------
# Checkout and portal


def _absolute(name: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse(name)


def ensure_customer(user) -> str:
    """The user's Stripe customer, created once. The network call runs outside any transaction;
    its idempotency key makes a concurrent twin get the same customer."""
    account = account_for(user)
    if account.stripe_customer_id:
        return account.stripe_customer_id
    customer = stripe_api.create_customer(email=user.email, name=user.display_name,
                                          user_ref=str(user.public_id))
    BillingAccount.objects.filter(pk=account.pk, stripe_customer_id__isnull=True).update(
        stripe_customer_id=customer["id"])
    account.refresh_from_db()
    return account.stripe_customer_id


def current_subscription(user) -> Subscription | None:
    return (Subscription.objects.filter(user=user, status__in=Subscription.ENTITLED)
            .order_by("-started_at", "-id").first())


def start_checkout(user, *, plan: str | None = None, pack: str | None = None) -> str:
    """A Stripe Checkout session for a paid plan or a credit pack; returns its URL."""
    if bool(plan) == bool(pack):
        raise InvalidInput("plan", "Send either a plan or a pack.")
    if plan is not None:
        if plan not in PLANS:
            raise InvalidInput("plan", f"Unknown plan {plan!r}; choose one of "
                                       f"{', '.join(p for p in PLANS if PLANS[p].price_cents)}.")
        if not PLANS[plan].price_cents:
            raise InvalidInput("plan", "The Free plan needs no checkout.")
    if pack is not None and pack not in PACKS:
        raise InvalidInput("pack", f"Unknown pack {pack!r}; choose one of {', '.join(PACKS)}.")
    item = plan or pack
    if not stripe_api.configured():
        raise BillingNotConfigured("Billing is not configured on this server (no Stripe key).")
    if not price_id(item):
        raise BillingNotConfigured(f"No Stripe price is configured for {item!r}.")
    if plan and current_subscription(user):
        raise Conflict("You already have a subscription; change or cancel it in the billing "
                       "portal.", plan=user.plan)
    customer = ensure_customer(user)
    ref = str(user.public_id)
    metadata = {"user": ref, "plan" if plan else "pack": item}
    params = {
        "mode": "subscription" if plan else "payment",
        "customer": customer,
        "client_reference_id": ref,
        "line_items": [{"price": price_id(item), "quantity": 1}],
        "metadata": metadata,
        "success_url": _absolute("billing_success") + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": _absolute("billing_canceled"),
    }
    if plan:
        params["subscription_data"] = {"metadata": metadata}
    return stripe_api.create_checkout_session(params)["url"]


def portal_url(user) -> str:
    if not stripe_api.configured():
        raise BillingNotConfigured("Billing is not configured on this server (no Stripe key).")
    account = BillingAccount.objects.filter(user=user).first()
    if not account or not account.stripe_customer_id:
        raise Conflict("There is no billing account yet: choose a plan or buy a pack first.")
    return stripe_api.create_portal_session(customer=account.stripe_customer_id,
                                            return_url=_absolute("billing"))["url"]


# ---------------------------------------------------------------------------------------------
# Who is this?


def _user_by_ref(ref):
    from accounts.models import User

    try:
        return User.objects.filter(public_id=uuid.UUID(str(ref))).first() if ref else None
    except ValueError:
        return None


def link_customer(user, customer_id: str) -> None:
    account = account_for(user)
    if not account.stripe_customer_id:
        try:
            with transaction.atomic():
                BillingAccount.objects.filter(pk=account.pk,
                                              stripe_customer_id__isnull=True).update(
                    stripe_customer_id=customer_id)
        except IntegrityError:
            logger.warning("Stripe customer %s already belongs to another account", customer_id)
    elif account.stripe_customer_id != customer_id:
        logger.warning("%s has Stripe customer %s; ignoring %s", user, account.stripe_customer_id,
                       customer_id)


def user_for_customer(customer_id: str, *, ref=None):
    account = (BillingAccount.objects.filter(stripe_customer_id=customer_id)
               .select_related("user").first())
    if account:
        return account.user
    user = _user_by_ref(ref)
    if user is None and customer_id:
        # Not linked here yet: the customer carries our user id in its metadata.
        user = _user_by_ref(stripe_api.retrieve_customer(customer_id)
                            .get("metadata", {}).get("user"))
    if user is None:
        raise UnknownCustomer(f"Stripe customer {customer_id} belongs to no account.")
    link_customer(user, customer_id)
    return user


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
    from accounts.models import User

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
    from billing.tasks import sync_repo_visibility

    logger.info("%s: plan %s -> %s", user, old_plan.id, new_plan.id)
    enforcement.plan_changed(user, old_plan, new_plan)
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
    user = _user_by_ref(ref)
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
    from billing.tasks import send_notice

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
