from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from credits.actions import grant_demo_credits


class Command(BaseCommand):
    help = "Create (or update) the pre-verified demo account with its 1,000 demo credits."

    def handle(self, *args, **options):
        email = settings.DEMO_EMAIL.lower()
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, settings.DEMO_PASSWORD, name="Demo")
            created = True
        else:
            user.set_password(settings.DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created = False
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        grant_demo_credits(user)  # once: the grant is idempotent by reference
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} demo account {email} (password: {settings.DEMO_PASSWORD})")
