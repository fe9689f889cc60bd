"""The landing page, the dashboard, credits and the demo mail outbox."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.plans import PLANS
from credits.models import CreditEntry
from generation.catalogue import BASE_MODELS
from generation.models import Generation, Image
from studio.slots import slots
from web import outbox as outbox_mail


def landing(request):
    return render(request, "web/landing.html", {
        "plans": PLANS.values(),
        "base_models": BASE_MODELS.values(),
    })


@login_required
def dashboard(request):
    user = request.user
    return render(request, "web/dashboard.html", {
        "images_made": Image.objects.filter(user=user).count(),
        "recent_generations": Generation.objects.filter(user=user)[:5],
        "recent_entries": CreditEntry.objects.filter(user=user)[:5],
        "recent_images": Image.objects.filter(user=user)[:6],
        "plan": user.plan_info,
        "model_slots": slots(user),
    })


@login_required
def credits(request):
    entries = CreditEntry.objects.filter(user=request.user)
    page = Paginator(entries, 25).get_page(request.GET.get("page"))
    return render(request, "web/credits.html", {"page_obj": page, "plan": request.user.plan_info})


def outbox(request):
    """The demo outbox: each visitor sees only the mail that is theirs (web.outbox)."""
    readable = outbox_mail.readable_addresses(request)
    if not request.user.is_authenticated and not readable:
        return redirect_to_login(request.get_full_path())
    return render(request, "web/outbox.html", {"mails": outbox_mail.messages_for(readable)})


def outbox_message(request, name):
    readable = outbox_mail.readable_addresses(request)
    return render(request, "web/outbox_message.html",
                  {"mail": outbox_mail.message_for(readable, name)})
