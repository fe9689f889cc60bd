"""What becomes of each image slot of a generation: stored (its row, once), failed (refunded,
once), and the generation's end, which sends `generation_finished` on commit."""

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from credits import actions as credits
from generation.images import build_image
from generation.models import Generation, Image
from generation.signals import generation_finished
from providers.interfaces import ProviderImage


def claim(generation_id: str, *related: str) -> Generation | None:
    """A job's start: the generation locked, counted as one more attempt and running; None
    when it is gone or already finished (a rerun does nothing)."""
    with transaction.atomic():
        generation = (Generation.objects.select_for_update(of=("self",))
                      .select_related("user", "personal_model", *related)
                      .filter(pk=generation_id).first())
        if generation is None or generation.is_finished:
            return None
        generation.status = Generation.Status.RUNNING
        generation.attempts += 1
        generation.started_at = generation.started_at or timezone.now()
        generation.save(update_fields=["status", "attempts", "started_at"])
    return generation


def providers_or_fail(generation: Generation, find, no_provider: str) -> list | None:
    """`find()`'s providers for the job; None after failing (and refunding) the generation
    when there are none, or when the deployment names a provider that does not exist."""
    try:
        providers = find()
    except LookupError as exc:  # a misconfigured deployment: fail and refund, never hang
        fail_remaining(generation, "provider_unavailable", str(exc))
        return None
    if not providers:
        fail_remaining(generation, "no_provider", no_provider)
        return None
    return providers


def save_image(generation: Generation, image: Image) -> Image:
    """Insert the row (and mark its slot done) in one transaction; a twin run that stored the
    slot first wins and our files are removed."""
    try:
        with transaction.atomic():
            image.save()
            set_slot(generation, image.index, "done")
    except IntegrityError:
        default_storage.delete(image.file.name)
        default_storage.delete(image.thumbnail.name)
        return Image.objects.get(generation=generation, index=image.index)
    return image


def store_image(generation: Generation, index: int, result: ProviderImage, provider) -> Image:
    return save_image(generation, build_image(generation, index, result, provider))


def set_slot(generation: Generation, index: int, state: str):
    states = generation.slot_states
    if states[index] == state:
        return
    states[index] = state
    generation.slots = states
    Generation.objects.filter(pk=generation.pk).update(slots=states)


def fail_image(generation: Generation, index: int, code: str, message: str):
    """Record that one image could not be made and give its credits back (once)."""
    with transaction.atomic():
        gen = Generation.objects.select_for_update().get(pk=generation.pk)
        if any(f["index"] == index for f in gen.failures) or gen.images.filter(
                index=index).exists():
            return gen  # already refunded, or a twin run stored it after all
        credits.refund(gen.user, gen.credits_per_image,
                       reason="Refund: an image could not be generated",
                       reference=f"gen:{gen.id}:refund:{index}")
        gen.failures = [*gen.failures, {"index": index, "code": code, "message": message}]
        gen.credits_refunded += gen.credits_per_image
        states = gen.slot_states
        states[index] = "failed"
        gen.slots = states
        gen.save(update_fields=["failures", "credits_refunded", "slots"])
        return gen


def finish(generation: Generation):
    with transaction.atomic():
        gen = Generation.objects.select_for_update().get(pk=generation.pk)
        if gen.is_finished:
            return gen
        made = gen.images.count()
        if made == gen.num_images:
            gen.status = Generation.Status.SUCCEEDED
        elif made:
            gen.status = Generation.Status.PARTIAL
        else:
            gen.status = Generation.Status.FAILED
        if gen.failures and not gen.error:
            gen.error = gen.failures[0]["message"]
        gen.finished_at = timezone.now()
        gen.save(update_fields=["status", "error", "finished_at"])
        transaction.on_commit(lambda: generation_finished.send(sender=Generation,
                                                               generation=gen))
        return gen


def fail_remaining(generation: Generation, code: str, message: str):
    done = set(generation.images.values_list("index", flat=True))
    for index in range(generation.num_images):
        if index not in done:
            generation = fail_image(generation, index, code, message)
    return finish(generation)
