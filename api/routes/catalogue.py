"""GET /base-models and GET /styles."""

from django.http import HttpRequest
from ninja import Router

from api.schemas import BaseModelOut, StyleOut
from generation.catalogue import BASE_MODELS, PERSONAL_MODEL_CREDITS, sizes_for
from generation.styles import STYLES
from providers.routing import can_route, route_names

router = Router(tags=["Catalogue"])


@router.get("/base-models", response=list[BaseModelOut], auth=None, summary="Base models",
            description="The models images can be generated with, their price per image (also "
                        "with a personal model), sizes per aspect ratio and the providers that "
                        "serve them. Needs no authentication.")
def base_models(request: HttpRequest):
    return [
        {
            "id": m.id, "name": m.name, "description": m.description,
            "credits_per_image": m.credits_per_image,
            "supports_custom_model": m.supports_custom_model,
            "custom_model_credits_per_image": PERSONAL_MODEL_CREDITS
            if m.supports_custom_model else None,
            "supports_negative_prompt": m.supports_negative_prompt,
            "default_steps": m.default_steps,
            "max_steps": m.max_steps,
            "aspect_ratios": list(sizes_for(m.id)),
            "sizes": {ratio: list(size) for ratio, size in sizes_for(m.id).items()},
            "providers": route_names(m.id),
            "available": can_route(m.id),
            "family": m.family, "licence": m.licence_name, "licence_url": m.licence_url,
            "commercial_weights": m.commercial_weights,
        }
        for m in BASE_MODELS.values()
    ]


@router.get("/styles", response=list[StyleOut], auth=None, summary="Styles",
            description="Style presets for POST /generations `style`: a prompt template and "
                        "parameters each. Needs no authentication.")
def styles(request: HttpRequest):
    return [
        {"id": s.id, "name": s.name, "description": s.description, "template": s.template,
         "negative_prompt": s.negative_prompt, "guidance": s.guidance, "steps": s.steps,
         "aspect_ratio": s.aspect_ratio, "suggestions": list(s.suggestions)}
        for s in STYLES.values()
    ]
