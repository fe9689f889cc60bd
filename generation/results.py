"""What becomes of each image slot of a generation: stored (its row, once), failed (refunded,
once), and the generation's end, which sends `generation_finished` on commit.

Every statement here is on the path of an image's appearance, so each write is one statement
where it can be: the claim marks the missing slots in the same UPDATE that starts the run, and
the last image of a run is stored and its generation finished in one transaction
(store_and_finish). tests/generation/test_queries.py pins the count."""

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from credits import actions as credits
from generation.images import build_image
from generation.models import Generation, Image
from generation.signals import generation_finished
from providers.interfaces import ProviderImage


def _images_made():
    """The number of the generation's stored images, as a column of its own row's query."""
    return Coalesce(Subquery(Image.objects.filter(generation=OuterRef("pk")).order_by()
                             .values("generation").annotate(n=Count("pk")).values("n")), 0)


def _locked(generation_id, *related: str):
    """The generation under its row lock, with its user and `images_made`: one statement
    (unordered: there is one row, and ordering it costs more to compile than to run)."""
    return (Generation.objects.select_for_update(of=("self",))
            .select_related("user", *related).annotate(images_made=_images_made())
            .filter(pk=generation_id).order_by())


def claim(generation_id: str, *related: str, mark_missing: bool = False) -> Generation | None:
    """A job's start: the generation locked, counted as one more attempt and running; None
    when it is gone or already finished (a rerun does nothing). With `mark_missing`, the slots
    still to make are marked "generating" in the same UPDATE and listed in
    `generation.missing`."""
    with transaction.atomic():
        generation = next(iter(_locked(generation_id, "personal_model", *related)[:1]), None)
        if generation is None or generation.is_finished:
            return None
        generation.status = Generation.Status.RUNNING
        generation.attempts += 1
        generation.started_at = generation.started_at or timezone.now()
        fields = ["status", "attempts", "started_at"]
        if mark_missing:
            generation.missing = missing_slots(generation)
            states = generation.slot_states
            for index in generation.missing:
                states[index] = "generating"
            generation.slots = states
            fields.append("slots")
        generation.save(update_fields=fields)
    return generation


def missing_slots(generation: Generation) -> list[int]:
    """The slots with neither an image nor a failure (the images are asked for only when the
    row says some exist)."""
    made = getattr(generation, "images_made", None)
    done = set(generation.images.values_list("index", flat=True)) if made != 0 else set()
    failed = {f["index"] for f in generation.failures}
    return [i for i in range(generation.num_images) if i not in done and i not in failed]


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


def _discard_files(image: Image) -> None:
    default_storage.delete(image.file.name)
    default_storage.delete(image.thumbnail.name)


def save_image(generation: Generation, image: Image) -> Image:
    """Insert the row (and mark its slot done) in one transaction; a twin run that stored the
    slot first wins and our files are removed."""
    try:
        with transaction.atomic():
            image.save()
            set_slot(generation, image.index, "done")
    except IntegrityError:
        _discard_files(image)
        return Image.objects.get(generation=generation, index=image.index)
    return image


def store_and_finish(generation: Generation, image: Image) -> bool:
    """The run's last image: its row inserted, its slot marked done and the generation
    finished, in one transaction of three statements (save_image then finish take five).
    False when a twin run stored the slot first: our files are removed and the caller
    finishes as usual."""
    try:
        with transaction.atomic():
            gen = _locked(generation.pk).get()
            image.save()
            states = gen.slot_states
            states[image.index] = "done"
            gen.slots = states
            if gen.is_finished:  # a twin run finished it meanwhile
                gen.save(update_fields=["slots"])
            else:
                _close(gen, gen.images_made + 1, "slots")
    except IntegrityError:
        _discard_files(image)
        return False
    generation.slots, generation.status = gen.slots, gen.status
    return True


def store_image(generation: Generation, index: int, result: ProviderImage, provider) -> Image:
    return save_image(generation, build_image(generation, index, result, provider))


def set_slot(generation: Generation, index: int, state: str, **fields):
    """One slot's live state (and any other `fields` of the generation), in one UPDATE."""
    states = generation.slot_states
    if states[index] == state and not fields:
        return
    states[index] = state
    generation.slots = states
    for name, value in fields.items():
        setattr(generation, name, value)
    Generation.objects.filter(pk=generation.pk).update(slots=states, **fields)


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


def _close(gen: Generation, made: int, *fields: str) -> None:
    """The locked generation's final state from the images it has, saved with `fields`;
    `generation_finished` is sent on commit."""
    if made == gen.num_images:
        gen.status = Generation.Status.SUCCEEDED
    elif made:
        gen.status = Generation.Status.PARTIAL
    else:
        gen.status = Generation.Status.FAILED
    if gen.failures and not gen.error:
        gen.error = gen.failures[0]["message"]
    gen.finished_at = timezone.now()
    gen.save(update_fields=["status", "error", "finished_at", *fields])
    transaction.on_commit(lambda: generation_finished.send(sender=Generation, generation=gen))


def finish(generation: Generation):
    with transaction.atomic():
        gen = _locked(generation.pk).get()
        if not gen.is_finished:
            _close(gen, gen.images_made)
        return gen


def fail_remaining(generation: Generation, code: str, message: str):
    done = set(generation.images.values_list("index", flat=True))
    for index in range(generation.num_images):
        if index not in done:
            generation = fail_image(generation, index, code, message)
    return finish(generation)
