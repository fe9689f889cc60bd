"""Upscaling and face restore at Replicate: community models run by version (they are not
official models, which alone run by name), the source image sent inline as a data URI, and
the one URL each answers with downloaded at once (docs/providers.md, "Replicate").

- `nightmareai/real-esrgan` (REPLICATE_UPSCALE_MODEL): `image`, `scale` (0-10), `face_enhance`.
- `sczhou/codeformer` (REPLICATE_FACE_RESTORE_MODEL): `image`, `codeformer_fidelity` (0-1),
  `upscale` (the final scale; 1 keeps the size), `face_upsample`, `background_enhance`."""

from django.conf import settings

from providers.interfaces import FACE_RESTORE, UPSCALE, EnhanceRequest, ProviderImage
from providers.results import content_type_of, data_uri, fetch, wrong_count

OPERATIONS = (UPSCALE, FACE_RESTORE)  # what this provider does to an existing image
LABEL = "Replicate"
# CodeFormer's balance of quality (0) and fidelity to the input (1): towards fidelity, so the
# restored face stays the customer's (and keeps its likeness score).
CODEFORMER_FIDELITY = 0.7


def model_for(operation: str) -> str:
    return (settings.REPLICATE_UPSCALE_MODEL if operation == UPSCALE
            else settings.REPLICATE_FACE_RESTORE_MODEL)


def inputs_for(request: EnhanceRequest) -> dict:
    image = data_uri(request.data, request.content_type)
    if request.operation == UPSCALE:
        return {"image": image, "scale": request.scale, "face_enhance": False}
    if request.operation == FACE_RESTORE:
        return {"image": image, "codeformer_fidelity": CODEFORMER_FIDELITY, "upscale": 1,
                "face_upsample": True, "background_enhance": False}
    raise ValueError(f"unknown operation {request.operation!r}")


def enhance(provider, request: EnhanceRequest) -> ProviderImage:
    """Through the provider's own prediction calls (its retries' classification, its
    polling); `provider` is a ReplicateProvider."""
    model = model_for(request.operation)
    version = model.rsplit(":", 1)[-1]
    prediction = provider._finished(provider._start("version", version, inputs_for(request)))
    output = prediction.output
    urls = [output] if isinstance(output, str) else list(output or [])
    if len(urls) != 1:
        raise wrong_count(LABEL, len(urls), 1)
    data, declared = fetch(str(urls[0]), LABEL)
    return ProviderImage(data=data, content_type=content_type_of(data, declared),
                         width=request.width * request.scale,
                         height=request.height * request.scale, seed=request.seed,
                         metadata={"provider_model": model,
                                   "provider_request_id": prediction.id})
