"""The ledger's reactions to accounts: a new account gets the Free plan's credits, once per
address (credits.addresses)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from credits.actions import grant_signup_credits


@receiver(post_save, sender=User, dispatch_uid="credits.welcome_grant")
def welcome_grant(sender, instance, created, raw=False, **kwargs):
    """A second save grants nothing (the reference), nor a second account of the address."""
    if created and not raw:
        grant_signup_credits(instance)
