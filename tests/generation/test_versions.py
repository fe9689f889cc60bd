"""New versions of an image (generation.versions) offline, through the demo provider: an
upscale really is 2× or 4× the size, a face restore keeps it; each is charged its price from
the catalogue once, linked to its original, and refunded exactly once when it cannot be made.
Bad requests are refused before anything is recorded or charged."""

import io

import pytest
from django.core.files.base import ContentFile
from django_tasks_db.models import DBTaskResult
from PIL import Image as PILImage

from credits.actions import get_balance, ledger_is_consistent, spend
from credits.models import CreditEntry
from generation import versions
from generation.catalogue import MAX_VERSION_PIXELS, OPERATIONS
from generation.models import Generation, Image
from generation.version_tasks import run_version
from jobs.reaper import task_abandoned
from likeness import faces
from likeness.errors import Conflict, InsufficientCredits, InvalidInput, NotFound, ProviderError
from providers import registry
from providers.demo.images import DemoProvider
from tests import faces_data
from tests.factories import make_image, make_personal_model


@pytest.fixture
def demo(settings):
    settings.GENERATION_PROVIDERS = ["demo"]
    settings.GENERATION_ROUTES = {}
    settings.GENERATION_PROVIDER_ATTEMPTS = 1


@pytest.fixture
def original(rich_alice):
    return make_image(rich_alice)  # 64 × 48 PNG


def pixels(image: Image) -> tuple[int, int]:
    with image.file.open("rb") as handle, PILImage.open(io.BytesIO(handle.read())) as picture:
        return picture.size


def assert_refunded_once(generation, original, balance_before):
    """Failed, nothing charged in the end: one refund row, no version of the original."""
    assert generation.status == Generation.Status.FAILED and generation.credits_charged == 0
    refunds = CreditEntry.objects.filter(reference__startswith=f"gen:{generation.id}:refund:")
    assert refunds.count() == 1
    assert get_balance(original.user) == balance_before
    assert not original.versions.exists()
    assert ledger_is_consistent(original.user)


def nothing_recorded(user, balance):
    assert get_balance(user) == balance
    assert not Generation.objects.exclude(operation="").exists()
    assert not DBTaskResult.objects.filter(task_path__endswith="run_version").exists()


@pytest.mark.parametrize(("scale", "operation"), [(2, "upscale_2x"), (4, "upscale_4x")])
def test_an_upscale_is_a_larger_version_linked_to_its_original(demo, original, run_jobs, scale,
                                                               operation):
    before = get_balance(original.user)
    generation = versions.upscale(original.user, original.pk, scale)
    price = OPERATIONS[operation].credits
    assert generation.credits_reserved == price
    assert get_balance(original.user) == before - price
    run_jobs()
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    (version,) = generation.images.all()
    assert version.original == original and version.operation == operation
    assert (version.width, version.height) == (64 * scale, 48 * scale) == pixels(version)
    assert version.metadata["original_id"] == str(original.pk)
    assert version.metadata["credits"] == price
    assert list(original.versions.all()) == [version]
    assert get_balance(original.user) == before - price
    assert ledger_is_consistent(original.user)


def test_a_face_restore_keeps_the_size(demo, original, run_jobs):
    before = get_balance(original.user)
    generation = versions.restore_face(original.user, original.pk)
    run_jobs()
    (version,) = Generation.objects.get(pk=generation.pk).images.all()
    assert version.operation == "face_restore" and version.original == original
    assert pixels(version) == (64, 48)
    assert get_balance(original.user) == before - OPERATIONS["face_restore"].credits
    root, family = versions.family(version)
    assert root == original and family == [version]


def test_bad_requests_charge_nothing(demo, original, bob):
    user, before = original.user, get_balance(original.user)
    with pytest.raises(InvalidInput) as refused:
        versions.upscale(user, original.pk, 3)
    assert refused.value.details["field"] == "scale"
    with pytest.raises(NotFound):
        versions.upscale(bob, original.pk, 2)  # another account's image: 404
    with pytest.raises(NotFound):
        versions.restore_face(user, "not-an-id")
    nothing_recorded(user, before)


def test_a_4x_of_a_large_image_is_refused(demo, original):
    original.width = original.height = 2048  # 4× would be 8192 × 8192
    original.save()
    before = get_balance(original.user)
    assert 8192 * 8192 > MAX_VERSION_PIXELS
    with pytest.raises(InvalidInput, match="8192 × 8192"):
        versions.upscale(original.user, original.pk, 4)
    versions.upscale(original.user, original.pk, 2)  # 4096 × 4096 still fits
    assert get_balance(original.user) == before - OPERATIONS["upscale_2x"].credits


def test_not_enough_credits(demo, alice):
    image = make_image(alice)
    spend(alice, get_balance(alice) - 1, reason="test", reference="test:drain")
    with pytest.raises(InsufficientCredits):
        versions.upscale(alice, image.pk, 4)  # 2 credits
    assert get_balance(alice) == 1
    assert not Generation.objects.exclude(operation="").exists()


def test_the_same_version_twice_at_once_is_a_conflict(demo, original):
    versions.upscale(original.user, original.pk, 2)
    with pytest.raises(Conflict):
        versions.upscale(original.user, original.pk, 2)
    versions.upscale(original.user, original.pk, 4)  # another operation is fine


@pytest.fixture
def failing(settings, monkeypatch):
    class Failing(DemoProvider):
        name = "failing"

        def enhance(self, request):
            raise ProviderError("the upscaler refused it", transient=False, code="invalid_request")

    monkeypatch.setitem(registry.IMAGE_PROVIDERS, "failing", Failing)
    settings.GENERATION_PROVIDERS = ["failing"]
    settings.GENERATION_PROVIDER_ATTEMPTS = 1


def test_a_failed_version_is_refunded_exactly_once(failing, original, run_jobs):
    before = get_balance(original.user)
    generation = versions.upscale(original.user, original.pk, 2)
    run_jobs()
    run_version.call(str(generation.id))  # a rerun of the finished job changes nothing
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert generation.failures[0]["code"] == "invalid_request"
    assert_refunded_once(generation, original, before)


def test_a_restored_face_is_scored_like_any_image_of_the_model(demo, rich_alice, run_jobs):
    """The restored version of a personal model's image gets its own likeness score against
    the model's reference faces (here: the astronaut's own face, so it scores high)."""
    photo = faces_data.astronaut()  # 512 × 512, one face
    (_box, embedding), *_ = faces.faces(photo)
    model = make_personal_model(rich_alice, demo=True)
    model.face_references = [[float(x) for x in embedding]]
    model.save(update_fields=["face_references"])
    original = make_image(rich_alice)
    out = io.BytesIO()
    photo.save(out, format="PNG")
    original.file.save(f"face-{original.pk}.png", ContentFile(out.getvalue()), save=False)
    original.width, original.height, original.personal_model = 512, 512, model
    original.likeness = 97
    original.save()
    generation = versions.restore_face(rich_alice, original.pk)
    run_jobs()
    (version,) = Generation.objects.get(pk=generation.pk).images.all()
    assert version.personal_model == model
    assert version.likeness is not None and version.likeness >= 80
    assert version.face_count == 1
    assert version.metadata["likeness"] == version.likeness


def test_a_version_whose_job_the_reaper_gave_up_is_refunded(demo, original):
    """Workers died under the job too often: the reaper's signal finishes it, refunded."""
    before = get_balance(original.user)
    generation = versions.upscale(original.user, original.pk, 2)
    task_abandoned.send(sender=None, task_path=run_version.module_path,
                        args=[str(generation.id)], kwargs={})
    generation.refresh_from_db()
    assert generation.failures[0]["code"] == "worker_lost"
    assert_refunded_once(generation, original, before)
