"""The one seam to Stripe: the official SDK, pointed at STRIPE_API_BASE, over likeness.http.
Every call returns plain dicts, so the rest of billing reads Stripe objects the way a webhook
delivers them, and every SDK error leaves as a ProviderError with a sentence for a person."""

import json
import logging
from functools import cache

import stripe
from django.conf import settings

from likeness import http
from likeness.errors import NotConfigured, ProviderError

logger = logging.getLogger(__name__)


class BillingNotConfigured(NotConfigured):
    """Stripe has no key (demo mode) or the item has no price configured."""

    code = "billing_not_configured"


class StripeUnavailable(ProviderError):
    """Stripe could not be reached or refused the request."""


class _HttpSeam(stripe.HTTPXClient):
    """stripe-python's httpx client, on our shared pool and timeout."""

    def __init__(self, timeout: float):
        super().__init__(timeout=timeout, allow_sync_methods=True)
        self._client = http.client()

    def _get_request_args_kwargs(self, method, url, headers, post_data):
        # stripe-python hands its encoded form body over as `data`, which httpx wants as
        # `content` (it warns, and one day refuses).
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        kwargs["content"] = kwargs.pop("data") or None
        return args, kwargs


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


@cache
def _client(key: str, base: str, timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        key, base_addresses={"api": base},
        max_network_retries=1,  # POSTs carry an idempotency key, so a retry is safe
        http_client=_HttpSeam(timeout))


def client() -> stripe.StripeClient:
    if not configured():
        raise BillingNotConfigured("Billing is not configured: STRIPE_SECRET_KEY is not set.")
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE,
                   settings.PROVIDER_TIMEOUT_SECONDS)


def _plain(obj) -> dict:
    return obj.to_dict(for_json=True) if hasattr(obj, "to_dict") else dict(obj)


def call(what: str, fn, *args, **kwargs) -> dict:
    try:
        return _plain(fn(*args, **kwargs))
    except stripe.StripeError as exc:
        status = getattr(exc, "http_status", None)
        logger.warning("Stripe %s failed (%s): %s", what, status, exc)
        message = getattr(exc, "user_message", None) or str(exc) or "no answer"
        raise StripeUnavailable(f"Stripe could not {what}: {message}", status=status,
                            transient=http.is_transient(status), code="payment_provider_error")


def create_customer(*, email: str, name: str, user_ref: str) -> dict:
    # The idempotency key makes a retried request (or a double click) create one customer.
    return call("create the customer", client().v1.customers.create,
                 params={"email": email, "name": name, "metadata": {"user": user_ref}},
                 options={"idempotency_key": f"likeness-customer-{user_ref}"})


def retrieve_customer(customer_id: str) -> dict:
    return call("read the customer", client().v1.customers.retrieve, customer_id)


def create_checkout_session(params: dict) -> dict:
    return call("start the checkout", client().v1.checkout.sessions.create, params=params)


def retrieve_checkout_session(session_id: str) -> dict:
    return call("read the checkout", client().v1.checkout.sessions.retrieve, session_id)


def create_portal_session(*, customer: str, return_url: str) -> dict:
    return call("open the billing portal", client().v1.billing_portal.sessions.create,
                 params={"customer": customer, "return_url": return_url})


def retrieve_subscription(subscription_id: str) -> dict:
    return call("read the subscription", client().v1.subscriptions.retrieve, subscription_id)


def list_subscriptions(customer: str) -> list[dict]:
    page = call("list the subscriptions", client().v1.subscriptions.list,
                 params={"customer": customer, "status": "all", "limit": 20})
    return page.get("data", [])


def list_invoices(customer: str, *, limit: int = 12, status: str | None = None) -> list[dict]:
    params = {"customer": customer, "limit": limit}
    if status:
        params["status"] = status
    page = call("list the invoices", client().v1.invoices.list, params=params)
    return page.get("data", [])


def construct_event(payload: bytes, signature: str) -> dict:
    """Verify the Stripe-Signature header (HMAC-SHA256, 300 s tolerance) and parse the event,
    kept exactly as Stripe sent it. Raises stripe.SignatureVerificationError for a bad
    signature, ValueError for a body that is not a Stripe event: not JSON, or JSON that is not
    an object with a string id and type, a whole-number time and an object for its data."""
    stripe.WebhookSignature.verify_header(payload, signature, settings.STRIPE_WEBHOOK_SECRET,
                                          stripe.Webhook.DEFAULT_TOLERANCE)
    event = json.loads(payload)
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"]
            and isinstance(event.get("type", ""), str)
            and isinstance(event.get("created", 0), int)
            and isinstance(event.get("data", {}), dict)
            and isinstance((event.get("data") or {}).get("object", {}), dict)):
        raise ValueError("The body is not a Stripe event.")
    return event
