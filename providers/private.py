"""Private mode (PRIVATE_MODE): no photo, prompt or picture made of them leaves the
installation.

What would carry them out, and what private mode does about each:

- the trainer (the photos) and the image providers (the prompts, and a personal model's LoRA,
  which is made of the photos): only those that run inside the installation, IN_HOUSE, may be
  configured or called; any other is a system-check error (likeness.E020) and, asked for
  anyway, refused with PrivateModeRefused before a byte is sent;
- publishing the weights to the Hugging Face Hub, and copying images to Cloudflare Images:
  configuring either is an error (E021), and `refuse_outside` stops the upload;
- the prompt policy and the face checks already run offline, and the error reports (Sentry)
  then carry no local variables or request bodies (observability.sentry).

What private mode leaves alone, because no photo or prompt is in it: e-mail, Stripe, PostHog's
events (an id and a name), and the completion callbacks a customer asks for at their own
address. The operator's storage bucket is part of the installation: one at a cloud company is
a warning (W020), not an error."""

from dataclasses import dataclass

from django.conf import settings

from likeness.errors import PrivateModeRefused
from providers.interfaces import PERSONAL

# Implementations that run inside this installation and send nothing out: the offline demo and
# the operator's own GPU (providers.local).
IN_HOUSE = frozenset({"demo", "local"})


@dataclass(frozen=True)
class Processor:
    """An outside service that receives customers' photos, prompts or pictures."""

    name: str
    label: str
    receives: str


LABELS = {"replicate": "Replicate", "fal": "fal.ai", "together": "Together AI",
          "nebius": "Nebius AI Studio"}


def refuse_outside(what: str, name: str) -> None:
    """Raise PrivateModeRefused when private mode is on and `name` is not in-house."""
    if settings.PRIVATE_MODE and name not in IN_HOUSE:
        raise PrivateModeRefused(f"Private mode is on: {what} {name!r} runs outside this "
                                 "installation, so nothing is sent to it.", service=name)


def refuse_route(base_model: str, *, personal: bool = False) -> None:
    """Refuse (PrivateModeRefused) a request whose route names an outside image provider, before
    it is accepted: in private mode it would never be drawn."""
    key = PERSONAL if personal else base_model
    for name in settings.GENERATION_ROUTES.get(key) or settings.GENERATION_PROVIDERS:
        refuse_outside("the image provider", name)


def image_provider_names() -> list[str]:
    """Every image provider the routing table may ask, in order of first mention."""
    names = list(settings.GENERATION_PROVIDERS)
    for route in settings.GENERATION_ROUTES.values():
        names += route
    return list(dict.fromkeys(names))


def hub_publishing() -> bool:
    return bool(settings.HF_TOKEN and settings.HF_NAMESPACE)


def cloudflare_delivery() -> bool:
    return bool(settings.CLOUDFLARE_ACCOUNT_ID and settings.CLOUDFLARE_API_TOKEN)


def outside_processors() -> list[Processor]:
    """The outside services this configuration sends photos, prompts or pictures to."""
    found = []
    if settings.TRAINING_PROVIDER not in IN_HOUSE:
        name = settings.TRAINING_PROVIDER
        found.append(Processor(name, LABELS.get(name, name), "your training photos"))
    for name in image_provider_names():
        if name not in IN_HOUSE:
            found.append(Processor(name, LABELS.get(name, name),
                                   "your prompts and your personal models' weights"))
    if hub_publishing():
        found.append(Processor("huggingface", "Hugging Face Hub",
                               "your personal models' weights"))
    if cloudflare_delivery():
        found.append(Processor("cloudflare", "Cloudflare Images", "the images you generate"))
    return found


def contradictions() -> list[tuple[str, str]]:
    """(check id, what) for each part of the configuration that sends data out although
    PRIVATE_MODE is on; empty when it is off, or when everything stays in."""
    if not settings.PRIVATE_MODE:
        return []
    problems = []
    if settings.TRAINING_PROVIDER not in IN_HOUSE:
        problems.append(("likeness.E020", f"TRAINING_PROVIDER={settings.TRAINING_PROVIDER}"))
    outside = [name for name in image_provider_names() if name not in IN_HOUSE]
    if outside:
        problems.append(("likeness.E020", f"image provider(s) {', '.join(outside)} in "
                                          "GENERATION_PROVIDERS or GENERATION_ROUTES"))
    if hub_publishing():
        problems.append(("likeness.E021", "Hugging Face publishing (HF_TOKEN, HF_NAMESPACE)"))
    if cloudflare_delivery():
        problems.append(("likeness.E021", "Cloudflare Images (CLOUDFLARE_ACCOUNT_ID, "
                                          "CLOUDFLARE_API_TOKEN)"))
    return problems
