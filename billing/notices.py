"""Billing's notices. Low credit: one e-mail and a banner when the balance falls below
LOW_CREDIT_THRESHOLD, once per crossing -- armed again only when the balance has risen back to
the threshold or above, so a run of small spends below it sends nothing more. A failed payment:
one e-mail per attempt (billing.sync records the Notice)."""

from django.conf import settings
from django.core.mail import send_mail
from django.dispatch import receiver
from django.urls import reverse
from django_tasks import task

from accounts.models import User
from billing.actions import account_for
from billing.models import BillingAccount, Notice
from credits.actions import get_balance
from credits.signals import balance_changed
from jobs.queue import enqueue


@receiver(balance_changed, dispatch_uid="billing.low_credit_notice")
def low_credit_notice(sender, user, old: int, new: int, **kwargs) -> None:
    """After every committed credit movement (connected in BillingConfig.ready())."""
    threshold = settings.LOW_CREDIT_THRESHOLD
    if threshold <= 0:
        return
    if old >= threshold > new:
        account_for(user)
        # The conditional update makes the notice once per crossing even with concurrent spends.
        flipped = BillingAccount.objects.filter(user=user, low_credit_notified=False).update(
            low_credit_notified=True, low_credit_banner=True)
        if flipped and get_balance(user) < threshold:
            enqueue(send_low_credit_email, user.pk)
    elif new >= threshold > old:
        BillingAccount.objects.filter(user=user, low_credit_notified=True).update(
            low_credit_notified=False, low_credit_banner=False)


def low_credit_banner(user, balance: int) -> bool:
    if balance >= settings.LOW_CREDIT_THRESHOLD:
        return False
    return BillingAccount.objects.filter(user=user, low_credit_banner=True).exists()


def dismiss_low_credit_banner(user) -> None:
    BillingAccount.objects.filter(user=user).update(low_credit_banner=False)


def _link(name: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse(name)


@task()
def send_low_credit_email(user_id: int):
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
