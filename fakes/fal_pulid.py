"""fal.ai's `fal-ai/flux-pulid` (instant mode: PuLID on FLUX.1 [dev]) for the fal fake: the
inputs its published schema takes (anything else is 422 `extra_forbidden`, as fal's pydantic
models answer; `prompt` and `reference_image_url` are required), values in the ranges of
PuLID's own predictor, and the standard FLUX output `{"images": [{url, width, height,
content_type}], "seed", "has_nsfw_concepts", "prompt", "timings"}`. It takes no `num_images`:
one image a request. The picture holds the reference photo (fakes/pulid.py); a flagged one is
black with `has_nsfw_concepts: [true]`, as fal answers."""

from __future__ import annotations

import random

from fakes import enhancers, pulid
from fakes.fal_enhance import _error
from fakes.fal_state import IMAGE_SIZES
from fakes.images import black_image

APP = "fal-ai/flux-pulid"
INPUTS = {"prompt", "reference_image_url", "image_size", "num_inference_steps", "seed",
          "guidance_scale", "negative_prompt", "start_step", "true_cfg", "id_weight",
          "enable_safety_checker", "max_sequence_length", "sync_mode"}
# name -> (integer only, lowest, highest)
RANGES = {"num_inference_steps": (True, 1, 20), "start_step": (True, 0, 10),
          "guidance_scale": (False, 1, 10), "true_cfg": (False, 1, 10),
          "id_weight": (False, 0, 3), "seed": (True, 0, 2**63 - 1)}
SEQUENCE_LENGTHS = ("128", "256", "512")


def _out_of_range(name: str, value) -> bool:
    integer, low, high = RANGES[name]
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
        return True
    return not low <= value <= high


def validate(app: str, data: dict) -> list:
    errors = [_error(name, "extra_forbidden", "Extra inputs are not permitted")
              for name in data if name not in INPUTS]
    for name in ("prompt", "reference_image_url"):
        if not isinstance(data.get(name), str) or not data.get(name):
            errors.append(_error(name, "missing", "Field required"))
    size = data.get("image_size", "landscape_4_3")
    if isinstance(size, dict):
        if set(size) != {"width", "height"} or any(
                isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 14142
                for v in size.values()):
            errors.append(_error("image_size", "int_type", "Input should be a valid integer"))
    elif size not in IMAGE_SIZES:
        errors.append(_error("image_size", "enum", f"Input should be {', '.join(IMAGE_SIZES)}"))
    errors += [_error(name, "less_than_equal", f"Input should be between {RANGES[name][1]} "
                      f"and {RANGES[name][2]}")
               for name in RANGES if name in data and _out_of_range(name, data[name])]
    if data.get("max_sequence_length", "128") not in SEQUENCE_LENGTHS:
        errors.append(_error("max_sequence_length", "enum", "Input should be '128', '256' or "
                             "'512'"))
    for name in ("enable_safety_checker", "sync_mode"):
        if name in data and not isinstance(data[name], bool):
            errors.append(_error(name, "bool_type", "Input should be a valid boolean"))
    return errors


def output(fake, job) -> tuple[int, dict, str | None]:
    """(HTTP status, body, error) of a run: one picture with the reference in it."""
    data = job.input
    try:
        reference = enhancers.read(data["reference_image_url"], fake._files, fake.url)
    except enhancers.BadInput as exc:
        return 422, {"detail": [_error("reference_image_url", "image_load_error", str(exc))]}, \
            "Invalid status code: 422"
    size = data.get("image_size", "landscape_4_3")
    width, height = (size["width"], size["height"]) if isinstance(size, dict) \
        else IMAGE_SIZES[size]
    seed = data["seed"] if isinstance(data.get("seed"), int) else random.randrange(2**31)
    if job.nsfw:
        raw, w, h, ctype = black_image(width, height, max_pixels=fake.image_max_pixels)
    else:
        raw, w, h, ctype = pulid.draw(reference, width, height, seed,
                                      max_pixels=fake.image_max_pixels)
    url = fake.serve_bytes("image-0.jpg", raw, ctype)
    return 200, {"images": [{"url": url, "width": w, "height": h, "content_type": ctype}],
                 "seed": seed, "has_nsfw_concepts": [job.nsfw], "prompt": data.get("prompt"),
                 "timings": {"inference": round(job.duration, 3)}}, None
