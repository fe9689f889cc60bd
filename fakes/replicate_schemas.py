"""The input schemas of the Replicate models Likeness runs, as their Cog code declares them
(docs/providers.md, "Replicate"): the official FLUX.1 models (Replicate's cog-flux), FLUX1.1
[pro], FLUX.2 and the versions ostris/flux-dev-lora-trainer makes. The fake refuses what a
strict schema refuses -- an unknown input, a wrong type, a value out of range -- with
Replicate's 422 problem+json, so a wrong field name (`guidance_scale` where the model takes
`guidance`) fails in the tests instead of being silently dropped as the real Cog models do."""

from __future__ import annotations

ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")


def _int(low, high):
    return ("integer", low, high)


def _num(low, high):
    return ("number", low, high)


def _enum(*values):
    return ("enum", values)


STRING, URI, BOOL, ANY_INT = ("string",), ("uri",), ("boolean",), ("integer", None, None)

COMMON = {
    "prompt": STRING, "aspect_ratio": _enum(*ASPECT_RATIOS), "megapixels": _enum("1", "0.25"),
    "num_outputs": _int(1, 4), "seed": ANY_INT, "output_format": _enum("webp", "jpg", "png"),
    "output_quality": _int(0, 100), "disable_safety_checker": BOOL, "go_fast": BOOL,
}
SIZED = {"aspect_ratio": _enum(*ASPECT_RATIOS, "custom"), "width": _int(256, 1440),
         "height": _int(256, 1440)}
SCHEMAS: dict[str, dict] = {
    "flux-schnell": {**COMMON, "num_inference_steps": _int(1, 4)},
    "flux-dev": {**COMMON, "num_inference_steps": _int(1, 50), "guidance": _num(0, 10),
                 "image": URI, "prompt_strength": _num(0, 1)},
    "flux-dev-lora": {**COMMON, "num_inference_steps": _int(1, 50), "guidance": _num(0, 10),
                      "image": URI, "prompt_strength": _num(0, 1), "lora_weights": STRING,
                      "lora_scale": _num(-1, 3)},
    "flux-1.1-pro": {"prompt": STRING, **SIZED, "seed": ANY_INT,
                     "output_format": _enum("webp", "jpg", "png"), "output_quality": _int(0, 100),
                     "safety_tolerance": _int(1, 6), "prompt_upsampling": BOOL,
                     "image_prompt": URI},
    "flux-2-pro": {"prompt": STRING, "input_images": ("array",),
                   "aspect_ratio": _enum(*ASPECT_RATIOS, "custom", "match_input_image"),
                   "resolution": _enum("0.5 MP", "1 MP", "2 MP", "4 MP", "match_input_image"),
                   "width": _int(256, 2048), "height": _int(256, 2048),
                   "safety_tolerance": _int(1, 5), "seed": ANY_INT,
                   "output_format": _enum("webp", "jpg", "png"), "output_quality": _int(0, 100)},
    "flux-2-dev": {"prompt": STRING, "input_images": ("array",),
                   "aspect_ratio": _enum(*ASPECT_RATIOS, "custom", "match_input_image"),
                   "width": _int(256, 1440), "height": _int(256, 1440), "go_fast": BOOL,
                   "seed": ANY_INT, "output_format": _enum("webp", "jpg", "png"),
                   "output_quality": _int(0, 100), "disable_safety_checker": BOOL},
    # Community models run by version (nightmareai/real-esrgan, sczhou/codeformer): their Cog
    # predictors' inputs, `image` required.
    "real-esrgan": {"image": URI, "scale": _num(0, 10), "face_enhance": BOOL},
    "codeformer": {"image": URI, "codeformer_fidelity": _num(0, 1), "background_enhance": BOOL,
                   "face_upsample": BOOL, "upscale": ANY_INT},
    # zsxkib/flux-pulid (instant mode): its Cog predictor's inputs, `main_face_image` required;
    # there is no safety-checker input.
    "pulid": {"main_face_image": URI, "prompt": STRING, "negative_prompt": STRING,
              "width": _int(256, 1536), "height": _int(256, 1536), "num_steps": _int(1, 20),
              "start_step": _int(0, 10), "guidance_scale": _num(1, 10), "id_weight": _num(0, 3),
              "seed": ANY_INT, "true_cfg": _num(1, 10), "max_sequence_length": _int(128, 512),
              "output_format": _enum("png", "jpg", "webp"), "output_quality": _int(1, 100),
              "num_outputs": _int(1, 4)},
    # A version trained by ostris/flux-dev-lora-trainer (cog-flux's hotswap predictor).
    "trained": {**COMMON, **SIZED, "image": URI, "mask": URI, "prompt_strength": _num(0, 1),
                "model": _enum("dev", "schnell"), "num_inference_steps": _int(1, 50),
                "guidance_scale": _num(0, 10), "lora_scale": _num(-1, 3), "extra_lora": STRING,
                "extra_lora_scale": _num(-1, 3), "replicate_weights": STRING},
}
# Models whose prediction output is one URL, not a list.
SINGLE_OUTPUT = ("flux-1.1-pro", "flux-2-pro", "flux-2-dev", "real-esrgan", "codeformer")
# The community models the fake serves, with the version it knows each by (Likeness's
# defaults, REPLICATE_UPSCALE_MODEL, REPLICATE_FACE_RESTORE_MODEL and REPLICATE_INSTANT_MODEL),
# and their schema.
COMMUNITY = {
    "nightmareai/real-esrgan": (
        "f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa", "real-esrgan"),
    "sczhou/codeformer": (
        "7de2ea26c616d5bf2245ad0d5e24f0ff9a6204578a5c876db53142edd9d2cd56", "codeformer"),
    "zsxkib/flux-pulid": (
        "8baa7ef2255075b46f4d91cd238c21d31181b3e6a864463f967960bb0112525b", "pulid"),
}
ENHANCERS = ("real-esrgan", "codeformer")
# The input each model cannot run without (the others': `prompt`).
REQUIRED = {"real-esrgan": "image", "codeformer": "image", "pulid": "main_face_image"}


def kind_of(model_key: str) -> str:
    """The schema of a model (owner/name): its own, or a trained version's."""
    if model_key in COMMUNITY:
        return COMMUNITY[model_key][1]
    name = model_key.split("/", 1)[-1]
    return name if model_key.startswith("black-forest-labs/") and name in SCHEMAS else "trained"


def _problem(name: str, spec: tuple, value) -> tuple[str, str, str] | None:
    kind = spec[0]
    if kind in ("string", "uri") and not isinstance(value, str):
        return "invalid_type", f"input.{name}", "Invalid type. Expected: string"
    if kind == "boolean" and not isinstance(value, bool):
        return "invalid_type", f"input.{name}", "Invalid type. Expected: boolean"
    if kind == "array" and not isinstance(value, list):
        return "invalid_type", f"input.{name}", "Invalid type. Expected: array"
    if kind == "enum" and value not in spec[1]:
        choices = ", ".join(f'"{v}"' for v in spec[1])
        return "enum", f"input.{name}", f"{name} must be one of the following: {choices}"
    if kind in ("integer", "number"):
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or (kind == "integer" and not isinstance(value, int)):
            return "invalid_type", f"input.{name}", f"Invalid type. Expected: {kind}"
        low, high = spec[1], spec[2]
        if low is not None and value < low:
            return "number_gte", f"input.{name}", f"Must be greater than or equal to {low}"
        if high is not None and value > high:
            return "number_lte", f"input.{name}", f"Must be less than or equal to {high}"
    return None


def problems(kind: str, inputs: dict) -> list[tuple[str, str, str]]:
    """(type, field, description) for every input the schema refuses."""
    schema = SCHEMAS[kind]
    found = []
    required = REQUIRED.get(kind, "prompt")
    if not isinstance(inputs.get(required), str) or not inputs.get(required):
        found.append(("required", "input", f"{required} is required"))
    for name, value in inputs.items():
        if name not in schema:
            found.append(("additional_property_not_allowed", "input",
                          f"Additional property {name} is not allowed"))
            continue
        problem = _problem(name, schema[name], value)
        if problem:
            found.append(problem)
    return found


def openapi(kind: str) -> dict:
    """The version's openapi_schema, as Replicate serves it (its Input part)."""
    types = {"string": "string", "uri": "string", "boolean": "boolean", "array": "array",
             "integer": "integer", "number": "number"}
    properties = {}
    for name, spec in SCHEMAS[kind].items():
        prop = {"enum": list(spec[1])} if spec[0] == "enum" else {"type": types[spec[0]]}
        if spec[0] in ("integer", "number"):
            if spec[1] is not None:
                prop["minimum"] = spec[1]
            if spec[2] is not None:
                prop["maximum"] = spec[2]
        properties[name] = prop
    required = [REQUIRED.get(kind, "prompt")]
    return {"components": {"schemas": {"Input": {"type": "object", "required": required,
                                                 "properties": properties}}}}
