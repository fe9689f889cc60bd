"""The credit ledger: every movement is one row, idempotent per reference, never overdrawn."""

import pytest

from credits import actions
from credits.models import CreditAccount, CreditEntry


def entries(user):
    return list(CreditEntry.objects.filter(user=user).order_by("created_at", "id"))


def test_grant_spend_refund_move_the_balance_and_record_rows(alice):
    start = actions.get_balance(alice)
    grant = actions.grant(alice, 20, reason="Creator plan", reference="sub:1")
    spend = actions.spend(alice, 7, reason="Generation", reference="gen:1:reserve")
    refund = actions.refund(alice, 3, reason="Refund", reference="gen:1:refund:0")

    assert actions.get_balance(alice) == start + 20 - 7 + 3
    assert (grant.kind, grant.delta, grant.balance_after) == ("grant", 20, start + 20)
    assert (spend.kind, spend.delta, spend.balance_after) == ("spend", -7, start + 13)
    assert (refund.kind, refund.delta, refund.balance_after) == ("refund", 3, start + 16)
    assert actions.ledger_is_consistent(alice)


@pytest.mark.parametrize("kind", ["grant", "spend", "refund"])
def test_the_same_reference_twice_records_one_row(alice, kind):
    move = getattr(actions, kind)
    before_rows = CreditEntry.objects.filter(user=alice).count()
    before = actions.get_balance(alice)

    first = move(alice, 2, reason="once", reference="ref:twice")
    second = move(alice, 2, reason="once", reference="ref:twice")

    assert first.pk == second.pk
    assert CreditEntry.objects.filter(reference="ref:twice").count() == 1
    assert CreditEntry.objects.filter(user=alice).count() == before_rows + 1
    assert actions.get_balance(alice) == before + first.delta
    assert actions.ledger_is_consistent(alice)


def test_spend_never_overdraws_and_records_nothing(alice):
    balance = actions.get_balance(alice)
    rows = CreditEntry.objects.count()

    with pytest.raises(actions.InsufficientCredits) as caught:
        actions.spend(alice, balance + 1, reason="too much", reference="gen:big:reserve")

    assert (caught.value.needed, caught.value.balance) == (balance + 1, balance)
    assert actions.get_balance(alice) == balance
    assert CreditEntry.objects.count() == rows
    assert not CreditEntry.objects.filter(reference="gen:big:reserve").exists()
    # Exactly the whole balance can be spent.
    actions.spend(alice, balance, reason="all of it", reference="gen:all:reserve")
    assert actions.get_balance(alice) == 0
    assert actions.ledger_is_consistent(alice)


def test_a_refused_spend_does_not_burn_its_reference(alice):
    balance = actions.get_balance(alice)
    with pytest.raises(actions.InsufficientCredits):
        actions.spend(alice, balance + 5, reason="x", reference="gen:retry:reserve")
    actions.grant(alice, 5, reason="top up", reference="topup:1")
    entry = actions.spend(alice, balance + 5, reason="x", reference="gen:retry:reserve")
    assert entry.delta == -(balance + 5)
    assert actions.get_balance(alice) == 0


def test_adjust_records_the_reason_and_actor(alice, bob):
    before = actions.get_balance(alice)
    up = actions.adjust(alice, 10, reason="  Goodwill after outage  ", actor=bob)
    down = actions.adjust(alice, -4, reason="Correction", actor=bob)

    assert (up.kind, up.delta, up.reason, up.actor) == ("adjustment", 10, "Goodwill after outage",
                                                        bob)
    assert (down.kind, down.delta) == ("adjustment", -4)
    assert up.reference != down.reference  # each adjustment is its own movement
    assert actions.get_balance(alice) == before + 6
    assert actions.ledger_is_consistent(alice)


@pytest.mark.parametrize(("delta", "reason"), [(5, ""), (5, "   "), (0, "Nothing")])
def test_adjust_needs_a_reason_and_a_change(alice, delta, reason):
    rows = CreditEntry.objects.count()
    with pytest.raises(ValueError):
        actions.adjust(alice, delta, reason=reason)
    assert CreditEntry.objects.count() == rows


def test_adjust_cannot_make_the_balance_negative(alice):
    balance = actions.get_balance(alice)
    with pytest.raises(actions.InsufficientCredits):
        actions.adjust(alice, -(balance + 1), reason="Too much")
    assert actions.get_balance(alice) == balance


def test_ledger_is_consistent_detects_a_balance_that_drifted(alice):
    assert actions.ledger_is_consistent(alice)
    # A balance changed behind the ledger's back (never done by the code) is detected.
    CreditAccount.objects.filter(user=alice).update(balance=actions.get_balance(alice) + 1)
    assert not actions.ledger_is_consistent(alice)


def test_balance_of_a_user_without_an_account_is_zero(alice):
    CreditEntry.objects.filter(user=alice).delete()
    CreditAccount.objects.filter(user=alice).delete()
    assert actions.get_balance(alice) == 0
    assert actions.ledger_is_consistent(alice)
    actions.grant(alice, 3, reason="first", reference="first")  # creates the account
    assert actions.get_balance(alice) == 3
    assert entries(alice)[-1].balance_after == 3

