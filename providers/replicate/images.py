"""Replicate image generation through the official SDK (providers.replicate.client, pointed at
REPLICATE_BASE_URL). A personal model trained on Replicate runs as predictions on its trained
version; any other personal model runs on REPLICATE_LORA_MODEL with its weights URL. Outputs
are deleted by Replicate after about an hour: each is downloaded at once. Instant mode runs on
REPLICATE_INSTANT_MODEL (providers.replicate.instant), upscaling and face restore on their own
community models (providers.replicate.enhance)."""

import logging
import time
from dataclasses import dataclass

from django.conf import settings

from likeness.errors import ProviderError
from providers.interfaces import PERSONAL, ImageProvider, ImageRequest, ModelCheck, ProviderImage
from providers.replicate import enhance, instant
from providers.replicate.client import classify, client
from providers.results import content_type_of, fetch, flagged, looks_flagged, wrong_count

logger = logging.getLogger(__name__)
LABEL = "Replicate"
TERMINAL = ("succeeded", "failed", "canceled")


@dataclass(frozen=True)
class Takes:
    """What a Replicate model takes (docs/providers.md): its steps' ceiling (0: none), the name
    of its guidance input (cog-flux's official models call it `guidance`, trained versions
    `guidance_scale`), whether it makes several images per prediction, and whether it takes
    `disable_safety_checker` (the pro models take `safety_tolerance` instead, left at its
    default)."""

    max_steps: int
    guidance: str = ""
    several: bool = True
    safety_switch: bool = True


MODELS = {
    "flux-schnell": ("black-forest-labs/flux-schnell", Takes(4)),
    "flux-dev": ("black-forest-labs/flux-dev", Takes(50, "guidance")),
    "flux-pro": ("black-forest-labs/flux-1.1-pro", Takes(0, several=False, safety_switch=False)),
    "flux-2-dev": ("black-forest-labs/flux-2-dev", Takes(0, several=False)),
    "flux-2-pro": ("black-forest-labs/flux-2-pro", Takes(0, several=False, safety_switch=False)),
}
LORA_MODEL_TAKES = Takes(50, "guidance")  # black-forest-labs/flux-dev-lora
TRAINED_TAKES = Takes(50, "guidance_scale")  # a version made by ostris/flux-dev-lora-trainer
# What Replicate answers for a model or version it does not (or no longer) serve.
UNAVAILABLE = ("could not be found", "invalid version", "version does not exist")


def _classified(exc: Exception, what: str) -> ProviderError:
    error = classify(exc, what)
    status = error.code.removeprefix("replicate_")
    if status in ("401", "403"):
        error = ProviderError(f"{LABEL} refused our API token.", transient=False,
                              code="provider_auth")
    elif status == "429":
        error.code = "rate_limited"
    elif status in ("404", "422") and any(t in str(error).lower() for t in UNAVAILABLE):
        error.code = "model_unavailable"  # retired or unknown: the next provider may serve it
    elif not error.transient:
        error.code = "invalid_request"
    return error


class ReplicateProvider(ImageProvider):
    name = "replicate"
    label = LABEL
    operations = enhance.OPERATIONS
    offers_instant = True  # zsxkib/flux-pulid (providers.replicate.instant)

    def enhance(self, request) -> ProviderImage:
        return enhance.enhance(self, request)

    def instant(self, request: ImageRequest) -> list[ProviderImage]:
        return instant.instant(self, request)

    def supports(self, request: ImageRequest) -> bool:
        if request.lora is not None:
            return bool(request.lora.replicate_version or request.lora.url)
        return request.base_model in MODELS

    def check_models(self, models: list[str]) -> list[ModelCheck]:
        """Replicate answers per model: `GET /v1/models/{owner}/{name}` (404: not served)."""
        api, checks = client(), []
        for model in models:
            named = {PERSONAL: settings.REPLICATE_LORA_MODEL, **instant.catalogue()}
            name = named.get(model) or MODELS.get(model, ("",))[0]
            if not name:
                checks.append(ModelCheck(model, "", False, "not offered by this adapter"))
                continue
            try:
                found = api.models.get(name)
            except Exception as exc:
                error = classify(exc, f"looking up {name}")
                if error.status != 404:
                    raise error
                checks.append(ModelCheck(model, name, False, "not found"))
                continue
            if found.latest_version is None:
                checks.append(ModelCheck(model, name, False, "has no version to run"))
            else:
                checks.append(ModelCheck(model, name, True, "found"))
        return checks

    def target(self, request: ImageRequest) -> tuple[str, str, Takes]:
        """("version", hash, takes) or ("model", owner/name, takes)."""
        lora = request.lora
        if lora and lora.replicate_version:
            return "version", lora.replicate_version.rsplit(":", 1)[-1], TRAINED_TAKES
        if lora:
            return "model", settings.REPLICATE_LORA_MODEL, LORA_MODEL_TAKES
        return ("model", *MODELS[request.base_model])

    def inputs(self, request: ImageRequest, takes: Takes) -> dict:
        inputs = {"prompt": request.prompt, "aspect_ratio": request.aspect_ratio,
                  "seed": request.seed, "output_format": "jpg"}
        if takes.safety_switch:
            # Sent, not left to the default: the checker is on for every request, always.
            inputs["disable_safety_checker"] = False
        if takes.several:
            inputs["num_outputs"] = request.num_images
        if request.steps and takes.max_steps:
            # FLUX.1 schnell on Replicate stops at 4 steps: more is clamped, not refused.
            inputs["num_inference_steps"] = min(request.steps, takes.max_steps)
        if request.guidance is not None and takes.guidance:
            inputs[takes.guidance] = request.guidance
        if request.lora:
            inputs["lora_scale"] = request.lora.scale
            if not request.lora.replicate_version:
                inputs["lora_weights"] = request.lora.url
        return inputs

    def generate(self, request: ImageRequest) -> list[ProviderImage]:
        kind, target, takes = self.target(request)
        inputs = self.inputs(request, takes)
        prediction = self._finished(self._start(kind, target, inputs))
        output = prediction.output
        urls = [output] if isinstance(output, str) else list(output or [])
        if len(urls) != request.num_images:
            raise wrong_count(LABEL, len(urls), request.num_images)
        meta = {"provider_model": target if kind == "model" else request.lora.replicate_version,
                "provider_request_id": prediction.id, "negative_prompt_sent": False,
                "steps_sent": inputs.get("num_inference_steps")}
        return self._downloaded(urls, meta, width=request.width, height=request.height,
                                seed=request.seed)

    def _downloaded(self, urls: list, meta: dict, *, width: int, height: int,
                    seed: int) -> list[ProviderImage]:
        """Each output URL downloaded at once (Replicate deletes outputs); image i was drawn
        with seed + i."""
        images = []
        for offset, url in enumerate(urls):
            data, declared = fetch(str(url), LABEL)
            images.append(ProviderImage(
                data=data, content_type=content_type_of(data, declared), width=width,
                height=height, seed=seed + offset, metadata=dict(meta)))
        return images

    def _start(self, kind: str, target: str, inputs: dict):
        wait = max(1, min(60, int(settings.GENERATION_TIMEOUT_SECONDS)))
        try:
            api = client()
            if kind == "version":
                return api.predictions.create(version=target, input=inputs, wait=wait)
            return api.models.predictions.create(model=target, input=inputs, wait=wait)
        except Exception as exc:
            raise _classified(exc, "starting the prediction")

    def _finished(self, prediction):
        """The prediction once it has ended well; ProviderError otherwise."""
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
        return prediction
