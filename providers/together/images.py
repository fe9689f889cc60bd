"""Together AI image generation through the official `together` SDK (3.x), pointed at
TOGETHER_BASE_URL (host only: the SDK adds /v1). Personal models go to FLUX.1-dev-lora with
`image_loras=[{path, scale}]`; results come as URLs and are downloaded at once."""

import base64

from django.conf import settings

from likeness import http
from providers.interfaces import ImageRequest, ProviderImage
from providers.results import content_type_of, fetch, wrong_count
from providers.stainless import StainlessProvider, classify

LABEL = "Together AI"
MODELS = {
    "flux-schnell": "black-forest-labs/FLUX.1-schnell",
    "flux-dev": "black-forest-labs/FLUX.1-dev",
    "flux-pro": "black-forest-labs/FLUX.1.1-pro",
    "flux-2-dev": "black-forest-labs/FLUX.2-dev",
    "flux-2-pro": "black-forest-labs/FLUX.2-pro",
}
LORA_MODEL = "black-forest-labs/FLUX.1-dev-lora"
UNTUNABLE = {"black-forest-labs/FLUX.2-pro"}  # takes no steps or guidance


class TogetherProvider(StainlessProvider):
    name = "together"
    label = LABEL
    multi_lora = True  # FLUX.1-dev-lora: `image_loras` takes up to two
    MODELS = MODELS
    LORA_MODEL = LORA_MODEL

    def sdk(self):
        import together  # loaded when first used: only the SDKs a deployment calls

        return together.Together

    def settings(self):
        return settings.TOGETHER_API_KEY, settings.TOGETHER_BASE_URL

    def listed_models(self) -> set[str]:
        """`GET /v1/models`: a bare JSON array of `{id, type, ...}` (the SDK has no wrapper)."""
        api_key, base_url = self.settings()
        response = http.send("GET", f"{base_url.rstrip('/')}/v1/models", service=LABEL,
                             headers={"Authorization": f"Bearer {api_key}"})
        if response.status_code != 200:
            raise http.failure(response, LABEL, code=("provider_auth" if response.status_code
                                                      in (401, 403) else None))
        return {item["id"] for item in response.json() if isinstance(item, dict)}

    def body(self, request: ImageRequest) -> dict:
        model = LORA_MODEL if request.lora else MODELS[request.base_model]
        body = {
            "model": model,
            "prompt": request.prompt, "width": request.width, "height": request.height,
            "n": request.num_images, "seed": request.seed, "response_format": "url",
            "output_format": "jpeg",
            # Sent, not left to the default: the checker is on for every request, always.
            "disable_safety_checker": False,
        }
        if request.steps and model not in UNTUNABLE:
            body["steps"] = request.steps
        if request.guidance is not None and model not in UNTUNABLE:
            body["guidance_scale"] = request.guidance
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if request.lora:
            body["image_loras"] = [{"path": lora.url, "scale": lora.scale}
                                   for lora in request.loras]
        return body

    def generate(self, request: ImageRequest) -> list[ProviderImage]:
        body = self.body(request)
        try:
            answer = self.client().images.generate(**body)
        except Exception as exc:
            raise classify(exc, LABEL)
        items = sorted(answer.data or [], key=lambda item: getattr(item, "index", 0))
        if len(items) != request.num_images:
            raise wrong_count(LABEL, len(items), request.num_images)
        images = []
        for offset, item in enumerate(items):
            if getattr(item, "b64_json", None):
                data, declared = base64.b64decode(item.b64_json), ""
            else:
                data, declared = fetch(item.url, LABEL)
            images.append(ProviderImage(
                data=data, content_type=content_type_of(data, declared), width=request.width,
                height=request.height, seed=request.seed + offset,
                metadata={"provider_model": body["model"], "provider_request_id": answer.id,
                          "negative_prompt_sent": bool(request.negative_prompt)}))
        return images
