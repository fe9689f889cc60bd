"""A fake of Together AI's image generation, for the official `together` SDK (3.x):
`together.Together(api_key=fake.token, base_url=fake.url)` -- host only: the SDK itself puts
`/v1/images/generations` in the path (checked on together 3.1.1).

`POST /v1/images/generations` -> `{"id", "model", "object": "list", "data": [...]}` with items
`{"index", "url", "type": "url"}` (images hosted on this server, `expire()`-able) or
`{"index", "b64_json", "type": "b64_json"}` for `response_format="base64"`.
Errors `{"error": {"message", "type", "param", "code"}}`. Fields the API does not take are refused
(400, as a strict schema would), and each model's own limits hold: FLUX.2 [pro] takes no `steps`
or `guidance_scale`, LoRAs only on the LoRA model. `GET /v1/models` lists the models served as a
bare JSON array of `{id, object, type, display_name, ...}`; `retire(model)` stops serving one
(404 `model_not_available` from then on).

`POST /v1/chat/completions` (the prompt helper's LLM) takes `model` and `messages` (`{role:
system|user|assistant|tool, content}`) and the spec's optional fields only (`stream` false: the
fake does not stream), and answers `{id, object: "chat.completion", created, model, choices:
[{index, message: {role: "assistant", content}, finish_reason}], usage}`. The content is
`chat_template` with `{words}` the last user message (so a test sees the words went through);
`reply_next(content)` answers the next chat with `content` instead ("" for an empty answer).
"""

from __future__ import annotations

import random
import time
from typing import Any

from fakes.base import FakeServer, Request, Response, b64, json_response, random_id, route

MODELS = (
    "black-forest-labs/FLUX.1-schnell", "black-forest-labs/FLUX.1-dev",
    "black-forest-labs/FLUX.1.1-pro", "black-forest-labs/FLUX.1-dev-lora",
    "black-forest-labs/FLUX.2-pro", "black-forest-labs/FLUX.2-dev", "black-forest-labs/FLUX.2-flex",
    "black-forest-labs/FLUX.2-max", "black-forest-labs/FLUX.1-kontext-pro",
    "black-forest-labs/FLUX.1-kontext-max",
)
LORA_MODELS = ("black-forest-labs/FLUX.1-dev-lora",)
UNTUNABLE = ("black-forest-labs/FLUX.2-pro", "black-forest-labs/FLUX.2-max")  # no steps/guidance
# The fields of POST /v1/images/generations (the API reference and the SDK's ImageGenerateParams).
FIELDS = {"model", "prompt", "width", "height", "steps", "n", "seed", "negative_prompt",
          "guidance_scale", "response_format", "output_format", "image_loras", "image_url",
          "reference_images", "disable_safety_checker", "aspect_ratio"}
CHAT_MODELS = ("meta-llama/Llama-3.3-70B-Instruct-Turbo",
               "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo")
# The fields of POST /v1/chat/completions (the API reference and the SDK's CompletionCreateParams).
CHAT_FIELDS = {"model", "messages", "max_tokens", "stop", "temperature", "top_p", "top_k",
               "context_length_exceeded_behavior", "repetition_penalty", "stream", "logprobs",
               "echo", "n", "min_p", "presence_penalty", "frequency_penalty", "logit_bias",
               "seed", "function_call", "response_format", "tools", "tool_choice", "safety_model",
               "reasoning_effort", "reasoning", "chat_template_kwargs", "compliance"}
CHAT_ROLES = ("system", "user", "assistant", "tool")
CHAT_TEMPLATE = "{words}, soft golden light, shallow depth of field, 85mm photo"
NSFW_MESSAGE = "Your request was flagged by our safety checker (NSFW content detected)."


class FakeTogether(FakeServer):
    name = "together"
    default_token = "together-fake-test-key"

    def __init__(self, token: str | None = None, *, generation_seconds: float = 0.0,
                 **kwargs) -> None:
        super().__init__(token, **kwargs)
        self.generation_seconds = generation_seconds
        self.reset_state()

    def reset_state(self) -> None:
        self.generations: list[dict] = []  # {"request": body, "response": body}
        self._nsfw = 0
        self._nsfw_prompt = None
        self.chats: list[dict] = []  # {"request": body, "response": body}
        self.chat_template = CHAT_TEMPLATE
        self._replies: list[str] = []

    def reply_next(self, content: str, times: int = 1) -> None:
        """The next `times` chat completions answer `content` ("" = an empty answer)."""
        with self.lock:
            self._replies += [content] * times

    def flag_nsfw_next(self, n: int = 1, prompt: str | None = None) -> None:
        """The next `n` requests without `disable_safety_checker` (only those with `prompt`,
        when given) answer 422 with NSFW_MESSAGE. (How Together reports a flagged image is not
        documented; this is a stand-in.)"""
        with self.lock:
            self._nsfw += n
            self._nsfw_prompt = prompt

    @route("GET", r"/v1/models")
    def models(self, req: Request) -> Response:
        with self.lock:
            served = [m for m in MODELS + CHAT_MODELS if m not in self.retired]
        return json_response([{"id": m, "object": "model", "created": 1733000000,
                               "type": "chat" if m in CHAT_MODELS else "image",
                               "display_name": m.split("/")[1],
                               "organization": ("Meta" if m in CHAT_MODELS
                                                else "Black Forest Labs"),
                               "link": None, "license": None,
                               "context_length": 131072 if m in CHAT_MODELS else None,
                               "config": None, "pricing": {"base": 0.0}} for m in served])

    # ----- auth, errors

    def auth_error(self, req: Request) -> Response:
        return self.error_response(
            401, "Invalid API key provided. You can find your API key at "
                 "https://api.together.ai/settings/api-keys.",
            type="invalid_request_error", code="invalid_api_key")

    def error_response(self, status: int, message: str, type: str | None = None,  # noqa: A002
                       param: str | None = None, code: str | None = None, **extra: Any
                       ) -> Response:
        default_type = {401: "invalid_request_error", 429: "rate_limit_exceeded",
                        404: "invalid_request_error"}.get(
            status, "invalid_request_error" if status < 500 else "server_error")
        return json_response({"error": {"message": message, "type": type or default_type,
                                        "param": param, "code": code}}, status)

    def not_found(self, req: Request) -> Response:
        return self.error_response(404, f"Unknown endpoint {req.method} {req.path}",
                                   code="not_found")

    # ----- images

    def _invalid(self, message: str, param: str | None, status: int = 400) -> Response:
        return self.error_response(status, message, type="invalid_request_error", param=param)

    def _unknown_model(self, model: str) -> Response:
        return self.error_response(
            404, f"Unable to access model {model}. Please visit "
                 "https://api.together.ai/models to view the list of supported models.",
            param="model", code="model_not_available")

    def _check_request(self, body: dict) -> Response | None:
        """The model, the prompt, the size and the count, as Together validates them."""
        model, prompt = body.get("model"), body.get("prompt")
        if not model:
            return self._invalid("model is required", "model")
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            return self._invalid(f"Unrecognized request argument supplied: {unknown[0]}",
                                 unknown[0])
        if model not in MODELS or model in self.retired:
            return self._unknown_model(model)
        if not isinstance(prompt, str) or not prompt.strip():
            return self._invalid("prompt is required", "prompt")
        for name in ("width", "height"):
            value = body.get(name, 1024)
            if not isinstance(value, int) or isinstance(value, bool) or not 64 <= value <= 2048:
                return self._invalid(f"{name} must be an integer between 64 and 2048", name,
                                     422)
        n = body.get("n", 1)
        if not isinstance(n, int) or not 1 <= n <= 4:
            return self._invalid("n must be between 1 and 4", "n", 422)
        return None

    def _check_options(self, body: dict) -> Response | None:
        """Steps, the answer's format and LoRAs: what the model takes and in what range."""
        model = body["model"]
        if model in UNTUNABLE:
            for name in ("steps", "guidance_scale"):
                if name in body:
                    return self._invalid(f"{name} is not supported for model {model}", name)
        steps = body.get("steps", 20)
        if not isinstance(steps, int) or not 1 <= steps <= 50:
            return self._invalid("steps must be between 1 and 50", "steps", 422)
        if body.get("response_format", "url") not in ("url", "base64"):
            return self._invalid("response_format must be one of: url, base64",
                                 "response_format", 422)
        if body.get("output_format", "jpeg") not in ("jpeg", "png"):
            return self._invalid("output_format must be one of: jpeg, png", "output_format", 422)
        loras = body.get("image_loras")
        if loras is not None:
            if model not in LORA_MODELS:
                return self._invalid(f"Model {model} does not support image_loras",
                                     "image_loras")
            if not isinstance(loras, list) or any(
                    not isinstance(x, dict) or not isinstance(x.get("path"), str)
                    or not isinstance(x.get("scale"), (int, float)) for x in loras):
                return self._invalid("image_loras must be a list of {path, scale}",
                                     "image_loras", 422)
        return None

    @route("POST", r"/v1/images/generations")
    def generate(self, req: Request) -> Response:
        body = self.body_json(req)
        if not isinstance(body, dict):
            return self._invalid("Request body must be a JSON object", None)
        refused = self._check_request(body) or self._check_options(body)
        if refused is not None:
            return refused
        model = body["model"]
        width, height = body.get("width", 1024), body.get("height", 1024)
        n = body.get("n", 1)
        response_format = body.get("response_format", "url")
        output_format = body.get("output_format", "jpeg")
        with self.lock:
            flagged = (bool(self._nsfw) and not body.get("disable_safety_checker")
                       and self._nsfw_prompt in (None, body.get("prompt")))
            if flagged:
                self._nsfw -= 1
        if flagged:
            return self.error_response(422, NSFW_MESSAGE, code="nsfw_content")
        if self.generation_seconds:
            time.sleep(self.generation_seconds)
        seed = body.get("seed")
        seed = seed if isinstance(seed, int) else random.randrange(2**31)
        data = []
        for i in range(n):
            raw, _w, _h, ctype = self.make_image(width, height, seed, output_format, i)
            if response_format == "base64":
                data.append({"index": i, "b64_json": b64(raw), "type": "b64_json"})
            else:
                ext = "png" if output_format == "png" else "jpeg"
                data.append({"index": i, "url": self.serve_bytes(f"{random_id(12)}.{ext}", raw,
                                                                  ctype), "type": "url"})
        response = {"id": random_id(18, "0123456789abcdef") + "-fake", "model": model,
                    "object": "list", "data": data}
        with self.lock:
            self.generations.append({"request": body, "response": response})
        return json_response(response)

    # ----- chat completions

    def _check_chat(self, body: dict) -> Response | None:
        """The model, the messages and the fields, as Together's schema has them."""
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not model:
            return self._invalid("model is required", "model")
        if not isinstance(messages, list) or not messages:
            return self._invalid("messages is required", "messages")
        unknown = sorted(set(body) - CHAT_FIELDS)
        if unknown:
            return self._invalid(f"Unrecognized request argument supplied: {unknown[0]}",
                                 unknown[0])
        for message in messages:
            if (not isinstance(message, dict) or message.get("role") not in CHAT_ROLES
                    or not isinstance(message.get("content"), (str, list))):
                return self._invalid("each message must be {role: system|user|assistant|tool, "
                                     "content}", "messages", 422)
        if body.get("stream"):
            return self._invalid("stream is not supported by this fake", "stream")
        for name, kind in (("max_tokens", int), ("n", int), ("seed", int), ("top_k", int),
                           ("temperature", (int, float)), ("top_p", (int, float)),
                           ("repetition_penalty", (int, float))):
            value = body.get(name)
            if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
                return self._invalid(f"{name} has the wrong type", name, 422)
        if model not in CHAT_MODELS or model in self.retired:
            return self._unknown_model(model)
        return None

    @staticmethod
    def _text(content) -> str:
        if isinstance(content, str):
            return content
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))

    @route("POST", r"/v1/chat/completions")
    def chat(self, req: Request) -> Response:
        body = self.body_json(req)
        if not isinstance(body, dict):
            return self._invalid("Request body must be a JSON object", None)
        refused = self._check_chat(body)
        if refused is not None:
            return refused
        words = next((self._text(m["content"]) for m in reversed(body["messages"])
                      if m["role"] == "user"), "")
        with self.lock:
            content = (self._replies.pop(0) if self._replies
                       else self.chat_template.format(words=words))
        prompt_tokens = sum(len(self._text(m["content"]).split()) for m in body["messages"])
        completion_tokens = len(content.split())
        choices = [{"index": i, "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop", "logprobs": None}
                   for i in range(body.get("n") or 1)]
        response = {"id": random_id(18, "0123456789abcdef") + "-fake",
                    "object": "chat.completion", "created": int(time.time()),
                    "model": body["model"], "prompt": [], "choices": choices,
                    "usage": {"prompt_tokens": prompt_tokens,
                              "completion_tokens": completion_tokens,
                              "total_tokens": prompt_tokens + completion_tokens}}
        with self.lock:
            self.chats.append({"request": body, "response": response})
        return json_response(response)
