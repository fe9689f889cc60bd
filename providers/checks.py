"""`manage.py check` (and every server start) refuses provider names that do not exist."""

from django.conf import settings
from django.core.checks import Error, register

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
