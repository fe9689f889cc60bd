"""Personal models and their training photos: /models, /models/{id}, /models/{id}/photos and
the photos' bytes. The rules (plan slots, photo checks, draft-only changes) live in
studio.actions; this module parses, calls them and shapes the answer."""

from functools import wraps

from django.db.models import Count, OuterRef, Subquery
from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Form, Query, Router, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from api.errors import ERRORS_AUTH, ERRORS_CHANGE, ERRORS_READ, ErrorOut, error_response
from api.pagination import PageParams
from api.routes.images import _binary, _serve
from api.routes.lookup import owned
from api.schemas import (
    ConsentOut,
    ConsentStateOut,
    ModelIn,
    ModelListOut,
    ModelOut,
    PhotoListOut,
    PhotoUploadOut,
)
from likeness.errors import InvalidInput
from likeness.pagination import paginate
from studio import consent
from studio.actions import add_photos, create_model, delete_model, delete_photo
from studio.models import PersonalModel, TrainingPhoto
from studio.uploads import read_uploads

router = Router(tags=["Personal models"])


def _models(user):
    first_photo = TrainingPhoto.objects.filter(model=OuterRef("pk")).order_by("created_at", "id")
    return PersonalModel.objects.filter(user=user).annotate(
        photo_count=Count("photos"), cover_id=Subquery(first_photo.values("id")[:1]))


def _url(request: HttpRequest, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(f"api:{name}", args=[str(a) for a in args]))


def model_out(request: HttpRequest, model: PersonalModel) -> dict:
    """`model` comes from _models(), which adds photo_count and cover_id."""
    cover = (_url(request, "model_photo_thumbnail", model.id, model.cover_id)
             if model.cover_id else None)
    return {
        "id": str(model.id),
        "name": model.name,
        "subject_class": model.subject_class,
        "trigger_word": model.trigger_word,
        "status": model.status,
        "photo_count": model.photo_count,
        "cover_thumbnail_url": cover,
        "steps": model.steps,
        "learning_rate": model.learning_rate,
        "lora_rank": model.lora_rank,
        "consent_status": consent.status(model),
        "suspended": model.is_suspended,
        "default_lora_scale": model.default_lora_scale,
        "likeness_report": _report(model.likeness_report),
        "created_at": model.created_at,
        "updated_at": model.updated_at,
    }


def _report(report: dict) -> dict | None:
    if not report:
        return None
    keep = ("status", "median", "best_scale", "against", "samples", "error")
    return {**{k: report.get(k) for k in keep},
            "scales": [{k: row[k] for k in ("scale", "median", "low", "high")}
                       for row in report.get("scales") or []]}


def photo_out(request: HttpRequest, photo: TrainingPhoto) -> dict:
    return {
        "id": str(photo.id),
        "filename": photo.filename,
        "width": photo.width,
        "height": photo.height,
        "thumbnail_url": _url(request, "model_photo_thumbnail", photo.model_id, photo.id),
        "file_url": _url(request, "model_photo_file", photo.model_id, photo.id),
        "identity": photo.identity,
        "identity_distance": photo.identity_distance,
        "held_out": photo.held_out,
        "created_at": photo.created_at,
    }


@router.post("/models", response={201: ModelOut, 409: ErrorOut, 422: ErrorOut, **ERRORS_AUTH},
             summary="Create a personal model",
             description="A new model, in draft, to which photos are then added. 409 "
                         "limit_reached (details: used, limit) when the plan's model slots "
                         "are all taken; 422 for a bad field, an unknown field or a trigger "
                         "word that is taken.")
def create(request: HttpRequest, payload: ModelIn):
    model = create_model(request.auth, name=payload.name, subject_class=payload.subject_class,
                         trigger_word=payload.trigger_word)
    return Status(201, model_out(request, _models(request.auth).get(pk=model.pk)))


@router.get("/models", response={200: ModelListOut, 400: ErrorOut, 422: ErrorOut, **ERRORS_AUTH},
            summary="List personal models", description="The caller's models, newest first.")
def list_models(request: HttpRequest, page: Query[PageParams]):
    rows, next_cursor = paginate(_models(request.auth), kind="models", cursor=page.cursor,
                                 limit=page.limit)
    return {"items": [model_out(request, m) for m in rows], "next_cursor": next_cursor}


@router.get("/models/{model_id}", response={200: ModelOut, **ERRORS_READ},
            summary="One personal model")
def get_model(request: HttpRequest, model_id: str):
    return model_out(request, owned(_models(request.auth), request.auth, model_id, "model"))


@router.delete("/models/{model_id}", response={204: None, **ERRORS_READ},
               summary="Delete a personal model",
               description="Deletes the model and every copy of its photos and weights; its "
                           "slot is free again at once.")
def delete(request: HttpRequest, model_id: str):
    delete_model(owned(PersonalModel.objects, request.auth, model_id, "model"))
    return Status(204, None)


def _upload_guard(run):
    """Refuse a photo upload from its headers alone, before anything reads the body: neither
    ninja's parameters nor the session's CSRF check (which reads the form) get to it first.
    (A body over the upload cap never gets here: likeness.files.UploadLimitMiddleware.)"""

    @wraps(run)
    def guarded(request: HttpRequest, *args, **kwargs):
        if request.content_type != "multipart/form-data":
            return error_response(
                415, "unsupported_media_type",
                "Send the photos as multipart/form-data, each in a field named 'files'.",
                {"content_type": request.content_type or ""})
        return run(request, *args, **kwargs)

    return guarded


@router.post(
    "/models/{model_id}/photos",
    response={200: PhotoUploadOut, 400: ErrorOut, 413: ErrorOut, 415: ErrorOut, 422: ErrorOut,
              **ERRORS_CHANGE},
    summary="Add photos to a model",
    description="multipart/form-data with one or more files in fields named `files` (JPEG, "
                "PNG, WebP or HEIC). Each file is checked on its own: good ones are stored "
                "(upright, metadata stripped) and listed in `accepted`, the others in "
                "`rejected` with a code and a reason. 409 limit_reached when the model already "
                "holds the most photos it can; 409 conflict when it is no longer a draft; 413 "
                "too_large when the request is over the upload limit (nothing is read); 415 "
                "unsupported_media_type for any other body; 422 when no file is sent.",
)
@decorate_view(_upload_guard)
def upload_photos(request: HttpRequest, model_id: str, files: File[list[UploadedFile]]):
    model = owned(PersonalModel.objects, request.auth, model_id, "model")
    accepted, rejected = add_photos(model, read_uploads(files))
    return {
        "accepted": [photo_out(request, p) for p in accepted],
        "rejected": rejected,
        "photo_count": model.photos.count(),
    }


@router.get("/models/{model_id}/photos",
            response={200: PhotoListOut, 400: ErrorOut, 422: ErrorOut, **ERRORS_READ},
            summary="List a model's photos", description="Newest first.")
def list_photos(request: HttpRequest, model_id: str, page: Query[PageParams]):
    model = owned(PersonalModel.objects, request.auth, model_id, "model")
    rows, next_cursor = paginate(model.photos.all(), kind="photos", cursor=page.cursor,
                                 limit=page.limit)
    return {"items": [photo_out(request, p) for p in rows], "next_cursor": next_cursor}


def _photo(request: HttpRequest, model_id: str, photo_id: str) -> TrainingPhoto:
    model = owned(PersonalModel.objects, request.auth, model_id, "model")
    return owned(model.photos.select_related("model"), request.auth, photo_id, "photo")


@router.delete("/models/{model_id}/photos/{photo_id}", response={204: None, **ERRORS_CHANGE},
               summary="Remove a photo from a model",
               description="Deletes the photo and its thumbnail. 409 conflict once the model "
                           "is no longer a draft.")
def remove_photo(request: HttpRequest, model_id: str, photo_id: str):
    delete_photo(_photo(request, model_id, photo_id))
    return Status(204, None)


@router.get("/models/{model_id}/photos/{photo_id}/file", response=ERRORS_READ,
            url_name="model_photo_file", summary="A photo's file",
            description="The stored photo: a JPEG, upright, with every metadata field stripped.",
            openapi_extra=_binary("The photo.", "image/jpeg"))
def photo_file(request: HttpRequest, model_id: str, photo_id: str):
    photo = _photo(request, model_id, photo_id)
    return _serve(photo.file, "image/jpeg", f"photo-{photo.id}.jpg")


@router.get("/models/{model_id}/photos/{photo_id}/thumbnail", response=ERRORS_READ,
            url_name="model_photo_thumbnail", summary="A photo's thumbnail",
            description="A WebP, at most 384 px on a side.",
            openapi_extra=_binary("The thumbnail.", "image/webp"))
def photo_thumbnail(request: HttpRequest, model_id: str, photo_id: str):
    photo = _photo(request, model_id, photo_id)
    return _serve(photo.thumbnail, "image/webp", f"photo-{photo.id}-thumb.webp")


# --- Consent for a person's face (studio.consent) ---------------------------------------------
def _multipart_only(run, message: str):
    @wraps(run)
    def guarded(request: HttpRequest, *args, **kwargs):
        if request.content_type != "multipart/form-data":
            return error_response(415, "unsupported_media_type", message,
                                  {"content_type": request.content_type or ""})
        return run(request, *args, **kwargs)

    return guarded


def consent_out(record) -> dict:
    return {"id": record.pk, "model_id": str(record.model_id), "method": record.method,
            "status": record.status, "valid": record.is_valid,
            "match_distance": record.match_distance, "threshold": record.threshold,
            "photo_count": record.photo_count, "message": record.message,
            "created_at": record.created_at}


def _statements(model) -> list[str]:
    if not consent.required(model):
        return []
    second = consent.GUARDIAN_STATEMENT if model.is_child else consent.SELFIE_STATEMENT
    return [consent.RIGHTS_STATEMENT, second]


@router.get("/models/{model_id}/consent", response={200: ConsentStateOut, **ERRORS_READ},
            summary="A model's consent",
            description="Whether the model needs consent before training, how it is given, the "
                        "statements to confirm, and where it stands.")
def get_consent(request: HttpRequest, model_id: str):
    model = owned(PersonalModel.objects, request.auth, model_id, "model")
    record = consent.current(model) or model.consents.first()
    return {"required": consent.required(model),
            "method": consent.method_for(model) if consent.required(model) else None,
            "status": consent.status(model), "statements": _statements(model),
            "consent": consent_out(record) if record else None}


@router.post(
    "/models/{model_id}/consent",
    response={201: ConsentOut, 413: ErrorOut, 415: ErrorOut, 422: ErrorOut, 429: ErrorOut,
              **ERRORS_CHANGE},
    summary="Give consent for a model's face",
    description="multipart/form-data. `rights_confirmed=true` (the first statement of GET "
                "/models/{id}/consent) and, for a man, woman or person, `selfie`: a photo of "
                "the person, taken now (JPEG, PNG or WebP), whose face must match the training "
                "photos' faces (median distance at most the threshold, 0.6). For a child, "
                "`guardian_confirmed=true` instead of the selfie. 201 with the consent; 422 "
                "consent_mismatch when the faces do not match (the attempt is kept for staff "
                "to review; details: consent_id, match_distance, threshold), 422 "
                "validation_error for no face, several faces or a statement not confirmed; "
                "409 conflict for a pet or a model already training. The selfie is not kept "
                "unless the operator keeps them (CONSENT_KEEP_SELFIES).")
@decorate_view(lambda run: _multipart_only(run, "Send the consent as multipart/form-data: "
                                              "rights_confirmed, and the selfie (or, for a "
                                              "child, guardian_confirmed)."))
def give_consent(request: HttpRequest, model_id: str, rights_confirmed: Form[bool] = False,
                 guardian_confirmed: Form[bool] = False,
                 selfie: File[UploadedFile] = None):
    model = owned(PersonalModel.objects, request.auth, model_id, "model")
    if model.is_child:
        record = consent.give_guardian_statement(model, request.auth,
                                                 rights_confirmed=rights_confirmed,
                                                 guardian_confirmed=guardian_confirmed)
    else:
        if selfie is None and not model.is_pet:
            raise InvalidInput("selfie", "Send the selfie in a field named 'selfie'.")
        record = consent.give_selfie(model, request.auth,
                                     selfie=selfie.read(consent.SELFIE_MAX_BYTES + 1)
                                     if selfie else b"", rights_confirmed=rights_confirmed)
    return Status(201, consent_out(record))
