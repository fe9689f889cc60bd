"""Concurrent spends on PostgreSQL: the row lock keeps the balance from going below zero and the
unique reference keeps a repeated spend to one row, even when the calls race."""

import threading

import pytest
from django.db import connection

from accounts.models import User
from credits import actions
from credits.models import CreditEntry
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def race(count, work):
    """Run work(i) in `count` threads released at the same moment; return their outcomes."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = work(i)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_twenty_concurrent_spends_never_overdraw():
    user = User.objects.create_user("racer@example.com", "pw-racer-123")
    assert actions.get_balance(user) == 5

    outcomes = race(20, lambda i: actions.spend(user, 1, reason="race",
                                                reference=f"race:{i}"))

    succeeded = [o for o in outcomes if isinstance(o, CreditEntry)]
    refused = [o for o in outcomes if isinstance(o, actions.InsufficientCredits)]
    assert len(succeeded) == 5, outcomes
    assert len(refused) == 15, outcomes
    assert actions.get_balance(user) == 0
    assert CreditEntry.objects.filter(user=user, kind="spend").count() == 5
    assert sorted(e.balance_after for e in succeeded) == [0, 1, 2, 3, 4]
    assert actions.ledger_is_consistent(user)


def test_ten_concurrent_spends_with_one_reference_record_one_row():
    user = User.objects.create_user("twin@example.com", "pw-twin-123")

    outcomes = race(10, lambda i: actions.spend(user, 2, reason="twin",
                                                reference="gen:same:reserve"))

    assert all(isinstance(o, CreditEntry) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert CreditEntry.objects.filter(reference="gen:same:reserve").count() == 1
    assert actions.get_balance(user) == 3
    assert actions.ledger_is_consistent(user)
