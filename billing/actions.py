"""Billing actions: a customer's checkout and portal, and who a Stripe customer is.

Applying what Stripe tells us (subscriptions, invoices, payments) is billing.sync."""

import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.plans import PACKS, PLANS, price_id
from billing.models import BillingAccount, Subscription
from likeness.errors import Conflict, InvalidInput
from providers.stripe import client as stripe_api
from providers.stripe.client import BillingNotConfigured

logger = logging.getLogger(__name__)


class UnknownCustomer(Exception):
    """A Stripe customer we cannot tie to an account (yet)."""


class CancelFailed(Exception):
    """A subscription still billing could not be canceled at Stripe (not configured, or down)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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


def user_by_ref(ref):
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
    user = user_by_ref(ref)
    if user is None and customer_id:
        # Not linked here yet: the customer carries our user id in its metadata.
        user = user_by_ref(stripe_api.retrieve_customer(customer_id)
                            .get("metadata", {}).get("user"))
    if user is None:
        raise UnknownCustomer(f"Stripe customer {customer_id} belongs to no account.")
    link_customer(user, customer_id)
    return user


# ---------------------------------------------------------------------------------------------
# Ending subscriptions (an account deleted, or suspended by staff)


def cancel_subscriptions(user) -> list[str]:
    """Cancel at Stripe, at once (not at the period's end), every subscription of `user` still
    billing; returns the ids canceled. CancelFailed when one could not be: the others already
    canceled stay so. Stripe's `customer.subscription.deleted` then moves the plan to Free."""
    live = list(Subscription.objects.filter(user=user).exclude(
        status__in=["canceled", "incomplete_expired"]).values_list("stripe_id", flat=True))
    if not live:
        return []
    if not stripe_api.configured():
        raise CancelFailed("Billing is not configured, so the subscription cannot be canceled "
                           "at Stripe; ask the operator.")
    canceled = []
    try:
        for stripe_id in live:
            try:
                stripe_api.call("cancel the subscription",
                                stripe_api.client().v1.subscriptions.cancel, stripe_id)
            except stripe_api.StripeUnavailable as exc:
                if "No such subscription" not in exc.message:
                    raise CancelFailed(exc.message)
            canceled.append(stripe_id)
    finally:
        Subscription.objects.filter(stripe_id__in=canceled).update(
            status="canceled", canceled_at=timezone.now())
    return canceled
