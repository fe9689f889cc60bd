"""Upscaling and face restore on fal.ai's queue (docs/providers.md, "fal.ai"): the source
image goes inline as a data URI in `image_url`; each endpoint answers `{"image": {url, width,
height, content_type, …}}`, downloaded at once.

- `fal-ai/esrgan`: `image_url`, `scale` (1-8), `model` (`RealESRGAN_x4plus`, …), `face`.
- `fal-ai/codeformer`: `image_url`, `fidelity`, `upscale_factor` (1 keeps the size),
  `face_upscale`, `aligned`, `only_center_face`, `seed`."""

from likeness.errors import ProviderError
from providers.interfaces import FACE_RESTORE, UPSCALE, EnhanceRequest, ProviderImage
from providers.results import content_type_of, data_uri, fetch

OPERATIONS = (UPSCALE, FACE_RESTORE)  # what this provider does to an existing image
LABEL = "fal.ai"
ENDPOINTS = {UPSCALE: "fal-ai/esrgan", FACE_RESTORE: "fal-ai/codeformer"}
FIDELITY = 0.7  # as at Replicate (providers.replicate.enhance): the face stays the customer's


def body_for(request: EnhanceRequest) -> dict:
    image = data_uri(request.data, request.content_type)
    if request.operation == UPSCALE:
        return {"image_url": image, "scale": request.scale, "model": "RealESRGAN_x4plus",
                "face": False}
    return {"image_url": image, "fidelity": FIDELITY, "upscale_factor": 1,
            "face_upscale": True, "seed": request.seed}


def enhance(provider, request: EnhanceRequest) -> ProviderImage:
    """Through the provider's own submit and wait; `provider` is a FalProvider."""
    endpoint = ENDPOINTS[request.operation]
    submitted = provider.submit(endpoint, body_for(request))
    output = provider.wait(submitted)
    item = output.get("image")
    if not isinstance(item, dict) or not item.get("url"):
        raise ProviderError(f"{LABEL} returned no image.", transient=True,
                            code="malformed_response")
    data, declared = fetch(item["url"], LABEL)
    return ProviderImage(
        data=data, content_type=content_type_of(data, item.get("content_type", "") or declared),
        width=item.get("width") or request.width * request.scale,
        height=item.get("height") or request.height * request.scale, seed=request.seed,
        metadata={"provider_model": endpoint, "provider_request_id": submitted["request_id"]})
