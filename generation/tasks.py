"""The generation job. Small and idempotent: it can be run again at any point (a retry, or a
worker that died) and finishes the images that are missing without charging twice.

The image slots of one generation are made concurrently: a small thread pool calls the
providers (through providers.routing: retries, backoff, failover), downloads each result at
once and makes its thumbnail, while this task's own thread writes every row, so an image
appears on the page the moment it is stored. Only this thread touches the database (the pool
threads share nothing with the caller's transaction)."""

import io
import logging
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task
from PIL import Image as PILImage

from credits import actions as credits
from generation.models import Generation, Image
from jobs.queue import retry_later, task_abandoned
from providers import routing
from providers.base import ProviderError, ProviderImage
from providers.imaging import ImageRequest

logger = logging.getLogger(__name__)
THUMBNAIL_SIZE = 512
# WebP method 2 encodes a 512 px thumbnail about 3x faster than method 4 (~6 ms against ~17 ms)
# for files about 6 % larger: the thumbnail is on the path of every image.
WEBP_QUALITY, WEBP_METHOD = 82, 2
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
PILLOW_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

# What the customer reads for the errors they cannot act on from the provider's wording.
MESSAGES = {
    "content_flagged": "The provider's safety checker flagged this image, so it is not shown.",
    "provider_auth": "The image service is misconfigured (a provider refused our key); "
                     "the operator has been told.",
    "no_provider": "No configured image provider offers this model right now.",
    "personal_model_deleted": "The personal model was deleted before the image was made.",
}


class BadImage(ProviderError):
    def __init__(self, message):
        super().__init__(message, transient=True, code="malformed_image")


def make_thumbnail(data: bytes) -> bytes:
    return inspect_image(data)[3]


def inspect_image(data: bytes) -> tuple[int, int, str, bytes]:
    """Decode once: (width, height, content type, WebP thumbnail). JPEGs are decoded at a
    reduced scale (draft), which is most of the speed."""
    try:
        with PILImage.open(io.BytesIO(data)) as picture:
            width, height = picture.size
            content_type = PILLOW_TYPES.get(picture.format or "", "")
            if not content_type:
                raise BadImage(f"The provider sent a {picture.format} file, not an image we keep.")
            picture.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            thumb = picture.convert("RGB")
    except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
        raise BadImage(f"The provider sent an unreadable image: {exc}")
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return width, height, content_type, out.getvalue()


def build_image(generation: Generation, index: int, result: ProviderImage, provider,
                extra: dict | None = None) -> Image:
    """The Image with its files written, not yet saved (no database access: pool threads call
    this; `generation.user` must be loaded)."""
    width, height, content_type, thumbnail = inspect_image(result.data)
    meta = {k: v for k, v in result.metadata.items() if k != "blocked"}
    image = Image(
        user=generation.user, generation=generation, index=index, content_type=content_type,
        width=width, height=height, prompt=generation.prompt, base_model=generation.base_model,
        aspect_ratio=generation.aspect_ratio, seed=result.seed, provider=provider.name,
        is_demo=provider.is_demo, personal_model_id=generation.personal_model_id,
        metadata={
            "prompt": generation.prompt,
            "prompt_sent": generation.prompt_for_provider,
            "negative_prompt": generation.negative_prompt,
            "base_model": generation.base_model,
            "style": generation.style,
            "provider": provider.name,
            "seed": result.seed,
            "width": width,
            "height": height,
            "aspect_ratio": generation.aspect_ratio,
            "steps": generation.steps,
            "guidance": generation.guidance,
            "credits": generation.credits_per_image,
            **meta,
            **(extra or {}),
        },
    )
    extension = EXTENSIONS[content_type]
    image.file.save(f"{index}-{image.id}.{extension}", ContentFile(result.data), save=False)
    image.thumbnail.save(f"{index}-{image.id}-thumb.webp", ContentFile(thumbnail), save=False)
    return image


def save_image(generation: Generation, image: Image) -> Image:
    """Insert the row (and mark its slot done) in one transaction; a twin run that stored the
    slot first wins and our files are removed."""
    try:
        with transaction.atomic():
            image.save()
            _set_slot(generation, image.index, "done")
    except IntegrityError:
        default_storage.delete(image.file.name)
        default_storage.delete(image.thumbnail.name)
        return Image.objects.get(generation=generation, index=image.index)
    return image


def store_image(generation: Generation, index: int, result: ProviderImage, provider) -> Image:
    return save_image(generation, build_image(generation, index, result, provider))


def _set_slot(generation: Generation, index: int, state: str):
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
        from api.callbacks import schedule

        schedule(gen.user, "generation", gen.id, gen.callback_url)
        return gen


def fail_remaining(generation: Generation, code: str, message: str):
    done = set(generation.images.values_list("index", flat=True))
    for index in range(generation.num_images):
        if index not in done:
            generation = fail_image(generation, index, code, message)
    return finish(generation)


@task()
def run_generation(generation_id: str):
    with transaction.atomic():
        generation = (Generation.objects.select_for_update(of=("self",))
                      .select_related("user", "personal_model").filter(pk=generation_id).first())
        if generation is None or generation.is_finished:
            return
        generation.status = Generation.Status.RUNNING
        generation.attempts += 1
        generation.started_at = generation.started_at or timezone.now()
        generation.save(update_fields=["status", "attempts", "started_at"])

    if generation.lora_scale is not None and generation.personal_model is None:
        fail_remaining(generation, "personal_model_deleted", MESSAGES["personal_model_deleted"])
        return
    try:
        request = base_request(generation)
        providers = routing.providers_for(request)
    except LookupError as exc:  # a misconfigured deployment: fail and refund, never hang
        fail_remaining(generation, "provider_unavailable", str(exc))
        return
    if not providers:
        fail_remaining(generation, "no_provider", MESSAGES["no_provider"])
        return

    try:
        _make_missing_images(generation, request, providers)
    except Exception as exc:  # a bug or an outage we did not classify: bounded retries
        logger.exception("generation %s crashed", generation.id)
        if generation.attempts < settings.JOB_MAX_ATTEMPTS:
            retry_later(run_generation, str(generation.id), attempt=generation.attempts)
        else:
            fail_remaining(generation, "internal_error", f"Generation failed: {exc}")


def base_request(generation: Generation) -> ImageRequest:
    from generation.actions import lora_for

    return ImageRequest(
        prompt=generation.prompt_for_provider, width=generation.width,
        height=generation.height, seed=generation.seed, base_model=generation.base_model,
        num_images=1, steps=generation.steps, guidance=generation.guidance,
        negative_prompt=generation.negative_prompt, aspect_ratio=generation.aspect_ratio,
        lora=lora_for(generation))


def _make_slot(generation, request, providers, index, events):
    """In a pool thread: provider call (with retries and failover), download, thumbnail and
    files. Reports to the task's thread through `events`; never touches the database."""
    started, cpu = time.monotonic(), time.thread_time()
    try:
        slot_request = replace(request, seed=generation.seed + index, num_images=1)
        result = routing.generate(slot_request, providers)
        (made,) = result.images
        if made.metadata.get("blocked"):
            events.put(("blocked", index, result))
            return
        events.put(("saving", index, result))
        extra = {
            "provider_ms": round(result.seconds * 1000, 1),
            "lora": request.lora.describe() if request.lora else None,
            "retries": result.tries,
        }
        prepared = time.monotonic()
        image = build_image(generation, index, made, result.provider, extra)
        image.metadata["prepare_ms"] = round((time.monotonic() - prepared) * 1000, 1)
        # CPU time of this thread for the image (SDK, download, decode, thumbnail, files):
        # what our code costs, whatever else the machine is doing.
        image.metadata["cpu_ms"] = round((time.thread_time() - cpu) * 1000, 1)
        image.metadata["slot_started"] = started
        events.put(("ready", index, image))
    except ProviderError as exc:
        events.put(("error", index, exc))
    except Exception as exc:  # noqa: BLE001 - reported to the task's thread, which decides
        logger.exception("generation %s image %d crashed", generation.id, index)
        events.put(("crash", index, exc))


def _make_missing_images(generation: Generation, request: ImageRequest, providers):
    done = set(generation.images.values_list("index", flat=True))
    failed = {f["index"] for f in generation.failures}
    missing = [i for i in range(generation.num_images) if i not in done and i not in failed]
    states = generation.slot_states
    for index in missing:
        states[index] = "generating"
    generation.slots = states
    Generation.objects.filter(pk=generation.pk).update(slots=states)

    events: queue.Queue = queue.Queue()
    retry: list[ProviderError] = []
    pending = set(missing)
    workers = max(1, min(len(missing), settings.GENERATION_CONCURRENCY))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gen") as pool:
        for index in missing:
            pool.submit(_make_slot, generation, request, providers, index, events)
        while pending:
            kind, index, payload = events.get()
            if kind == "saving":
                _set_slot(generation, index, "saving")
                if generation.provider != payload.provider.name:
                    generation.provider = payload.provider.name
                    Generation.objects.filter(pk=generation.pk).update(
                        provider=generation.provider)
                continue
            pending.discard(index)
            if kind == "ready":
                started = payload.metadata.pop("slot_started")
                payload.metadata["slot_ms"] = round((time.monotonic() - started) * 1000, 1)
                save_image(generation, payload)
            elif kind == "blocked":
                generation = _refuse(generation, index, "content_flagged",
                                     MESSAGES["content_flagged"])
            elif kind == "error" and payload.transient:
                logger.warning("generation %s image %d: %s", generation.id, index, payload)
                retry.append(payload)
                _set_slot(generation, index, "queued")
            elif kind == "error":
                generation = _refuse(generation, index, payload.code,
                                     MESSAGES.get(payload.code) or str(payload))
            else:  # crash
                retry.append(ProviderError(f"Generation failed: {payload}", transient=True,
                                           code="internal_error"))
                _set_slot(generation, index, "queued")

    if retry:
        if generation.attempts < settings.JOB_MAX_ATTEMPTS:
            delays = [e.retry_after for e in retry if e.retry_after]
            retry_later(run_generation, str(generation.id), attempt=generation.attempts,
                        retry_after=max(delays) if delays else None)
            return
        last = retry[-1]
        generation = fail_remaining(
            generation, last.code,
            f"The image providers did not deliver after {generation.attempts} attempts "
            f"({last}).")
        return
    finish(generation)


def _refuse(generation, index, code, message):
    gen = fail_image(generation, index, code, message)
    generation.failures, generation.slots = gen.failures, gen.slots
    return generation


@receiver(task_abandoned)
def abandon_generation(sender, task_path, args, kwargs, **extra):
    """The job died with its workers too often: finish it and refund what is missing."""
    if task_path != f"{run_generation.module_path}" or not args:
        return
    generation = Generation.objects.filter(pk=args[0]).first()
    if generation and not generation.is_finished:
        fail_remaining(generation, "worker_lost", "The job was interrupted too many times.")
