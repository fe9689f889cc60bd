"""Replicate image generation through the official SDK (providers.replicate.client, pointed at
REPLICATE_BASE_URL). A personal model trained on Replicate runs as predictions on its trained
version; any other personal model runs on REPLICATE_LORA_MODEL with its weights URL. Outputs
are deleted by Replicate after about an hour: each is downloaded at once."""

import logging
import time

from django.conf import settings

from likeness.errors import ProviderError
from providers.interfaces import ImageProvider, ImageRequest, ProviderImage
from providers.replicate.client import classify, client
from providers.results import content_type_of, fetch, flagged, looks_flagged, wrong_count

logger = logging.getLogger(__name__)
LABEL = "Replicate"
MODELS = {
    "flux-schnell": "black-forest-labs/flux-schnell",
    "flux-dev": "black-forest-labs/flux-dev",
    "flux-pro": "black-forest-labs/flux-1.1-pro",
}
TERMINAL = ("succeeded", "failed", "canceled")


def _classified(exc: Exception, what: str) -> ProviderError:
    error = classify(exc, what)
    status = error.code.removeprefix("replicate_")
    if status in ("401", "403"):
        error = ProviderError(f"{LABEL} refused our API token.", transient=False,
                              code="provider_auth")
    elif status == "429":
        error.code = "rate_limited"
    elif not error.transient:
        error.code = "invalid_request"
    return error


class ReplicateProvider(ImageProvider):
    name = "replicate"
    label = LABEL

    def supports(self, request: ImageRequest) -> bool:
        if request.lora is not None:
            return bool(request.lora.replicate_version or request.lora.url)
        return request.base_model in MODELS

    def target(self, request: ImageRequest) -> tuple[str, str]:
        """("version", hash) or ("model", owner/name)."""
        lora = request.lora
        if lora and lora.replicate_version:
            return "version", lora.replicate_version.rsplit(":", 1)[-1]
        if lora:
            return "model", settings.REPLICATE_LORA_MODEL
        return "model", MODELS[request.base_model]

    def inputs(self, request: ImageRequest) -> dict:
        inputs = {"prompt": request.prompt, "aspect_ratio": request.aspect_ratio,
                  "num_outputs": request.num_images, "seed": request.seed,
                  "output_format": "jpg"}
        if request.base_model != "flux-pro" or request.lora:
            if request.steps:
                inputs["num_inference_steps"] = request.steps
            if request.guidance is not None:
                inputs["guidance_scale"] = request.guidance
        if request.lora:
            inputs["lora_scale"] = request.lora.scale
            if not request.lora.replicate_version:
                inputs["lora_weights"] = request.lora.url
        return inputs

    def generate(self, request: ImageRequest) -> list[ProviderImage]:
        kind, target = self.target(request)
        inputs = self.inputs(request)
        wait = max(1, min(60, int(settings.GENERATION_TIMEOUT_SECONDS)))
        try:
            api = client()
            if kind == "version":
                prediction = api.predictions.create(version=target, input=inputs, wait=wait)
            else:
                prediction = api.models.predictions.create(model=target, input=inputs,
                                                           wait=wait)
        except Exception as exc:
            raise _classified(exc, "starting the prediction")
        deadline = time.monotonic() + settings.GENERATION_TIMEOUT_SECONDS
        while prediction.status not in TERMINAL:
            if time.monotonic() > deadline:
                try:
                    prediction.cancel()
                except Exception as exc:  # noqa: BLE001 - best effort; it is abandoned
                    logger.warning("canceling prediction %s failed: %s", prediction.id, exc)
                raise ProviderError(f"{LABEL} took too long.", transient=True,
                                    code="provider_timeout")
            time.sleep(settings.GENERATION_POLL_SECONDS)
            try:
                prediction.reload()
            except Exception as exc:
                raise _classified(exc, "reading the prediction")
        if prediction.status != "succeeded":
            error = str(prediction.error or prediction.status)
            if looks_flagged(error):
                raise flagged(LABEL)
            # A run that failed at the provider (out of memory, a lost node) may well work
            # when asked again.
            raise ProviderError(f"{LABEL}'s prediction {prediction.status}: {error[:200]}",
                                transient=True, code="prediction_failed")
        output = prediction.output
        urls = [output] if isinstance(output, str) else list(output or [])
        if len(urls) != request.num_images:
            raise wrong_count(LABEL, len(urls), request.num_images)
        images = []
        for offset, url in enumerate(urls):
            data, declared = fetch(str(url), LABEL)
            images.append(ProviderImage(
                data=data, content_type=content_type_of(data, declared), width=request.width,
                height=request.height, seed=request.seed + offset,
                metadata={"provider_model": target if kind == "model" else
                          request.lora.replicate_version,
                          "provider_request_id": prediction.id,
                          "negative_prompt_sent": False}))
        return images
