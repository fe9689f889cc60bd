"""What the fakes' upscalers and face restorers do to the image they are given: read it from
a `data:` URI (or a URL this fake itself serves), resize it with Pillow by the factor asked
(an upscaler's output really is that much larger) or sharpen it at its size (a face restore),
and encode the result as PNG, as Real-ESRGAN and CodeFormer answer."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageFilter


class BadInput(ValueError):
    """The image input is not an image the model could read."""


def read(uri: str, own_files: dict | None = None, own_url: str = "") -> Image.Image:
    try:
        if uri.startswith("data:"):
            header, _, payload = uri.partition(",")
            if ";base64" not in header:
                raise BadInput("only base64 data URIs are read")
            data = base64.b64decode(payload, validate=True)
        elif own_files is not None and own_url and uri.startswith(own_url):
            data = own_files[uri[len(own_url):]][0]
        else:
            raise BadInput(f"cannot fetch {uri[:60]!r} from the fake")
        with Image.open(io.BytesIO(data)) as picture:
            return picture.convert("RGB")
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"cannot identify image file: {exc}")


def run(picture: Image.Image, scale: float) -> bytes:
    """The picture `scale` times larger (1: the same size, sharpened), as PNG bytes."""
    if scale and scale != 1:
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.BICUBIC)
    picture = picture.filter(ImageFilter.SHARPEN)
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def replicate_run(fake, obj: dict, kind: str) -> None:
    """A Replicate prediction of Real-ESRGAN (`scale`, default 4) or CodeFormer (`upscale`,
    default 2) ends: one URL out, or failed with the model's error for an unreadable image."""
    inputs = obj["input"]
    scale = inputs.get("scale", 4) if kind == "real-esrgan" else inputs.get("upscale", 2)
    try:
        data = run(read(inputs["image"], fake._files, fake.url), scale)
    except BadInput as exc:
        return failed(obj, exc)
    obj["output"] = fake.serve_bytes("output.png", data, "image/png")
    obj["status"] = "succeeded"


def failed(obj: dict, exc: Exception) -> None:
    """A Replicate prediction ends failed with the model's error, as Cog reports it."""
    obj["status"], obj["error"] = "failed", str(exc)
    obj["logs"] += f"Exception: {exc}\n"
