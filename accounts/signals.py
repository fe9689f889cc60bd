from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User


@receiver(post_save, sender=User)
def welcome_grant(sender, instance, created, raw=False, **kwargs):
    """Every new account gets the Free plan's credits once (idempotent by reference)."""
    if created and not raw:
        from credits.actions import grant_signup_credits

        grant_signup_credits(instance)
