"""POST /webhooks/stripe: verified with stripe.Webhook.construct_event, stored (unique event
id) before it is processed, processed once.

A forged or unreadable delivery is answered 400 and stores nothing. A repeat of a processed
event is answered 200 and changes nothing. Processing re-reads state from Stripe and grants
credits under unique references (billing.actions), so it is safe however events are ordered;
an event whose processing fails is answered 500 (Stripe retries it) and stays `failed` for the
admin's re-process action and the hourly sweep."""

import logging
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import actions, stripe_api
from billing.models import StripeEvent

logger = logging.getLogger(__name__)


def _checkout(obj: dict, event: dict):
    actions.record_checkout(obj)


def _subscription(obj: dict, event: dict):
    if event["type"] == "customer.subscription.deleted":
        # Use what the event says: a deleted subscription is final whatever arrives later.
        actions.sync_subscription(obj["id"], data=obj)
    else:
        actions.sync_subscription(obj["id"])


def _invoice_paid(obj: dict, event: dict):
    actions.record_invoice_paid(obj)


def _payment_failed(obj: dict, event: dict):
    actions.notify_payment_failed(obj)
    if actions.invoice_subscription(obj):
        actions.sync_subscription(actions.invoice_subscription(obj))


HANDLERS = {
    "checkout.session.completed": _checkout,
    "checkout.session.async_payment_succeeded": _checkout,
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _payment_failed,
}


def store(event: dict) -> tuple[StripeEvent, bool]:
    """The event's row; created True for its first delivery."""
    try:
        with transaction.atomic():
            row = StripeEvent.objects.create(
                event_id=event["id"], type=event.get("type", ""),
                created=datetime.fromtimestamp(int(event.get("created") or 0), UTC),
                livemode=bool(event.get("livemode")), payload=event)
        return row, True
    except IntegrityError:
        StripeEvent.objects.filter(event_id=event["id"]).update(deliveries=F("deliveries") + 1)
        return StripeEvent.objects.get(event_id=event["id"]), False


def _user_of(obj: dict):
    customer = obj.get("customer")
    if isinstance(customer, str):
        from billing.models import BillingAccount

        account = BillingAccount.objects.filter(stripe_customer_id=customer).first()
        return account.user_id if account else None
    return None


def process(row: StripeEvent) -> bool:
    """Apply the event; True when it is done (processed or ignored)."""
    if row.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
        return True
    handler = HANDLERS.get(row.type)
    StripeEvent.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    if handler is None:
        StripeEvent.objects.filter(pk=row.pk).update(status=StripeEvent.Status.IGNORED,
                                                     processed_at=timezone.now())
        row.status = StripeEvent.Status.IGNORED
        return True
    obj = (row.payload.get("data") or {}).get("object") or {}
    try:
        handler(obj, row.payload)
    except Exception as exc:
        logger.exception("Stripe event %s (%s) failed", row.event_id, row.type)
        StripeEvent.objects.filter(pk=row.pk).update(
            status=StripeEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
            user_id=_user_of(obj))
        row.status = StripeEvent.Status.FAILED
        return False
    StripeEvent.objects.filter(pk=row.pk).update(
        status=StripeEvent.Status.PROCESSED, error="", processed_at=timezone.now(),
        user_id=_user_of(obj))
    row.status = StripeEvent.Status.PROCESSED
    return True


def _answer(status: int, code: str, message: str = ""):
    if status >= 400:
        return JsonResponse({"error": {"code": code, "message": message, "details": {}}},
                            status=status)
    return JsonResponse({"status": code}, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if not settings.STRIPE_WEBHOOK_SECRET:
        return _answer(503, "unavailable", "STRIPE_WEBHOOK_SECRET is not set.")
    try:
        event = stripe_api.construct_event(request.body,
                                           request.headers.get("Stripe-Signature", ""))
    except stripe.SignatureVerificationError:
        return _answer(400, "bad_signature", "The Stripe-Signature header does not match.")
    except (ValueError, KeyError, TypeError):
        return _answer(400, "bad_request", "The body is not a Stripe event.")
    if not isinstance(event, dict) or not event.get("id"):
        return _answer(400, "bad_request", "The body is not a Stripe event.")
    row, created = store(event)
    if not created and row.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
        return _answer(200, "duplicate")
    if process(row):
        return _answer(200, row.status)
    return _answer(500, "processing_failed", "The event is stored and will be retried.")
