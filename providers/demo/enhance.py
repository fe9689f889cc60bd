"""The demo provider's upscaling and face restore, offline: a Lanczos resize (with a light
unsharp mask, as an upscaler sharpens) and, for a face restore, a sharpening of the picture at
its own size. No model runs: the result says so in its metadata, like every demo image."""

import io

from PIL import Image, ImageFilter

from likeness.errors import ProviderError
from providers.interfaces import FACE_RESTORE, UPSCALE, EnhanceRequest, ProviderImage

OPERATIONS = (UPSCALE, FACE_RESTORE)  # what this provider does to an existing image
LABEL = "Likeness demo output - resized offline, not an AI upscaler"


def enhance(request: EnhanceRequest) -> ProviderImage:
    try:
        with Image.open(io.BytesIO(request.data)) as source:
            picture = source.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError(f"The demo provider could not read the image: {exc}",
                            transient=False, code="invalid_request")
    if request.operation == UPSCALE:
        size = (picture.width * request.scale, picture.height * request.scale)
        picture = picture.resize(size, Image.Resampling.LANCZOS)
        picture = picture.filter(ImageFilter.UnsharpMask(radius=2, percent=60, threshold=2))
    elif request.operation == FACE_RESTORE:
        picture = picture.filter(ImageFilter.UnsharpMask(radius=3, percent=90, threshold=1))
    else:
        raise ProviderError(f"The demo provider cannot {request.operation}.", transient=False,
                            code="unsupported")
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=3)
    return ProviderImage(data=out.getvalue(), content_type="image/png", width=picture.width,
                         height=picture.height, seed=request.seed,
                         metadata={"demo": True, "label": LABEL})
