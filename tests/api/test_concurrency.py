"""Twenty simultaneous POST /generations from an account with credits for five: the API answers
202 exactly five times and 402 fifteen times, and the ledger, the generations and the queue all
agree. Run on PostgreSQL, where the requests really do overlap."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from api.keys import create_api_key
from credits.actions import get_balance, ledger_is_consistent
from generation.models import Generation
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_twenty_concurrent_generations_never_overdraw():
    user = User.objects.create_user("racer@example.com", "pw-racer-123")
    assert get_balance(user) == 5
    _, raw = create_api_key(user, "race")
    barrier = threading.Barrier(THREADS)
    statuses = [None] * THREADS

    def run(i):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        try:
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/generations",
                {"prompt": f"race {i}", "base_model": "flux-schnell", "num_images": 1},
                content_type="application/json",
            )
            statuses[i] = (response.status_code, response.json()["error"]["code"]
                           if response.status_code != 202 else None)
        except Exception as exc:
            statuses[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    assert statuses.count((202, None)) == 5, statuses
    assert statuses.count((402, "insufficient_credits")) == 15, statuses
    assert get_balance(user) == 0
    assert Generation.objects.filter(user=user).count() == 5
    assert DBTaskResult.objects.count() == 5
    assert ledger_is_consistent(user)
