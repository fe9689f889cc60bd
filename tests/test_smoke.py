from credits.actions import get_balance, ledger_is_consistent
from generation.actions import create_generation
from generation.models import Generation


def test_a_generation_runs_through_the_worker(alice, run_jobs):
    generation = create_generation(alice, prompt="a lighthouse at dusk", num_images=2)
    assert get_balance(alice) == 3
    run_jobs()
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.images.count() == 2
    assert generation.credits_charged == 2
    assert ledger_is_consistent(alice)
