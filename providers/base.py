"""The generation interface every image provider implements, and its error classification."""

from dataclasses import dataclass, field


class ProviderError(Exception):
    """A provider call failed. `transient` errors (timeouts, 5xx, 429) are retried with
    backoff; permanent ones (invalid request, bad key, refused content) fail at once."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None,
                 code: str = "provider_error"):
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.code = code


@dataclass
class GenerationRequest:
    prompt: str
    width: int
    height: int
    seed: int
    base_model: str
    num_images: int = 1
    steps: int | None = None
    guidance: float | None = None
    negative_prompt: str = ""


@dataclass
class ProviderImage:
    data: bytes
    content_type: str  # image/png, image/jpeg, image/webp
    width: int
    height: int
    seed: int
    metadata: dict = field(default_factory=dict)


class GenerationProvider:
    name = "base"
    label = "Base"
    is_demo = False

    def generate(self, request: GenerationRequest) -> list[ProviderImage]:
        raise NotImplementedError
