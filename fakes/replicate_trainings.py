"""The Replicate fake's trainings: POST /v1/models/.../versions/.../trainings, their listing,
reading and canceling."""

from __future__ import annotations

from fakes.base import (
    Request,
    Response,
    json_response,
    random_id,
    route,
    utcnow_iso,
)
from fakes.replicate_state import (
    TRAINER,
    WEBHOOK_EVENTS,
    Job,
)


class TrainingsApi:
    """A mixin of FakeReplicate, whose state and helpers it uses."""

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
