"""Product events to PostHog, when POSTHOG_API_KEY is set: sign-ups, generations, trainings,
purchases, exports and deletions. The distinct id is the account's public id; no e-mail
address, prompt or photo ever leaves."""

import logging

from allauth.account.signals import user_signed_up
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

logger = logging.getLogger(__name__)
_client = None


def client():
    global _client
    if not settings.POSTHOG_API_KEY:
        return None
    if _client is None or _client.api_key != settings.POSTHOG_API_KEY:
        from posthog import Posthog

        _client = Posthog(settings.POSTHOG_API_KEY, host=settings.POSTHOG_HOST,
                          disable_geoip=True, timeout=5)
    return _client


def capture(user, event: str, **properties) -> None:
    posthog = client()
    if posthog is None or user is None:
        return
    distinct_id = str(user.public_id)

    def send():
        try:
            posthog.capture(event, distinct_id=distinct_id, properties=properties)
        except Exception:  # analytics never breaks the product
            logger.warning("PostHog capture of %s failed", event, exc_info=True)

    transaction.on_commit(send)


@receiver(user_signed_up)
def signed_up(sender, request, user, **kwargs):
    capture(user, "signed_up", plan=user.plan)


@receiver(post_save, sender="generation.Generation")
def generation_created(sender, instance, created, **kwargs):
    if created:
        capture(instance.user, "generation_created", base_model=instance.base_model,
                num_images=instance.num_images, personal=instance.personal_model_id is not None,
                credits=instance.credits_reserved)


@receiver(post_save, sender="studio.TrainingRun")
def training_started(sender, instance, created, **kwargs):
    if created:
        capture(instance.user, "training_started", provider=instance.provider,
                credits=instance.credits)


@receiver(post_save, sender="billing.Payment")
def purchased(sender, instance, created, **kwargs):
    if created:
        capture(instance.user, "purchase", kind=instance.kind, item=instance.item,
                amount_cents=instance.amount_cents, currency=instance.currency)
