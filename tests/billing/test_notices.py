"""Low-credit notices: one e-mail and a banner per crossing below LOW_CREDIT_THRESHOLD."""

from billing.models import BillingAccount
from credits.actions import grant, spend


def low_mails(mailoutbox):
    return [m for m in mailoutbox if "running low" in m.subject]


def test_once_per_crossing(alice, client, settings, mailoutbox, run_jobs,
                           django_capture_on_commit_callbacks):
    settings.LOW_CREDIT_THRESHOLD = 20
    with django_capture_on_commit_callbacks(execute=True):
        grant(alice, 45, reason="test", reference="test:1")  # 5 + 45 = 50
        spend(alice, 20, reason="a", reference="s:1")  # 30: above
    run_jobs()
    assert low_mails(mailoutbox) == []

    with django_capture_on_commit_callbacks(execute=True):
        spend(alice, 15, reason="b", reference="s:2")  # 15: crosses below
        spend(alice, 5, reason="c", reference="s:3")  # 10: still below, no second notice
        spend(alice, 5, reason="d", reference="s:4")
    run_jobs()
    mails = low_mails(mailoutbox)
    assert len(mails) == 1 and mails[0].to == ["alice@example.com"]
    assert "5 credit(s) left" in mails[0].body

    client.force_login(alice)
    page = client.get("/dashboard/billing/").content.decode()
    assert 'data-banner="low_credit"' in page
    # Dismissed: gone, and no new e-mail while still below.
    client.post("/dashboard/billing/low-credit/dismiss", {"next": "https://evil.example/"})
    assert 'data-banner="low_credit"' not in client.get("/dashboard/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        grant(alice, 100, reason="top-up", reference="test:2")  # 105: re-armed
    assert not BillingAccount.objects.get(user=alice).low_credit_notified
    with django_capture_on_commit_callbacks(execute=True):
        spend(alice, 90, reason="e", reference="s:5")  # 15: crosses again
    run_jobs()
    assert len(low_mails(mailoutbox)) == 2
    assert 'data-banner="low_credit"' in client.get("/dashboard/").content.decode()


def test_a_rollback_sends_nothing(alice, settings, mailoutbox, run_jobs,
                                  django_capture_on_commit_callbacks):
    from django.db import transaction

    settings.LOW_CREDIT_THRESHOLD = 20
    with django_capture_on_commit_callbacks(execute=True):
        grant(alice, 45, reason="test", reference="test:1")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                spend(alice, 40, reason="a", reference="s:1")
                raise RuntimeError("the generation failed to queue")
    except RuntimeError:
        pass
    run_jobs()
    assert low_mails(mailoutbox) == []
    assert not BillingAccount.objects.filter(user=alice, low_credit_notified=True).exists()
