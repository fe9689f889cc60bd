"""`manage.py check` (and every server start) refuses provider names that do not exist, a
local engine whose models are not on disk, and a private mode that the configuration
contradicts."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register

from providers import private
from providers.local.layout import check_model_dir
from providers.registry import IMAGE_PROVIDERS, TRAINERS


@register()
def provider_names(app_configs, **kwargs):
    errors = []
    for name in settings.GENERATION_PROVIDERS:
        if name not in IMAGE_PROVIDERS:
            errors.append(Error(f"GENERATION_PROVIDERS names an unknown provider {name!r}.",
                                hint=f"Known: {', '.join(IMAGE_PROVIDERS)}.",
                                id="likeness.E001"))
    for model, names in settings.GENERATION_ROUTES.items():
        for name in names:
            if name not in IMAGE_PROVIDERS:
                errors.append(Error(f"GENERATION_ROUTES sends {model!r} to an unknown provider "
                                    f"{name!r}.", hint=f"Known: {', '.join(IMAGE_PROVIDERS)}.",
                                    id="likeness.E003"))
    if settings.TRAINING_PROVIDER not in TRAINERS:
        errors.append(Error(f"TRAINING_PROVIDER is an unknown provider "
                            f"{settings.TRAINING_PROVIDER!r}.",
                            hint=f"Known: {', '.join(TRAINERS)}.", id="likeness.E002"))
    return errors


@register()
def local_models(app_configs, **kwargs):
    """With the local engine in use, its models must be on disk and complete: a clear error at
    start, not a crash in a worker (nothing is downloaded at run time)."""
    routes = set(settings.GENERATION_PROVIDERS) | {
        name for names in settings.GENERATION_ROUTES.values() for name in names}
    if "local" not in routes and settings.TRAINING_PROVIDER != "local":
        return []
    base = Path(settings.LOCAL_MODELS_DIR)
    found = {name: check_model_dir(base / name) for name in ("flux-schnell", "flux-dev")
             if (base / name).exists()}
    if not found:
        return [Error(f"The local engine is configured but LOCAL_MODELS_DIR ({base}) holds "
                      "neither flux-schnell/ nor flux-dev/.",
                      hint="Fetch FLUX.1 once as docs/local-gpu.md shows.", id="likeness.E010")]
    return [Error(f"{base / name} is incomplete: {'; '.join(problems[:3])}",
                  hint="Fetch it again as docs/local-gpu.md shows.", id="likeness.E011")
            for name, problems in found.items() if problems]


@register()
def private_mode(app_configs, **kwargs):
    """PRIVATE_MODE with an outside service configured is refused at start (providers.private);
    a storage bucket at a cloud company is said, not refused: it is the operator's own."""
    errors = [Error(f"PRIVATE_MODE is on, but {what} would send photos or prompts out of this "
                    "installation.", hint="Use only the local engine (or the demo), and leave "
                    "Hugging Face and Cloudflare Images unset; or turn PRIVATE_MODE off.",
                    id=check_id) for check_id, what in private.contradictions()]
    if settings.PRIVATE_MODE and getattr(settings, "AWS_STORAGE_BUCKET_NAME", ""):
        errors.append(Warning(
            "PRIVATE_MODE keeps every photo in the storage bucket "
            f"{settings.AWS_STORAGE_BUCKET_NAME!r}.",
            hint="Private mode counts your bucket as part of the installation; for no outside "
                 "company at all, use a bucket you host (MinIO) or local files.",
            id="likeness.W020"))
    return errors
