from django.conf import settings

from credits.actions import get_balance


def site(request):
    context = {
        "show_outbox": settings.SHOW_OUTBOX,
        "demo_mode": "demo" in settings.GENERATION_PROVIDERS,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["credit_balance"] = get_balance(user)
    return context
