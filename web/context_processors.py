from functools import cache

from django.conf import settings

from credits.actions import get_balance


def site(request):
    context = {
        "show_outbox": settings.SHOW_OUTBOX,
        "demo_mode": "demo" in settings.GENERATION_PROVIDERS,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Read when a template first shows it (templates call a callable), at most once: a
        # fragment that shows no balance (the gallery's infinite scroll) asks nothing.
        context["credit_balance"] = cache(lambda: get_balance(user))
    return context
