"""The public side of trust and safety: "report this image" on every share page, the removal
request ("this model shows me"), and the operator's acceptable-use and privacy pages.

The forms are public, CSRF-protected like every form of the site, and rate limited per client
address (RATE_LIMIT_REPORTS, likeness.ratelimit). Their answers say the same whatever was found,
so they reveal nothing about who has which model."""

from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from gallery import sharing
from likeness.errors import DomainError, show
from safety import actions, likeness_check
from safety.forms import RemovalForm, ReportForm

TERMS = {"acceptable-use": "Acceptable use", "privacy": "Privacy"}


@require_http_methods(["GET", "POST"])
def report_image(request, token):
    image = sharing.shared_image(token)  # a link that no longer works is a 404 here too
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.report_image(token, **form.cleaned_data)
        except DomainError as exc:
            show(request, exc, form)
        else:
            return redirect("report_sent")
    response = render(request, "safety/report.html", {
        "form": form, "image": image, "token": token,
        "image_url": reverse("shared_image_file", args=[token])})
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return response


@require_http_methods(["GET", "POST"])
def removal_request(request):
    form = RemovalForm(request.POST or None, request.FILES or None,
                       initial={"link": request.GET.get("link", "")[:500]})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        photo = data.pop("photo", None)
        try:
            _, model = actions.find_subject(data["link"])
            distance = likeness_check.distance_to_model(photo, model) if photo else None
            actions.request_removal(face_distance=distance, **data)
        except DomainError as exc:
            show(request, exc, form)
        else:
            return redirect("report_sent")
    response = render(request, "safety/removal.html", {"form": form})
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def report_sent(request):
    return render(request, "safety/report_sent.html")


def operator_text(page: str) -> str | None:
    """The operator's own text for a terms page (TERMS_DIR/<page>.html), if there is one."""
    path = Path(settings.TERMS_DIR) / f"{page}.html"
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


@require_GET
def terms(request, page):
    if page not in TERMS:
        raise Http404("No such page.")
    text = operator_text(page)
    return render(request, "safety/terms.html", {
        "page": page, "title": TERMS[page],
        # The operator's own file, trusted like a template.
        "operator_text": mark_safe(text) if text is not None else None,  # noqa: S308
        "default_template": f"safety/terms/{page}.html",
        "keep_selfies": settings.CONSENT_KEEP_SELFIES})
