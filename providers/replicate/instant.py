"""Instant mode at Replicate (docs/providers.md, "Instant mode"): PuLID on FLUX.1 [dev],
`zsxkib/flux-pulid` (REPLICATE_INSTANT_MODEL), draws the person of one reference photo without
a trained LoRA. A community model, so it runs by version (only official models run by name);
the photo goes inline as a data URI in `main_face_image`, as upscaling sends its image.

Inputs (the Cog predictor's, zsxkib/flux-pulid predict.py): `main_face_image` (required),
`prompt`, `negative_prompt`, `width` and `height` (256-1536), `num_steps` (1-20, default 20),
`start_step` (0-10), `guidance_scale` (1-10, default 4), `id_weight` (0-3, default 1), `seed`,
`true_cfg` (1-10, default 1), `max_sequence_length` (128-512), `output_format` (png, jpg, webp;
we send jpg), `output_quality`, `num_outputs` (1-4). The output is a list of URLs, image i drawn
with seed + i, each downloaded at once. A negative prompt only acts with true CFG above 1 (twice
the work), so neither is sent.

This model has no safety checker and no input for one: nothing is flagged here. The prompt
policy (generation.policy, before anything is sent) is the guard; an operator who wants a
provider's checker on every image routes instant mode to fal.ai, whose endpoint has one."""

from django.conf import settings

from providers import pulid
from providers.interfaces import INSTANT, ImageRequest, ProviderImage
from providers.results import data_uri, wrong_count

LABEL = "Replicate"
SIDES = (256, 1536)  # the predictor's range for width and height


def side(value: int) -> int:
    return max(SIDES[0], min(int(value), SIDES[1]))


def catalogue() -> dict[str, str]:
    """The live catalogue's key -> the model (owner/name, without the version) it asks about."""
    return {INSTANT: settings.REPLICATE_INSTANT_MODEL.split(":", 1)[0]}


def inputs_for(request: ImageRequest) -> dict:
    reference = request.reference
    inputs = {"main_face_image": data_uri(reference.data, reference.content_type),
              "prompt": request.prompt, "width": side(request.width),
              "height": side(request.height),
              "num_steps": pulid.steps(request), "seed": request.seed,
              "id_weight": pulid.id_weight(request),
              "max_sequence_length": pulid.MAX_SEQUENCE_LENGTH, "output_format": "jpg",
              "num_outputs": request.num_images}
    if (guidance := pulid.guidance(request)) is not None:
        inputs["guidance_scale"] = guidance
    return inputs


def instant(provider, request: ImageRequest) -> list[ProviderImage]:
    """One prediction of `num_outputs` images, through the provider's own prediction calls
    (their errors' classification, the polling); `provider` is a ReplicateProvider."""
    pulid.require_reference(request)
    model = settings.REPLICATE_INSTANT_MODEL
    inputs = inputs_for(request)
    prediction = provider._finished(provider._start("version", model.rsplit(":", 1)[-1],
                                                    inputs))
    output = prediction.output
    urls = [output] if isinstance(output, str) else list(output or [])
    if len(urls) != request.num_images:
        raise wrong_count(LABEL, len(urls), request.num_images)
    meta = {"provider_model": model, "provider_request_id": prediction.id,
            "negative_prompt_sent": False, "steps_sent": inputs["num_steps"],
            "id_weight": inputs["id_weight"]}
    return provider._downloaded(urls, meta, width=inputs["width"], height=inputs["height"],
                                seed=request.seed)
