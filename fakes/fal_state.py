"""The fal.ai fake's constants and job record, shared by its modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakes.base import (
    b64,
)

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
