"""The generation job, run in-process by the database worker: images are stored through the
storage API, failures are refunded per image, transient errors are retried with backoff."""

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from PIL import Image as PILImage

from credits.actions import get_balance, ledger_is_consistent
from credits.models import CreditEntry
from generation import provenance
from generation.actions import create_generation
from generation.catalogue import BASE_MODELS
from generation.images import THUMBNAIL_SIZE
from generation.models import Generation, Image
from generation.results import store_image
from generation.tasks import run_generation
from jobs.queue import enqueue
from likeness.errors import ProviderError
from providers import registry
from providers.demo.images import DEMO_LABEL, DemoProvider, encode_png, render
from providers.interfaces import ImageRequest as GenerationRequest


@pytest.fixture
def use_provider(settings, monkeypatch):
    """Make a scripted provider the configured one. `decide(request, call_number)` returns an
    exception to raise for that call, or None to answer like the demo provider."""

    def use(name, decide):
        class Scripted(DemoProvider):
            calls: list[int] = []

            def generate(self, request):
                type(self).calls.append(request.seed)
                error = decide(request, len(type(self).calls))
                if error is not None:
                    raise error
                return super().generate(request)

        Scripted.name = name
        Scripted.calls = []
        monkeypatch.setitem(registry.IMAGE_PROVIDERS, name, Scripted)
        settings.GENERATION_PROVIDERS = [name]
        # One try per provider call and one slot at a time: these tests are about the job's
        # own retries (tests/generation/test_routing.py covers in-call retries and failover).
        settings.GENERATION_PROVIDER_ATTEMPTS = 1
        settings.GENERATION_CONCURRENCY = 1
        return Scripted

    return use


def transient(message="503 Service Unavailable", retry_after=None):
    return ProviderError(message, transient=True, retry_after=retry_after, code="unavailable")


def snapshot(generation):
    generation.refresh_from_db()
    folder = f"images/{generation.user.public_id}/{generation.id}"
    return {
        "status": generation.status,
        "attempts": generation.attempts,
        "finished_at": generation.finished_at,
        "refunded": generation.credits_refunded,
        "images": sorted(str(pk) for pk in generation.images.values_list("pk", flat=True)),
        "ledger": sorted(str(pk) for pk in CreditEntry.objects.values_list("pk", flat=True)),
        "balance": get_balance(generation.user),
        "files": sorted(default_storage.listdir(folder)[1])
        if default_storage.exists(folder) else [],
    }


def refund_rows(generation):
    return CreditEntry.objects.filter(reference__startswith=f"gen:{generation.id}:refund:")


def test_success_stores_original_and_thumbnail_with_metadata(alice, run_jobs):
    generation = create_generation(alice, prompt="a lighthouse at dusk", num_images=2,
                                   aspect_ratio="16:9", seed=4242)
    assert generation.status == Generation.Status.QUEUED
    assert get_balance(alice) == 3  # reserved when created

    run_jobs()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.provider == "demo"
    assert generation.attempts == 1
    assert generation.started_at <= generation.finished_at
    assert (generation.credits_reserved, generation.credits_refunded) == (2, 0)
    assert generation.credits_charged == 2
    assert get_balance(alice) == 3
    assert ledger_is_consistent(alice)
    assert not refund_rows(generation).exists()
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL

    images = list(generation.images.order_by("index"))
    assert [image.index for image in images] == [0, 1]
    for image in images:
        seed = 4242 + image.index
        assert (image.width, image.height) == (1344, 768)
        assert (image.seed, image.provider, image.is_demo) == (seed, "demo", True)
        assert image.user == alice
        assert image.content_type == "image/png"
        assert image.file.name.startswith(f"images/{alice.public_id}/{generation.id}/")
        assert image.metadata["provider"] == "demo"
        assert image.metadata["seed"] == seed
        assert image.metadata["label"] == DEMO_LABEL
        assert image.metadata["prompt"] == "a lighthouse at dusk"

        with default_storage.open(image.file.name) as handle:
            original = handle.read()
        # The stored original is exactly what the provider made for this seed, with the
        # provenance metadata inserted (generation.provenance) and nothing re-encoded.
        made = encode_png(render("a lighthouse at dusk", seed, 1344, 768),
                          "a lighthouse at dusk", seed)
        assert original == provenance.stamp(made, system=BASE_MODELS[generation.base_model].name)
        assert provenance.DIGITAL_SOURCE_TYPE in provenance.read_xmp(original)
        with PILImage.open(io.BytesIO(original)) as picture:
            assert (picture.format, picture.size) == ("PNG", (1344, 768))

        assert image.thumbnail.name.endswith(".webp")
        with default_storage.open(image.thumbnail.name) as handle, PILImage.open(handle) as thumb:
            assert thumb.format == "WEBP"
            assert max(thumb.size) == THUMBNAIL_SIZE
            assert thumb.size == (THUMBNAIL_SIZE, round(THUMBNAIL_SIZE * 768 / 1344))


def test_demo_fail_prompt_fails_and_refunds_every_image(alice, run_jobs):
    generation = create_generation(alice, prompt="[fail] a cat", num_images=3)
    assert get_balance(alice) == 2

    run_jobs()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert generation.credits_refunded == generation.credits_reserved == 3
    assert generation.credits_charged == 0
    assert generation.error == "The demo provider was asked to fail."
    assert sorted((f["index"], f["code"]) for f in generation.failures) == [
        (0, "demo_failure"), (1, "demo_failure"), (2, "demo_failure")]
    assert not generation.images.exists()
    assert sorted((e.reference, e.kind, e.delta) for e in refund_rows(generation)) == [
        (f"gen:{generation.id}:refund:{i}", "refund", 1) for i in range(3)]
    assert get_balance(alice) == 5
    assert ledger_is_consistent(alice)


@pytest.mark.parametrize("prompt", ["a quiet harbour", "[fail] a quiet harbour"])
def test_running_the_job_again_for_a_finished_generation_changes_nothing(alice, run_jobs,
                                                                        prompt):
    generation = create_generation(alice, prompt=prompt, num_images=2)
    run_jobs()
    before = snapshot(generation)
    assert before["status"] in Generation.FINAL

    enqueue(run_generation, str(generation.id))
    run_jobs()
    run_generation.call(str(generation.id))

    assert snapshot(generation) == before
    assert ledger_is_consistent(alice)


def test_a_rerun_after_a_lost_worker_makes_only_the_missing_images(alice, run_jobs,
                                                                   use_provider):
    provider = use_provider("counting", lambda request, n: None)
    generation = create_generation(alice, prompt="two owls", num_images=3, seed=77)
    # A worker stored image 0 and died before the rest: state lives in rows.
    demo = DemoProvider()
    request = GenerationRequest(prompt="two owls", width=generation.width,
                                height=generation.height, seed=77, base_model="flux-schnell")
    first = store_image(generation, 0, demo.generate(request)[0], demo)

    run_jobs()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    assert provider.calls == [78, 79]
    assert generation.images.count() == 3
    assert generation.images.get(index=0).pk == first.pk
    assert generation.credits_charged == 3
    assert ledger_is_consistent(alice)


def test_a_transient_error_is_retried_later_and_then_succeeds(alice, run_jobs, settings,
                                                              use_provider):
    settings.JOB_RETRY_BASE_SECONDS = 30
    provider = use_provider("flaky", lambda request, n: transient() if n == 1 else None)
    generation = create_generation(alice, prompt="a fox in snow", num_images=2)
    first_task = DBTaskResult.objects.get()

    started = timezone.now()
    run_jobs()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING
    assert generation.attempts == 1
    # The second image did not wait for the first: it is stored, the first is retried later.
    assert list(generation.images.values_list("index", flat=True)) == [1]
    assert generation.slot_states == ["queued", "done"]
    assert get_balance(alice) == 3  # still reserved, nothing refunded
    retry = DBTaskResult.objects.exclude(pk=first_task.pk).get()
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs["args"] == [str(generation.id)]
    assert retry.task_path == run_generation.module_path
    # Backoff of 30 s with +-20 % jitter.
    assert started + timedelta(seconds=23) <= retry.run_after
    assert retry.run_after <= timezone.now() + timedelta(seconds=37)

    run_jobs()  # not due yet: nothing happens
    assert provider.calls == [generation.seed, generation.seed + 1]
    assert DBTaskResult.objects.get(pk=retry.pk).status == TaskResultStatus.READY

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())  # time passes
    run_jobs()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.attempts == 2
    assert generation.images.count() == 2
    assert generation.credits_charged == 2
    assert get_balance(alice) == 3
    assert not refund_rows(generation).exists()
    assert ledger_is_consistent(alice)


def test_a_providers_retry_after_is_honoured(alice, run_jobs, settings, use_provider):
    settings.JOB_RETRY_BASE_SECONDS = 1
    use_provider("ratelimited", lambda request, n: transient("429", retry_after=600))
    generation = create_generation(alice, prompt="rate limited", num_images=1)
    first_task = DBTaskResult.objects.get()
    started = timezone.now()

    run_jobs()

    retry = DBTaskResult.objects.exclude(pk=first_task.pk).get()
    assert retry.run_after >= started + timedelta(seconds=600)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING


def test_after_max_attempts_of_transient_errors_the_images_are_refunded(alice, run_jobs,
                                                                        settings, use_provider):
    settings.JOB_MAX_ATTEMPTS = 3
    provider = use_provider("down", lambda request, n: transient())
    generation = create_generation(alice, prompt="never works", num_images=2)

    run_jobs()  # backoff is 0 in tests, so every retry is due at once

    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert generation.attempts == 3
    tasks = DBTaskResult.objects.all()
    assert tasks.count() == 3
    assert {t.status for t in tasks} == {TaskResultStatus.SUCCESSFUL}
    # Every attempt tries each missing image once; the last gives up on each image.
    assert len(provider.calls) == 3 * 2
    assert generation.credits_refunded == 2
    assert [f["code"] for f in generation.failures] == ["unavailable", "unavailable"]
    assert refund_rows(generation).count() == 2
    assert get_balance(alice) == 5
    assert ledger_is_consistent(alice)


def test_a_permanent_error_is_not_retried(alice, run_jobs, use_provider):
    refused = ProviderError("The prompt was refused.", transient=False, code="content_refused")
    provider = use_provider("strict", lambda request, n: refused)
    generation = create_generation(alice, prompt="something refused", num_images=2)

    run_jobs()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert generation.attempts == 1
    assert DBTaskResult.objects.count() == 1
    assert len(provider.calls) == 2
    assert generation.error == "The prompt was refused."
    assert generation.credits_refunded == 2
    assert get_balance(alice) == 5
    assert ledger_is_consistent(alice)


def test_a_provider_that_fails_some_images_gives_a_partial_result_and_exact_charge(
        alice, run_jobs, use_provider):
    def decide(request, n):
        if request.seed == 1001:
            return ProviderError("Refused", transient=False, code="content_refused")
        return None

    use_provider("picky", decide)
    generation = create_generation(alice, prompt="two portraits", num_images=2,
                                   base_model="flux-dev", seed=1000)
    assert generation.credits_reserved == 4
    assert get_balance(alice) == 1

    run_jobs()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.PARTIAL
    assert list(generation.images.values_list("index", flat=True)) == [0]
    assert generation.credits_refunded == 2
    assert generation.credits_charged == 2
    assert [(e.reference, e.delta) for e in refund_rows(generation)] == [
        (f"gen:{generation.id}:refund:1", 2)]
    assert [f["index"] for f in generation.failures] == [1]
    assert get_balance(alice) == 3
    assert ledger_is_consistent(alice)


def test_an_unexpected_crash_is_retried_a_bounded_number_of_times(alice, run_jobs, settings,
                                                                  use_provider):
    settings.JOB_MAX_ATTEMPTS = 2
    use_provider("buggy", lambda request, n: RuntimeError("unclassified failure"))
    generation = create_generation(alice, prompt="crashes", num_images=2)

    run_jobs()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert generation.attempts == 2
    assert {f["code"] for f in generation.failures} == {"internal_error"}
    assert generation.credits_refunded == 2
    assert get_balance(alice) == 5
    assert ledger_is_consistent(alice)


def test_images_are_stored_once_per_slot(alice, run_jobs):
    generation = create_generation(alice, prompt="twins", num_images=1, seed=5)
    demo = DemoProvider()
    request = GenerationRequest(prompt="twins", width=generation.width,
                                height=generation.height, seed=5, base_model="flux-schnell")
    result = demo.generate(request)[0]
    first = store_image(generation, 0, result, demo)
    second = store_image(generation, 0, result, demo)  # a twin run stores the same slot

    assert second.pk == first.pk
    assert Image.objects.filter(generation=generation).count() == 1
    # The twin's files were removed; only the kept image's files remain.
    folder = f"images/{alice.public_id}/{generation.id}"
    assert sorted(default_storage.listdir(folder)[1]) == sorted(
        [first.file.name.rsplit("/", 1)[1], first.thumbnail.name.rsplit("/", 1)[1]])
