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
  `fal-ai/flux-2-pro` (`generation_seconds`), upscaling and face restore (fakes/fal_enhance.py)
  and instant mode's `fal-ai/flux-pulid` (fakes/fal_pulid.py: one image of the reference photo
  a request); each refuses inputs it does not take (422).
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
import time
import uuid
from typing import Any

from fakes import fal_enhance, fal_pulid
from fakes.base import (
    FakeServer,
    HttpError,
    Request,
    Response,
    WebhookDelivery,
    json_response,
    route,
)
from fakes.fal_running import JobRunner
from fakes.fal_state import (  # noqa: F401 - other modules and tests import them from here
    _FLUX1,
    GENERATION_APPS,
    IMAGE_SIZES,
    TRAINING_APP,
    FalJob,
    _b64url,
)


class FakeFal(JobRunner, FakeServer):
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
        served = [app for app in [TRAINING_APP, *GENERATION_APPS, *fal_enhance.ENHANCE_APPS,
                                  fal_pulid.APP] if app not in self.retired]
        found = [{"endpoint_id": app, "metadata": {"status": "active", "display_name": app}}
                 for app in served if not wanted or app in wanted]
        return json_response({"models": found, "next_cursor": None, "has_more": False})

    @route("POST", r"/(?P<app>[\w.-]+/[\w.-]+(?:/[\w.-]+)*)")
    def submit(self, req: Request, app: str) -> Response:
        known = (app in (TRAINING_APP, fal_pulid.APP) or app in GENERATION_APPS
                 or app in fal_enhance.ENHANCE_APPS)
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
