"""Together AI image generation through the official `together` SDK (3.x), pointed at
TOGETHER_BASE_URL (host only: the SDK adds /v1). Personal models go to FLUX.1-dev-lora with
`image_loras=[{path, scale}]`; results come as URLs and are downloaded at once."""

from functools import cache

from django.conf import settings

from providers.base import GenerationProvider, ProviderError, ProviderImage
from providers.imaging import ImageRequest, classify_sdk, content_type_of, fetch, sdk_timeout

LABEL = "Together AI"
MODELS = {
    "flux-schnell": "black-forest-labs/FLUX.1-schnell",
    "flux-dev": "black-forest-labs/FLUX.1-dev",
    "flux-pro": "black-forest-labs/FLUX.1.1-pro",
}
LORA_MODEL = "black-forest-labs/FLUX.1-dev-lora"


@cache
def _client(api_key: str, base_url: str, timeout: float):
    import together

    # Our routing retries and fails over; the SDK's own retries would hide the errors from it.
    return together.Together(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)


def client():
    return _client(settings.TOGETHER_API_KEY, settings.TOGETHER_BASE_URL, sdk_timeout())


class TogetherProvider(GenerationProvider):
    name = "together"
    label = LABEL

    def supports(self, request: ImageRequest) -> bool:
        if request.lora is not None:
            return bool(request.lora.url)
        return request.base_model in MODELS

    def body(self, request: ImageRequest) -> dict:
        body = {
            "model": LORA_MODEL if request.lora else MODELS[request.base_model],
            "prompt": request.prompt, "width": request.width, "height": request.height,
            "n": request.num_images, "seed": request.seed, "response_format": "url",
            "output_format": "jpeg",
        }
        if request.steps:
            body["steps"] = request.steps
        if request.guidance is not None:
            body["guidance_scale"] = request.guidance
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if request.lora:
            body["image_loras"] = [{"path": request.lora.url, "scale": request.lora.scale}]
        return body

    def generate(self, request: ImageRequest) -> list[ProviderImage]:
        body = self.body(request)
        try:
            answer = client().images.generate(**body)
        except Exception as exc:
            raise classify_sdk(exc, LABEL)
        items = sorted(answer.data or [], key=lambda item: getattr(item, "index", 0))
        if len(items) != request.num_images:
            raise ProviderError(f"{LABEL} returned {len(items)} images instead of "
                                f"{request.num_images}.", transient=True,
                                code="malformed_response")
        images = []
        for offset, item in enumerate(items):
            if getattr(item, "b64_json", None):
                import base64

                data, declared = base64.b64decode(item.b64_json), ""
            else:
                data, declared = fetch(item.url, LABEL)
            images.append(ProviderImage(
                data=data, content_type=content_type_of(data, declared), width=request.width,
                height=request.height, seed=request.seed + offset,
                metadata={"provider_model": body["model"], "provider_request_id": answer.id,
                          "negative_prompt_sent": bool(request.negative_prompt)}))
        return images
