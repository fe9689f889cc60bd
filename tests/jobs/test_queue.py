"""The reaper gives the work of dead workers back, and gives it up after too many deaths;
retries back off exponentially and respect a provider's Retry-After."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from credits.actions import get_balance, ledger_is_consistent
from generation.actions import create_generation
from generation.models import Generation
from generation.results import store_image
from jobs.models import WorkerHeartbeat
from jobs.queue import queue_depth
from jobs.reaper import reap_orphaned_tasks
from jobs.retry import backoff as backoff_seconds
from providers.demo.images import DemoProvider
from providers.interfaces import ImageRequest as GenerationRequest


def claimed_by(task, *workers, started_ago):
    """Put the task in the state a worker leaves it in when it claims it (and maybe dies)."""
    for worker in workers:
        task.claim(worker)
    DBTaskResult.objects.filter(pk=task.pk).update(
        started_at=timezone.now() - timedelta(seconds=started_ago))
    task.refresh_from_db()
    return task


def heartbeat(worker_id, seconds_ago):
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id, hostname="test", pid=1,
        beat_at=timezone.now() - timedelta(seconds=seconds_ago))


@pytest.fixture
def generation(alice):
    return create_generation(alice, prompt="a stormy sea", num_images=2)


@pytest.fixture
def task(generation):
    return DBTaskResult.objects.get()


def test_a_task_of_a_dead_worker_is_requeued_and_then_finished(settings, generation, task,
                                                               run_jobs):
    settings.JOB_LEASE_SECONDS = 60
    heartbeat("dead", seconds_ago=61)
    claimed_by(task, "dead", started_ago=120)
    assert queue_depth() == 0

    assert reap_orphaned_tasks() == {"requeued": 1, "abandoned": 0}

    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY
    assert task.run_after <= timezone.now()
    assert queue_depth() == 1
    assert reap_orphaned_tasks() == {"requeued": 0, "abandoned": 0}  # nothing left to do

    run_jobs()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert task.worker_ids == ["dead", "pytest"]
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.credits_charged == 2


def test_a_task_whose_worker_left_no_heartbeat_is_requeued(settings, task):
    settings.JOB_LEASE_SECONDS = 60
    claimed_by(task, "vanished", started_ago=120)
    assert reap_orphaned_tasks()["requeued"] == 1
    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY


def test_a_task_with_a_live_heartbeat_is_left_alone(settings, task):
    settings.JOB_LEASE_SECONDS = 60
    heartbeat("alive", seconds_ago=59)
    claimed_by(task, "alive", started_ago=3600)  # a long job, but its worker is beating

    assert reap_orphaned_tasks() == {"requeued": 0, "abandoned": 0}
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING
    assert task.worker_ids == ["alive"]


def test_the_lease_is_measured_from_the_last_claim(settings, task):
    settings.JOB_LEASE_SECONDS = 60
    heartbeat("old", seconds_ago=600)
    claimed_by(task, "old", started_ago=10)  # claimed moments ago; its lease has not run out
    assert reap_orphaned_tasks()["requeued"] == 0
    # The same state a lease later is reaped.
    assert reap_orphaned_tasks(now=timezone.now() + timedelta(seconds=61))["requeued"] == 1


def test_after_max_claims_the_task_is_given_up_and_refunded(settings, alice, generation, task,
                                                            django_capture_on_commit_callbacks):
    settings.JOB_LEASE_SECONDS = 60
    settings.JOB_MAX_ATTEMPTS = 3
    claimed_by(task, "w1", "w2", "w3", started_ago=120)
    assert get_balance(alice) == 3

    with django_capture_on_commit_callbacks(execute=True):
        assert reap_orphaned_tasks() == {"requeued": 0, "abandoned": 1}

    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert "abandoned after 3 dead workers" in task.traceback
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert {f["code"] for f in generation.failures} == {"worker_lost"}
    assert generation.credits_refunded == 2
    assert generation.credits_charged == 0
    assert get_balance(alice) == 5
    assert ledger_is_consistent(alice)


def test_a_given_up_task_keeps_the_images_that_were_made(settings, alice, generation, task,
                                                         django_capture_on_commit_callbacks):
    settings.JOB_MAX_ATTEMPTS = 2
    demo = DemoProvider()
    made = demo.generate(GenerationRequest(
        prompt=generation.prompt, width=generation.width, height=generation.height,
        seed=generation.seed, base_model=generation.base_model))[0]
    store_image(generation, 0, made, demo)
    claimed_by(task, "w1", "w2", started_ago=3600)

    with django_capture_on_commit_callbacks(execute=True):
        assert reap_orphaned_tasks()["abandoned"] == 1

    generation.refresh_from_db()
    assert generation.status == Generation.Status.PARTIAL
    assert generation.credits_refunded == 1
    assert generation.credits_charged == 1
    assert get_balance(alice) == 4
    assert ledger_is_consistent(alice)


def test_a_given_up_task_of_another_kind_is_ignored_by_generation(settings, generation, task,
                                                                   django_capture_on_commit_callbacks):
    settings.JOB_MAX_ATTEMPTS = 1
    DBTaskResult.objects.filter(pk=task.pk).update(task_path="some.other.task")
    task.refresh_from_db()
    claimed_by(task, "w1", started_ago=3600)
    with django_capture_on_commit_callbacks(execute=True):
        assert reap_orphaned_tasks()["abandoned"] == 1
    generation.refresh_from_db()
    assert generation.status == Generation.Status.QUEUED
    assert generation.credits_refunded == 0


def test_finished_and_waiting_tasks_are_not_touched(settings, generation, task, run_jobs):
    settings.JOB_LEASE_SECONDS = 1
    run_jobs()
    later = timezone.now() + timedelta(days=1)
    assert reap_orphaned_tasks(now=later) == {"requeued": 0, "abandoned": 0}
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL


def test_heartbeats_of_long_gone_workers_are_cleaned_up(db):
    heartbeat("ancient", seconds_ago=2 * 86400)
    heartbeat("recent", seconds_ago=120)
    reap_orphaned_tasks()
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["recent"]


def test_backoff_grows_exponentially_with_jitter(settings):
    settings.JOB_RETRY_BASE_SECONDS = 2
    for attempt in range(1, 8):
        expected = min(2 * 2 ** (attempt - 1), 300)
        samples = [backoff_seconds(attempt) for _ in range(200)]
        assert all(0.8 * expected <= s <= 1.2 * expected for s in samples), attempt
        assert len(set(samples)) > 1  # jittered, so retries do not arrive together
    # Each attempt waits longer than any wait of the attempt before (until the cap).
    for attempt in range(1, 7):
        assert min(backoff_seconds(attempt + 1) for _ in range(100)) > max(
            backoff_seconds(attempt) for _ in range(100))
    assert max(backoff_seconds(50) for _ in range(100)) <= 300 * 1.2


def test_backoff_honours_retry_after(settings):
    settings.JOB_RETRY_BASE_SECONDS = 2
    assert all(backoff_seconds(1, retry_after=90) >= 90 for _ in range(50))
    assert all(backoff_seconds(1, retry_after=90) == 90 for _ in range(50))
    # A Retry-After shorter than the backoff does not shorten it.
    assert all(backoff_seconds(6, retry_after=1) >= 0.8 * 64 for _ in range(50))
