"""Billing's background work: the hourly sweep that covers lost webhooks."""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from billing import sync
from billing.events import process
from billing.models import StripeEvent, Subscription
from providers.stripe import client as stripe_api

logger = logging.getLogger(__name__)


@task()
def reconcile_billing():
    """Re-process failed events, and re-read subscriptions whose period should have renewed
    (or that were not read for a day): a lost webhook costs at most an hour."""
    if not stripe_api.configured():
        return {"events": 0, "customers": 0}
    now = timezone.now()
    failed = StripeEvent.objects.filter(status=StripeEvent.Status.FAILED, attempts__lt=10,
                                        received_at__lt=now - timedelta(minutes=1))
    events = sum(1 for row in failed[:200] if process(row))
    due = (Subscription.objects.filter(status__in=Subscription.ENTITLED)
           .filter(Q(current_period_end__lt=now) | Q(synced_at__lt=now - timedelta(days=1)))
           .select_related("user"))
    users = {sub.user_id: sub.user for sub in due[:500]}
    for user in users.values():
        try:
            sync.reconcile_customer(user)
        except Exception:
            logger.exception("reconciling the billing of %s failed", user)
    return {"events": events, "customers": len(users)}
