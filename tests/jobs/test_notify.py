"""The doorbell idle worker threads wait on (jobs.notify), and who listens: a ring is never lost
between a thread's empty poll and its wait, each ring wakes one thread, closing wakes all; a
listener only on PostgreSQL with JOB_LISTEN. (tests/jobs/test_queue_postgres.py proves the
wake-up end to end with real workers.)"""

import threading

import pytest
from django.db import connection

from jobs.notify import Doorbell, can_listen, queue_filter
from jobs.worker import Pool


def test_a_ring_before_the_wait_is_kept_and_answers_one_wait():
    bell = Doorbell(limit=2)
    bell.ring()
    assert bell.wait(timeout=0) is True
    assert bell.wait(timeout=0) is False  # used up


def test_rings_are_kept_up_to_the_number_of_threads():
    bell = Doorbell(limit=2)
    bell.ring(5)
    assert [bell.wait(timeout=0) for _ in range(3)] == [True, True, False]


def test_a_ring_wakes_a_waiting_thread_and_close_wakes_every_one():
    bell = Doorbell(limit=3)
    woken = []
    waiters = [threading.Thread(target=lambda: woken.append(bell.wait(timeout=60)))
               for _ in range(3)]
    for waiter in waiters:
        waiter.start()
    bell.ring()
    bell.close()
    for waiter in waiters:
        waiter.join(timeout=30)
    assert woken == [True, True, True]
    assert bell.wait(timeout=60) is True  # closed: nobody waits any more


def test_notifications_are_filtered_like_the_claims():
    assert queue_filter(["default"], [])("default")
    assert not queue_filter(["default"], [])("gpu")
    assert queue_filter(["*"], ["gpu"])("default")
    assert not queue_filter(["*"], ["gpu"])("gpu")


def pool():
    return Pool(2, worker_id="w", queue_names=["default"], excluded_queue_names=[],
                interval=30, batch=False, backend_name="default", startup_delay=False,
                max_tasks=None)


@pytest.mark.django_db
def test_only_postgresql_workers_listen(settings):
    assert can_listen() is (connection.vendor == "postgresql")
    assert (pool().listener is not None) is (connection.vendor == "postgresql")
    settings.JOB_LISTEN = False
    assert pool().listener is None


def test_stopping_a_pool_wakes_its_idle_threads():
    workers = pool()
    workers.stop()
    assert all(not thread.running for thread in workers.threads)
    assert workers.doorbell.wait(timeout=60) is True
