"""The product events observability sends to PostHog (likeness.analytics) as things happen."""

from allauth.account.signals import user_signed_up
from django.db.models.signals import post_save
from django.dispatch import receiver

from likeness.analytics import capture


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
