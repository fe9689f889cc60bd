"""Base models, aspect ratios and prices, defined once."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BaseModel:
    id: str
    name: str
    credits_per_image: int
    supports_custom_model: bool
    default_steps: int
    description: str


BASE_MODELS: dict[str, BaseModel] = {
    "flux-schnell": BaseModel("flux-schnell", "FLUX.1 schnell", 1, False, 4,
                              "Fast drafts in a few seconds."),
    "flux-dev": BaseModel("flux-dev", "FLUX.1 dev", 2, True, 28,
                          "Higher quality; works with personal models."),
    "flux-pro": BaseModel("flux-pro", "FLUX1.1 pro", 4, False, 28,
                          "The best quality for final shots."),
}
DEFAULT_BASE_MODEL = "flux-schnell"

# Sizes are multiples of 64 near one megapixel, which every FLUX provider accepts.
ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "4:5": (896, 1120),
    "3:4": (896, 1152),
    "2:3": (832, 1216),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
}
DEFAULT_ASPECT_RATIO = "1:1"
MAX_IMAGES_PER_REQUEST = 4
