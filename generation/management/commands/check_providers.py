"""`manage.py check_providers`: ask each configured image provider which of our models it
serves now, remember the answers (the routing skips a provider for a model it does not serve)
and print them per provider, with each model's weights licence."""

import json

from django.core.management.base import BaseCommand, CommandError

from generation.catalogue import catalogue_keys
from generation.catalogue import describe as described
from providers import catalogue


def describe(model: str) -> tuple[str, str]:
    """(name, licence) of a catalogue key."""
    name, base = described(model)
    return name, base.licence_name


class Command(BaseCommand):
    help = "Ask each configured image provider which models it serves, and remember it."

    def add_arguments(self, parser):
        parser.add_argument("providers", nargs="*",
                            help="Only these providers (default: every configured one).")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args, **options):
        answers = catalogue.refresh(catalogue_keys(), options["providers"] or None)
        if options["json"]:
            self.stdout.write(json.dumps([
                {"provider": a.provider, "error": str(a.error) if a.error else None,
                 "models": [{"model": c.model, "name": describe(c.model)[0],
                             "provider_model": c.provider_model, "served": c.served,
                             "detail": c.detail, "licence": describe(c.model)[1]}
                            for c in a.checks]} for a in answers], indent=2))
            return
        for answer in answers:
            self.stdout.write(self.style.MIGRATE_HEADING(answer.provider))
            if answer.error:
                self.stdout.write(self.style.ERROR(f"  could not ask: {answer.error}"))
                continue
            for check in answer.checks:
                name, licence = describe(check.model)
                mark = self.style.SUCCESS("serves  ") if check.served else self.style.WARNING(
                    "missing ")
                where = check.provider_model or "-"
                self.stdout.write(f"  {mark} {name:<28} {where:<44} {licence}"
                                  + ("" if check.served else f"  ({check.detail})"))
        if any(a.error for a in answers):
            raise CommandError("Some providers could not be asked; their last answers stand.")
