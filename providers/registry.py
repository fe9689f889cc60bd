from django.conf import settings
from django.utils.module_loading import import_string

from providers.base import GenerationProvider
from providers.demo import DemoProvider

# Adapters are imported when first used, so a deployment never loads SDKs it does not call.
GENERATION_PROVIDERS: dict[str, type[GenerationProvider] | str] = {
    "demo": DemoProvider,
    "together": "providers.together.TogetherProvider",
    "nebius": "providers.nebius.NebiusProvider",
    "fal": "providers.fal_images.FalProvider",
    "replicate": "providers.replicate_images.ReplicateProvider",
}


def generation_provider(name: str | None = None) -> GenerationProvider:
    name = name or settings.GENERATION_PROVIDERS[0]
    try:
        cls = GENERATION_PROVIDERS[name]
    except KeyError:
        raise LookupError(f"Unknown generation provider {name!r}")
    if isinstance(cls, str):
        cls = import_string(cls)
    return cls()
