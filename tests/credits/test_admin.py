"""Staff change a balance only by adding an adjustment with a reason, and never below zero."""

import pytest
from django.urls import reverse

from credits import actions
from credits.models import CreditEntry
from tests.factories import make_user

ADD = "admin:credits_creditentry_add"


@pytest.fixture
def staff(db):
    from tests.factories import enable_totp

    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    enable_totp(staff)  # staff pages need two-factor authentication
    return staff


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_an_adjustment_is_recorded_with_the_staff_member(staff_client, staff, alice):
    before = actions.get_balance(alice)
    response = staff_client.post(reverse(ADD), {
        "user": alice.pk, "delta": "25", "reason": "Goodwill after the outage",
    })
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = CreditEntry.objects.get(user=alice, kind=CreditEntry.Kind.ADJUSTMENT)
    assert entry.delta == 25
    assert entry.reason == "Goodwill after the outage"
    assert entry.actor == staff
    assert entry.balance_after == before + 25
    assert actions.get_balance(alice) == before + 25
    assert actions.ledger_is_consistent(alice)
    # The recorded row can be viewed but not edited.
    view = staff_client.get(reverse("admin:credits_creditentry_change", args=[entry.pk]))
    assert view.status_code == 200
    assert "Goodwill after the outage" in view.content.decode()


def test_an_adjustment_can_remove_credits(staff_client, alice):
    before = actions.get_balance(alice)
    response = staff_client.post(reverse(ADD), {
        "user": alice.pk, "delta": str(-before), "reason": "Chargeback",
    })
    assert response.status_code == 302
    assert actions.get_balance(alice) == 0
    assert actions.ledger_is_consistent(alice)


def test_an_adjustment_needs_a_reason(staff_client, alice):
    rows = CreditEntry.objects.count()
    response = staff_client.post(reverse(ADD), {"user": alice.pk, "delta": "10", "reason": ""})
    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors
    assert CreditEntry.objects.count() == rows


def test_a_zero_adjustment_is_refused(staff_client, alice):
    rows = CreditEntry.objects.count()
    response = staff_client.post(reverse(ADD), {"user": alice.pk, "delta": "0", "reason": "x"})
    assert response.status_code == 200
    assert "delta" in response.context["adminform"].form.errors
    assert CreditEntry.objects.count() == rows


def test_an_adjustment_below_zero_is_refused_with_a_form_error(staff_client, alice):
    before = actions.get_balance(alice)
    rows = CreditEntry.objects.count()
    response = staff_client.post(reverse(ADD), {
        "user": alice.pk, "delta": str(-(before + 1)), "reason": "Too much",
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors and "cannot go below zero" in errors[0]
    assert actions.get_balance(alice) == before
    assert CreditEntry.objects.count() == rows


def test_ledger_rows_cannot_be_deleted_or_edited(staff_client, alice):
    entry = CreditEntry.objects.filter(user=alice).first()
    response = staff_client.post(
        reverse("admin:credits_creditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    response = staff_client.post(
        reverse("admin:credits_creditentry_change", args=[entry.pk]),
        {"user": alice.pk, "delta": "999", "reason": "edited"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.delta != 999
    assert actions.ledger_is_consistent(alice)
