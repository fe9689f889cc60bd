"""New versions of an image: upscaled 2× or 4×, or with its face restored.

A version is made like a generation (ARCHITECTURE.md, "How the data flows"): the request is
checked, its price reserved in the ledger and a one-slot Generation recorded in one
transaction (its `operation` and `source_image` say what it is), the job
(generation.version_tasks) runs on commit through the routing table with failover, and the new
Image points at its original (`Image.original`, `Image.operation`). A version that cannot be
made is refunded once, like a failed image. Prices live in generation.catalogue.OPERATIONS."""

import uuid

from django.db import transaction

from credits import actions as credits
from generation.catalogue import (
    MAX_VERSION_PIXELS,
    MAX_VERSION_SIDE,
    OPERATIONS,
    UPSCALE_FACTORS,
    Operation,
)
from generation.models import Generation, Image
from generation.version_tasks import run_version
from jobs.queue import enqueue
from likeness.errors import Conflict, InvalidInput, NotFound, Suspended
from providers.routing import can_enhance


class ImageNotFound(NotFound):
    """No image of this customer has that id (another account's included: 404)."""


def source_image(user, image_id) -> Image:
    try:
        pk = uuid.UUID(str(image_id))
    except ValueError:
        raise ImageNotFound("No image with this id.")
    image = (Image.objects.select_related("personal_model", "generation",
                                          "generation__second_model")
             .filter(user=user, pk=pk).first())
    if image is None:
        raise ImageNotFound("No image with this id.")
    return image


def upscale_operation(scale) -> Operation:
    if isinstance(scale, bool) or scale not in UPSCALE_FACTORS:
        raise InvalidInput("scale", "Upscale by 2 or by 4.")
    return OPERATIONS[UPSCALE_FACTORS[scale]]


def output_size(image: Image, operation: Operation) -> tuple[int, int]:
    return image.width * operation.scale, image.height * operation.scale


def fits(image: Image, operation: Operation) -> bool:
    width, height = output_size(image, operation)
    return width * height <= MAX_VERSION_PIXELS and max(width, height) <= MAX_VERSION_SIDE


def check(image: Image, operation: Operation) -> None:
    """Why this version cannot be made, raised before anything is charged: too large for the
    providers, no provider offering it, a suspended model, the same version already on its
    way."""
    if not fits(image, operation):
        width, height = output_size(image, operation)
        limit = int(MAX_VERSION_PIXELS ** 0.5)
        error = InvalidInput("scale", f"{operation.name} of this {image.width} × "
                                      f"{image.height} image would be {width} × {height} "
                                      f"pixels; the largest version is {limit} × {limit} "
                                      f"({MAX_VERSION_PIXELS:,} pixels). Upscale a smaller "
                                      "version, or by 2.")
        error.details.update(width=width, height=height, max_pixels=MAX_VERSION_PIXELS)
        raise error
    for model in image.generation.subject_models:
        if model.is_suspended:
            raise Suspended(f"The model {model.name!r} is suspended by the operator; its "
                            "images cannot get new versions.", model_id=str(model.pk))
    if not can_enhance(operation.route):
        raise InvalidInput("operation", f"No configured image provider offers "
                                        f"{operation.name.lower()} right now.")
    if Generation.objects.filter(source_image=image, operation=operation.id).exclude(
            status__in=Generation.FINAL).exists():
        raise Conflict(f"{operation.name} of this image is already on its way.",
                       image_id=str(image.pk), operation=operation.id)


def create_version(user, image_id, operation: Operation) -> Generation:
    """Check, reserve the price and queue the job, all or nothing. Raises ImageNotFound,
    InvalidInput, Suspended, Conflict or credits.InsufficientCredits, in which case nothing
    was recorded or charged."""
    image = source_image(user, image_id)
    check(image, operation)
    width, height = output_size(image, operation)
    with transaction.atomic():
        generation = Generation.objects.create(
            user=user, prompt=image.prompt, base_model=image.base_model,
            aspect_ratio=image.aspect_ratio, width=width, height=height, num_images=1,
            seed=image.seed, personal_model=image.personal_model,
            # Two people stay two people: no score, and a child's model still blocks sharing.
            second_model=image.generation.second_model,
            second_lora_scale=image.generation.second_lora_scale,
            style=image.generation.style,
            credits_reserved=operation.credits, slots=["queued"], operation=operation.id,
            source_image=image)
        credits.spend(user, operation.credits, reason=f"{operation.name} of an image",
                      reference=f"gen:{generation.id}:reserve")
        enqueue(run_version, str(generation.id))
    return generation


def upscale(user, image_id, scale) -> Generation:
    return create_version(user, image_id, upscale_operation(scale))


def restore_face(user, image_id) -> Generation:
    return create_version(user, image_id, OPERATIONS["face_restore"])


def offers(image: Image) -> list[dict]:
    """What the image's page offers: each operation with its price and whether it can be made
    (too large, or no provider offering it, says why not)."""
    choices = []
    for operation in OPERATIONS.values():
        reason = ""
        if not fits(image, operation):
            reason = "too large"
        elif not can_enhance(operation.route):
            reason = "no provider"
        choices.append({"id": operation.id, "name": operation.name,
                        "credits": operation.credits, "scale": operation.scale,
                        "route": operation.route, "reason": reason})
    return choices


def family(image: Image) -> tuple[Image, list[Image]]:
    """The image's original (itself when it is one) and every version of that original,
    oldest first: the page links them both ways."""
    root = image
    while root.original_id and root.original is not None:
        root = root.original
    versions, frontier = [], [root]
    while frontier:
        children = list(Image.objects.filter(original__in=frontier).order_by("created_at"))
        versions.extend(children)
        frontier = children
    return root, versions
