from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.keys import create_api_key


class Command(BaseCommand):
    help = "Create an API key for an account and print it. The key is shown only this once."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The account's e-mail address.")
        parser.add_argument("--name", default="Command line", help="A label for the key.")

    def handle(self, *args, email, name, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account with the e-mail address {email!r}.")
        key, raw = create_api_key(user, name)
        self.stderr.write(f"Created API key {key.name!r} ({key.prefix}…) for {user.email}. "
                          "It is shown once; store it now.")
        self.stdout.write(raw)
