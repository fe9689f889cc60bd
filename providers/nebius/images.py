"""Nebius AI Studio (Token Factory) image generation through the `openai` SDK pointed at
NEBIUS_BASE_URL (with /v1). Nebius-only fields go in `extra_body`; personal models go to
flux-dev with `loras=[{url, scale}]`. Images come back inline (b64_json): nothing to expire."""

import base64
import binascii

from django.conf import settings

from likeness.errors import ProviderError
from providers.interfaces import ImageRequest, ProviderImage
from providers.results import content_type_of, fetch, wrong_count
from providers.stainless import StainlessProvider, classify

LABEL = "Nebius AI Studio"
MODELS = {
    "flux-schnell": "black-forest-labs/flux-schnell",
    "flux-dev": "black-forest-labs/flux-dev",
}
LORA_MODEL = "black-forest-labs/flux-dev"


class NebiusProvider(StainlessProvider):
    name = "nebius"
    label = LABEL
    multi_lora = True  # flux-dev: `loras` takes 1 to 10 {url, scale}
    MODELS = MODELS
    LORA_MODEL = LORA_MODEL

    def sdk(self):
        import openai  # loaded when first used: only the SDKs a deployment calls

        return openai.OpenAI

    def settings(self):
        return settings.NEBIUS_API_KEY, settings.NEBIUS_BASE_URL

    def listed_models(self) -> set[str]:
        return {model.id for model in self.client().models.list()}

    def params(self, request: ImageRequest) -> dict:
        extra = {"width": request.width, "height": request.height, "seed": request.seed,
                 "response_extension": "jpg"}
        if request.steps:
            extra["num_inference_steps"] = request.steps
        if request.guidance is not None:
            extra["guidance_scale"] = request.guidance
        if request.negative_prompt:
            extra["negative_prompt"] = request.negative_prompt
        if request.lora:
            extra["loras"] = [{"url": lora.url, "scale": lora.scale} for lora in request.loras]
        return {"model": LORA_MODEL if request.lora else MODELS[request.base_model],
                "prompt": request.prompt, "n": request.num_images,
                "response_format": "b64_json", "extra_body": extra}

    def generate(self, request: ImageRequest) -> list[ProviderImage]:
        params = self.params(request)
        try:
            answer = self.client().images.generate(**params)
        except Exception as exc:
            raise classify(exc, LABEL)
        items = list(answer.data or [])
        if len(items) != request.num_images:
            raise wrong_count(LABEL, len(items), request.num_images)
        images = []
        for offset, item in enumerate(items):
            if item.b64_json:
                try:
                    data, declared = base64.b64decode(item.b64_json, validate=True), ""
                except (binascii.Error, ValueError):
                    raise ProviderError(f"{LABEL} sent an unreadable image.", transient=True,
                                        code="malformed_response")
            elif item.url:
                data, declared = fetch(item.url, LABEL)
            else:
                raise ProviderError(f"{LABEL} sent no image.", transient=True,
                                    code="malformed_response")
            images.append(ProviderImage(
                data=data, content_type=content_type_of(data, declared), width=request.width,
                height=request.height, seed=request.seed + offset,
                metadata={"provider_model": params["model"],
                          "provider_request_id": getattr(answer, "id", "") or "",
                          "negative_prompt_sent": bool(request.negative_prompt)}))
        return images
