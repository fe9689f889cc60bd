"""A fake of the Replicate HTTP API (https://api.replicate.com/v1/...), for the official `replicate`
SDK: `replicate.Client(api_token=fake.token, base_url=fake.url)` (host only, no /v1).

What it does (see docs/providers.md, "Replicate"):
- models: the trainer `ostris/flux-dev-lora-trainer` (version `TRAINER_VERSION`) and the
  official `black-forest-labs/flux-schnell`, `flux-dev`, `flux-dev-lora`, `flux-1.1-pro`,
  `flux-2-dev`, `flux-2-pro` exist (`retire(name)` removes one: it answers 404 from then on);
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
import io
import json
import random
import tarfile
import time
from dataclasses import dataclass, field
from typing import Any

from fakes import enhancers
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
from fakes.images import safetensors_bytes
from fakes.replicate_schemas import COMMUNITY, ENHANCERS, SINGLE_OUTPUT, kind_of, openapi
from fakes.replicate_schemas import problems as input_problems

TRAINER = "ostris/flux-dev-lora-trainer"
TRAINER_VERSION = "e440909d3512c31646ee2e0c7d6f6f4923224863a6a10c494606e79fb5844497"
NSFW_ERROR = ("All generated images contained NSFW content. "
              "Try running it again with a different prompt.")
WEBHOOK_EVENTS = ("start", "output", "logs", "completed")
TERMINAL = ("succeeded", "failed", "canceled")
OFFICIAL = ("flux-schnell", "flux-dev", "flux-dev-lora", "flux-1.1-pro", "flux-2-dev",
            "flux-2-pro")

# cog-flux's aspect ratios (about one megapixel each).
ASPECT_RATIOS = {
    "1:1": (1024, 1024), "16:9": (1344, 768), "21:9": (1536, 640), "3:2": (1216, 832),
    "2:3": (832, 1216), "4:5": (896, 1088), "5:4": (1088, 896), "3:4": (896, 1152),
    "4:3": (1152, 896), "9:16": (768, 1344), "9:21": (640, 1536),
}


@dataclass
class Job:
    """A training or a prediction: `obj` is exactly what the API returns."""

    kind: str  # "training" | "prediction"
    obj: dict
    t0: float
    duration: float
    webhook: str | None = None
    events: tuple = WEBHOOK_EVENTS
    fail_error: str | None = None
    fail_logs: str = ""
    steps: int = 0
    last_logs_sent: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.obj["status"]


class FakeReplicate(FakeServer):
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

    # ----- account, models, versions

    @route("GET", r"/v1/account")
    def get_account(self, req: Request) -> Response:
        return json_response({"type": "organization", "username": self.username,
                              "name": self.username, "github_url": None})

    @route("GET", r"/v1/webhooks/default/secret")
    def get_webhook_secret(self, req: Request) -> Response:
        return json_response({"key": self.webhook_secret})

    @route("GET", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)")
    def get_model(self, req: Request, owner: str, name: str) -> Response:
        with self.lock:
            model = self.models.get(f"{owner}/{name}")
            if not model:
                return self.problem(404, "Not found")
            return json_response(model)

    @route("POST", r"/v1/models")
    def create_model(self, req: Request) -> Response:
        body = self.body_json(req)
        missing = [k for k in ("owner", "name", "visibility", "hardware") if not body.get(k)]
        if missing:
            raise self._invalid_input([(k, f"{k} is required") for k in missing])
        if body["visibility"] not in ("public", "private"):
            raise self._invalid_input([("visibility", "must be one of: public, private")])
        with self.lock:
            key = f"{body['owner']}/{body['name']}"
            if key in self.models:
                return self.problem(409, "A model with that name and owner already exists.")
            model = self._add_model(body["owner"], body["name"], body["visibility"],
                                    hardware=body["hardware"],
                                    description=body.get("description"))
            return json_response(model, 201)

    @route("DELETE", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)")
    def delete_model(self, req: Request, owner: str, name: str) -> Response:
        key = f"{owner}/{name}"
        with self.lock:
            model = self.models.get(key)
            if not model:
                return self.problem(404, "Not found")
            if model["visibility"] != "private":
                return self.problem(403, "You can only delete private models.")
            if any(v["model"] == key for v in self.versions.values()):
                return self.problem(409, "Cannot delete a model that has versions. "
                                         "Delete the model's versions first.")
            del self.models[key]
            return Response(204, b"", None)

    @route("GET", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions")
    def list_versions(self, req: Request, owner: str, name: str) -> Response:
        key = f"{owner}/{name}"
        with self.lock:
            if key not in self.models:
                return self.problem(404, "Not found")
            results = [{k: v for k, v in ver.items() if k != "model"}
                       for ver in reversed(self.versions.values()) if ver["model"] == key]
            return json_response({"next": None, "previous": None, "results": results})

    @route("GET", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions/(?P<vid>[^/]+)")
    def get_version(self, req: Request, owner: str, name: str, vid: str) -> Response:
        with self.lock:
            ver = self.versions.get(vid)
            if not ver or ver["model"] != f"{owner}/{name}":
                return self.problem(404, "Not found")
            return json_response({k: v for k, v in ver.items() if k != "model"})

    @route("DELETE", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions/(?P<vid>[^/]+)")
    def delete_version(self, req: Request, owner: str, name: str, vid: str) -> Response:
        key = f"{owner}/{name}"
        with self.lock:
            ver = self.versions.get(vid)
            if not ver or ver["model"] != key:
                return self.problem(404, "Not found")
            del self.versions[vid]
            remaining = [v for v in self.versions.values() if v["model"] == key]
            self.models[key]["latest_version"] = (
                {k: v for k, v in remaining[-1].items() if k != "model"} if remaining else None)
            return Response(204, b"", None)

    # ----- trainings

    @route("POST", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions/(?P<vid>[^/]+)/trainings")
    def create_training(self, req: Request, owner: str, name: str, vid: str) -> Response:
        body = self.body_json(req)
        key = f"{owner}/{name}"
        with self.lock:
            ver = self.versions.get(vid)
            if key not in self.models or not ver or ver["model"] != key:
                return self.problem(404, "The specified model version does not exist.")
            destination = body.get("destination")
            if not destination or destination not in self.models:
                return self.problem(404, "The specified training destination does not exist")
            inputs = body.get("input")
            if not isinstance(inputs, dict):
                raise self._invalid_input([("input", "input is required")])
            if key == TRAINER:
                self._validate_trainer_input(inputs)
            events = self._events(body)
            now = utcnow_iso()
            tid = random_id()
            job = Job("training", {
                "id": tid, "model": key, "version": vid, "input": inputs, "logs": "",
                "error": None, "status": "starting", "created_at": now, "started_at": None,
                "completed_at": None, "metrics": {}, "output": None,
                "urls": {"get": f"{self.url}/v1/trainings/{tid}",
                         "cancel": f"{self.url}/v1/trainings/{tid}/cancel",
                         "web": f"https://replicate.com/p/{tid}"},
            }, t0=self.now(), duration=self.training_seconds, webhook=body.get("webhook"),
                events=events, steps=int(inputs.get("steps", 1000)))
            job.extra["destination"] = destination
            if self._fail_trainings:
                job.fail_error = self._fail_trainings.pop(0)
            self.trainings[tid] = job
            self._notify(job, "start")
            return json_response(job.obj, 201)

    def _validate_trainer_input(self, inputs: dict) -> None:
        problems = []
        if not inputs.get("input_images"):
            problems.append(("input_images", "input_images is required"))
        checks = (("steps", 3, 6000), ("lora_rank", 1, 128), ("batch_size", 1, 16))
        for name, lo, hi in checks:
            if name in inputs:
                value = inputs[name]
                if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                    problems.append((name, f"{name} must be an integer between {lo} and {hi}"))
        if "learning_rate" in inputs and not isinstance(inputs["learning_rate"], (int, float)):
            problems.append(("learning_rate", "learning_rate must be a number"))
        if problems:
            raise self._invalid_input([("input", desc) for _name, desc in problems])

    def _events(self, body: dict) -> tuple:
        events = body.get("webhook_events_filter")
        if events is None:
            return WEBHOOK_EVENTS
        bad = [e for e in events if e not in WEBHOOK_EVENTS]
        if bad:
            raise self._invalid_input([("webhook_events_filter",
                                        f"must be some of {', '.join(WEBHOOK_EVENTS)}")])
        return tuple(events)

    @route("GET", r"/v1/trainings/(?P<tid>[^/]+)")
    def get_training(self, req: Request, tid: str) -> Response:
        with self.lock:
            job = self.trainings.get(tid)
            if not job:
                return self.problem(404, "Not found")
            return json_response(job.obj)

    @route("GET", r"/v1/trainings")
    def list_trainings(self, req: Request) -> Response:
        return self._list(req, self.trainings, "/v1/trainings")

    @route("POST", r"/v1/trainings/(?P<tid>[^/]+)/cancel")
    def cancel_training(self, req: Request, tid: str) -> Response:
        return self._cancel(self.trainings, tid)

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
            elif self._nsfw and not inputs.get("disable_safety_checker"):
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

    # ----- shared

    def _list(self, req: Request, jobs: dict, path: str) -> Response:
        with self.lock:
            items = [job.obj for job in reversed(jobs.values())]
            try:
                start = int(req.arg("cursor") or 0)
            except ValueError:
                return self.problem(400, "Invalid cursor")
            page = items[start:start + self.page_size]
            nxt = start + self.page_size
            return json_response({
                "next": f"{self.url}{path}?cursor={nxt}" if nxt < len(items) else None,
                "previous": (f"{self.url}{path}?cursor={max(0, start - self.page_size)}"
                             if start else None),
                "results": page,
            })

    def _cancel(self, jobs: dict, job_id: str) -> Response:
        with self.lock:
            job = jobs.get(job_id)
            if not job:
                return self.problem(404, "Not found")
            if job.status not in TERMINAL:
                job.obj["status"] = "canceled"
                job.obj["completed_at"] = utcnow_iso()
                self._notify(job, "completed")
            return json_response(job.obj)

    def tick(self, now: float) -> None:
        for job in [*self.trainings.values(), *self.predictions.values()]:
            if job.status in TERMINAL:
                continue
            elapsed = now - job.t0
            obj = job.obj
            if job.status == "starting" and elapsed >= min(self.starting_seconds, job.duration):
                obj["status"] = "processing"
                obj["started_at"] = utcnow_iso()
                obj["logs"] = self._first_logs(job)
                self._logs_event(job, force=True)
            if job.status == "processing":
                if elapsed >= job.duration:
                    self._complete(job, elapsed)
                else:
                    span = max(job.duration - self.starting_seconds, 1e-6)
                    progress = max(0.0, min(1.0, (elapsed - self.starting_seconds) / span))
                    line = self._progress_line(job, progress)
                    if line and not obj["logs"].endswith(line):
                        obj["logs"] += line
                        self._logs_event(job)

    def _first_logs(self, job: Job) -> str:
        if job.kind == "training":
            return (f"Loading {len(str(job.obj['input'].get('input_images', '')))} byte URL of "
                    "training images\nExtracting images...\nStarting training\n")
        seed = job.obj["input"].get("seed")
        job.extra["seed"] = seed if isinstance(seed, int) else random.randrange(2**31)
        return f"Using seed: {job.extra['seed']}\n"

    def _progress_line(self, job: Job, progress: float) -> str:
        steps = max(job.steps, 1)
        done = int(progress * steps)
        label = "flux_train_replicate" if job.kind == "training" else "Generating"
        return f"{label}: {int(progress * 100):3d}%| {done}/{steps}\n"

    def _logs_event(self, job: Job, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - job.last_logs_sent >= self.logs_webhook_interval:
            job.last_logs_sent = now
            self._notify(job, "logs")

    def _complete(self, job: Job, elapsed: float) -> None:
        obj = job.obj
        obj["completed_at"] = utcnow_iso()
        obj["metrics"] = {"predict_time": round(elapsed, 3), "total_time": round(elapsed, 3)}
        if job.fail_error:
            obj["status"] = "failed"
            obj["error"] = job.fail_error
            obj["logs"] += f"Traceback (most recent call last):\nException: {job.fail_error}\n"
        elif job.kind == "training":
            destination = job.extra["destination"]
            version_id = hashlib.sha256(f"{obj['id']}:{destination}".encode()).hexdigest()
            weights = self.serve_bytes("trained_model.tar", self._weights_tar(obj),
                                       "application/x-tar")
            if destination in self.models:
                self._add_version(destination, version_id)
            obj["logs"] += "Saved LoRA to output/flux_train_replicate/lora.safetensors\n"
            obj["output"] = {"version": f"{destination}:{version_id}", "weights": weights}
            obj["status"] = "succeeded"
        elif kind_of(obj["model"]) in ENHANCERS:
            enhancers.replicate_run(self, obj, kind_of(obj["model"]))
        else:
            inputs = obj["input"]
            width, height = self._size(inputs)
            fmt = inputs.get("output_format", "webp")
            seed = job.extra.get("seed", 0)
            urls = [self.host_image(width, height, seed, fmt, i, prefix="out")["url"]
                    for i in range(int(inputs.get("num_outputs", 1)))]
            obj["output"] = urls[0] if kind_of(obj["model"]) in SINGLE_OUTPUT else urls
            obj["status"] = "succeeded"
            if job.webhook and "output" in job.events and "completed" not in job.events:
                self._notify(job, "output")
        self._notify(job, "completed")

    def _size(self, inputs: dict) -> tuple[int, int]:
        ar = inputs.get("aspect_ratio")
        width, height = inputs.get("width"), inputs.get("height")
        if (ar == "custom" or ar is None) and width and height:
            return int(width) // 16 * 16 or 16, int(height) // 16 * 16 or 16
        return ASPECT_RATIOS.get(ar or "1:1", ASPECT_RATIOS["1:1"])

    def _weights_tar(self, obj: dict) -> bytes:
        buf = io.BytesIO()
        rank = obj["input"].get("lora_rank", 16)
        seed = int(hashlib.sha256(obj["id"].encode()).hexdigest()[:6], 16)
        members = {
            "output/flux_train_replicate/lora.safetensors": safetensors_bytes(
                rank=min(int(rank), 16), seed=seed),
            "output/flux_train_replicate/config.yaml": (
                f"trigger_word: {obj['input'].get('trigger_word', 'TOK')}\n"
                f"steps: {obj['input'].get('steps', 1000)}\n").encode(),
        }
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()
