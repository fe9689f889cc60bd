from django.core.checks import run_checks

from credits.actions import get_balance
from generation.actions import create_generation
from generation.models import Generation


def test_an_unknown_provider_fails_and_refunds_instead_of_hanging(alice, run_jobs, settings):
    generation = create_generation(alice, prompt="a quiet harbour", num_images=2)
    settings.GENERATION_PROVIDERS = ["nowhere"]
    run_jobs()
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert generation.credits_refunded == 2 and get_balance(alice) == 5
    assert generation.failures[0]["code"] == "provider_unavailable"


def test_the_system_check_names_unknown_providers(settings):
    settings.GENERATION_PROVIDERS = ["demo", "nowhere"]
    settings.TRAINING_PROVIDER = "elsewhere"
    ids = {message.id for message in run_checks()}
    assert {"likeness.E001", "likeness.E002"} <= ids
