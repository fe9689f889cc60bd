"""The Replicate fake's constants and job record, shared by its modules."""

from __future__ import annotations

from dataclasses import dataclass, field

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
