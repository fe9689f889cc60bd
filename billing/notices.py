"""Low-credit notices: one e-mail and a banner when the balance falls below
LOW_CREDIT_THRESHOLD, once per crossing -- armed again only when the balance has risen back to
the threshold or above, so a run of small spends below it sends nothing more."""

from django.conf import settings

from billing.models import BillingAccount
from jobs.queue import enqueue


def balance_changed(user, old: int, new: int) -> None:
    """Called after every committed credit movement (credits.actions.post_entry)."""
    from billing.actions import account_for
    from billing.tasks import send_low_credit_email
    from credits.actions import get_balance

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
