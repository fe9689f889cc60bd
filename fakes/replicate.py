"""A fake of the Replicate HTTP API (https://api.replicate.com/v1/...), for the official `replicate`
SDK: `replicate.Client(api_token=fake.token, base_url=fake.url)` (host only, no /v1).

What it does (see docs/providers.md, "Replicate"):
- models: the trainer `ostris/flux-dev-lora-trainer` (version `TRAINER_VERSION`) and the
  official `black-forest-labs/flux-schnell`, `flux-dev`, `flux-dev-lora`, `flux-1.1-pro`,
  `flux-2-dev`, `flux-2-pro` exist, and the community models run by version
  (fakes/replicate_schemas.py COMMUNITY: Real-ESRGAN, CodeFormer, `zsxkib/flux-pulid` whose
  PuLID draws the face image it is given into its outputs, fakes/pulid.py) (`retire(name)`
  removes one: it answers 404 from then on);
  `POST /v1/models` creates destinations. Every prediction's input is held to its model's
  schema (fakes/replicate_schemas.py): unknown inputs, wrong types and values out of range are
  refused with 422 `invalid_fields`, as a strict schema would.
- trainings: starting -> processing (logs grow) -> succeeded after `training_seconds`, with
  `output = {"version": "owner/name:<64 hex>", "weights": <.tar URL on this server>}`; the tar
  holds `output/flux_train_replicate/lora.safetensors` (as the real trainer's does).
  `fail_next_training(error)` makes the next one fail; cancel works.
- predictions on any known version or model, `Prefer: wait[=N]`, images made with Pillow,
  `flag_nsfw_next(n)` fails the next n with the text Replicate's FLUX models use.
- webhooks, signed like Replicate's (Svix) with `webhook_secret` ("whsec_<base64>"), also served
  at `GET /v1/webhooks/default/secret`. Only `completed` deliveries are retried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from typing import Any

from fakes.base import (
    FakeServer,
    HttpError,
    Request,
    Response,
    WebhookDelivery,
    json_response,
    random_id,
    route,
    utcnow_iso,
)
from fakes.replicate_jobs import JobLifecycle
from fakes.replicate_models import ModelsApi
from fakes.replicate_schemas import COMMUNITY, kind_of, openapi
from fakes.replicate_schemas import problems as input_problems
from fakes.replicate_state import (  # noqa: F401 - other modules and tests import them from here
    ASPECT_RATIOS,
    NSFW_ERROR,
    OFFICIAL,
    TERMINAL,
    TRAINER,
    TRAINER_VERSION,
    WEBHOOK_EVENTS,
    Job,
)
from fakes.replicate_trainings import TrainingsApi


class FakeReplicate(ModelsApi, TrainingsApi, JobLifecycle, FakeServer):
    name = "replicate"
    default_token = "r8_fake_test_token"

    def __init__(self, token: str | None = None, *, training_seconds: float = 1.0,
                 prediction_seconds: float = 0.2, starting_seconds: float = 0.05,
                 webhook_secret: str | None = None, username: str = "likeness",
                 page_size: int = 100, logs_webhook_interval: float = 0.5, **kwargs) -> None:
        super().__init__(token, **kwargs)
        self.training_seconds = training_seconds
        self.prediction_seconds = prediction_seconds
        self.starting_seconds = starting_seconds
        self.webhook_secret = webhook_secret or "whsec_" + base64.b64encode(
            random.randbytes(24)).decode()
        self.username = username
        self.page_size = page_size
        self.logs_webhook_interval = logs_webhook_interval
        self.reset_state()

    # ----- state

    def reset_state(self) -> None:
        self.models: dict[str, dict] = {}
        self.versions: dict[str, dict] = {}  # version id -> {"model": "o/n", ...}
        self.trainings: dict[str, Job] = {}
        self.predictions: dict[str, Job] = {}
        self._fail_trainings: list[str] = []
        self._fail_predictions: list[str] = []
        self._nsfw = 0
        self._add_model("ostris", "flux-dev-lora-trainer", "public", TRAINER_VERSION,
                        description="Fine-tune FLUX.1-dev using ai-toolkit")
        for name in OFFICIAL:
            self._add_model("black-forest-labs", name, "public",
                            hashlib.sha256(name.encode()).hexdigest())
            self.models[f"black-forest-labs/{name}"]["is_official"] = True
        for key, (version, _kind) in COMMUNITY.items():
            self._add_model(*key.split("/"), "public", version)

    def _add_model(self, owner: str, name: str, visibility: str, version: str | None = None,
                   hardware: str = "gpu-t4", description: str | None = None) -> dict:
        key = f"{owner}/{name}"
        model = {
            "url": f"https://replicate.com/{key}", "owner": owner, "name": name,
            "description": description, "visibility": visibility, "github_url": None,
            "paper_url": None, "license_url": None, "run_count": 0, "cover_image_url": None,
            "default_example": None, "latest_version": None, "hardware": hardware,
            "created_at": utcnow_iso(), "is_official": False,
        }
        self.models[key] = model
        if version:
            self._add_version(key, version)
        return model

    def _add_version(self, key: str, version_id: str) -> dict:
        schema = openapi(kind_of(key)) if key != TRAINER else {}
        version = {"id": version_id, "created_at": utcnow_iso(), "cog_version": "0.9.0",
                   "openapi_schema": schema}
        self.versions[version_id] = {"model": key, **version}
        self.models[key]["latest_version"] = version
        return version

    # ----- knobs

    def fail_next_training(self, error: str = "Training failed: CUDA out of memory",
                           times: int = 1) -> None:
        """The next `times` trainings created end `failed` with `error` (after running)."""
        with self.lock:
            self._fail_trainings.extend([error] * times)

    def fail_next_prediction(self, error: str = "Prediction failed", times: int = 1) -> None:
        with self.lock:
            self._fail_predictions.extend([error] * times)

    def retire(self, name: str) -> None:
        """The model (owner/name) is no longer served: 404 from now on, as Replicate answers."""
        with self.lock:
            model = self.models.pop(name)
            if model["latest_version"]:
                self.versions.pop(model["latest_version"]["id"], None)

    def flag_nsfw_next(self, n: int = 1) -> None:
        """The next `n` predictions with the safety checker on fail with NSFW_ERROR."""
        with self.lock:
            self._nsfw += n

    def finish(self, job_id: str) -> None:
        """Bring a training/prediction to its end now (success or its planned failure)."""
        with self.lock:
            job = self.trainings.get(job_id) or self.predictions[job_id]
            job.duration = min(job.duration, self.now() - job.t0)
        self.tick_now()

    def training(self, training_id: str) -> dict:
        with self.lock:
            return json.loads(json.dumps(self.trainings[training_id].obj))

    def prediction(self, prediction_id: str) -> dict:
        with self.lock:
            return json.loads(json.dumps(self.predictions[prediction_id].obj))

    # ----- auth, errors

    def check_auth(self, req: Request) -> bool:
        return req.header("authorization") in (f"Bearer {self.token}", f"Token {self.token}")

    def auth_error(self, req: Request) -> Response:
        return self.problem(401, "You did not pass a valid authentication token",
                            title="Unauthenticated")

    def problem(self, status: int, detail: str, title: str | None = None, **extra) -> Response:
        title = title or {400: "Bad request", 401: "Unauthenticated", 403: "Forbidden",
                          404: "Not found", 409: "Conflict", 422: "Unprocessable Entity",
                          429: "Too many requests", 500: "Internal server error",
                          503: "Service unavailable"}.get(status, "Error")
        return json_response({"title": title, "detail": detail, "status": status, **extra},
                             status, content_type="application/problem+json")

    def error_response(self, status: int, message: str, **extra: Any) -> Response:
        return self.problem(status, message, **extra)

    def not_found(self, req: Request) -> Response:
        return self.problem(404, "Not found")

    def _invalid_input(self, fields: list[tuple[str, str]]) -> HttpError:
        detail = "".join(f"- {name}: {desc}\n" for name, desc in fields)
        return HttpError(422, detail, title="Input validation failed", invalid_fields=[
            {"type": "invalid", "field": name, "description": desc} for name, desc in fields])

    # ----- webhooks

    def sign_webhook(self, delivery: WebhookDelivery) -> dict[str, str]:
        timestamp = str(int(time.time()))
        key = base64.b64decode(self.webhook_secret.split("_", 1)[1])
        message = f"{delivery.id}.{timestamp}.".encode() + delivery.body
        signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        return {"webhook-id": delivery.id, "webhook-timestamp": timestamp,
                "webhook-signature": f"v1,{signature}"}

    def _notify(self, job: Job, event: str) -> None:
        if job.webhook and event in job.events:
            body = json.dumps(job.obj).encode()
            self.webhooks.send(job.webhook, event, body, retry=event == "completed")

    # ----- predictions

    @route("POST", r"/v1/predictions")
    def create_prediction(self, req: Request) -> Response:
        body = self.body_json(req)
        version = str(body.get("version") or "")
        vid = version.split(":", 1)[1] if ":" in version else version
        with self.lock:
            ver = self.versions.get(vid)
            if not ver:
                return self.problem(422, "The specified version does not exist (or perhaps you "
                                         "don't have permission to use it?)",
                                    title="Invalid version")
            model_key = ver["model"]
        return self._create_prediction(req, body, model_key, vid)

    @route("POST", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/predictions")
    def create_model_prediction(self, req: Request, owner: str, name: str) -> Response:
        body = self.body_json(req)
        key = f"{owner}/{name}"
        with self.lock:
            model = self.models.get(key)
            if not model or not model["latest_version"]:
                return self.problem(404, "The requested resource could not be found.")
            vid = model["latest_version"]["id"]
        return self._create_prediction(req, body, key, vid)

    def _create_prediction(self, req: Request, body: dict, model_key: str, vid: str) -> Response:
        inputs = body.get("input")
        if not isinstance(inputs, dict):
            raise self._invalid_input([("input", "input is required")])
        if model_key == TRAINER:
            return self.problem(422, "This version is a trainer; create a training instead.")
        problems = input_problems(kind_of(model_key), inputs)
        if problems:
            detail = "".join(f"- {field}: {desc}\n" for _, field, desc in problems)
            raise HttpError(422, detail, title="Input validation failed", invalid_fields=[
                {"type": kind, "field": field, "description": desc}
                for kind, field, desc in problems])
        with self.lock:
            events = self._events(body)
            pid = random_id()
            job = Job("prediction", {
                "id": pid, "model": model_key, "version": vid, "input": inputs, "logs": "",
                "output": None, "data_removed": False, "error": None, "status": "starting",
                "created_at": utcnow_iso(), "started_at": None, "completed_at": None,
                "metrics": {},
                "urls": {"get": f"{self.url}/v1/predictions/{pid}",
                         "cancel": f"{self.url}/v1/predictions/{pid}/cancel",
                         "stream": f"{self.url}/v1/predictions/{pid}/stream",
                         "web": f"https://replicate.com/p/{pid}"},
            }, t0=self.now(), duration=self.prediction_seconds, webhook=body.get("webhook"),
                events=events, steps=int(inputs.get("num_inference_steps", 28)))
            if self._fail_predictions:
                job.fail_error = self._fail_predictions.pop(0)
            elif (self._nsfw and not inputs.get("disable_safety_checker")
                  and kind_of(model_key) != "pulid"):  # PuLID has no safety checker
                self._nsfw -= 1
                job.fail_error = NSFW_ERROR
            self.predictions[pid] = job
            self._notify(job, "start")
        wait = self._prefer_wait(req)
        if wait:
            self.wait_for(lambda: job.status in TERMINAL, timeout=wait)
        with self.lock:
            return json_response(job.obj, 201)

    def _prefer_wait(self, req: Request) -> float:
        prefer = req.header("prefer") or ""
        for part in prefer.split(","):
            part = part.strip()
            if part == "wait":
                return 60.0
            if part.startswith("wait="):
                try:
                    return min(max(float(part[5:]), 1.0), 60.0)
                except ValueError:
                    return 0.0
        return 0.0

    @route("GET", r"/v1/predictions/(?P<pid>[^/]+)")
    def get_prediction(self, req: Request, pid: str) -> Response:
        with self.lock:
            job = self.predictions.get(pid)
            if not job:
                return self.problem(404, "Not found")
            return json_response(job.obj)

    @route("GET", r"/v1/predictions")
    def list_predictions(self, req: Request) -> Response:
        return self._list(req, self.predictions, "/v1/predictions")

    @route("POST", r"/v1/predictions/(?P<pid>[^/]+)/cancel")
    def cancel_prediction(self, req: Request, pid: str) -> Response:
        return self._cancel(self.predictions, pid)
