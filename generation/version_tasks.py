"""The job that makes a new version of an image (generation.versions): one provider call
through the routing table (retries, failover), the result downloaded, scored for likeness when
the image is of a personal model, stored as an Image linked to its original, and the one slot
charged -- or refunded once when it cannot be made. Idempotent like run_generation: a rerun of
a finished job does nothing, and the slot's row and refund are each written at most once."""

import io
import logging

from django_tasks import task
from PIL import Image as PILImage

from generation import likeness, results
from generation.catalogue import OPERATIONS
from generation.images import build_image, decode
from generation.models import Generation, Image
from jobs.retry import retry_or_fail
from likeness import faces
from likeness.errors import ProviderError
from providers import catalogue, routing
from providers.interfaces import EnhanceRequest

logger = logging.getLogger(__name__)

MESSAGES = {
    "original_deleted": "The original image was deleted before its new version was made.",
    "suspended": "The operator suspended this model or account before the version was made.",
    "no_provider": "No configured image provider offers this right now.",
}
# What is sent to the provider: the original as a high-quality JPEG (a fraction of a PNG's
# size inline, and what the upscalers read best).
TRANSPORT_QUALITY = 95


@task()
def run_version(generation_id: str):
    generation = results.claim(generation_id, "source_image", "second_model")
    if generation is None:
        return
    refusal = _refusal(generation)
    if refusal:
        results.fail_remaining(generation, refusal, MESSAGES[refusal])  # refunded
        return
    operation = OPERATIONS[generation.operation]
    providers = results.providers_or_fail(
        generation, lambda: routing.enhancers_for(operation.route), MESSAGES["no_provider"])
    if providers is None:
        return
    results.set_slot(generation, 0, "generating")
    try:
        image = make_version(generation, providers)
    except ProviderError as exc:
        catalogue.learn_from_tries(getattr(exc, "tries", None))
        logger.warning("version %s: %s (%s)", generation.id, exc, exc.code)
        _retry_or_refund(generation, exc)
        return
    except Exception as exc:  # a bug or an outage we did not classify: bounded retries
        logger.exception("version %s crashed", generation.id)
        _retry_or_refund(generation, ProviderError(f"The new version failed: {exc}",
                                                   transient=True, code="internal_error"))
        return
    results.save_image(generation, image)
    results.finish(generation)


def _retry_or_refund(generation: Generation, error: ProviderError) -> None:
    """Again later when the error may pass and attempts remain; else failed and refunded."""
    retry_or_fail(run_version, str(generation.id), attempt=generation.attempts, error=error,
                  give_up=lambda: results.fail_remaining(generation, error.code, str(error)))


def _refusal(generation: Generation) -> str:
    if generation.source_image is None:
        return "original_deleted"
    if not generation.user.is_active or any(m.is_suspended for m in generation.subject_models):
        return "suspended"
    return ""




def transport(source: Image) -> tuple[bytes, str]:
    """The original's pixels as the provider gets them (JPEG, metadata left behind)."""
    with source.file.open("rb") as handle, PILImage.open(handle) as picture:
        out = io.BytesIO()
        picture.convert("RGB").save(out, format="JPEG", quality=TRANSPORT_QUALITY)
    return out.getvalue(), "image/jpeg"


def make_version(generation: Generation, providers) -> Image:
    """The provider's result as an unsaved Image linked to its original, with its files."""
    source, operation = generation.source_image, OPERATIONS[generation.operation]
    data, content_type = transport(source)
    request = EnhanceRequest(operation=operation.route, data=data, content_type=content_type,
                             width=source.width, height=source.height, scale=operation.scale,
                             seed=source.seed)
    result = routing.enhance(request, providers)
    (made,) = result.images
    references = generation.reference_faces()
    decoded = decode(made.data, keep_side=faces.EMBEDDING_SIDE if references else None)
    score = likeness.score(decoded.picture, references) if references else None
    results.set_slot(generation, 0, "saving")
    extra = {"operation": operation.id, "original_id": str(source.pk),
             "provider_ms": round(result.seconds * 1000, 1), "retries": result.tries,
             "credits": operation.credits}
    image = build_image(generation, 0, made, result.provider, extra, decoded=decoded,
                        score=score)
    image.original, image.operation = source, operation.id
    return image
