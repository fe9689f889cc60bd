"""The instant-mode job (generation.instant): each slot drawn from one of the model's photos in
turn (slot i from reference i mod n, seed + i) through the routing table's "instant" route
(retries, failover), downloaded, scored for likeness against the model's photos that were not
its reference, and stored; a slot that cannot be made is refunded once. Idempotent like
run_generation: a rerun makes only the slots still missing, without charging twice."""

import io
import logging

from django.conf import settings
from django_tasks import task
from PIL import Image as PILImage
from PIL import ImageOps

from generation import likeness, results
from generation.catalogue import INSTANT_ID_WEIGHT, MAX_SEED
from generation.images import build_image, decode
from generation.models import Generation, Image
from jobs.retry import retry_or_fail
from likeness import faces
from likeness.errors import ProviderError
from providers import catalogue, routing
from providers.interfaces import REFERENCE_SIDE, ImageRequest, Reference
from studio.models import TrainingPhoto

logger = logging.getLogger(__name__)

MESSAGES = {
    "personal_model_deleted": "The personal model was deleted before the image was made.",
    "suspended": "The operator suspended this model or account before the image was made.",
    "instant_off": "The operator switched instant mode off before the image was made.",
    "photos_deleted": "The model's photos were deleted before the image was made.",
    "no_provider": "No configured image provider offers instant mode right now.",
    "content_flagged": "The provider's safety checker flagged this image, so it is not shown.",
}
TRANSPORT_QUALITY = 92


@task()
def run_instant(generation_id: str):
    generation = results.claim(generation_id)
    if generation is None:
        return
    photos = reference_photos(generation)
    refusal = _refusal(generation, photos)
    if refusal:
        results.fail_remaining(generation, refusal, MESSAGES[refusal])  # refunded
        return
    providers = results.providers_or_fail(generation, routing.instant_providers,
                                          MESSAGES["no_provider"])
    if providers is None:
        return
    retry: list[ProviderError] = []
    for index in missing(generation):
        error = _make_slot(generation, index, photos, providers)
        if error is not None:
            retry.append(error)
    if not retry:
        results.finish(generation)
        return
    last = retry[-1]
    retry_or_fail(run_instant, str(generation.id), attempt=generation.attempts, error=last,
                  give_up=lambda: results.fail_remaining(generation, last.code, str(last)))


def reference_photos(generation: Generation) -> list[TrainingPhoto]:
    """The generation's reference photos still on file, in the order chosen."""
    ids = list(generation.references or [])
    found = {str(p.pk): p for p in TrainingPhoto.objects.filter(pk__in=ids)
             if p.file and p.model_id == generation.personal_model_id}
    return [found[i] for i in ids if i in found]


def _refusal(generation: Generation, photos: list) -> str:
    model = generation.personal_model
    if model is None:
        return "personal_model_deleted"
    if not generation.user.is_active or model.is_suspended:
        return "suspended"
    if not settings.INSTANT_MODE:
        return "instant_off"
    if not photos:
        return "photos_deleted"
    return ""


def missing(generation: Generation) -> list[int]:
    done = set(generation.images.values_list("index", flat=True))
    failed = {f["index"] for f in generation.failures}
    return [i for i in range(generation.num_images) if i not in done and i not in failed]


def reference_for(photo: TrainingPhoto) -> Reference:
    """The photo as the provider gets it: a JPEG at most REFERENCE_SIDE a side (EXIF turned,
    metadata left behind), and its face box at that size."""
    with photo.file.open("rb") as handle, PILImage.open(handle) as picture:
        picture = ImageOps.exif_transpose(picture).convert("RGB")
        ratio = min(1.0, REFERENCE_SIDE / max(picture.size))
        if ratio < 1:
            picture = picture.resize((round(picture.width * ratio),
                                      round(picture.height * ratio)), PILImage.Resampling.LANCZOS)
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=TRANSPORT_QUALITY)
    box = None
    if photo.face_box and photo.width:
        scale = picture.width / photo.width
        box = tuple(round(v * scale) for v in photo.face_box)
    return Reference(data=out.getvalue(), content_type="image/jpeg", face_box=box,
                     id_weight=INSTANT_ID_WEIGHT)


def scoring_faces(generation: Generation, photo: TrainingPhoto) -> list:
    """The faces an image is scored against: the model's photos other than its reference (a
    picture is not measured against the very photo it was drawn from), else all of them."""
    model = generation.personal_model
    others = [p.embedding for p in model.photos.exclude(pk=photo.pk) if p.embedding]
    return others or list(model.face_references or []) or (
        [photo.embedding] if photo.embedding else [])


def _make_slot(generation: Generation, index: int, photos: list, providers):
    """Make one slot; a transient error to retry later, or None (stored, or refunded)."""
    photo = photos[index % len(photos)]
    results.set_slot(generation, index, "generating")
    request = ImageRequest(
        prompt=generation.prompt_for_provider, width=generation.width,
        height=generation.height, seed=(generation.seed + index) % (MAX_SEED + 1),
        base_model=generation.base_model, num_images=1, steps=generation.steps,
        guidance=generation.guidance, aspect_ratio=generation.aspect_ratio,
        reference=reference_for(photo))
    try:
        result = routing.instant(request, providers)
        (made,) = result.images
    except ProviderError as exc:
        catalogue.learn_from_tries(getattr(exc, "tries", None))
        if exc.transient:
            logger.warning("instant %s image %d: %s", generation.id, index, exc)
            results.set_slot(generation, index, "queued")
            return exc
        results.fail_image(generation, index, exc.code, MESSAGES.get(exc.code) or str(exc))
        return None
    if made.metadata.get("blocked"):
        results.fail_image(generation, index, "content_flagged", MESSAGES["content_flagged"])
        return None
    results.set_slot(generation, index, "saving")
    results.save_image(generation, _image(generation, index, photo, made, result))
    return None


def _image(generation: Generation, index: int, photo: TrainingPhoto, made, result) -> Image:
    references = scoring_faces(generation, photo)
    decoded = decode(made.data, keep_side=faces.EMBEDDING_SIDE if references else None)
    score = likeness.score(decoded.picture, references) if references else None
    if generation.provider != result.provider.name:
        generation.provider = result.provider.name
        Generation.objects.filter(pk=generation.pk).update(provider=generation.provider)
    extra = {"instant": {"reference_photo": str(photo.pk), "id_weight": INSTANT_ID_WEIGHT},
             "provider_ms": round(result.seconds * 1000, 1), "retries": result.tries}
    image = build_image(generation, index, made, result.provider, extra, decoded=decoded,
                        score=score)
    image.operation = "instant"
    return image
