"""Billing's background work: Hugging Face visibility after a plan change, e-mails, and the
hourly sweep that covers lost webhooks."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from jobs.queue import retry_later

logger = logging.getLogger(__name__)


@task()
def sync_repo_visibility(user_id: int, attempt: int = 1):
    """Make the user's published repositories private or public as their plan now says."""
    from accounts.models import User
    from providers import publish
    from providers.base import ProviderError
    from studio.models import PersonalModel
    from studio.training import private_repo

    if not publish.hub_configured():
        return
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    private = private_repo(user)
    for model in PersonalModel.objects.filter(user=user).exclude(hf_repo_id=""):
        if model.hf_private == private:
            continue
        try:
            publish.set_visibility(model.hf_repo_id, private=private)
        except ProviderError as exc:
            if exc.transient and attempt < settings.JOB_MAX_ATTEMPTS:
                retry_later(sync_repo_visibility, user_id, attempt=attempt + 1)
                return
            logger.error("cannot change the visibility of %s: %s", model.hf_repo_id, exc)
            continue
        PersonalModel.objects.filter(pk=model.pk).update(hf_private=private)


def _link(name: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse(name)


@task()
def send_low_credit_email(user_id: int):
    from accounts.models import User
    from credits.actions import get_balance

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    balance = get_balance(user)
    send_mail(
        "Your Likeness credits are running low",
        f"Hello {user.display_name},\n\nYou have {balance} credit(s) left. To keep creating "
        f"images, buy a credit pack or move to a larger plan:\n\n{_link('billing')}\n\n"
        "We send this once each time your balance drops below "
        f"{settings.LOW_CREDIT_THRESHOLD} credits.\n",
        None, [user.email])


@task()
def send_notice(notice_id: int, amount: str = ""):
    from billing.models import Notice

    notice = Notice.objects.select_related("user").filter(pk=notice_id).first()
    if notice is None:
        return
    user = notice.user
    send_mail(
        notice.subject,
        f"Hello {user.display_name},\n\nWe could not take the payment of {amount} for your "
        f"{user.plan_info.name} plan. Stripe will try again over the next days; to keep your "
        f"plan, update your payment method in the billing portal:\n\n{_link('billing')}\n",
        None, [user.email])


@task()
def reconcile_billing():
    """Re-process failed events, and re-read subscriptions whose period should have renewed
    (or that were not read for a day): a lost webhook costs at most an hour."""
    from billing import actions, stripe_api, webhooks
    from billing.models import StripeEvent, Subscription

    if not stripe_api.configured():
        return {"events": 0, "customers": 0}
    now = timezone.now()
    failed = StripeEvent.objects.filter(status=StripeEvent.Status.FAILED, attempts__lt=10,
                                        received_at__lt=now - timedelta(minutes=1))
    events = sum(1 for row in failed[:200] if webhooks.process(row))
    due = (Subscription.objects.filter(status__in=Subscription.ENTITLED)
           .filter(Q(current_period_end__lt=now) | Q(synced_at__lt=now - timedelta(days=1)))
           .select_related("user"))
    users = {sub.user_id: sub.user for sub in due[:500]}
    for user in users.values():
        try:
            actions.reconcile_customer(user)
        except Exception:
            logger.exception("reconciling the billing of %s failed", user)
    return {"events": events, "customers": len(users)}
