"""Consent for a person's face: no model of a person trains without it.

A model of a man, a woman or a person needs the account holder's statement that they may use
these photos, and a selfie of the subject taken then (the browser's camera, or a photo from the
device) whose face matches the training photos' faces: the median of its distances to them
(likeness.faces) at most MATCH_THRESHOLD. A model of a child needs the account holder's
statement of parental authority instead. Pets need nothing.

A consent covers the photos it was given for (their digest): adding or removing a photo asks
for it again. A selfie that does not match is kept as a row with its distance, so staff can
review it and accept it with a recorded reason (safety); the selfie itself is decoded, compared
and dropped, unless the operator keeps selfies (CONSENT_KEEP_SELFIES)."""

import hashlib
import io
import logging
import statistics
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from likeness import faces
from likeness.errors import Conflict, ConsentMismatch, ConsentRequired, InvalidInput
from studio.models import Consent, PersonalModel

logger = logging.getLogger(__name__)

RIGHTS_STATEMENT = ("I have the right to use these photos: they show a real person who agreed "
                    "to a model of their face being made, and I will use it only as the "
                    "acceptable-use terms allow.")
SELFIE_STATEMENT = ("The selfie is of the person in the photos, taken now, with their "
                    "agreement.")
GUARDIAN_STATEMENT = ("I am this child's parent or legal guardian (or act with their written "
                      "permission), and I agree to a model of the child being made. I will not "
                      "share images of the child publicly.")
SELFIE_MAX_BYTES = 10 * 1024 * 1024
SELFIE_MAX_PIXELS = 40_000_000
STATUS_LABELS = {
    "not_required": "Not needed for pets",
    "missing": "Consent needed",
    "outdated": "The photos changed: consent needed again",
    "mismatch": "The selfie did not match",
    "verified": "Consent verified",
    "overridden": "Accepted by staff",
}


def required(model: PersonalModel) -> bool:
    return not model.is_pet


def method_for(model: PersonalModel) -> str:
    return Consent.Method.GUARDIAN if model.is_child else Consent.Method.SELFIE


def photos_digest(model: PersonalModel) -> str:
    """What the photos are now: a change (one added, one removed) gives another digest."""
    hashes = sorted(model.photos.values_list("sha256", flat=True))
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def current(model: PersonalModel) -> Consent | None:
    """The consent that covers the model's photos as they are now, if any."""
    digest = photos_digest(model)
    for consent in model.consents.filter(photos_digest=digest):
        if consent.is_valid:
            return consent
    return None


def status(model: PersonalModel) -> str:
    """not_required, missing, outdated, mismatch, verified or overridden."""
    if not required(model):
        return "not_required"
    found = current(model)
    if found is not None:
        return "overridden" if found.status == Consent.Status.MISMATCH else "verified"
    latest = model.consents.first()
    if latest is None:
        return "missing"
    if latest.photos_digest != photos_digest(model):
        return "outdated"
    return "mismatch" if latest.status == Consent.Status.MISMATCH else "missing"


def ensure(model: PersonalModel) -> None:
    """Raise ConsentRequired (409 consent_required) unless the model may be trained."""
    if not required(model) or current(model) is not None:
        return
    state = status(model)
    method = method_for(model)
    if method == Consent.Method.GUARDIAN:
        text = ("A model of a child is trained only with your statement that you are the "
                "child's parent or legal guardian: confirm it on the consent step first.")
    elif state == "mismatch":
        text = ("The selfie did not match the face in the photos, so the model cannot be "
                "trained. Take the selfie again, or wait for our review.")
    elif state == "outdated":
        text = ("The photos changed after the consent selfie: take the selfie again, so it "
                "covers these photos.")
    else:
        text = ("A model of a person is trained only with their consent: confirm your right to "
                "use the photos and take a selfie of the person in them first.")
    raise ConsentRequired(text, consent_status=state, method=method)


def _editable(model: PersonalModel) -> None:
    if not required(model):
        raise Conflict("Models of pets need no consent.")
    if model.status not in (PersonalModel.Status.DRAFT, PersonalModel.Status.FAILED,
                            PersonalModel.Status.CANCELED):
        raise Conflict(f"The model is {model.get_status_display().lower()}; consent is given "
                       "before it trains.", status=model.status)
    if model.photos.count() == 0:
        raise InvalidInput("photos", "Add the photos first: the consent covers them.")


def _confirmed(rights_confirmed: bool) -> None:
    if not rights_confirmed:
        raise InvalidInput("rights_confirmed", "Confirm that you have the right to use these "
                                               "photos.")


def give_guardian_statement(model: PersonalModel, user, *, rights_confirmed: bool,
                            guardian_confirmed: bool) -> Consent:
    _editable(model)
    if not model.is_child:
        raise InvalidInput("selfie", "A model of an adult needs a selfie of the person, not a "
                                     "guardian's statement.")
    _confirmed(rights_confirmed)
    if not guardian_confirmed:
        raise InvalidInput("guardian_confirmed", "Confirm that you are the child's parent or "
                                                 "legal guardian.")
    return Consent.objects.create(
        model=model, user=user, method=Consent.Method.GUARDIAN, status=Consent.Status.VERIFIED,
        statement=f"{RIGHTS_STATEMENT}\n{GUARDIAN_STATEMENT}", photos_digest=photos_digest(model),
        photo_count=model.photos.count(), message="Statement of parental authority given.")


# --- The selfie -------------------------------------------------------------------------------
def _decode(data: bytes) -> Image.Image:
    if len(data) > SELFIE_MAX_BYTES:
        raise InvalidInput("selfie", f"The selfie is larger than "
                                     f"{SELFIE_MAX_BYTES // 1_000_000} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP"])
            if image.width * image.height > SELFIE_MAX_PIXELS:
                raise InvalidInput("selfie", "The selfie has too many pixels.")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput("selfie", "The selfie could not be read: send a JPEG, PNG or WebP "
                                     "photo.")
    return ImageOps.exif_transpose(image).convert("RGB")


def _the_face(image: Image.Image):
    """The selfie's one face (its embedding), or an InvalidInput that says what to change."""
    found = faces.faces(image)
    if not found:
        raise InvalidInput("selfie", "No face was found in the selfie. Face the camera in good "
                                     "light, with the whole face in the picture, and try again.")
    big = [(box, e) for box, e in found if box[2] >= faces.MIN_FACE_SIDE]
    if not big:
        raise InvalidInput("selfie", "The face in the selfie is too small: come closer to the "
                                     "camera and try again.")
    if len(big) > 1:
        raise InvalidInput("selfie", "The selfie shows more than one face: the person in the "
                                     "photos takes it alone.")
    return big[0][1]


def references(model: PersonalModel) -> list:
    """The training photos' face embeddings (stored with each photo since the likeness work;
    computed from the photo for one stored before)."""
    embeddings = []
    for photo in model.photos.all():
        if photo.embedding:
            embeddings.append(photo.embedding)
        elif photo.face_box:
            with photo.file.open("rb") as handle, Image.open(handle) as picture:
                embeddings.append(faces.embed(picture.convert("RGB"), tuple(photo.face_box)))
    return embeddings


def match_distance(embedding, refs: list) -> float:
    """The median distance of a face to the reference faces: one odd photo moves it little."""
    return round(statistics.median(faces.distance(embedding, ref) for ref in refs), 4)


def mismatch_message(distance: float) -> str:
    return (f"The face in the selfie does not match the face in the training photos (distance "
            f"{distance:.2f}; the same person is at most {faces.MATCH_THRESHOLD:.2f}). The "
            "person in the photos must take the selfie themselves, facing the camera in even "
            "light, without sunglasses. If it is them, try again; our staff can also review it.")


def give_selfie(model: PersonalModel, user, *, selfie: bytes, rights_confirmed: bool
                ) -> Consent:
    """Check the selfie against the training photos and record the attempt. Returns the
    verified Consent; raises ConsentMismatch (with the recorded attempt's id) when the faces do
    not match, InvalidInput when the selfie cannot be judged (no face, several, too small)."""
    _editable(model)
    if model.is_child:
        raise InvalidInput("selfie", "A model of a child needs the parent's or guardian's "
                                     "statement, not a selfie.")
    _confirmed(rights_confirmed)
    image = _decode(selfie)
    embedding = _the_face(image)
    refs = references(model)
    if not refs:
        raise InvalidInput("photos", "No face was found in the training photos to compare the "
                                     "selfie with.")
    distance = match_distance(embedding, refs)
    matched = distance <= faces.MATCH_THRESHOLD
    with transaction.atomic():
        consent = Consent(
            model=model, user=user, method=Consent.Method.SELFIE,
            status=Consent.Status.VERIFIED if matched else Consent.Status.MISMATCH,
            statement=f"{RIGHTS_STATEMENT}\n{SELFIE_STATEMENT}",
            photos_digest=photos_digest(model), photo_count=len(refs),
            match_distance=distance, threshold=faces.MATCH_THRESHOLD,
            message="The selfie matches the photos." if matched else mismatch_message(distance))
        if settings.CONSENT_KEEP_SELFIES:
            clean = Image.new("RGB", image.size)  # a fresh image: no metadata at all
            clean.paste(image)
            out = io.BytesIO()
            clean.save(out, format="JPEG", quality=90)
            consent.selfie.save(f"{timezone.now():%Y%m%d%H%M%S}.jpg",
                                ContentFile(out.getvalue()), save=False)
        consent.save()
    logger.info("consent selfie %s", consent.status,
                extra={"personal_model": str(model.pk), "match_distance": distance})
    if not matched:
        raise ConsentMismatch(consent.message, consent_id=consent.pk, match_distance=distance,
                              threshold=faces.MATCH_THRESHOLD)
    return consent


def override(consent: Consent, staff, *, reason: str) -> Consent:
    """Staff accept a selfie that did not match (safety records the audit row)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason", "Say why the selfie is accepted.")
    if consent.status != Consent.Status.MISMATCH or consent.overridden_at is not None:
        raise Conflict("Only a selfie that did not match, and was not accepted yet, can be "
                       "accepted.")
    consent.overridden_by, consent.overridden_at = staff, timezone.now()
    consent.override_reason = reason
    consent.save(update_fields=["overridden_by", "overridden_at", "override_reason"])
    return consent


def delete_selfies(model: PersonalModel) -> None:
    """The kept selfies' files, when the model goes (the rows go with it)."""
    for consent in model.consents.exclude(selfie=""):
        consent.selfie.delete(save=False)
