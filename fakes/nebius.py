"""A fake of Nebius AI Studio / Token Factory image generation (OpenAI-compatible), for
`openai.OpenAI(base_url=fake.url + "/v1", api_key=fake.token)`; the Nebius-only fields go in
`extra_body` (width, height, num_inference_steps, seed, response_extension, loras,
negative_prompt, guidance_scale).

`POST /v1/images/generations` -> `{"data": [{"b64_json": ..., "url": null}], "id": ...}`
(`response_format="url"` gives `{"b64_json": null, "url": ...}` with the image on this server).
Validation errors: 422 `{"detail": [{"loc", "msg", "type", ...}]}` (FastAPI style); fields the
API does not take are refused (`extra_forbidden`). `GET /v1/models` lists the models served
(`{"object": "list", "data": [{id, object, created, owned_by}]}`); `retire(model)` stops serving
one (404 from then on).
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from fakes.base import FakeServer, Request, Response, b64, json_response, route

MODELS = ("black-forest-labs/flux-schnell", "black-forest-labs/flux-dev", "stability-ai/sdxl")
EXTENSIONS = {"webp": "webp", "jpg": "jpeg", "png": "png"}
FIELDS = {"model", "prompt", "n", "response_format", "size", "quality", "style", "user",
          "width", "height", "num_inference_steps", "seed", "response_extension", "loras",
          "negative_prompt", "guidance_scale"}


class FakeNebius(FakeServer):
    name = "nebius"
    default_token = "nebius-fake-test-key"

    def __init__(self, token: str | None = None, *, generation_seconds: float = 0.0,
                 **kwargs) -> None:
        super().__init__(token, **kwargs)
        self.generation_seconds = generation_seconds
        self.reset_state()

    def reset_state(self) -> None:
        self.generations: list[dict] = []

    @route("GET", r"/v1/models")
    def models(self, req: Request) -> Response:
        with self.lock:
            served = [m for m in MODELS if m not in self.retired]
        return json_response({"object": "list", "data": [
            {"id": m, "object": "model", "created": 1733000000, "owned_by": "system"}
            for m in served]})

    def auth_error(self, req: Request) -> Response:
        return json_response({"detail": "Invalid or missing API key"}, 401)

    def error_response(self, status: int, message: str, **extra: Any) -> Response:
        return json_response({"detail": message, **extra}, status)

    def not_found(self, req: Request) -> Response:
        return json_response({"detail": "Not Found"}, 404)

    @staticmethod
    def _err(loc: str, msg: str, type_: str, value: Any = None) -> dict:
        return {"loc": ["body", loc], "msg": msg, "type": type_, "input": value}

    def _int_range(self, body: dict, name: str, lo: int, hi: int, errors: list) -> None:
        if name not in body or body[name] is None:
            return
        value = body[name]
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(self._err(name, "Input should be a valid integer", "int_type", value))
        elif value < lo:
            errors.append(self._err(name, f"Input should be greater than or equal to {lo}",
                                    "greater_than_equal", value))
        elif value > hi:
            errors.append(self._err(name, f"Input should be less than or equal to {hi}",
                                    "less_than_equal", value))

    def _check_loras(self, loras, errors: list) -> None:
        """`loras`: 1 to 10 items of {url, scale}; each fault in pydantic's error shape."""
        if loras is None:
            return
        if not isinstance(loras, list) or not 1 <= len(loras) <= 10:
            errors.append(self._err("loras", "List should have between 1 and 10 items",
                                    "too_long", loras))
            return
        for i, lora in enumerate(loras):
            if not isinstance(lora, dict) or not isinstance(lora.get("url"), str):
                errors.append({"loc": ["body", "loras", i, "url"], "msg": "Field required",
                               "type": "missing", "input": lora})
            elif not isinstance(lora.get("scale", 1.0), (int, float)):
                errors.append({"loc": ["body", "loras", i, "scale"], "type": "float_type",
                               "msg": "Input should be a valid number",
                               "input": lora.get("scale")})

    @route("POST", r"/v1/images/generations")
    def generate(self, req: Request) -> Response:
        body = self.body_json(req)
        if not isinstance(body, dict):
            return json_response({"detail": [self._err("", "Input should be an object",
                                                       "dict_type")]}, 422)
        errors: list = [{"loc": ["body", name], "msg": "Extra inputs are not permitted",
                         "type": "extra_forbidden", "input": body[name]}
                        for name in sorted(set(body) - FIELDS)]
        model, prompt = body.get("model"), body.get("prompt")
        if not model:
            errors.append(self._err("model", "Field required", "missing"))
        if not isinstance(prompt, str) or not 1 <= len(prompt) <= 2000:
            errors.append(self._err("prompt", "String should have between 1 and 2000 characters",
                                    "string_too_long" if prompt else "missing", prompt))
        self._int_range(body, "width", 64, 2048, errors)
        self._int_range(body, "height", 64, 2048, errors)
        self._int_range(body, "num_inference_steps", 1, 80, errors)
        self._int_range(body, "n", 1, 4, errors)
        ext = body.get("response_extension", "webp")
        if ext not in EXTENSIONS:
            errors.append(self._err("response_extension", "Input should be 'webp', 'jpg' or "
                                    "'png'", "enum", ext))
        fmt = body.get("response_format") or "url"
        if fmt not in ("b64_json", "url"):
            errors.append(self._err("response_format", "Input should be 'b64_json' or 'url'",
                                    "enum", fmt))
        self._check_loras(body.get("loras"), errors)
        if errors:
            return json_response({"detail": errors}, 422)
        if model not in MODELS or model in self.retired:
            return json_response({"detail": f"Model {model} not found"}, 404)
        if self.generation_seconds:
            time.sleep(self.generation_seconds)
        seed = body.get("seed")
        seed = seed if isinstance(seed, int) and seed >= 0 else random.randrange(2**31)
        width, height = body.get("width") or 1024, body.get("height") or 1024
        data = []
        for i in range(body.get("n") or 1):
            raw, _w, _h, ctype = self.make_image(width, height, seed, EXTENSIONS[ext], i)
            if fmt == "b64_json":
                data.append({"b64_json": b64(raw), "url": None})
            else:
                url = self.serve_bytes(f"{uuid.uuid4().hex}.{ext}", raw, ctype)
                data.append({"b64_json": None, "url": url})
        response = {"data": data, "id": f"text2img-{uuid.uuid4().hex}"}
        with self.lock:
            self.generations.append({"request": body, "response": response})
        return json_response(response)
