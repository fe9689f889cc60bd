"""Base models, aspect ratios, sizes and prices, defined once."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BaseModel:
    id: str
    name: str
    credits_per_image: int
    supports_custom_model: bool
    default_steps: int
    description: str
    supports_negative_prompt: bool = True
    max_steps: int = 50
    default_guidance: float | None = 3.5


BASE_MODELS: dict[str, BaseModel] = {
    "flux-schnell": BaseModel("flux-schnell", "FLUX.1 schnell", 1, False, 4,
                              "Fast drafts in a few seconds.", max_steps=12,
                              default_guidance=None),
    "flux-dev": BaseModel("flux-dev", "FLUX.1 dev", 2, True, 28,
                          "Higher quality; works with personal models."),
    "flux-pro": BaseModel("flux-pro", "FLUX1.1 pro", 4, False, 28,
                          "The best quality for final shots.", supports_negative_prompt=False),
}
DEFAULT_BASE_MODEL = "flux-schnell"

# Personal models run on FLUX.1 dev with their LoRA, at this price per image.
PERSONAL_BASE_MODEL = "flux-dev"
PERSONAL_MODEL_CREDITS = 2
DEFAULT_LORA_SCALE = 1.0
LORA_SCALE_RANGE = (0.3, 1.5)

# Sizes are multiples of 64 (32 for the last pair) near one megapixel, which every FLUX
# provider accepts (FLUX1.1 pro wants multiples of 32 up to 1440).
ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "4:5": (896, 1120),
    "3:4": (896, 1152),
    "2:3": (832, 1216),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
}
# Per-model exceptions to ASPECT_RATIOS (none needed today; kept as the one place to add them).
MODEL_SIZES: dict[str, dict[str, tuple[int, int]]] = {}
DEFAULT_ASPECT_RATIO = "1:1"
MAX_IMAGES_PER_REQUEST = 4
MAX_PROMPT_LENGTH = 2000
MAX_BATCH_PROMPTS = 10  # prompts one batch may queue


def size_for(base_model: str, aspect_ratio: str) -> tuple[int, int]:
    return MODEL_SIZES.get(base_model, {}).get(aspect_ratio) or ASPECT_RATIOS[aspect_ratio]


def sizes_for(base_model: str) -> dict[str, tuple[int, int]]:
    return {ratio: size_for(base_model, ratio) for ratio in ASPECT_RATIOS}


def credits_per_image(base_model: str, *, personal: bool = False) -> int:
    return PERSONAL_MODEL_CREDITS if personal else BASE_MODELS[base_model].credits_per_image
