"""The landing page, the dashboard, credits and the demo mail outbox."""

import re
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from accounts.plans import PLANS
from credits.models import CreditEntry
from generation.catalogue import BASE_MODELS
from generation.models import Generation, Image
from studio.slots import slots

OUTBOX_NAME = re.compile(r"^[0-9]+-[0-9a-f]{8}\.eml$")


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


def _outbox_dir() -> Path:
    if not settings.SHOW_OUTBOX:
        raise Http404("The outbox is off.")
    return Path(settings.EMAIL_OUTBOX_DIR)


def _read_message(path: Path) -> dict:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    try:
        sent = parsedate_to_datetime(message["date"]) if message["date"] else None
    except (TypeError, ValueError):
        sent = None
    body = message.get_body(preferencelist=("plain",))
    return {
        "name": path.name,
        "subject": str(message["subject"] or "(no subject)"),
        "to": str(message["to"] or ""),
        "sender": str(message["from"] or ""),
        "date": sent,
        "text": body.get_content() if body is not None else "",
    }


def outbox(request):
    folder = _outbox_dir()
    paths = [p for p in folder.glob("*.eml") if OUTBOX_NAME.match(p.name)] \
        if folder.is_dir() else []
    # Names start with time.time_ns(), so the number orders them by time: newest first.
    paths.sort(key=lambda p: int(p.name.split("-")[0]), reverse=True)
    return render(request, "web/outbox.html", {"mails": [_read_message(p) for p in paths[:100]]})


def outbox_message(request, name):
    folder = _outbox_dir()
    if not OUTBOX_NAME.match(name):
        raise Http404("No such message.")
    path = folder / name
    if not path.is_file():
        raise Http404("No such message.")
    return render(request, "web/outbox_message.html", {"mail": _read_message(path)})
