"""The training interface every LoRA trainer implements, and the offline demo trainer."""

import json
import struct
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from providers.base import ProviderError  # noqa: F401  (part of this interface)


@dataclass
class TrainingState:
    """What the provider says about a training."""

    state: str  # "starting" | "running" | "succeeded" | "failed" | "canceled"
    progress: float | None = None
    logs: str = ""
    error: str = ""
    predict_time: float | None = None
    weights_url: str = ""
    version: str = ""  # Replicate's trained version (owner/name:hash)
    raw: dict = field(default_factory=dict)


class TrainingProvider:
    name = "base"
    label = "Base"
    is_demo = False
    supports_webhooks = False
    # How long to wait between polls while training (webhooks usually come first).
    poll_seconds: float = 30

    def prepare(self, run) -> str:
        """Create what the training needs at the provider (idempotently); returns a reference
        to it (kept on the run, removed again by cleanup) or ""."""
        return ""

    def start(self, run, *, zip_url: str, webhook_url: str) -> str:
        """Start the paid training; returns the provider's id for it."""
        raise NotImplementedError

    def find_started(self, run) -> str:
        """After a crash between asking for a training and recording its id: the id of the
        training that request started, if the provider can tell, else ""."""
        return ""

    def state(self, run) -> TrainingState:
        raise NotImplementedError

    def cancel(self, run) -> None:
        raise NotImplementedError

    def fetch_weights(self, run, state: TrainingState) -> bytes:
        """The trained LoRA as safetensors bytes."""
        raise NotImplementedError

    def delete_ref(self, ref: str) -> None:
        """Remove what prepare() created (the destination model)."""


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


class DemoTrainer(TrainingProvider):
    """Walks the same stages offline at a pace set by TRAINING_DEMO_SECONDS and produces a
    clearly marked demo weights file, so the demo can train and then generate."""

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
        return None

    def fetch_weights(self, run, state):
        rank = run.lora_rank
        return safetensors_bytes(
            {"demo.lora_A.weight": ("F32", [rank, 4], bytes(4 * rank * 4))},
            {"likeness_demo": "true", "note": "Demo weights made offline; not a trained LoRA.",
             "trigger_word": run.model.trigger_word, "subject_class": run.model.subject_class},
        )


TRAINERS: dict[str, str] = {
    "demo": "providers.training.DemoTrainer",
    "replicate": "providers.replicate.ReplicateTrainer",
    "fal": "providers.fal.FalTrainer",
}


def training_provider(name: str | None = None) -> TrainingProvider:
    from django.utils.module_loading import import_string

    name = name or settings.TRAINING_PROVIDER
    try:
        return import_string(TRAINERS[name])()
    except KeyError:
        raise LookupError(f"Unknown training provider {name!r}")
