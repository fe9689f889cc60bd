"""The generation job. Small and idempotent: it can be run again at any point (a retry, or a
worker that died) and finishes the images that are missing without charging twice."""

import io
import logging

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
from providers.base import GenerationRequest, ProviderError, ProviderImage
from providers.registry import generation_provider

logger = logging.getLogger(__name__)
THUMBNAIL_SIZE = 512


def make_thumbnail(data: bytes) -> bytes:
    with PILImage.open(io.BytesIO(data)) as picture:
        picture.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        thumb = picture.convert("RGB")
        thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), PILImage.Resampling.LANCZOS)
        out = io.BytesIO()
        thumb.save(out, format="WEBP", quality=82, method=4)
        return out.getvalue()


def store_image(generation: Generation, index: int, result: ProviderImage, provider) -> Image:
    extension = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(
        result.content_type, "bin")
    image = Image(
        user=generation.user, generation=generation, index=index,
        content_type=result.content_type, width=result.width, height=result.height,
        prompt=generation.prompt, base_model=generation.base_model,
        aspect_ratio=generation.aspect_ratio, seed=result.seed, provider=provider.name,
        is_demo=provider.is_demo,
        metadata={
            "prompt": generation.prompt,
            "negative_prompt": generation.negative_prompt,
            "base_model": generation.base_model,
            "provider": provider.name,
            "seed": result.seed,
            "width": result.width,
            "height": result.height,
            "steps": generation.steps,
            "guidance": generation.guidance,
            "credits": generation.credits_per_image,
            **result.metadata,
        },
    )
    image.file.save(f"{index}-{image.id}.{extension}", ContentFile(result.data), save=False)
    image.thumbnail.save(f"{index}-{image.id}-thumb.webp",
                         ContentFile(make_thumbnail(result.data)), save=False)
    try:
        with transaction.atomic():
            image.save()
    except IntegrityError:
        # A twin run stored this slot first: keep theirs, drop our files.
        default_storage.delete(image.file.name)
        default_storage.delete(image.thumbnail.name)
        return Image.objects.get(generation=generation, index=index)
    return image


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
        gen.save(update_fields=["failures", "credits_refunded"])
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
        return gen


def fail_remaining(generation: Generation, code: str, message: str):
    done = set(generation.images.values_list("index", flat=True))
    for index in range(generation.num_images):
        if index not in done:
            generation = fail_image(generation, index, code, message)
    return finish(generation)


@task()
def run_generation(generation_id: str):
    try:
        provider = generation_provider()
    except LookupError as exc:  # a misconfigured deployment: fail and refund, never hang
        generation = Generation.objects.filter(pk=generation_id).first()
        if generation is not None and not generation.is_finished:
            fail_remaining(generation, "provider_unavailable", str(exc))
        return
    with transaction.atomic():
        generation = Generation.objects.select_for_update().filter(pk=generation_id).first()
        if generation is None or generation.is_finished:
            return
        generation.status = Generation.Status.RUNNING
        generation.attempts += 1
        generation.started_at = generation.started_at or timezone.now()
        generation.provider = provider.name
        generation.save(update_fields=["status", "attempts", "started_at", "provider"])

    try:
        _make_missing_images(generation, provider)
    except Exception as exc:  # a bug or an outage we did not classify: bounded retries
        logger.exception("generation %s crashed", generation.id)
        if generation.attempts < settings.JOB_MAX_ATTEMPTS:
            retry_later(run_generation, str(generation.id), attempt=generation.attempts)
        else:
            fail_remaining(generation, "internal_error", f"Generation failed: {exc}")


def _make_missing_images(generation, provider):
    done = set(generation.images.values_list("index", flat=True))
    failed = {f["index"] for f in generation.failures}
    for index in range(generation.num_images):
        if index in done or index in failed:
            continue
        request = GenerationRequest(
            prompt=generation.prompt, width=generation.width, height=generation.height,
            seed=generation.seed + index, base_model=generation.base_model, num_images=1,
            steps=generation.steps, guidance=generation.guidance,
            negative_prompt=generation.negative_prompt,
        )
        try:
            (result,) = provider.generate(request)
        except ProviderError as exc:
            logger.warning("generation %s image %d: %s", generation.id, index, exc)
            if exc.transient and generation.attempts < settings.JOB_MAX_ATTEMPTS:
                retry_later(run_generation, str(generation.id), attempt=generation.attempts,
                            retry_after=exc.retry_after)
                return
            generation = fail_image(generation, index, exc.code, str(exc))
            continue
        store_image(generation, index, result, provider)
    finish(generation)


@receiver(task_abandoned)
def abandon_generation(sender, task_path, args, kwargs, **extra):
    """The job died with its workers too often: finish it and refund what is missing."""
    if task_path != f"{run_generation.module_path}" or not args:
        return
    generation = Generation.objects.filter(pk=args[0]).first()
    if generation and not generation.is_finished:
        fail_remaining(generation, "worker_lost", "The job was interrupted too many times.")
