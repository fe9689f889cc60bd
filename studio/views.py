"""Personal models on the web: the list, the three-step creation wizard (details, photos,
review), the model page, deletion, and the photo files.

The views are thin: studio.actions decides and raises a DomainError, and the views show it on
the form or as a message (likeness.errors.show). Every lookup is filtered by the signed-in
user, so another account's model or photo is a 404, never a 403."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from likeness.errors import (
    Conflict,
    ConsentMismatch,
    DomainError,
    InsufficientCredits,
    InvalidInput,
    LimitReached,
    show,
)
from likeness.files import serve_file
from studio import actions, catalogue, consent, identity
from studio.forms import ConsentForm, ModelDetailsForm, TrainingForm
from studio.models import PersonalModel, TrainingPhoto
from studio.slots import slots
from studio.uploads import read_uploads


def _model(request, pk):
    return get_object_or_404(PersonalModel, pk=pk, user=request.user)


def _photo(request, pk, photo_id):
    return get_object_or_404(TrainingPhoto, pk=photo_id, model_id=pk, user=request.user)


def _user_models(user):
    return PersonalModel.objects.filter(user=user).annotate(photo_count=Count("photos"))


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


WIZARD_STEPS = [(1, "Details", "model_new"), (2, "Photos", "model_photos"),
                (3, "Review", "model_review")]


def _limits(count=0):
    """The photo limits, and where `count` photos stand against them, for the count meter."""
    low, high = catalogue.MODEL_RECOMMENDED_PHOTOS
    return {"min_photos": catalogue.MODEL_MIN_PHOTOS, "max_photos": catalogue.MODEL_MAX_PHOTOS,
            "recommended_low": low, "recommended_high": high, "count": count,
            "photos_needed": max(0, catalogue.MODEL_MIN_PHOTOS - count),
            "meter_cells": range(1, catalogue.MODEL_MAX_PHOTOS + 1),
            "wizard_steps": WIZARD_STEPS}


def _next_url(request, default):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


@login_required
def model_list(request):
    return render(request, "studio/models.html", {
        "models": _user_models(request.user), "slots": slots(request.user),
        "plan": request.user.plan_info, **_limits(),
    })


@login_required
def model_new(request):
    """Step 1. When the plan's slots are full the page lists the models instead of the form."""
    usage = slots(request.user)
    form = ModelDetailsForm(request.POST or None,
                            initial={"trigger_word": actions.suggest_trigger_word()})
    full = usage["used"] >= usage["limit"]
    if request.method == "POST" and not full and form.is_valid():
        try:
            model = actions.create_model(request.user, **form.cleaned_data)
        except LimitReached:
            full, usage = True, slots(request.user)
        except DomainError as exc:
            show(request, exc, form)
        else:
            messages.success(request, f"“{model.name}” is saved as a draft. Now add photos.")
            return redirect("model_photos", pk=model.pk)
    existing = list(_user_models(request.user)) if full else []
    return render(request, "studio/new.html", {
        "form": form, "full": full, "slots": usage, "plan": request.user.plan_info,
        "models": existing, "has_draft": any(m.status == "draft" for m in existing),
        "step": 1, **_limits(),
    })


def _upload(model, uploads):
    """Add the uploads as the API does (read one at a time, none over the size limit read).
    Raises Conflict when the model is no longer a draft; a full model refuses them all."""
    try:
        return actions.add_photos(model, read_uploads(uploads))
    except LimitReached as exc:
        return [], [{"filename": upload.name, "code": "too_many_photos", "reason": exc.message}
                    for upload in uploads]


def _photo_json(photo):
    return {"id": str(photo.pk), "filename": photo.filename,
            "thumbnail_url": reverse("model_photo_thumbnail", args=[photo.model_id, photo.pk]),
            "delete_url": reverse("model_photo_delete", args=[photo.model_id, photo.pk])}


@login_required
def model_photos(request, pk):
    """Step 2. A plain multipart form; static/js/upload.js sends one photo per request with
    Accept: application/json and gets JSON back."""
    model = _model(request, pk)
    accepted, rejected = [], []
    if request.method == "POST":
        try:
            accepted, rejected = _upload(model, request.FILES.getlist("files"))
        except Conflict as exc:
            if _wants_json(request):
                return JsonResponse({"error": "conflict", "message": exc.message}, status=409)
            show(request, exc)
            return redirect("model_detail", pk=model.pk)
        if _wants_json(request):
            return JsonResponse({"accepted": [_photo_json(p) for p in accepted],
                                 "rejected": rejected, "photo_count": model.photos.count()})
        if not accepted and not rejected:
            messages.warning(request, "Choose one or more photos to upload.")
    elif model.status != PersonalModel.Status.DRAFT:
        messages.info(request, "This model is no longer a draft, so its photos cannot change.")
        return redirect("model_detail", pk=model.pk)
    photos = list(model.photos.all())
    return render(request, "studio/photos.html", {
        "model": model, "photos": photos, "accepted": accepted, "rejected": rejected,
        "step": 2, "max_bytes": settings.PHOTO_MAX_BYTES,
        "max_mb": settings.PHOTO_MAX_BYTES // 1_000_000, **_limits(len(photos)),
    })


@login_required
@require_POST
def model_photo_delete(request, pk, photo_id):
    photo = _photo(request, pk, photo_id)
    try:
        actions.delete_photo(photo)
    except Conflict as exc:
        if _wants_json(request):
            return JsonResponse({"error": "conflict", "message": exc.message}, status=409)
        show(request, exc)
        return redirect("model_detail", pk=pk)
    if _wants_json(request):
        return JsonResponse({"deleted": str(photo_id),
                             "photo_count": TrainingPhoto.objects.filter(model_id=pk).count()})
    messages.success(request, f"Removed {photo.filename}.")
    return redirect(_next_url(request, reverse("model_photos", args=[pk])))


@login_required
def model_review(request, pk):
    """Step 3: the photos, the training parameters, and queue or keep as a draft."""
    model = _model(request, pk)
    if model.status != PersonalModel.Status.DRAFT:
        messages.info(request, "This model is no longer a draft; its settings are fixed.")
        return redirect("model_detail", pk=model.pk)
    form = TrainingForm.for_model(model, request.POST or None)
    if request.method == "POST" and form.is_valid():
        queue = request.POST.get("action") == "queue"
        try:
            if queue:
                run = actions.start_training(model, **form.cleaned_data)
            else:
                actions.update_parameters(model, **form.cleaned_data)
        except InsufficientCredits as exc:
            form.add_error(None, f"Training costs {exc.needed} credits and your balance is "
                                 f"{exc.balance}. Buy credits or save the model as a draft.")
        except DomainError as exc:
            show(request, exc, form)
        else:
            if queue:
                messages.success(request, f"Training of “{model.name}” has started.")
                return redirect("training_detail", pk=run.pk)
            messages.success(request, f"“{model.name}” is saved as a draft.")
            return redirect("model_detail", pk=model.pk)
    photos = list(model.photos.all())
    return render(request, "studio/review.html", {
        "model": model, "photos": photos, "form": form, "step": 3, **_limits(len(photos)),
        "training_credits": settings.TRAINING_CREDITS,
        "different_reason": identity.DIFFERENT_REASON, "borderline_note": identity.BORDERLINE_NOTE,
        "holdout_min": catalogue.HOLDOUT_MIN_PHOTOS,
        "holdout_photos": 0 if model.is_pet else catalogue.HOLDOUT_PHOTOS,
        "likeness_test": settings.LIKENESS_VALIDATION and not model.is_pet,
        **_consent_context(model),
    })


def _consent_context(model) -> dict:
    state = consent.status(model)
    return {"consent_status": state, "consent_label": consent.STATUS_LABELS[state],
            "consent_ok": state in ("not_required", "verified", "overridden"),
            "consent_record": consent.current(model) or model.consents.first()}


@login_required
def model_consent(request, pk):
    """Consent for a person's face, before training: the statements, and for an adult a
    selfie (the camera through static/js/consent.js, or a photo from the device) that must
    match the training photos. A mismatch is explained here, and recorded for staff."""
    model = _model(request, pk)
    if not consent.required(model):
        messages.info(request, "Models of pets need no consent.")
        return redirect("model_review", pk=model.pk)
    form = ConsentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if model.is_child:
                consent.give_guardian_statement(
                    model, request.user, rights_confirmed=data["rights_confirmed"],
                    guardian_confirmed=data["guardian_confirmed"])
            else:
                selfie = data["selfie"]
                if selfie is None:
                    raise InvalidInput("selfie", "Take a selfie (or choose a photo of "
                                                         "the person, taken now) first.")
                consent.give_selfie(model, request.user, selfie=selfie.read(),
                                    rights_confirmed=data["rights_confirmed"])
        except ConsentMismatch as exc:
            form.add_error("selfie", exc.message)
        except DomainError as exc:
            show(request, exc, form)
        else:
            messages.success(request, "Thank you: consent is recorded. You can start the "
                                      "training now.")
            return redirect("model_review", pk=model.pk)
    photos = list(model.photos.all()[:6])
    return render(request, "studio/consent.html", {
        "model": model, "form": form, "photos": photos, "step": 3, **_limits(len(photos)),
        "rights_statement": consent.RIGHTS_STATEMENT,
        "selfie_statement": consent.SELFIE_STATEMENT,
        "guardian_statement": consent.GUARDIAN_STATEMENT,
        "keep_selfies": settings.CONSENT_KEEP_SELFIES, **_consent_context(model),
    })


@login_required
def model_detail(request, pk):
    model = _model(request, pk)
    photos = list(model.photos.all())
    return render(request, "studio/detail.html", {
        "model": model, "photos": photos, **_limits(len(photos)),
        "samples": list(model.validation_samples.all()),
        **_consent_context(model),
        "run": model.runs.first(), "training_credits": settings.TRAINING_CREDITS,
        # The instant-preview page (generation's) says itself what it needs (consent, photos).
        "instant_mode": settings.INSTANT_MODE and bool(photos),
    })


@login_required
def model_delete(request, pk):
    """GET asks, listing what goes; POST deletes the model and every copy of its photos."""
    model = _model(request, pk)
    back = _next_url(request, "")
    if request.method == "POST":
        name = model.name
        actions.delete_model(model)
        messages.success(request, f"“{name}” and its photos are deleted.")
        return redirect(back or "models")
    photos = list(model.photos.all())
    return render(request, "studio/delete.html", {
        "model": model, "photos": photos, "count": len(photos), "next": back,
    })


@login_required
def model_photo_thumbnail(request, pk, photo_id):
    return serve_file(_photo(request, pk, photo_id).thumbnail, content_type="image/webp")


@login_required
def model_photo_file(request, pk, photo_id):
    return serve_file(_photo(request, pk, photo_id).file, content_type="image/jpeg")
