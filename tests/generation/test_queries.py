"""The database statements of the generation job, counted so that they cannot creep back (issue
21: at most 8 for the image of a one-image generation). Counted: every statement the job and
what it calls send (the claim, the routing's catalogue, the slots, the Image row, the finish,
the signals and the job's log context); not counted: the queue's own claiming and closing of
the task row, and the savepoints of the test's transaction (a worker's transactions begin and
commit without a statement Django logs)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credits.actions import get_balance, ledger_is_consistent
from generation.actions import create_generation
from generation.models import Generation

QUEUE_TABLE = "django_tasks_database_dbtaskresult"
ONE_IMAGE_LIMIT = 8


def job_statements(captured) -> list[str]:
    """The job's own statements among those captured."""
    statements = [q["sql"] for q in captured]
    return [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
            and QUEUE_TABLE not in s]


def run_counted(run_jobs) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run_jobs()
    return job_statements(captured.captured_queries)


@pytest.fixture
def concurrency(settings):
    settings.GENERATION_CONCURRENCY = 4


def test_one_image_generation_takes_at_most_eight_statements(alice, run_jobs, concurrency):
    generation = create_generation(alice, prompt="a lighthouse at dusk", num_images=1)
    balance = get_balance(alice)

    statements = run_counted(run_jobs)

    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.slot_states == ["done"] and generation.provider == "demo"
    assert generation.images.count() == 1
    assert get_balance(alice) == balance and ledger_is_consistent(alice)  # reserved, kept
    assert len(statements) <= ONE_IMAGE_LIMIT, "\n".join(statements)


def test_each_further_image_costs_at_most_three_statements(rich_alice, run_jobs, concurrency):
    generation = create_generation(rich_alice, prompt="a lighthouse at dusk", num_images=4)

    statements = run_counted(run_jobs)

    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.slot_states == ["done"] * 4
    assert sorted(generation.images.values_list("index", flat=True)) == [0, 1, 2, 3]
    # Per further image: its "saving" state, its row, its "done" state.
    assert len(statements) <= ONE_IMAGE_LIMIT + 3 * 3, "\n".join(statements)


def test_a_rerun_after_an_image_was_stored_makes_only_the_missing_ones(
        rich_alice, run_jobs, concurrency):
    """The claim asks which slots exist only when the row says some do: a rerun still finds
    the stored image and makes only the others."""
    from generation.tasks import run_generation
    from jobs.queue import enqueue

    generation = create_generation(rich_alice, prompt="a lighthouse at dusk", num_images=2)
    run_jobs()
    generation.refresh_from_db()
    first = set(generation.images.values_list("pk", flat=True))
    generation.images.filter(index=1).delete()
    Generation.objects.filter(pk=generation.pk).update(status=Generation.Status.RUNNING,
                                                       slots=["done", "generating"])
    enqueue(run_generation, str(generation.pk))

    run_jobs()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.slot_states == ["done", "done"]
    kept = set(generation.images.values_list("pk", flat=True))
    assert len(kept) == 2 and len(kept & first) == 1
