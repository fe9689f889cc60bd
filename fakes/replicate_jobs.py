"""How the Replicate fake's jobs move on with its clock: starting, processing with logs, then
completed, with the webhooks Replicate sends on the way."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import time

from fakes import enhancers, pulid
from fakes.base import (
    Request,
    Response,
    json_response,
    utcnow_iso,
)
from fakes.images import safetensors_bytes
from fakes.replicate_schemas import ENHANCERS, SINGLE_OUTPUT, kind_of
from fakes.replicate_state import (
    ASPECT_RATIOS,
    TERMINAL,
    Job,
)


class JobLifecycle:
    """A mixin of FakeReplicate, whose state and helpers it uses."""

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
        elif kind_of(obj["model"]) == "pulid":
            pulid.replicate_run(self, obj, job.extra.get("seed", 0))
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
