"""fal.ai image generation with `fal-ai/flux-lora` through fal's queue API (FAL_QUEUE_URL, like
the trainer): submit, poll the status URL, read the result,
download each image at once. Personal models go as `loras=[{path, scale}]`. fal answers a flagged
image with a black picture and `has_nsfw_concepts`; such an image is reported blocked."""

import time

from django.conf import settings

from likeness.errors import ProviderError
from providers.fal.client import LABEL, app_url, request
from providers.interfaces import ImageProvider, ImageRequest, ProviderImage
from providers.results import content_type_of, fetch, flagged, looks_flagged, wrong_count

APP = "fal-ai/flux-lora"
MODELS = {"flux-dev"}


def call(method: str, url: str, **kwargs) -> dict:
    """providers.fal.client.request, with its codes in the terms the routing understands."""
    try:
        return request(method, url, **kwargs)
    except ProviderError as exc:
        if exc.code in ("fal_401", "fal_403"):
            raise ProviderError(f"{LABEL} refused our API key.", transient=False,
                                code="provider_auth")
        if exc.code == "fal_429":
            exc.code = "rate_limited"
        elif not exc.transient:
            if looks_flagged(str(exc)):
                raise flagged(LABEL)
            exc.code = "invalid_request"
        raise


class FalProvider(ImageProvider):
    name = "fal"
    label = LABEL

    def supports(self, request: ImageRequest) -> bool:
        if request.lora is not None:
            return bool(request.lora.url)
        return request.base_model in MODELS

    def body(self, request: ImageRequest) -> dict:
        body = {"prompt": request.prompt,
                "image_size": {"width": request.width, "height": request.height},
                "num_images": request.num_images, "seed": request.seed,
                "enable_safety_checker": True, "output_format": "jpeg"}
        if request.steps:
            body["num_inference_steps"] = request.steps
        if request.guidance is not None:
            body["guidance_scale"] = request.guidance
        if request.lora:
            body["loras"] = [{"path": request.lora.url, "scale": request.lora.scale}]
        return body

    def generate(self, request: ImageRequest) -> list[ProviderImage]:
        submitted = call("POST", app_url(APP), json=self.body(request))
        request_id = submitted.get("request_id")
        if not request_id:
            raise ProviderError(f"{LABEL} did not return a request id.", transient=True,
                                code="malformed_response")
        status_url = submitted.get("status_url") or app_url(APP, "requests", request_id,
                                                            "status")
        response_url = submitted.get("response_url") or app_url(APP, "requests", request_id)
        deadline = time.monotonic() + settings.GENERATION_TIMEOUT_SECONDS
        while call("GET", status_url).get("status") != "COMPLETED":
            if time.monotonic() > deadline:
                raise ProviderError(f"{LABEL} took too long.", transient=True,
                                    code="provider_timeout")
            time.sleep(settings.GENERATION_POLL_SECONDS)
        output = call("GET", response_url)
        items = output.get("images") or []
        if len(items) != request.num_images:
            raise wrong_count(LABEL, len(items), request.num_images)
        nsfw = list(output.get("has_nsfw_concepts") or [])
        images = []
        for offset, item in enumerate(items):
            meta = {"provider_model": APP, "provider_request_id": request_id,
                    "negative_prompt_sent": False}
            if offset < len(nsfw) and nsfw[offset]:
                # Never downloaded, never stored: the slot is refunded.
                images.append(ProviderImage(b"", "", 0, 0, request.seed + offset,
                                            {**meta, "blocked": "content_flagged"}))
                continue
            data, declared = fetch(item["url"], LABEL)
            images.append(ProviderImage(
                data=data, content_type=content_type_of(data, item.get("content_type", "")
                                                        or declared),
                width=item.get("width") or request.width,
                height=item.get("height") or request.height,
                seed=request.seed + offset, metadata=meta))
        return images
