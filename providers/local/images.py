"""The operator's own GPU as an image provider ("local" in GENERATION_PROVIDERS or a route):
FLUX.1 from LOCAL_MODELS_DIR (flux-schnell/, flux-dev/ in the diffusers layout, see
providers/local/layout.py and docs/local-gpu.md), kept warm by providers.local.engine, with a
personal LoRA applied per request from our own storage. Nothing leaves the machine.

torch and diffusers are imported only when this provider is used (the `local` extra)."""

import hashlib
import io
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage

from likeness.errors import ProviderError
from providers.interfaces import PERSONAL, ImageProvider, ImageRequest, ModelCheck, ProviderImage
from providers.local.layout import check_model_dir

# Our catalogue's keys → the directory under LOCAL_MODELS_DIR that serves them. A personal LoRA
# is trained on FLUX.1 [dev]; on flux-schnell a local LoRA runs too (trained there by the local
# trainer), so personal models use whichever of the two the operator has, dev first.
DIRECTORIES = {"flux-schnell": "flux-schnell", "flux-dev": "flux-dev"}
PERSONAL_DIRECTORIES = ("flux-dev", "flux-schnell")


def models_dir() -> Path:
    return Path(settings.LOCAL_MODELS_DIR)


def directory_for(base_model: str, personal: bool) -> Path | None:
    """The model directory that serves this request here, if a complete one is on disk."""
    names = PERSONAL_DIRECTORIES if personal else (DIRECTORIES.get(base_model),)
    for name in names:
        if name and (models_dir() / name).is_dir() and not check_model_dir(models_dir() / name):
            return models_dir() / name
    return None


def lora_file(storage_name: str) -> Path:
    """A personal model's weights from our storage as a local file (cached by name)."""
    cache = Path(settings.LOCAL_CACHE_DIR) / "loras"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / (hashlib.sha256(storage_name.encode()).hexdigest()[:32] + ".safetensors")
    if not path.exists():
        with default_storage.open(storage_name, "rb") as source:
            data = source.read()
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


class LocalProvider(ImageProvider):
    name = "local"
    label = "Your GPU"

    def check_models(self, models: list[str]) -> list[ModelCheck]:
        checks = []
        for model in models:
            found = directory_for(model, model == PERSONAL)
            checks.append(ModelCheck(model, str(found.name) if found else "", found is not None,
                                     "on disk" if found else "no complete model directory"))
        return checks

    def supports(self, request: ImageRequest) -> bool:
        personal = request.lora is not None
        if personal and not request.lora.storage_name:
            return False  # weights only at a provider (a Replicate version): not here
        return directory_for(request.base_model, personal) is not None

    def generate(self, request: ImageRequest) -> list[ProviderImage]:
        from providers.local import engine  # torch: loaded by the first local image only
        directory = directory_for(request.base_model, request.lora is not None)
        if directory is None:
            raise ProviderError("No complete model directory for this model in "
                                "LOCAL_MODELS_DIR.", transient=False, code="model_unavailable")
        pipe = engine.load_pipeline(directory, settings.LOCAL_MEMORY_PROFILE or None)
        lora = None
        if request.lora is not None:
            lora = (lora_file(request.lora.storage_name), request.lora.scale)
        width, height = request.width - request.width % 16, request.height - request.height % 16
        pictures = engine.generate(pipe, request.prompt, width=width, height=height,
                                   steps=request.steps, guidance=request.guidance,
                                   seed=request.seed, num_images=request.num_images, lora=lora)
        images = []
        for offset, picture in enumerate(pictures):
            out = io.BytesIO()
            picture.save(out, format="PNG")
            images.append(ProviderImage(data=out.getvalue(), content_type="image/png",
                                        width=picture.width, height=picture.height,
                                        seed=request.seed + offset,
                                        metadata={"local_model": directory.name}))
        return images
