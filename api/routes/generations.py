"""POST /generations and GET /generations/{id}."""

from django.conf import settings
from django.http import HttpRequest
from django.test import RequestFactory
from ninja import Router, Status
from ninja.decorators import decorate_view

from api.errors import ERRORS_READ, ErrorOut
from api.idempotency import idempotent
from api.routes.images import image_out
from api.routes.lookup import owned
from api.schemas import GenerationCreatedOut, GenerationIn, GenerationOut
from generation.actions import create_generation
from generation.models import Generation

router = Router(tags=["Generations"])


@router.post(
    "/generations",
    response={202: GenerationCreatedOut, 401: ErrorOut, 402: ErrorOut, 403: ErrorOut,
              404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut, 503: ErrorOut},
    summary="Generate images",
    description="Reserves the credits (credits_per_image x num_images; a personal model costs "
                "its own price) and queues the work; poll GET /generations/{id}. Images that "
                "fail or are flagged by a provider's safety checker are refunded. 402 "
                "insufficient_credits when the balance is too low, 404 not_found for a "
                "model_id that is not yours, 409 conflict for a model that is not trained yet "
                "(limit_reached beyond your plan's model slots), 403 suspended for a model "
                "staff suspended, 422 prompt_refused when the prompt policy refuses the prompt "
                "or the negative prompt (details: field, categories), 503 private_mode when "
                "the installation is in private mode and the model's route names an outside "
                "provider (details: service); nothing is recorded then. "
                "Honours Idempotency-Key (a retry with the same key and body returns the first "
                "answer and charges nothing again; another body is 409) and is rate limited "
                "per key and per account (429 rate_limited with Retry-After).",
)
@decorate_view(idempotent)
def create(request: HttpRequest, payload: GenerationIn):
    generation = create_generation(
        request.auth,
        prompt=payload.prompt,
        base_model=payload.base_model,
        model_id=payload.model_id,
        second_model_id=payload.second_model_id,
        style=payload.style,
        aspect_ratio=payload.aspect_ratio,
        num_images=payload.num_images,
        steps=payload.steps,
        guidance=payload.guidance,
        seed=payload.seed,
        negative_prompt=payload.negative_prompt,
        lora_scale=payload.lora_scale,
        likeness_guarantee=payload.likeness_guarantee,
        likeness_min_score=payload.likeness_min_score,
        callback_url=payload.callback_url,
    )
    return Status(202, {
        "id": str(generation.id),
        "status": generation.status,
        "credits_reserved": generation.credits_reserved,
        "created_at": generation.created_at,
    })


@router.get("/generations/{generation_id}", response={200: GenerationOut, **ERRORS_READ},
            summary="One generation", description="Its status and stage, its images so far "
                                                  "(each with the provider that made it) and "
                                                  "what it cost. Poll until status is final.")
def get_generation(request: HttpRequest, generation_id: str):
    generation = owned(Generation.objects, request.auth, generation_id, "generation")
    return generation_out(request, generation)


def generation_payload(generation_id) -> dict | None:
    """The generation as GET /generations/{id} shows it, for its completion callback."""
    generation = Generation.objects.filter(pk=generation_id).first()
    if generation is None:
        return None
    host = settings.PUBLIC_BASE_URL.split("://", 1)[-1]
    secure = settings.PUBLIC_BASE_URL.startswith("https")
    request = RequestFactory().get("/", HTTP_HOST=host, secure=secure)
    return generation_out(request, generation)


def generation_out(request: HttpRequest, generation: Generation) -> dict:
    images = generation.images.order_by("index")
    return {
        "id": str(generation.id),
        "status": generation.status,
        "stage": generation.stage,
        "slots": generation.slot_states,
        "prompt": generation.prompt,
        "prompt_sent": generation.prompt_for_provider,
        "model_id": str(generation.personal_model_id) if generation.personal_model_id else None,
        "second_model_id": str(generation.second_model_id) if generation.second_model_id
        else None,
        "style": generation.style or None,
        "seed": generation.seed,
        "steps": generation.steps,
        "guidance": generation.guidance,
        "negative_prompt": generation.negative_prompt,
        "base_model": generation.base_model,
        "aspect_ratio": generation.aspect_ratio,
        "num_images": generation.num_images,
        "likeness_guarantee": generation.likeness_guarantee,
        "likeness_min_score": (generation.likeness_min_score or settings.LIKENESS_MIN_SCORE)
        if generation.likeness_guarantee else None,
        "images": [image_out(request, i) for i in images],
        "credits_reserved": generation.credits_reserved,
        "credits_charged": generation.credits_charged,
        "credits_refunded": generation.credits_refunded,
        "error": generation.error or None,
        "failures": [
            {"index": f.get("index", 0), "code": f.get("code", ""),
             "message": f.get("message", "")}
            for f in generation.failures
        ],
        "operation": generation.operation or None,
        "source_image_id": str(generation.source_image_id) if generation.source_image_id
        else None,
        "created_at": generation.created_at,
        "finished_at": generation.finished_at,
    }
