"""The one seam to Stripe: the official SDK, pointed at STRIPE_API_BASE, with our timeout.
Every call returns plain dicts, so the rest of billing reads Stripe objects the way a webhook
delivers them, and every SDK error leaves as a StripeUnavailable with a sentence for a person."""

import json
import logging

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)


class BillingNotConfigured(Exception):
    """Stripe has no key (demo mode) or the item has no price configured."""


class StripeUnavailable(Exception):
    """Stripe could not be reached or refused the request."""

    def __init__(self, message: str, *, transient: bool = True):
        super().__init__(message)
        self.message = message
        self.transient = transient


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    if not configured():
        raise BillingNotConfigured("Billing is not configured: STRIPE_SECRET_KEY is not set.")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=1,  # POSTs carry an idempotency key, so a retry is safe
        http_client=stripe.RequestsClient(timeout=settings.PROVIDER_TIMEOUT_SECONDS),
    )


def _plain(obj) -> dict:
    return obj.to_dict(for_json=True) if hasattr(obj, "to_dict") else dict(obj)


def _call(what: str, fn, *args, **kwargs) -> dict:
    try:
        return _plain(fn(*args, **kwargs))
    except stripe.StripeError as exc:
        status = getattr(exc, "http_status", None)
        transient = status is None or status == 429 or status >= 500
        logger.warning("Stripe %s failed (%s): %s", what, status, exc)
        message = getattr(exc, "user_message", None) or str(exc) or "no answer"
        raise StripeUnavailable(f"Stripe could not {what}: {message}", transient=transient)


def create_customer(*, email: str, name: str, user_ref: str) -> dict:
    # The idempotency key makes a retried request (or a double click) create one customer.
    return _call("create the customer", client().v1.customers.create,
                 params={"email": email, "name": name, "metadata": {"user": user_ref}},
                 options={"idempotency_key": f"likeness-customer-{user_ref}"})


def retrieve_customer(customer_id: str) -> dict:
    return _call("read the customer", client().v1.customers.retrieve, customer_id)


def create_checkout_session(params: dict) -> dict:
    return _call("start the checkout", client().v1.checkout.sessions.create, params=params)


def retrieve_checkout_session(session_id: str) -> dict:
    return _call("read the checkout", client().v1.checkout.sessions.retrieve, session_id)


def create_portal_session(*, customer: str, return_url: str) -> dict:
    return _call("open the billing portal", client().v1.billing_portal.sessions.create,
                 params={"customer": customer, "return_url": return_url})


def retrieve_subscription(subscription_id: str) -> dict:
    return _call("read the subscription", client().v1.subscriptions.retrieve, subscription_id)


def list_subscriptions(customer: str) -> list[dict]:
    page = _call("list the subscriptions", client().v1.subscriptions.list,
                 params={"customer": customer, "status": "all", "limit": 20})
    return page.get("data", [])


def list_invoices(customer: str, *, limit: int = 12, status: str | None = None) -> list[dict]:
    params = {"customer": customer, "limit": limit}
    if status:
        params["status"] = status
    page = _call("list the invoices", client().v1.invoices.list, params=params)
    return page.get("data", [])


def construct_event(payload: bytes, signature: str) -> dict:
    """Verify the Stripe-Signature header (HMAC-SHA256, 300 s tolerance) and parse the event.
    Raises ValueError for a bad body or stripe.SignatureVerificationError for a bad signature."""
    stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    # The SDK's object is checked; we keep the event exactly as Stripe sent it.
    return json.loads(payload)
