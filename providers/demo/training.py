"""The offline demo trainer: it walks the same stages as a real one at the pace set by
TRAINING_DEMO_SECONDS and produces a clearly marked demo weights file, so the demo can train
and then generate."""

import json
import random
import struct

from django.conf import settings
from django.utils import timezone

from providers.demo.faces import BEST_SCALES, FACE_PREFIX, crops_from_zip
from providers.interfaces import Trainer, TrainingState


def safetensors_bytes(tensors: dict[str, tuple[str, list[int], bytes]], metadata: dict) -> bytes:
    """A minimal safetensors file: 8-byte header length, JSON header, raw tensor data."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs)


class DemoTrainer(Trainer):
    name = "demo"
    label = "Demo (offline)"
    is_demo = True

    @property
    def poll_seconds(self):
        return max(0.2, min(2.0, settings.TRAINING_DEMO_SECONDS / 30))

    def start(self, run, *, zip_url, webhook_url):
        return f"demo-{run.id}"

    def state(self, run):
        started = run.started_at or timezone.now()
        elapsed = (timezone.now() - started).total_seconds()
        total = max(settings.TRAINING_DEMO_SECONDS, 0.001)
        progress = min(elapsed / total, 1.0)
        lines = [f"demo trainer: step {int(progress * run.steps)}/{run.steps}"
                 for progress in (i / 10 for i in range(int(progress * 10) + 1))]
        if "[fail-training]" in run.model.name:
            return TrainingState("failed", progress, "\n".join(lines),
                                 error="The demo trainer was asked to fail.")
        if progress >= 1.0:
            return TrainingState("succeeded", 1.0, "\n".join(lines), predict_time=elapsed,
                                 weights_url="demo://weights")
        return TrainingState("running", progress, "\n".join(lines))

    def cancel(self, run):
        return True

    def fetch_weights(self, run, state):
        """Demo weights: no LoRA, but the subject's face crops from the training ZIP (what the
        demo image provider draws the subject with, providers.demo.faces) and the strength at
        which this "training" works best."""
        rank = run.lora_rank
        tensors = {"demo.lora_A.weight": ("F32", [rank, 4], bytes(4 * rank * 4))}
        crops = []
        if run.zip_file:
            with run.zip_file.open("rb") as handle:
                crops = crops_from_zip(handle.read())
        for number, crop in enumerate(crops):
            tensors[f"{FACE_PREFIX}{number}"] = ("U8", [len(crop)], crop)
        best = random.Random(str(run.id)).choice(BEST_SCALES)
        return safetensors_bytes(tensors, {
            "likeness_demo": "true", "note": "Demo weights made offline; not a trained LoRA.",
            "trigger_word": run.model.trigger_word, "subject_class": run.model.subject_class,
            "best_scale": str(best), "faces": str(len(crops))})
