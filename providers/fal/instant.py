"""Instant mode on fal.ai's queue (docs/providers.md, "Instant mode"): PuLID on FLUX.1 [dev],
`fal-ai/flux-pulid`, draws the person of one reference photo without a trained LoRA. The photo
goes inline as a data URI in `reference_image_url`, as upscaling sends its image.

Inputs (fal's published schema): `prompt` and `reference_image_url` (required), `image_size`
({width, height}), `num_inference_steps` (20), `seed`, `guidance_scale` (4), `negative_prompt`,
`start_step` (0), `true_cfg` (1), `id_weight` (1), `enable_safety_checker` (sent true, always),
`max_sequence_length` ("128", "256", "512"), `sync_mode`. The output is FLUX's own: `{images:
[{url, width, height, content_type}], seed, has_nsfw_concepts, prompt, timings}`. The endpoint
takes no `num_images`: N images are N requests, seeds seed, seed + 1, …, all submitted before
the first is awaited. A negative prompt only acts with true CFG above 1 (twice the work), so
neither is sent."""

from providers import pulid
from providers.interfaces import INSTANT, ImageRequest, ProviderImage
from providers.results import data_uri, wrong_count

LABEL = "fal.ai"
ENDPOINT = "fal-ai/flux-pulid"
CATALOGUE = {INSTANT: ENDPOINT}  # the live catalogue's key -> the endpoint it asks about


def body_for(request: ImageRequest, seed: int) -> dict:
    reference = request.reference
    body = {"prompt": request.prompt,
            "reference_image_url": data_uri(reference.data, reference.content_type),
            "image_size": {"width": request.width, "height": request.height},
            "num_inference_steps": pulid.steps(request), "seed": seed,
            "id_weight": pulid.id_weight(request), "enable_safety_checker": True,
            "max_sequence_length": str(pulid.MAX_SEQUENCE_LENGTH)}
    if (guidance := pulid.guidance(request)) is not None:
        body["guidance_scale"] = guidance
    return body


def instant(provider, request: ImageRequest) -> list[ProviderImage]:
    """Through the provider's own submit, wait and downloads; `provider` is a FalProvider. A
    flagged image comes back blocked, as generate() reports it."""
    pulid.require_reference(request)
    seeds = [request.seed + offset for offset in range(request.num_images)]
    submitted = [provider.submit(ENDPOINT, body_for(request, seed)) for seed in seeds]
    images = []
    for seed, job in zip(seeds, submitted, strict=True):
        output = provider.wait(job)
        items = output.get("images") or []
        if len(items) != 1:
            raise wrong_count(LABEL, len(items), 1)
        nsfw = list(output.get("has_nsfw_concepts") or [])
        meta = {"provider_model": ENDPOINT, "provider_request_id": job["request_id"],
                "negative_prompt_sent": False, "id_weight": pulid.id_weight(request)}
        images.append(provider.picture(items[0], blocked=bool(nsfw and nsfw[0]), seed=seed,
                                       meta=meta, width=request.width, height=request.height))
    return images
