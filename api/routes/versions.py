"""New versions of an image: POST /images/{id}/upscale and POST /images/{id}/restore-face. The
same domain functions as the image's page (generation.versions); the answer is the version's
generation, to poll with GET /generations/{id} (its one image carries `original_id`)."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Status
from ninja.decorators import decorate_view

from api.errors import ErrorOut
from api.idempotency import idempotent
from api.schemas import RequestSchema, Schema
from generation import versions
from generation.catalogue import MAX_VERSION_PIXELS, OPERATIONS

router = Router(tags=["Images"])

ERRORS = {401: ErrorOut, 402: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut, 429: ErrorOut}
PRICES = ", ".join(f"{op.name} {op.credits} credit{'s' * (op.credits != 1)}"
                   for op in OPERATIONS.values())
REFUSALS = ("402 insufficient_credits when the balance is too low, 404 not_found for an image "
            "that is not yours, 403 suspended for an image of a model staff suspended, 409 "
            "conflict while the same version of the image is already on its way, 422 "
            "validation_error (details.field) for a version no configured provider offers; "
            "nothing is recorded or charged then. A version that cannot be made is refunded. "
            "Honours Idempotency-Key.")


class UpscaleIn(RequestSchema):
    scale: int = Field(strict=True, description="2 or 4: each side grows that many times.")


class VersionCreatedOut(Schema):
    id: str = Field(description="The version's generation: poll GET /generations/{id}.")
    status: Literal["queued", "running", "succeeded", "partial", "failed"]
    operation: str = Field(description="upscale_2x, upscale_4x or face_restore.")
    source_image_id: str
    width: int = Field(description="The version's size once made.")
    height: int
    credits_reserved: int
    created_at: datetime


def created(generation) -> Status:
    return Status(202, {
        "id": str(generation.id), "status": generation.status,
        "operation": generation.operation, "source_image_id": str(generation.source_image_id),
        "width": generation.width, "height": generation.height,
        "credits_reserved": generation.credits_reserved, "created_at": generation.created_at,
    })


@router.post(
    "/images/{image_id}/upscale", response={202: VersionCreatedOut, **ERRORS},
    summary="Upscale an image 2× or 4×",
    description=f"A new version of the image, `scale` times larger, linked to it "
                f"(Real-ESRGAN through the routing table). Prices: {PRICES}. 422 "
                f"validation_error (details.field scale) for a scale other than 2 or 4, or a "
                f"version larger than {MAX_VERSION_PIXELS:,} pixels (details: width, height, "
                f"max_pixels). {REFUSALS}")
@decorate_view(idempotent)
def upscale(request: HttpRequest, image_id: str, payload: UpscaleIn):
    return created(versions.upscale(request.auth, image_id, payload.scale))


@router.post(
    "/images/{image_id}/restore-face", response={202: VersionCreatedOut, **ERRORS},
    summary="Restore the faces of an image",
    description=f"A new version of the image at its size with its faces restored "
                f"(CodeFormer), linked to it; for an image of a personal model it gets its own "
                f"likeness score. Prices: {PRICES}. No body is needed. {REFUSALS}")
@decorate_view(idempotent)
def restore_face(request: HttpRequest, image_id: str):
    return created(versions.restore_face(request.auth, image_id))
