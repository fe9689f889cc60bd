"""fal.ai image generation through fal's queue API (FAL_QUEUE_URL, like the trainer): FLUX.1 [dev]
and personal models on `fal-ai/flux-lora`, FLUX.2 on `fal-ai/flux-2` and `fal-ai/flux-2-pro`:
submit, poll the status URL, read the result, download each image at once. Personal models go as
`loras=[{path, scale}]`. fal answers a flagged image with a black picture and `has_nsfw_concepts`;
such an image is reported blocked. Instant mode runs on `fal-ai/flux-pulid` (providers.fal.instant),
upscaling and face restore on their own endpoints (providers.fal.enhance)."""

import time

from django.conf import settings

from likeness.errors import ProviderError
from providers.fal import enhance, instant
from providers.fal.client import LABEL, app_url, completed_error, request
from providers.interfaces import PERSONAL, ImageProvider, ImageRequest, ModelCheck, ProviderImage
from providers.results import content_type_of, fetch, flagged, looks_flagged, wrong_count

APP = "fal-ai/flux-lora"  # FLUX.1 [dev] with any LoRAs (none: plain dev)
# Our base model -> its fal endpoint and whether that takes steps, guidance and num_images.
MODELS = {"flux-dev": (APP, True), "flux-2-dev": ("fal-ai/flux-2", True),
          "flux-2-pro": ("fal-ai/flux-2-pro", False)}


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
    operations = enhance.OPERATIONS
    multi_lora = True  # fal-ai/flux-lora: `loras` is a list, merged in one pass
    offers_instant = True  # fal-ai/flux-pulid (providers.fal.instant)

    def enhance(self, request) -> ProviderImage:
        return enhance.enhance(self, request)

    def instant(self, request: ImageRequest) -> list[ProviderImage]:
        return instant.instant(self, request)

    def supports(self, request: ImageRequest) -> bool:
        if request.lora is not None:
            return all(lora.url for lora in request.loras)
        return request.base_model in MODELS

    def check_models(self, models: list[str]) -> list[ModelCheck]:
        """fal's platform API answers per endpoint id (`GET /v1/models?endpoint_id=...`)."""
        named = {PERSONAL: APP, **instant.CATALOGUE}
        ours = {model: named.get(model) or MODELS.get(model, ("",))[0] for model in models}
        wanted = sorted({endpoint for endpoint in ours.values() if endpoint})
        answer = call("GET", f"{settings.FAL_API_URL}/v1/models",
                      params=[("endpoint_id", endpoint) for endpoint in wanted]) if wanted else {}
        status = {item.get("endpoint_id"): (item.get("metadata") or {}).get("status", "active")
                  for item in answer.get("models") or [] if isinstance(item, dict)}
        checks = []
        for model, endpoint in ours.items():
            if not endpoint:
                checks.append(ModelCheck(model, "", False, "not offered by this adapter"))
            elif endpoint not in status:
                checks.append(ModelCheck(model, endpoint, False, "not found"))
            else:
                checks.append(ModelCheck(model, endpoint, status[endpoint] == "active",
                                         status[endpoint]))
        return checks

    def endpoint(self, request: ImageRequest) -> tuple[str, bool]:
        return (APP, True) if request.lora else MODELS[request.base_model]

    def body(self, request: ImageRequest) -> dict:
        endpoint, tunable = self.endpoint(request)
        body = {"prompt": request.prompt,
                "image_size": {"width": request.width, "height": request.height},
                "seed": request.seed, "enable_safety_checker": True, "output_format": "jpeg"}
        if tunable:
            body["num_images"] = request.num_images
            if request.steps:
                body["num_inference_steps"] = request.steps
            if request.guidance is not None:
                body["guidance_scale"] = request.guidance
        if request.lora:
            body["loras"] = [{"path": lora.url, "scale": lora.scale} for lora in request.loras]
        return body

    def submit(self, endpoint: str, body: dict) -> dict:
        try:
            submitted = call("POST", app_url(endpoint), json=body)
        except ProviderError as exc:
            if exc.status == 404:  # no such application (model), or not any more
                raise ProviderError(f"{LABEL} does not serve {endpoint}.", transient=False,
                                    code="model_unavailable")
            raise
        request_id = submitted.get("request_id")
        if not request_id:
            raise ProviderError(f"{LABEL} did not return a request id.", transient=True,
                                code="malformed_response")
        # fal names the URLs to use; they drop the endpoint's sub-path (fal-ai/flux-2/lora ->
        # fal-ai/flux-2/requests/...), so a missing one is made the same way.
        base = "/".join(endpoint.split("/")[:2])
        submitted.setdefault("status_url", app_url(base, "requests", request_id, "status"))
        submitted.setdefault("response_url", app_url(base, "requests", request_id))
        return submitted

    def wait(self, submitted: dict) -> dict:
        """Poll the request's own status URL until it completes; its output."""
        deadline = time.monotonic() + settings.GENERATION_TIMEOUT_SECONDS
        while (status := call("GET", submitted["status_url"])).get("status") != "COMPLETED":
            if time.monotonic() > deadline:
                raise ProviderError(f"{LABEL} took too long.", transient=True,
                                    code="provider_timeout")
            time.sleep(settings.GENERATION_POLL_SECONDS)
        failure = completed_error(status)
        if failure is not None:
            if looks_flagged(failure.message):
                raise flagged(LABEL)
            raise failure
        return call("GET", submitted["response_url"])

    def generate(self, request: ImageRequest) -> list[ProviderImage]:
        endpoint, _ = self.endpoint(request)
        submitted = self.submit(endpoint, self.body(request))
        request_id = submitted["request_id"]
        output = self.wait(submitted)
        items = output.get("images") or []
        if len(items) != request.num_images:
            raise wrong_count(LABEL, len(items), request.num_images)
        nsfw = list(output.get("has_nsfw_concepts") or [])
        meta = {"provider_model": endpoint, "provider_request_id": request_id,
                "negative_prompt_sent": False}
        return [self.picture(item, blocked=offset < len(nsfw) and bool(nsfw[offset]),
                             seed=request.seed + offset, meta=dict(meta), width=request.width,
                             height=request.height)
                for offset, item in enumerate(items)]

    def picture(self, item: dict, *, blocked: bool, seed: int, meta: dict, width: int,
                height: int) -> ProviderImage:
        """One image of fal's FLUX output, downloaded; a flagged one (`has_nsfw_concepts`) is
        never downloaded, never stored, and comes back blocked: its slot is refunded."""
        if blocked:
            return ProviderImage(b"", "", 0, 0, seed, {**meta, "blocked": "content_flagged"})
        data, declared = fetch(item["url"], LABEL)
        return ProviderImage(
            data=data, content_type=content_type_of(data, item.get("content_type", "")
                                                    or declared),
            width=item.get("width") or width, height=item.get("height") or height, seed=seed,
            metadata=meta)
