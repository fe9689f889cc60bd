"""The staff side: the queue of reports (and of consent selfies that did not match), one
report with the image, model and account it concerns, one model's safety page, and the audit
trail. Staff only, with two-factor authentication (accounts.staff)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from accounts.staff import staff_required
from credits.actions import get_balance
from generation.models import Image
from likeness.errors import DomainError
from likeness.files import serve_file
from safety import actions
from safety.forms import StaffActionForm
from safety.models import Report, StaffAction
from studio import consent as consents
from studio.models import Consent, PersonalModel, TrainingPhoto


def _choices(*, report=None, image=None, model=None, user=None) -> list:
    """The actions that apply now, as (action, label, button variant)."""
    found = []
    if image is not None:
        found.append(("remove_image", "Remove the image", "danger"))
    if model is not None:
        found.append(("reinstate_model", "Reinstate the model", "secondary") if model.is_suspended
                     else ("suspend_model", "Suspend the model", "danger"))
    if user is not None and not user.is_staff:
        found.append(("suspend_account", "Suspend the account", "danger") if user.is_active
                     else ("reinstate_account", "Reinstate the account", "secondary"))
    if report is not None and report.status == Report.Status.OPEN:
        found.append(("dismiss", "Dismiss the report", "secondary"))
    return found


def _account_facts(user) -> dict | None:
    if user is None:
        return None
    return {"user": user, "credits": get_balance(user), "plan": user.plan_info.name,
            "models": PersonalModel.objects.filter(user=user).count(),
            "images": Image.objects.filter(user=user).count()}


@staff_required
@require_GET
def queue(request):
    status = request.GET.get("status", Report.Status.OPEN)
    reports = Report.objects.select_related("image", "personal_model", "account")
    if status in Report.Status.values:
        reports = reports.filter(status=status)
    page = Paginator(reports, 25).get_page(request.GET.get("page"))
    return render(request, "safety/staff_queue.html", {
        "page": page, "status": status, "statuses": Report.Status.choices,
        "open_count": Report.objects.filter(status=Report.Status.OPEN).count(),
        **_consent_queue()})


def _consent_queue() -> dict:
    """Consent selfies that did not match, for staff to review (studio.consent)."""
    waiting = (Consent.objects.filter(status=Consent.Status.MISMATCH, overridden_at__isnull=True)
               .select_related("model", "user")[:100])
    # Only those still in the way: the customer has not since given a consent that covers them.
    return {"consents": [c for c in waiting if consents.current(c.model) is None][:50]}


@staff_required
def report_detail(request, pk):
    report = get_object_or_404(Report.objects.select_related(
        "image__generation", "personal_model__user", "account", "resolved_by"), pk=pk)
    form = StaffActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _act(request, form.cleaned_data["action"], form.cleaned_data["reason"], report=report,
                image=report.image, model=report.personal_model, user=report.account):
            return redirect("staff_report", pk=report.pk)
    return render(request, "safety/staff_report.html", {
        "report": report, "form": form, "account": _account_facts(report.account),
        "model": report.personal_model, "actions": report.actions.all(),
        "report_choices": _choices(report=report, image=report.image,
                                   model=report.personal_model, user=report.account)})


def _act(request, action, reason, *, report=None, image=None, model=None, user=None,
         consent=None) -> bool:
    """Run one staff action; True when it was done (a message says what happened)."""
    staff = request.user
    calls = {
        "remove_image": (image, lambda: actions.remove_image(staff, image, reason=reason,
                                                             report=report)),
        "suspend_model": (model, lambda: actions.suspend_model(staff, model, reason=reason,
                                                               report=report)),
        "reinstate_model": (model, lambda: actions.reinstate_model(staff, model, reason=reason)),
        "suspend_account": (user, lambda: actions.suspend_account(staff, user, reason=reason,
                                                                  report=report)),
        "reinstate_account": (user, lambda: actions.reinstate_account(staff, user,
                                                                      reason=reason)),
        "dismiss": (report, lambda: actions.dismiss(staff, report, reason=reason)),
        "override_consent": (consent, lambda: actions.override_consent(staff, consent,
                                                                       reason=reason)),
    }
    target, call = calls[action]
    if target is None:
        messages.error(request, "There is nothing to do that to any more.")
        return False
    try:
        entry = call()
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    note = entry.get_action_display() + "."
    if entry.details.get("subscription_error"):
        messages.warning(request, f"{note} The subscription could not be canceled: "
                                  f"{entry.details['subscription_error']}")
    else:
        messages.success(request, note)
    return True


@staff_required
def model_detail(request, pk):
    model = get_object_or_404(PersonalModel.objects.select_related("user"), pk=pk)
    form = StaffActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        consent = model.consents.filter(pk=request.POST.get("consent") or 0).first()
        if _act(request, form.cleaned_data["action"], form.cleaned_data["reason"], model=model,
                user=model.user, consent=consent):
            return redirect("staff_model", pk=model.pk)
    return render(request, "safety/staff_model.html", {
        "model": model, "form": form, "account": _account_facts(model.user),
        "photos": model.photos.all()[:30],
        "consents": model.consents.select_related("user", "overridden_by")[:20],
        "model_choices": _choices(model=model, user=model.user),
        "consent_choices": [("override_consent", "Accept the selfie", "primary")],
        "actions": StaffAction.objects.filter(target_ref__in=[str(model.pk),
                                                              str(model.user.public_id)])})


@staff_required
@require_GET
def audit(request):
    page = Paginator(StaffAction.objects.select_related("report"), 50).get_page(
        request.GET.get("page"))
    return render(request, "safety/staff_audit.html", {"page": page})


@staff_required
@require_GET
def image_file(request, pk):
    """A reported image, for staff (customers' image URLs are their owners' only)."""
    image = get_object_or_404(Image, pk=pk)
    return serve_file(image.file, content_type=image.content_type)


@staff_required
@require_GET
def photo_file(request, pk, photo_id):
    photo = get_object_or_404(TrainingPhoto, pk=photo_id, model_id=pk)
    return serve_file(photo.thumbnail, content_type="image/webp")


@staff_required
@require_GET
def selfie_file(request, pk, consent_id):
    """A consent selfie, where the operator keeps them (CONSENT_KEEP_SELFIES)."""
    model = get_object_or_404(PersonalModel, pk=pk)
    consent = get_object_or_404(model.consents, pk=consent_id)
    if not consent.selfie:
        raise Http404("No selfie was kept.")
    return serve_file(consent.selfie, content_type="image/jpeg")
