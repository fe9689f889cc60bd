"""What instant mode's adapters share (providers.fal.instant, providers.replicate.instant):
PuLID on FLUX.1 [dev] takes the same knobs at both providers, in the same ranges (its
predictor's: steps 1-20, guidance 1-10, id_weight 0-3)."""

from likeness.errors import ProviderError
from providers.interfaces import ImageRequest

MAX_STEPS = 20  # PuLID's predictor stops at 20 steps: more is clamped, not refused
MAX_ID_WEIGHT = 3.0
GUIDANCE = (1.0, 10.0)
MAX_SEQUENCE_LENGTH = 512  # FLUX.1 [dev]'s own: a long prompt is not cut at 128 tokens


def steps(request: ImageRequest) -> int:
    return min(request.steps or MAX_STEPS, MAX_STEPS)


def id_weight(request: ImageRequest) -> float:
    """How strongly the identity is held, in PuLID's range."""
    return max(0.0, min(float(request.reference.id_weight), MAX_ID_WEIGHT))


def guidance(request: ImageRequest) -> float | None:
    """The request's guidance in PuLID's range; None: the model's default (4)."""
    if request.guidance is None:
        return None
    return max(GUIDANCE[0], min(float(request.guidance), GUIDANCE[1]))


def require_reference(request: ImageRequest) -> None:
    if request.reference is None:
        raise ProviderError("Instant mode needs a reference photo.", transient=False,
                            code="invalid_request")
