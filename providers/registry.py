from django.conf import settings

from providers.base import GenerationProvider
from providers.demo import DemoProvider

GENERATION_PROVIDERS: dict[str, type[GenerationProvider]] = {"demo": DemoProvider}


def generation_provider(name: str | None = None) -> GenerationProvider:
    name = name or settings.GENERATION_PROVIDERS[0]
    try:
        return GENERATION_PROVIDERS[name]()
    except KeyError:
        raise LookupError(f"Unknown generation provider {name!r}")
