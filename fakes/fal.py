"""A fake of fal.ai's queue API (https://queue.fal.run/{app}), driven with plain httpx.

- Auth `Authorization: Key <FAL_KEY>`; wrong/missing key -> 401 `{"detail": ...}`.
- `POST /{app}[?fal_webhook=<url>]` -> `{request_id, response_url, status_url, cancel_url}`; the
  URLs point at this server, shaped like fal's: `/{owner}/{name}/requests/{id}[/status|/cancel]`
  (fal drops an app's sub-path, e.g. `fal-ai/flux/dev` -> `fal-ai/flux`; both forms are served).
- `GET status_url[?logs=1]` -> 202 `{"status": "IN_QUEUE"|"IN_PROGRESS", ...}` then 200
  `{"status": "COMPLETED", "metrics": {...}, ...}` (`"error"` set when the run failed);
  `GET response_url` -> the output, the run's error status and `{"detail": ...}` if it failed,
  400 `{"detail": "Request is still in progress"}` before; `PUT cancel_url` ->
  202 `{"status": "CANCELLATION_REQUESTED"}` or 400 `{"status": "ALREADY_COMPLETED"}`. As on
  fal, a cancel removes a request that has not started; one in progress is only told, and it
  runs to its end (the trainer does not stop).
- Apps: `fal-ai/flux-lora-fast-training` (training, `training_seconds`) and the generation
  endpoints `fal-ai/flux-lora` (also served as `fal-ai/flux/dev`), `fal-ai/flux-2` and
  `fal-ai/flux-2-pro` (`generation_seconds`); each refuses inputs it does not take (422).
  `retire(app)` makes one answer 404. The platform API `GET /v1/models?endpoint_id=...` lists
  the endpoints served (fal's https://api.fal.ai).
- Webhooks `{request_id, gateway_request_id, status: "OK"|"ERROR", payload, error}`, signed with
  Ed25519 over `request_id\\nuser_id\\ntimestamp\\nsha256hex(body)` in the headers
  X-Fal-Webhook-Request-Id, -User-Id, -Timestamp, -Signature (hex). The public key is
  `fake.public_key_bytes` (raw 32 bytes; `public_key_hex`) and is served as a JWKS at
  `GET /.well-known/jwks.json` (like fal's own `https://rest.alpha.fal.ai/.well-known/jwks.json`).
  Failed deliveries are retried (fal retries for hours).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fakes import fal_enhance
from fakes.base import (
    FakeServer,
    HttpError,
    Request,
    Response,
    WebhookDelivery,
    b64,
    json_response,
    route,
    utcnow_iso,
)
from fakes.images import black_image, safetensors_bytes

TRAINING_APP = "fal-ai/flux-lora-fast-training"
_FLUX1 = {"prompt", "image_size", "num_inference_steps", "guidance_scale", "num_images", "seed",
          "enable_safety_checker", "output_format", "sync_mode", "acceleration"}
# The generation endpoints and the inputs each takes (docs/providers.md, "fal.ai").
GENERATION_APPS = {
    "fal-ai/flux-lora": _FLUX1 | {"loras"},
    "fal-ai/flux/dev": _FLUX1,
    "fal-ai/flux-2": _FLUX1,
    "fal-ai/flux-2-pro": {"prompt", "image_size", "seed", "safety_tolerance",
                          "enable_safety_checker", "output_format", "sync_mode"},
}
IMAGE_SIZES = {
    "square_hd": (1024, 1024), "square": (512, 512), "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024), "landscape_4_3": (1024, 768), "landscape_16_9": (1024, 576),
}


@dataclass
class FalJob:
    app: str
    request_id: str
    input: dict
    t0: float
    queue_seconds: float
    duration: float
    webhook: str | None = None
    status: str = "IN_QUEUE"
    logs: list = field(default_factory=list)
    result: tuple[int, Any] | None = None  # (HTTP status, body) once COMPLETED
    error: str | None = None
    fail: tuple[int, Any] | None = None  # planned failure (status, detail)
    nsfw: bool = False
    started: float | None = None
    error_type: str = ""
    cancel_asked: bool = False


def _b64url(data: bytes) -> str:
    return b64(data).replace("+", "-").replace("/", "_").rstrip("=")


class FakeFal(FakeServer):
    name = "fal"
    default_token = "fake-key-id:fake-key-secret"

    def __init__(self, token: str | None = None, *, training_seconds: float = 1.0,
                 generation_seconds: float = 0.2, queue_seconds: float = 0.05,
                 user_id: str = "likeness-test-user", signing_seed: bytes | None = None,
                 **kwargs) -> None:
        super().__init__(token, **kwargs)
        self.training_seconds = training_seconds
        self.generation_seconds = generation_seconds
        self.queue_seconds = queue_seconds
        self.user_id = user_id
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self._signing_key = (Ed25519PrivateKey.from_private_bytes(signing_seed) if signing_seed
                             else Ed25519PrivateKey.generate())
        self.public_key = self._signing_key.public_key()
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self.public_key_bytes = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key_hex = self.public_key_bytes.hex()
        self.reset_state()

    def reset_state(self) -> None:
        self.jobs: dict[str, FalJob] = {}
        self._failures: list[tuple[str | None, int, Any, str]] = []
        self._nsfw = 0

    # ----- knobs

    def fail_next(self, app: str | None = None, detail: Any = "Internal Server Error",
                  status: int = 500, times: int = 1, error_type: str = "internal_error") -> None:
        """The next `times` jobs (of `app`, if given) run and then fail: their COMPLETED status
        carries `error` and `error_type`, the result answers `status` with
        `{"detail": detail}`, and the webhook says ERROR."""
        with self.lock:
            self._failures.extend([(app, status, detail, error_type)] * times)

    def flag_nsfw_next(self, n: int = 1) -> None:
        """The next `n` generations with the safety checker on return black images and
        `has_nsfw_concepts: [true, ...]` (what fal does), not an error."""
        with self.lock:
            self._nsfw += n

    def finish(self, request_id: str) -> None:
        with self.lock:
            job = self.jobs[request_id]
            job.queue_seconds = 0
            job.duration = 0
        self.tick_now()

    def job(self, request_id: str) -> FalJob:
        with self.lock:
            return self.jobs[request_id]

    # ----- auth, errors

    def check_auth(self, req: Request) -> bool:
        return req.header("authorization") == f"Key {self.token}"

    def auth_error(self, req: Request) -> Response:
        if not req.header("authorization"):
            return json_response({"detail": "Authentication is required to perform this action."},
                                 401)
        return json_response({"detail": "No user found for Key ID and Secret"}, 401)

    def error_response(self, status: int, message: str, **extra: Any) -> Response:
        return json_response({"detail": message, **extra}, status)

    def not_found(self, req: Request) -> Response:
        return json_response({"detail": "Not Found"}, 404)

    # ----- webhooks

    def sign_webhook(self, delivery: WebhookDelivery) -> dict[str, str]:
        return self.sign(delivery.body)

    def sign(self, body: bytes, *, timestamp: int | None = None,
             request_id: str | None = None) -> dict[str, str]:
        """The headers fal sends with a webhook of this body (signed now, or at `timestamp`),
        for the request it names (or `request_id`, for a body that names none)."""
        request_id = request_id or json.loads(body)["request_id"]
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        message = "\n".join([request_id, self.user_id, timestamp,
                             hashlib.sha256(body).hexdigest()]).encode()
        return {
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": self.user_id,
            "X-Fal-Webhook-Timestamp": timestamp,
            "X-Fal-Webhook-Signature": self._signing_key.sign(message).hex(),
        }

    @route("GET", r"/\.well-known/jwks\.json", auth=False)
    def jwks(self, req: Request) -> Response:
        return json_response({"keys": [{"kty": "OKP", "crv": "Ed25519", "use": "sig",
                                        "alg": "EdDSA", "kid": self.public_key_hex[:16],
                                        "x": _b64url(self.public_key_bytes)}]})

    # ----- queue

    def _base(self, app: str) -> str:
        return "/".join(app.split("/")[:2])

    def _urls(self, job: FalJob) -> dict:
        base = f"{self.url}/{self._base(job.app)}/requests/{job.request_id}"
        return {"response_url": base, "status_url": base + "/status",
                "cancel_url": base + "/cancel"}

    @route("GET", r"/v1/models", auth=False)
    def models(self, req: Request) -> Response:
        """fal's platform API: which of the asked endpoint ids are served."""
        wanted = req.query.get("endpoint_id", [])
        served = [app for app in [TRAINING_APP, *GENERATION_APPS, *fal_enhance.ENHANCE_APPS]
                  if app not in self.retired]
        found = [{"endpoint_id": app, "metadata": {"status": "active", "display_name": app}}
                 for app in served if not wanted or app in wanted]
        return json_response({"models": found, "next_cursor": None, "has_more": False})

    @route("POST", r"/(?P<app>[\w.-]+/[\w.-]+(?:/[\w.-]+)*)")
    def submit(self, req: Request, app: str) -> Response:
        known = app == TRAINING_APP or app in GENERATION_APPS or app in fal_enhance.ENHANCE_APPS
        if not known or app in self.retired:
            return json_response({"detail": f"Application '{app}' not found"}, 404)
        try:
            payload = json.loads(req.body or b"{}")
        except ValueError:
            return json_response({"detail": [{"loc": ["body"], "msg": "Invalid JSON",
                                              "type": "json_invalid"}]}, 422)
        if not isinstance(payload, dict):
            return json_response({"detail": [{"loc": ["body"], "msg": "Input should be an object",
                                              "type": "dict_type"}]}, 422)
        with self.lock:
            rid = str(uuid.uuid4())
            job = FalJob(app, rid, payload, self.now(), self.queue_seconds,
                         self.training_seconds if app == TRAINING_APP else self.generation_seconds,
                         webhook=req.arg("fal_webhook"))
            for i, (fail_app, status, detail, error_type) in enumerate(self._failures):
                if fail_app in (None, app):
                    job.fail = (status, detail, error_type)
                    del self._failures[i]
                    break
            if (app != TRAINING_APP and self._nsfw
                    and payload.get("enable_safety_checker", True) is not False):
                self._nsfw -= 1
                job.nsfw = True
            self.jobs[rid] = job
            return json_response({"request_id": rid, **self._urls(job)})

    def _find(self, app: str, rid: str) -> FalJob:
        job = self.jobs.get(rid)
        if not job or app not in (job.app, self._base(job.app)):
            raise HttpError(404, "Request not found")
        return job

    @route("GET", r"/(?P<app>.+?)/requests/(?P<rid>[^/]+)/status")
    def status(self, req: Request, app: str, rid: str) -> Response:
        with self.lock:
            job = self._find(app, rid)
            body: dict[str, Any] = {"status": job.status, "request_id": rid, **self._urls(job)}
            body["logs"] = list(job.logs) if req.arg("logs") in ("1", "true") else None
            if job.status == "IN_QUEUE":
                body["queue_position"] = 0
            if job.status == "COMPLETED":
                body["metrics"] = {"inference_time": round(job.duration, 3)}
                if job.error:  # the run's own message where it has one
                    detail = (job.result[1] or {}).get("detail") if job.result else None
                    body["error"] = detail if isinstance(detail, str) else job.error
                    body["error_type"] = job.error_type
                return json_response(body, 200)
            return json_response(body, 202)

    @route("GET", r"/(?P<app>.+?)/requests/(?P<rid>[^/]+)")
    def result(self, req: Request, app: str, rid: str) -> Response:
        with self.lock:
            job = self._find(app, rid)
            if job.result is None:
                return json_response({"detail": "Request is still in progress"}, 400)
            status, body = job.result
            headers = {"X-Fal-Error-Type": job.error_type} if status >= 400 else None
            return json_response(body, status, headers)

    @route("PUT", r"/(?P<app>.+?)/requests/(?P<rid>[^/]+)/cancel")
    def cancel(self, req: Request, app: str, rid: str) -> Response:
        with self.lock:
            job = self.jobs.get(rid)
            if not job or app not in (job.app, self._base(job.app)):
                return json_response({"status": "NOT_FOUND"}, 404)
            if job.status == "COMPLETED":
                return json_response({"status": "ALREADY_COMPLETED"}, 400)
            if job.status == "IN_QUEUE":  # not started: fal takes it off the queue
                job.error_type = "client_cancelled"
                self._finish(job, 499, {"detail": "Request was cancelled"},
                             "Request was cancelled")
            else:  # in progress: the runner is told, and this one runs to its end
                job.cancel_asked = True
            return json_response({"status": "CANCELLATION_REQUESTED"}, 202)

    # ----- running

    def tick(self, now: float) -> None:
        for job in self.jobs.values():
            if job.status == "COMPLETED":
                continue
            elapsed = now - job.t0
            if job.status == "IN_QUEUE" and elapsed >= job.queue_seconds:
                job.status = "IN_PROGRESS"
                job.started = now
                self._log(job, f"Starting {job.app}")
            if job.status == "IN_PROGRESS":
                if elapsed >= job.queue_seconds + job.duration:
                    self._run(job)
                elif job.app == TRAINING_APP:
                    progress = (elapsed - job.queue_seconds) / max(job.duration, 1e-6)
                    steps = int(job.input.get("steps", 1000) or 1000)
                    line = f"Training step {int(progress * steps)}/{steps}"
                    if not job.logs or job.logs[-1]["message"] != line:
                        self._log(job, line)

    def _log(self, job: FalJob, message: str) -> None:
        job.logs.append({"message": message, "level": "INFO", "source": "user",
                         "timestamp": utcnow_iso()})

    def _run(self, job: FalJob) -> None:
        if job.fail:
            status, detail, job.error_type = job.fail
            return self._finish(job, status, {"detail": detail}, f"Invalid status code: {status}")
        if job.app in fal_enhance.ENHANCE_APPS:
            errors = fal_enhance.validate(job.app, job.input)
            if not errors:
                status, body, error = fal_enhance.output(self, job.app, job.input)
                job.error_type = "image_load_error" if error else ""
                return self._finish(job, status, body, error)
        else:
            errors = (self._validate_training(job.input) if job.app == TRAINING_APP
                      else self._validate_generation(job.app, job.input))
        if errors:
            job.error_type = "validation_error"
            return self._finish(job, 422, {"detail": errors}, "Invalid status code: 422")
        output = (self._train(job) if job.app == TRAINING_APP else self._generate(job))
        self._finish(job, 200, output, None)

    def _finish(self, job: FalJob, status: int, body: Any, error: str | None) -> None:
        job.status = "COMPLETED"
        job.result = (status, body)
        job.error = error
        self._log(job, "Completed" if error is None else f"Failed: {error}")
        if job.webhook:
            payload = {"request_id": job.request_id, "gateway_request_id": job.request_id,
                       "status": "OK" if error is None else "ERROR",
                       "payload": body, "error": error}
            self.webhooks.send(job.webhook, "completed", json.dumps(payload).encode(), retry=True)

    @staticmethod
    def _missing(name: str) -> dict:
        return {"loc": ["body", name], "msg": "Field required", "type": "missing"}

    def _validate_training(self, data: dict) -> list:
        errors = []
        if not isinstance(data.get("images_data_url"), str) or not data.get("images_data_url"):
            errors.append(self._missing("images_data_url"))
        steps = data.get("steps", 1000)
        if not isinstance(steps, int) or not 1 <= steps <= 10000:
            errors.append({"loc": ["body", "steps"], "type": "less_than_equal",
                           "msg": "Input should be an integer between 1 and 10000"})
        return errors

    def _validate_generation(self, app: str, data: dict) -> list:
        errors = [{"loc": ["body", name], "type": "extra_forbidden",
                   "msg": "Extra inputs are not permitted"}
                  for name in data if name not in GENERATION_APPS[app]]
        if not isinstance(data.get("prompt"), str) or not data.get("prompt"):
            errors.append(self._missing("prompt"))
        size = data.get("image_size", "landscape_4_3")
        if isinstance(size, dict):
            for key in ("width", "height"):
                if not isinstance(size.get(key), int) or not 1 <= size[key] <= 14142:
                    errors.append({"loc": ["body", "image_size", key], "type": "int_type",
                                   "msg": "Input should be a valid integer"})
        elif size not in IMAGE_SIZES:
            errors.append({"loc": ["body", "image_size"], "type": "enum",
                           "msg": f"Input should be {', '.join(IMAGE_SIZES)}"})
        num = data.get("num_images", 1)
        if not isinstance(num, int) or not 1 <= num <= 4:
            errors.append({"loc": ["body", "num_images"], "type": "less_than_equal",
                           "msg": "Input should be less than or equal to 4"})
        for i, lora in enumerate(data.get("loras") or []):
            if not isinstance(lora, dict) or not isinstance(lora.get("path"), str):
                errors.append({"loc": ["body", "loras", i, "path"], "type": "missing",
                               "msg": "Field required"})
        fmt = data.get("output_format", "jpeg")
        if fmt not in ("jpeg", "png"):
            errors.append({"loc": ["body", "output_format"], "type": "enum",
                           "msg": "Input should be 'jpeg' or 'png'"})
        return errors

    def _train(self, job: FalJob) -> dict:
        weights = safetensors_bytes(rank=4, seed=len(job.request_id))
        config = json.dumps({"trigger_word": job.input.get("trigger_word"),
                             "steps": job.input.get("steps", 1000)}).encode()
        w_url = self.serve_bytes("pytorch_lora_weights.safetensors", weights,
                                 "application/octet-stream")
        c_url = self.serve_bytes("config.json", config, "application/json")
        return {
            "diffusers_lora_file": {"url": w_url, "content_type": "application/octet-stream",
                                    "file_name": "pytorch_lora_weights.safetensors",
                                    "file_size": len(weights)},
            "config_file": {"url": c_url, "content_type": "application/json",
                            "file_name": "config.json", "file_size": len(config)},
            "debug_preprocessed_output": None,
        }

    def _generate(self, job: FalJob) -> dict:
        data = job.input
        size = data.get("image_size", "landscape_4_3")
        width, height = (size["width"], size["height"]) if isinstance(size, dict) \
            else IMAGE_SIZES[size]
        seed = data.get("seed")
        seed = seed if isinstance(seed, int) else random.randrange(2**31)
        fmt = data.get("output_format", "jpeg")
        images = []
        for i in range(int(data.get("num_images", 1))):
            if job.nsfw:
                raw, w, h, ctype = black_image(width, height, fmt,
                                               max_pixels=self.image_max_pixels)
                url = self.serve_bytes(f"image-{i}.{'png' if fmt == 'png' else 'jpg'}", raw,
                                       ctype)
                images.append({"url": url, "width": w, "height": h, "content_type": ctype})
            else:
                hosted = self.host_image(width, height, seed, fmt, i, prefix="image")
                hosted.pop("data")
                images.append(hosted)
        return {"images": images, "timings": {"inference": round(job.duration, 3)},
                "seed": seed, "has_nsfw_concepts": [job.nsfw] * len(images),
                "prompt": data.get("prompt")}
