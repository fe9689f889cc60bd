"""POST /generations and GET /generations/{id}."""

from django.http import HttpRequest
from ninja import Router, Status

from api.errors import ERRORS_READ, ApiError, ErrorOut
from api.routes.images import image_out
from api.routes.lookup import owned
from api.schemas import GenerationCreatedOut, GenerationIn, GenerationOut
from generation.actions import create_generation
from generation.models import Generation

router = Router(tags=["Generations"])


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, field=field,
                    errors=[{"field": field, "message": message, "type": "invalid"}])


@router.post(
    "/generations",
    response={202: GenerationCreatedOut, 401: ErrorOut, 402: ErrorOut, 403: ErrorOut,
              422: ErrorOut},
    summary="Generate images",
    description="Reserves the credits (credits_per_image x num_images) and queues the work; "
                "poll GET /generations/{id}. Images that fail are refunded. 402 "
                "insufficient_credits when the balance is too low, and nothing is recorded.",
)
def create(request: HttpRequest, payload: GenerationIn):
    if payload.model_id is not None:
        raise _invalid("model_id", "Personal models are not available yet; "
                                   "generate with a base_model instead.")
    if payload.style is not None:
        raise _invalid("style", f"Unknown style {payload.style!r}; no styles are available yet.")
    generation = create_generation(
        request.auth,
        prompt=payload.prompt,
        base_model=payload.base_model,
        aspect_ratio=payload.aspect_ratio,
        num_images=payload.num_images,
        steps=payload.steps,
        guidance=payload.guidance,
        seed=payload.seed,
        negative_prompt=payload.negative_prompt,
    )
    return Status(202, {
        "id": str(generation.id),
        "status": generation.status,
        "credits_reserved": generation.credits_reserved,
        "created_at": generation.created_at,
    })


@router.get("/generations/{generation_id}", response={200: GenerationOut, **ERRORS_READ},
            summary="One generation", description="Its status, its images so far and what it "
                                                  "cost. Poll until status is final.")
def get_generation(request: HttpRequest, generation_id: str):
    generation = owned(Generation.objects, request.auth, generation_id, "generation")
    images = generation.images.order_by("index")
    return {
        "id": str(generation.id),
        "status": generation.status,
        "prompt": generation.prompt,
        "base_model": generation.base_model,
        "aspect_ratio": generation.aspect_ratio,
        "num_images": generation.num_images,
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
        "created_at": generation.created_at,
        "finished_at": generation.finished_at,
    }
