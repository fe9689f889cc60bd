"""fal.ai's upscaling and face restore endpoints for the fal fake (docs/providers.md, "fal.ai"):
the inputs each takes (anything else is 422 `extra_forbidden`, as fal's pydantic models
answer), and the output `{"image": {url, width, height, content_type, file_name, file_size}}`.

- `fal-ai/esrgan`: `image_url` (required), `scale` 1-8 (2), `tile`, `face`, `model`,
  `output_format`.
- `fal-ai/codeformer`: `image_url` (required), `fidelity` 0-1 (0.5), `upscale_factor` (2),
  `aligned`, `only_center_face`, `face_upscale`, `seed`."""

from __future__ import annotations

from fakes import enhancers

ESRGAN_MODELS = ("RealESRGAN_x4plus", "RealESRGAN_x2plus", "RealESRGAN_x4plus_anime_6B",
                 "RealESRGAN_x4_v3", "RealESRGAN_x4_wdn_v3", "RealESRGAN_x4_anime_v3")
ENHANCE_APPS = {
    "fal-ai/esrgan": {"image_url", "scale", "tile", "face", "model", "output_format"},
    "fal-ai/codeformer": {"image_url", "fidelity", "upscale_factor", "aligned",
                          "only_center_face", "face_upscale", "seed"},
}


def _error(name: str, kind: str, msg: str) -> dict:
    return {"loc": ["body", name], "type": kind, "msg": msg}


def validate(app: str, data: dict) -> list:
    errors = [_error(name, "extra_forbidden", "Extra inputs are not permitted")
              for name in data if name not in ENHANCE_APPS[app]]
    if not isinstance(data.get("image_url"), str) or not data.get("image_url"):
        errors.append(_error("image_url", "missing", "Field required"))
    number = "scale" if app == "fal-ai/esrgan" else "upscale_factor"
    value = data.get(number, 2)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 8:
        errors.append(_error(number, "less_than_equal", "Input should be between 1 and 8"))
    fidelity = data.get("fidelity", 0.5)
    if isinstance(fidelity, bool) or not isinstance(fidelity, int | float) \
            or not 0 <= fidelity <= 1:
        errors.append(_error("fidelity", "less_than_equal", "Input should be between 0 and 1"))
    if data.get("model", ESRGAN_MODELS[0]) not in ESRGAN_MODELS:
        errors.append(_error("model", "enum", f"Input should be {', '.join(ESRGAN_MODELS)}"))
    return errors


def output(fake, job) -> tuple[int, dict, str | None]:
    """(HTTP status, body, error) of a run (a FalJob) on the input image."""
    app, data = job.app, job.input
    scale = data.get("scale", 2) if app == "fal-ai/esrgan" else data.get("upscale_factor", 2)
    try:
        picture = enhancers.read(data["image_url"], fake._files, fake.url)
    except enhancers.BadInput as exc:
        return 422, {"detail": [_error("image_url", "image_load_error", str(exc))]}, \
            "Invalid status code: 422"
    result = enhancers.run(picture, scale)
    width, height = round(picture.width * scale), round(picture.height * scale)
    url = fake.serve_bytes("output.png", result, "image/png")
    return 200, {"image": {"url": url, "width": width, "height": height,
                           "content_type": "image/png", "file_name": "output.png",
                           "file_size": len(result)}}, None
