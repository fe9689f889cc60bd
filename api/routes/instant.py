"""Instant mode: POST /models/{id}/instant. The same domain function as the model's instant
page (generation.instant); the answer is the generation, to poll with GET /generations/{id}
(its `operation` is "instant")."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.decorators import decorate_view

from api.errors import ErrorOut
from api.idempotency import idempotent
from api.schemas import RequestSchema
from generation import instant
from generation.catalogue import (
    ASPECT_RATIOS,
    INSTANT_MAX_REFERENCES,
    INSTANT_MODEL,
    MAX_IMAGES_PER_REQUEST,
    MAX_SEED,
)
from generation.styles import STYLES

router = Router(tags=["Generations"])

ERRORS = {401: ErrorOut, 402: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut, 429: ErrorOut, 503: ErrorOut}
AspectRatio = Literal[tuple(ASPECT_RATIOS)]


class InstantIn(RequestSchema):
    prompt: str = Field(max_length=2000, description="The picture; the person comes from "
                                                     "the photo, no trigger word needed.")
    num_images: int = Field(1, ge=1, le=MAX_IMAGES_PER_REQUEST, strict=True)
    aspect_ratio: AspectRatio = "1:1"
    style: str | None = Field(None, description=f"One of {', '.join(STYLES)}.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, strict=True)
    photo_ids: list[str] | None = Field(
        None, max_length=INSTANT_MAX_REFERENCES,
        description=f"1-{INSTANT_MAX_REFERENCES} of the model's photo ids to draw from, in "
                    "turn (image i from photo i mod n); unset: its best faces.")


class InstantOut(Schema):
    id: str = Field(description="The generation: poll GET /generations/{id}.")
    status: Literal["queued", "running", "succeeded", "partial", "failed"]
    operation: Literal["instant"]
    model_id: str
    photo_ids: list[str] = Field(description="The photos it draws from, in turn.")
    num_images: int
    width: int
    height: int
    credits_reserved: int
    created_at: datetime


@router.post(
    "/models/{model_id}/instant", response={202: InstantOut, **ERRORS},
    summary="Instant preview of a model's person (no training)",
    description=f"1-{MAX_IMAGES_PER_REQUEST} images of the person in the model's photos, drawn "
                f"by PuLID on FLUX.1 [dev] without training, while (or after) it trains; "
                f"{INSTANT_MODEL.credits_per_image} credits per image, each scored for likeness "
                "against the model's other photos. 402 insufficient_credits, 404 not_found for "
                "a model that is not yours, 403 suspended, 503 private_mode, 409 "
                "consent_required for a person's model without consent for its photos, 422 "
                "validation_error (details.field: prompt, photos, photo_ids, model_id) for a "
                "pet, a model with no photo showing a face, instant mode switched off by the "
                "operator (INSTANT_MODE) or no provider offering it, 422 prompt_refused; "
                "nothing is recorded or charged then. An image that cannot be made is "
                f"refunded. Licence: {instant.LICENCE_NOTE} Honours Idempotency-Key.")
@decorate_view(idempotent)
def create_instant(request: HttpRequest, model_id: str, payload: InstantIn):
    generation = instant.create_instant(request.auth, model_id, **payload.dict())
    return Status(202, {
        "id": str(generation.id), "status": generation.status, "operation": "instant",
        "model_id": str(generation.personal_model_id), "photo_ids": generation.references,
        "num_images": generation.num_images, "width": generation.width,
        "height": generation.height, "credits_reserved": generation.credits_reserved,
        "created_at": generation.created_at,
    })
