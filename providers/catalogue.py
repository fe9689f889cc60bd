"""The live catalogue: which configured provider serves which of our models now.

Each provider is asked (ImageProvider.check_models: Together and Nebius list their models,
Replicate and fal answer per model) by `manage.py check_providers` and an hourly task; a request
a provider refuses because it does not serve the model teaches the same. The routing skips a
provider whose last answer for a model was "not served", until that answer is older than
CATALOGUE_MAX_AGE_SECONDS. Without an answer a provider is tried (and what it says is learned)."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from likeness.errors import ProviderError
from providers.interfaces import ModelCheck
from providers.models import ServedModel
from providers.registry import image_provider

logger = logging.getLogger(__name__)


@dataclass
class Answer:
    provider: str
    checks: list[ModelCheck]
    error: ProviderError | None = None


def configured_providers() -> list[str]:
    """Every provider a route may send to, in the order they are first named."""
    names = list(settings.GENERATION_PROVIDERS)
    for route in settings.GENERATION_ROUTES.values():
        names.extend(route)
    return list(dict.fromkeys(names))


def record(provider: str, checks: list[ModelCheck], *,
           source: str = ServedModel.Source.CHECK) -> None:
    now = timezone.now()
    for check in checks:
        ServedModel.objects.update_or_create(
            provider=provider, model=check.model,
            defaults={"provider_model": check.provider_model, "served": check.served,
                      "detail": check.detail[:300], "source": source, "checked_at": now})


def learn_unavailable(provider: str, model: str, provider_model: str, detail: str) -> None:
    """A request was refused because `provider` does not serve `model`: skip it from now on."""
    logger.warning("%s does not serve %s (%s): %s", provider, model, provider_model, detail)
    record(provider, [ModelCheck(model, provider_model, False, detail)],
           source=ServedModel.Source.REQUEST)


def learn_from_tries(tries) -> None:
    """Learn from a routing's failed attempts (Result.tries / RoutingFailed.tries) which
    providers answered that they do not serve the model."""
    for tried in tries or []:
        if tried.get("code") == "model_unavailable":
            learn_unavailable(tried["provider"], tried["model"], "", tried["message"])


def ask(provider: str, models: list[str]) -> Answer:
    """Ask one provider about these models and remember the answer; a provider that cannot
    be asked (down, key refused) teaches nothing and keeps what was known."""
    try:
        checks = image_provider(provider).check_models(models)
    except ProviderError as exc:
        logger.warning("could not ask %s which models it serves: %s", provider, exc)
        return Answer(provider, [], exc)
    record(provider, checks)
    return Answer(provider, checks)


def refresh(models: list[str], providers: list[str] | None = None) -> list[Answer]:
    return [ask(name, models) for name in (providers or configured_providers())]


def not_served(model: str) -> set[str]:
    """The providers whose recent answer is that they do not serve `model`."""
    since = timezone.now() - timedelta(seconds=settings.CATALOGUE_MAX_AGE_SECONDS)
    return set(ServedModel.objects.filter(model=model, served=False, checked_at__gte=since)
               .values_list("provider", flat=True))


def known() -> list[ServedModel]:
    return list(ServedModel.objects.all())
