"""Trust and safety actions: the public's reports, and what staff do about them.

Each staff action is one transaction with its audit row (StaffAction): removing an image (its
files here and at Cloudflare Images go once the transaction commits), suspending a model (it
neither trains nor generates, its share links stop working, a training under way is canceled),
suspending an account (it can no longer sign in or use its API keys, every share link stops,
its trainings are canceled and its subscription is canceled at Stripe through billing), and
dismissing a report. An account's credits stay in its ledger as they are: unusable while it is
suspended, there again if staff reinstate it, never refunded in money automatically (the audit
row records the balance, so the operator can refund by hand in Stripe)."""

import logging
import re

from django.db import transaction
from django.utils import timezone

from billing import actions as billing
from credits.actions import get_balance
from gallery import sharing
from gallery.actions import delete_images
from generation.models import Image
from likeness.errors import Conflict, InvalidInput
from safety.models import Report, StaffAction
from studio import actions as studio
from studio import consent as consents
from studio.models import PersonalModel, TrainingRun

logger = logging.getLogger(__name__)
MAX_DETAILS = 2000
_SHARE_LINK = re.compile(r"/s/([A-Za-z0-9_-]{20,64})(?:/image)?/?(?:[?#].*)?$")
_HUB_REPO = re.compile(r"^(?:https?://[^/]+/)?([A-Za-z0-9][\w.-]*/[\w.-]+?)/?$")


# --- From the public ------------------------------------------------------------------------
def _clean(reason: str, details: str, contact: str) -> tuple[str, str, str]:
    if reason not in Report.Reason.values:
        raise InvalidInput("reason", "Choose what is wrong.")
    details = (details or "").strip()
    if len(details) > MAX_DETAILS:
        raise InvalidInput("details", f"Please keep it under {MAX_DETAILS:,} characters.")
    return reason, details, (contact or "").strip()


def _subject(report: Report, image: Image | None, model: PersonalModel | None) -> Report:
    """Tie the report to what it is about, and keep their ids for when they are gone."""
    if image is not None:
        report.image, report.image_ref = image, image.pk
        model = model or image.personal_model
        report.account, report.account_ref = image.user, image.user.public_id
    if model is not None:
        report.personal_model, report.model_ref, report.model_name = model, model.pk, model.name
        report.account, report.account_ref = model.user, model.user.public_id
    return report


def report_image(token: str, *, reason: str, details: str = "", contact: str = "") -> Report:
    """"Report this image", from its share page (Http404 when the link no longer works)."""
    image = sharing.shared_image(token)
    reason, details, contact = _clean(reason, details, contact)
    report = Report(kind=Report.Kind.IMAGE, reason=reason, details=details, contact=contact,
                    link=f"/s/{token}")
    _subject(report, image, None).save()
    logger.info("image reported", extra={"report": report.pk, "reason": reason})
    return report


def find_subject(link: str) -> tuple[Image | None, PersonalModel | None]:
    """What a removal request points at: a share link (its image and model), or the model's
    Hugging Face repository (its URL or `owner/name`). (None, None) when nothing matches; the
    requester is told the same either way, so the form reveals nothing."""
    link = (link or "").strip()
    share = _SHARE_LINK.search(link)
    if share:
        image = (Image.objects.filter(share_token=share.group(1))
                 .select_related("user", "personal_model").first())
        return image, image.personal_model if image else None
    hub = _HUB_REPO.match(link)
    if hub:
        model = (PersonalModel.objects.filter(hf_repo_id__iexact=hub.group(1))
                 .select_related("user").first())
        return None, model
    return None, None


def request_removal(*, link: str, details: str, contact: str, reason: str = "not_consented",
                    face_distance: float | None = None) -> Report:
    """"This model shows me": a person asks for a model of them to be taken down."""
    reason, details, contact = _clean(reason, details, contact)
    if not contact:
        raise InvalidInput("contact", "Give an e-mail address, so we can tell you what we did.")
    if not (link or "").strip() and not details:
        raise InvalidInput("link", "Paste the link you found, or say where you saw the model.")
    image, model = find_subject(link)
    report = Report(kind=Report.Kind.REMOVAL, reason=reason, details=details, contact=contact,
                    link=(link or "").strip()[:500], face_distance=face_distance)
    _subject(report, image, model).save()
    logger.info("removal requested", extra={"report": report.pk, "matched": model is not None})
    return report


# --- Staff ------------------------------------------------------------------------------------
def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason", "Say why: the reason is kept in the audit trail.")
    return reason


def _audit(staff, action: str, *, kind: str, ref, label: str, reason: str,
           report: Report | None = None, **details) -> StaffAction:
    return StaffAction.objects.create(
        actor=staff, actor_email=staff.email, action=action, target_kind=kind,
        target_ref=str(ref), target_label=label[:200], reason=reason, report=report,
        details=details)


def _close(report: Report | None, staff, status: str = Report.Status.ACTIONED) -> None:
    if report is not None and report.status == Report.Status.OPEN:
        report.status, report.resolved_at, report.resolved_by = status, timezone.now(), staff
        report.save(update_fields=["status", "resolved_at", "resolved_by"])


def _cancel_trainings(runs) -> int:
    canceled = 0
    for run in runs.exclude(status__in=TrainingRun.FINAL):
        try:
            studio.request_cancel(run)
            canceled += 1
        except Conflict:  # it finished meanwhile
            pass
    return canceled


def remove_image(staff, image: Image, *, reason: str, report: Report | None = None
                 ) -> StaffAction:
    """Delete the image and every copy of it; its share link is a 404 from now on."""
    reason = _reason(reason)
    with transaction.atomic():
        label = f"image {image.pk} of {image.user.email}"
        entry = _audit(staff, StaffAction.Action.REMOVE_IMAGE, kind="image", ref=image.pk,
                       label=label, reason=reason, report=report, prompt=image.prompt[:500],
                       was_shared=bool(image.share_token),
                       personal_model=str(image.personal_model_id or ""))
        delete_images(image.user, Image.objects.filter(pk=image.pk))
        _close(report, staff)
    return entry


def suspend_model(staff, model: PersonalModel, *, reason: str, report: Report | None = None
                  ) -> StaffAction:
    reason = _reason(reason)
    with transaction.atomic():
        model = PersonalModel.objects.select_for_update().get(pk=model.pk)
        if model.is_suspended:
            raise Conflict("This model is already suspended.")
        model.suspended_at, model.suspended_reason = timezone.now(), reason[:500]
        model.save(update_fields=["suspended_at", "suspended_reason", "updated_at"])
        links = Image.objects.filter(personal_model=model, share_token__isnull=False).update(
            share_token=None, shared_at=None)
        canceled = _cancel_trainings(model.runs.all())
        entry = _audit(staff, StaffAction.Action.SUSPEND_MODEL, kind="model", ref=model.pk,
                       label=f"{model.name} ({model.trigger_word}) of {model.user.email}",
                       reason=reason, report=report, share_links_revoked=links,
                       trainings_canceled=canceled)
        _close(report, staff)
    return entry


def reinstate_model(staff, model: PersonalModel, *, reason: str) -> StaffAction:
    reason = _reason(reason)
    with transaction.atomic():
        model = PersonalModel.objects.select_for_update().get(pk=model.pk)
        if not model.is_suspended:
            raise Conflict("This model is not suspended.")
        model.suspended_at, model.suspended_reason = None, ""
        model.save(update_fields=["suspended_at", "suspended_reason", "updated_at"])
        return _audit(staff, StaffAction.Action.REINSTATE_MODEL, kind="model", ref=model.pk,
                      label=f"{model.name} ({model.trigger_word}) of {model.user.email}",
                      reason=reason)


def suspend_account(staff, user, *, reason: str, report: Report | None = None) -> StaffAction:
    """Suspend the account, then cancel its subscription at Stripe (outside the transaction:
    a Stripe outage must not keep an account up). The audit row says what happened to the
    subscription and how many credits the account holds."""
    reason = _reason(reason)
    if user.is_staff:
        raise Conflict("Staff accounts are suspended in the admin, not from reports.")
    with transaction.atomic():
        user = type(user).objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            raise Conflict("This account is already suspended.")
        user.is_active = False
        user.save(update_fields=["is_active"])
        links = Image.objects.filter(user=user, share_token__isnull=False).update(
            share_token=None, shared_at=None)
        canceled = _cancel_trainings(TrainingRun.objects.filter(user=user))
        entry = _audit(staff, StaffAction.Action.SUSPEND_ACCOUNT, kind="account",
                       ref=user.public_id, label=user.email, reason=reason, report=report,
                       share_links_revoked=links, trainings_canceled=canceled,
                       credits_kept=get_balance(user), plan=user.plan)
        _close(report, staff)
    try:
        entry.details["subscriptions_canceled"] = billing.cancel_subscriptions(user)
    except billing.CancelFailed as exc:
        logger.error("suspended %s, but its subscription was not canceled: %s", user.public_id,
                     exc.message)
        entry.details["subscription_error"] = exc.message
    StaffAction.objects.filter(pk=entry.pk).update(details=entry.details)
    return entry


def reinstate_account(staff, user, *, reason: str) -> StaffAction:
    reason = _reason(reason)
    with transaction.atomic():
        user = type(user).objects.select_for_update().get(pk=user.pk)
        if user.is_active:
            raise Conflict("This account is not suspended.")
        user.is_active = True
        user.save(update_fields=["is_active"])
        return _audit(staff, StaffAction.Action.REINSTATE_ACCOUNT, kind="account",
                      ref=user.public_id, label=user.email, reason=reason,
                      credits=get_balance(user))


def dismiss(staff, report: Report, *, reason: str) -> StaffAction:
    reason = _reason(reason)
    with transaction.atomic():
        if report.status != Report.Status.OPEN:
            raise Conflict("This report is already closed.")
        entry = _audit(staff, StaffAction.Action.DISMISS_REPORT, kind="report", ref=report.pk,
                       label=f"{report.get_kind_display()} #{report.pk}", reason=reason,
                       report=report)
        _close(report, staff, Report.Status.DISMISSED)
    return entry


def override_consent(staff, consent, *, reason: str) -> StaffAction:
    """Accept a consent selfie that did not match (staff looked at it and the photos)."""
    reason = _reason(reason)
    with transaction.atomic():
        consents.override(consent, staff, reason=reason)
        model = consent.model
        return _audit(staff, StaffAction.Action.OVERRIDE_CONSENT, kind="consent",
                      ref=model.pk, label=f"consent {consent.pk} for {model.name} of "
                                          f"{model.user.email}", reason=reason,
                      consent=consent.pk, match_distance=consent.match_distance)
