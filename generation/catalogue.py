"""Base models, aspect ratios, sizes and prices, defined once.

Each base model says which architecture it is (`family`): a personal model is a LoRA trained on
FLUX.1 [dev], so it runs only there; FLUX.2 is another architecture. `licence` is the licence of
its weights, which matters when an operator runs them on their own hardware (FLUX.1 [dev] and
FLUX.2 [dev] are non-commercial; FLUX.1 [schnell] is Apache-2.0; the pro models have no
public weights and run only at their providers). Which provider serves which model is the live
catalogue's business (`manage.py check_providers`, docs/providers.md)."""

from dataclasses import dataclass

from providers.interfaces import INSTANT, PERSONAL

FLUX1_DEV_LICENCE = ("FLUX.1 [dev] Non-Commercial License",
                     "https://huggingface.co/black-forest-labs/FLUX.1-dev/blob/main/LICENSE.md")
FLUX2_DEV_LICENCE = ("FLUX Non-Commercial License",
                     "https://huggingface.co/black-forest-labs/FLUX.2-dev/blob/main/LICENSE.md")
APACHE = ("Apache-2.0", "https://www.apache.org/licenses/LICENSE-2.0")
API_ONLY = ("Proprietary: served by its providers only", "https://bfl.ai/legal/terms-of-service")


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
    family: str = "flux1"
    licence: tuple[str, str] = API_ONLY
    commercial_weights: bool = False  # its weights may be run commercially on one's own GPU

    @property
    def licence_name(self) -> str:
        return self.licence[0]

    @property
    def licence_url(self) -> str:
        return self.licence[1]


BASE_MODELS: dict[str, BaseModel] = {
    "flux-schnell": BaseModel("flux-schnell", "FLUX.1 schnell", 1, False, 4,
                              "Fast drafts in a few seconds.", max_steps=12,
                              default_guidance=None, licence=APACHE, commercial_weights=True),
    "flux-dev": BaseModel("flux-dev", "FLUX.1 dev", 2, True, 28,
                          "Higher quality; works with personal models.",
                          licence=FLUX1_DEV_LICENCE),
    "flux-pro": BaseModel("flux-pro", "FLUX1.1 pro", 4, False, 28,
                          "The best quality for final shots.", supports_negative_prompt=False),
    "flux-2-dev": BaseModel("flux-2-dev", "FLUX.2 dev", 2, False, 28,
                            "The newer open model: sharper text and hands.",
                            supports_negative_prompt=False, family="flux2",
                            licence=FLUX2_DEV_LICENCE),
    "flux-2-pro": BaseModel("flux-2-pro", "FLUX.2 pro", 4, False, 28,
                            "The newest model for final shots.", supports_negative_prompt=False,
                            default_guidance=None, family="flux2"),
}
DEFAULT_BASE_MODEL = "flux-schnell"

# Personal models run on FLUX.1 dev with their LoRA, at this price per image.
PERSONAL_BASE_MODEL = "flux-dev"
PERSONAL_MODEL_CREDITS = 2
DEFAULT_LORA_SCALE = 1.0  # a model's own, once its validation round has run, wins
LORA_SCALE_RANGE = (0.3, 1.5)
# The validation round after a training (generation.validation): each prompt at each strength,
# scored against the faces held out of training. Part of the training's price.
VALIDATION_SCALES = (0.8, 1.0, 1.2)
VALIDATION_PROMPTS = (
    "a close-up portrait photo of {subject}, soft window light",
    "a photo of {subject} outdoors in a park, natural light, looking at the camera",
    "a head-and-shoulders photo of {subject} in a studio, plain grey background",
)
VALIDATION_SEEDS = (20261, 40961, 77813)  # one per prompt, the same at every strength

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
MAX_SEED = 2**31 - 1
MAX_BATCH_PROMPTS = 10  # prompts one batch may queue


# --- Instant mode (generation.instant) -----------------------------------------------------
# A person drawn from one of their model's photos, without training, by PuLID on FLUX.1 [dev].
# PuLID's code and weights are Apache-2.0, but it runs InsightFace's antelopev2 face models,
# released for non-commercial research only, on FLUX.1 [dev] (non-commercial weights): an
# operator selling the service checks their provider's terms or sets INSTANT_MODE=0.
INSTANT_LICENCE = ("Non-commercial: PuLID (Apache-2.0) runs InsightFace's face models "
                   "(non-commercial research only) on FLUX.1 [dev]",
                   "https://github.com/deepinsight/insightface#license")
INSTANT_MODEL = BaseModel("flux-pulid", "Instant (PuLID on FLUX.1 dev)", 2, False, 20,
                          "A first look from one photo, before the training ends.",
                          max_steps=20, default_guidance=4.0, licence=INSTANT_LICENCE)
INSTANT_MAX_REFERENCES = 4  # photos of the model an instant generation draws from, in turn
INSTANT_ID_WEIGHT = 1.0  # PuLID's `id_weight`: the models' default
INSTANT_SUBJECTS = ("man", "woman", "person", "child")  # human faces: InsightFace finds no pet


def catalogue_keys() -> list[str]:
    """What the live catalogue asks each provider about: every base model, "personal"
    (FLUX.1 [dev] with a personal LoRA) and "instant" (PuLID)."""
    return [*BASE_MODELS, PERSONAL, INSTANT]


def describe(key: str) -> tuple[str, BaseModel]:
    """A catalogue key's display name and the base model whose weights (and licence) it runs."""
    if key == INSTANT:
        return INSTANT_MODEL.name, INSTANT_MODEL
    if key == PERSONAL:
        base = BASE_MODELS[PERSONAL_BASE_MODEL]
        return f"{base.name} + personal LoRA", base
    return BASE_MODELS[key].name, BASE_MODELS[key]


def size_for(base_model: str, aspect_ratio: str) -> tuple[int, int]:
    return MODEL_SIZES.get(base_model, {}).get(aspect_ratio) or ASPECT_RATIOS[aspect_ratio]


def sizes_for(base_model: str) -> dict[str, tuple[int, int]]:
    return {ratio: size_for(base_model, ratio) for ratio in ASPECT_RATIOS}


def credits_per_image(base_model: str, *, personal: bool = False) -> int:
    return PERSONAL_MODEL_CREDITS if personal else BASE_MODELS[base_model].credits_per_image


# --- New versions of an image (generation.versions) -----------------------------------------
@dataclass(frozen=True)
class Operation:
    """Something done to an existing image, making a new version of it: its price, the route
    key of the routing table (providers.interfaces UPSCALE / FACE_RESTORE) and the factor its
    sides grow by."""

    id: str
    name: str
    credits: int
    route: str
    scale: int = 1


OPERATIONS: dict[str, Operation] = {
    "upscale_2x": Operation("upscale_2x", "Upscale 2×", 1, "upscale", 2),
    "upscale_4x": Operation("upscale_4x", "Upscale 4×", 2, "upscale", 4),
    "face_restore": Operation("face_restore", "Restore face", 1, "face_restore"),
}
UPSCALE_FACTORS = {2: "upscale_2x", 4: "upscale_4x"}
# The largest version made: 4096 × 4096 pixels (16.8 MP) and 8192 px a side. Beyond it the
# providers' GPUs run out of memory (Real-ESRGAN at Replicate, fal's esrgan) and the files
# pass the download limit (providers.results.MAX_IMAGE_BYTES): a 4× of an image already
# upscaled is refused before anything is charged.
MAX_VERSION_PIXELS = 4096 * 4096
MAX_VERSION_SIDE = 8192
