"""Stripe's events: each stored once (unique event id) before it is processed, and processed by
re-reading state from Stripe and granting credits under unique references (billing.sync), so
it is safe however events are ordered. The hourly sweep (billing.tasks.reconcile_billing)
re-processes failed events with `process`."""

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing import sync
from billing.models import BillingAccount, StripeEvent

logger = logging.getLogger(__name__)


def _checkout(obj: dict, event: dict):
    sync.record_checkout(obj)


def _subscription(obj: dict, event: dict):
    if event["type"] == "customer.subscription.deleted":
        # Use what the event says: a deleted subscription is final whatever arrives later.
        sync.sync_subscription(obj["id"], data=obj)
    else:
        sync.sync_subscription(obj["id"])


def _invoice_paid(obj: dict, event: dict):
    sync.record_invoice_paid(obj)


def _payment_failed(obj: dict, event: dict):
    sync.notify_payment_failed(obj)
    if sync.invoice_subscription(obj):
        sync.sync_subscription(sync.invoice_subscription(obj))


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
