"""Which implementation serves each interface of providers.interfaces. Adding a provider means
one package under providers/ and one line here. Implementations are imported when first used,
so a deployment never loads SDKs it does not call."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from providers.interfaces import Delivery, ImageProvider, Publisher, Trainer
from providers.private import refuse_outside

IMAGE_PROVIDERS: dict[str, str | type] = {
    "demo": "providers.demo.images.DemoProvider",
    "together": "providers.together.images.TogetherProvider",
    "nebius": "providers.nebius.images.NebiusProvider",
    "fal": "providers.fal.images.FalProvider",
    "replicate": "providers.replicate.images.ReplicateProvider",
    "local": "providers.local.images.LocalProvider",
}
TRAINERS: dict[str, str | type] = {
    "demo": "providers.demo.training.DemoTrainer",
    "replicate": "providers.replicate.training.ReplicateTrainer",
    "fal": "providers.fal.training.FalTrainer",
    "local": "providers.local.training.LocalTrainer",
}
PUBLISHER = "providers.huggingface.publisher.HubPublisher"
DELIVERY = "providers.cloudflare.images.CloudflareDelivery"


@cache
def _load(entry: str | type):
    """An implementation by its dotted path (or the class itself, e.g. one a test registers)."""
    return entry if isinstance(entry, type) else import_string(entry)


def image_provider(name: str | None = None) -> ImageProvider:
    name = name or settings.GENERATION_PROVIDERS[0]
    if name in IMAGE_PROVIDERS:
        refuse_outside("the image provider", name)  # PRIVATE_MODE: before anything is sent
    try:
        return _load(IMAGE_PROVIDERS[name])()
    except KeyError:
        raise LookupError(f"Unknown generation provider {name!r}")


def trainer(name: str | None = None, *, deleting: bool = False) -> Trainer:
    """The trainer `name`. In private mode an outside one is refused, except `deleting` what we
    left there (a clean-up sends no photo, and the customer's data must still go)."""
    name = name or settings.TRAINING_PROVIDER
    if name in TRAINERS and not deleting:
        refuse_outside("the trainer", name)
    try:
        return _load(TRAINERS[name])()
    except KeyError:
        raise LookupError(f"Unknown training provider {name!r}")


def publisher() -> Publisher:
    return _load(PUBLISHER)()


def delivery() -> Delivery:
    return _load(DELIVERY)()
