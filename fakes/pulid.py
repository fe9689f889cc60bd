"""What the fakes' PuLID (instant mode: a person from one photo, on FLUX.1 [dev]) draws: the
reference photo it is given, read from its `data:` URI (fakes.enhancers.read), resized into
the centre of a seed-dependent background of the size asked. The picture really contains the
reference, so a likeness score downstream measures something, and each seed draws another
background. Shared by fal's `fal-ai/flux-pulid` (fakes/fal_pulid.py) and Replicate's
`zsxkib/flux-pulid` (run here, `replicate_run`)."""

from __future__ import annotations

import io
import random

from PIL import Image

from fakes import enhancers
from fakes.images import FORMATS, backdrop, fit

# The share of each side of the picture the reference photo takes, centred.
FACE_SHARE = 0.5
# The Cog predictor's defaults (zsxkib/flux-pulid predict.py) when no size is asked.
DEFAULT_WIDTH, DEFAULT_HEIGHT = 896, 1152


def draw(reference: Image.Image, width: int, height: int, seed: int, fmt: str = "jpeg", *,
         max_pixels: int = 1_200_000) -> tuple[bytes, int, int, str]:
    """(bytes, width, height, content type) of the picture: the reference in the centre of a
    smooth background drawn from `seed`."""
    pil_format, content_type, options = FORMATS.get((fmt or "jpeg").lower(), FORMATS["jpeg"])
    w, h = fit(width, height, max_pixels)
    canvas = backdrop(w, h, random.Random(f"pulid:{seed}"), cells=4)
    scale = min(w * FACE_SHARE / reference.width, h * FACE_SHARE / reference.height)
    face = reference.resize((max(1, round(reference.width * scale)),
                             max(1, round(reference.height * scale))),
                            Image.Resampling.BICUBIC)
    canvas.paste(face, ((w - face.width) // 2, (h - face.height) // 2))
    out = io.BytesIO()
    canvas.save(out, pil_format, **options)
    return out.getvalue(), w, h, content_type


def replicate_run(fake, obj: dict, seed: int) -> None:
    """A Replicate prediction of zsxkib/flux-pulid ends: a list of `num_outputs` URLs, image i
    drawn with seed + i, or failed with the model's error for an unreadable face image."""
    inputs = obj["input"]
    try:
        reference = enhancers.read(inputs["main_face_image"], fake._files, fake.url)
    except enhancers.BadInput as exc:
        return enhancers.failed(obj, exc)
    fmt = inputs.get("output_format", "webp")
    width, height = inputs.get("width", DEFAULT_WIDTH), inputs.get("height", DEFAULT_HEIGHT)
    urls = []
    for index in range(int(inputs.get("num_outputs", 1))):
        data, _, _, content_type = draw(reference, width, height, seed + index, fmt,
                                        max_pixels=fake.image_max_pixels)
        urls.append(fake.serve_bytes(f"out-{index}.{fmt}", data, content_type))
    obj["output"] = urls
    obj["status"] = "succeeded"
