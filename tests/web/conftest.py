import pytest

from generation.actions import create_generation


@pytest.fixture
def finished_generation(alice, run_jobs):
    """A generation of alice's with two stored images."""
    generation = create_generation(alice, prompt="A lighthouse at dusk", num_images=2)
    run_jobs()
    generation.refresh_from_db()
    return generation


@pytest.fixture
def image(finished_generation):
    return finished_generation.images.order_by("index").first()
