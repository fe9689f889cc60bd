"""How the fal fake runs a queued request with its clock: IN_QUEUE, IN_PROGRESS with logs,
COMPLETED; the inputs each app takes checked as fal checks them; the training and generation
results."""

from __future__ import annotations

import json
import random
from typing import Any

from fakes import fal_enhance, fal_pulid
from fakes.base import (
    utcnow_iso,
)
from fakes.fal_state import GENERATION_APPS, IMAGE_SIZES, TRAINING_APP, FalJob
from fakes.images import black_image, safetensors_bytes


class JobRunner:
    """A mixin of FakeFal, whose state and helpers it uses."""

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
        special = fal_pulid if job.app == fal_pulid.APP else (
            fal_enhance if job.app in fal_enhance.ENHANCE_APPS else None)
        if special is not None:  # an app with its own inputs and output
            errors = special.validate(job.app, job.input)
            if not errors:
                status, body, error = special.output(self, job)
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
