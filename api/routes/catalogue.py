"""GET /base-models."""

from django.http import HttpRequest
from ninja import Router

from api.schemas import BaseModelOut
from generation.catalogue import ASPECT_RATIOS, BASE_MODELS

router = Router(tags=["Catalogue"])


@router.get("/base-models", response=list[BaseModelOut], auth=None, summary="Base models",
            description="The models images can be generated with, and their price per image. "
                        "Needs no authentication.")
def base_models(request: HttpRequest):
    return [
        {
            "id": m.id, "name": m.name, "description": m.description,
            "credits_per_image": m.credits_per_image,
            "supports_custom_model": m.supports_custom_model,
            "default_steps": m.default_steps,
            "aspect_ratios": list(ASPECT_RATIOS),
        }
        for m in BASE_MODELS.values()
    ]
