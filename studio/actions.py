"""Personal models: create, add and remove photos, queue for training, delete."""

import logging
import random
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from likeness.errors import Conflict, InvalidInput, LimitReached
from studio.models import PersonalModel, TrainingPhoto
from studio.photos import PhotoRejected, check_photo

logger = logging.getLogger(__name__)

# Training parameters: defaults and the ranges the trainers accept and that make sense.
TRAINING_DEFAULTS = {"steps": 1000, "learning_rate": 0.0004, "lora_rank": 16}
TRAINING_RANGES = {"steps": (100, 6000), "learning_rate": (0.00001, 0.01), "lora_rank": (1, 128)}
_CONSONANTS, _VOWELS = "bcdfghjklmnprstvwz", "aeiou"


def slots(user) -> dict:
    return {"used": PersonalModel.objects.filter(user=user).count(),
            "limit": user.plan_info.model_slots}


def suggest_trigger_word() -> str:
    """A made-up word such as 'zorvek': rare in captions, so it picks out the subject."""
    for _ in range(50):
        word = "".join(random.choice(_CONSONANTS if i % 2 == 0 else _VOWELS) for i in range(6))
        if not PersonalModel.objects.filter(trigger_word=word).exists():
            return word
    raise RuntimeError("no free trigger word found")


def clean_trigger_word(word: str) -> str:
    word = (word or "").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{2,23}", word):
        raise InvalidInput("trigger_word", "The trigger word must be 3–24 letters, digits or "
                                           "underscores, starting with a letter.")
    if PersonalModel.objects.filter(trigger_word=word).exists():
        raise InvalidInput("trigger_word", f"The trigger word {word!r} is taken; pick another.")
    return word


def create_model(user, *, name: str, subject_class: str, trigger_word: str | None = None
                 ) -> PersonalModel:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput("name", "Give the model a name of 1–80 characters.")
    if subject_class not in PersonalModel.SubjectClass.values:
        raise InvalidInput("subject_class", "Choose who the model is of: "
                           + ", ".join(PersonalModel.SubjectClass.values) + ".")
    word = clean_trigger_word(trigger_word) if trigger_word else suggest_trigger_word()
    with transaction.atomic():
        # Lock the user row so two requests cannot both take the last slot.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        usage = slots(user)
        if usage["used"] >= usage["limit"]:
            raise LimitReached(
                f"Your {user.plan_info.name} plan holds {usage['limit']} personal model(s); "
                "delete one or upgrade to create another.", **usage)
        return PersonalModel.objects.create(user=user, name=name, subject_class=subject_class,
                                            trigger_word=word, **TRAINING_DEFAULTS)


def _require_draft(model: PersonalModel):
    if model.status != PersonalModel.Status.DRAFT:
        raise Conflict(f"The model is {model.get_status_display().lower()}; its photos can "
                       "only change while it is a draft.", status=model.status)


def add_photos(model: PersonalModel, uploads: list[tuple[str, bytes]]):
    """Check every upload; store the ones that pass. Returns (accepted, rejected) where
    rejected is a list of {filename, code, reason}. Nothing of a refused photo is kept."""
    _require_draft(model)
    existing = list(model.photos.values_list("sha256", "phash"))
    room = settings.MODEL_MAX_PHOTOS - len(existing)
    if room <= 0:
        raise LimitReached(f"The model already has {len(existing)} photos, the most it can hold.",
                           photo_count=len(existing), limit=settings.MODEL_MAX_PHOTOS)
    accepted, rejected = [], []
    for filename, data in uploads:
        filename = (filename or "photo")[-255:]
        if len(accepted) >= room:
            rejected.append({"filename": filename, "code": "too_many_photos",
                             "reason": f"A model holds at most {settings.MODEL_MAX_PHOTOS} "
                                       "photos."})
            continue
        try:
            checked = check_photo(data, subject_class=model.subject_class, existing=existing)
        except PhotoRejected as exc:
            rejected.append({"filename": filename, "code": exc.code, "reason": exc.reason})
            continue
        accepted.append(_store_photo(model, filename, checked))
        existing.append((checked.sha256, checked.phash))
    return accepted, rejected


def _store_photo(model, filename, checked) -> TrainingPhoto:
    photo = TrainingPhoto(
        user=model.user, model=model, filename=filename, width=checked.width,
        height=checked.height, source_format=checked.source_format, sha256=checked.sha256,
        phash=checked.phash, sharpness=checked.sharpness, face_box=checked.face_box,
    )
    photo.file.save(f"{photo.id}.jpg", ContentFile(checked.jpeg), save=False)
    photo.thumbnail.save(f"{photo.id}-thumb.webp", ContentFile(checked.thumbnail), save=False)
    try:
        photo.save()
    except Exception:
        _delete_files(photo)
        raise
    return photo


def _delete_files(photo):
    for field in (photo.file, photo.thumbnail):
        if field.name:
            default_storage.delete(field.name)


def delete_photo(photo: TrainingPhoto):
    _require_draft(photo.model)
    _delete_files(photo)
    photo.delete()


def delete_model(model: PersonalModel):
    """Delete the model and every copy of its photos and weights, here and at providers.

    Files in our storage go at once; what lives at a training provider or on the Hugging Face
    Hub is recorded as Cleanup rows (which outlive the model) and removed by the sweep, which
    retries until it succeeds."""
    from jobs.queue import enqueue
    from providers.training import training_provider
    from studio.models import Cleanup
    from studio.tasks import sweep_cleanups
    from studio.training import schedule_cleanup

    with transaction.atomic():
        for run in model.runs.all():
            if not run.is_finished and run.provider_id:
                try:
                    training_provider(run.provider).cancel(run)
                except Exception:
                    logger.warning("could not cancel training %s at %s", run.id, run.provider)
            if run.zip_file:
                default_storage.delete(run.zip_file.name)
            schedule_cleanup(None, user=model.user, model_name=model.name,
                             kind=Cleanup.Kind.PROVIDER_MODEL, provider=run.provider,
                             target=run.provider_ref, reason="model deleted")
        schedule_cleanup(None, user=model.user, model_name=model.name,
                         kind=Cleanup.Kind.HF_REPO, target=model.hf_repo_id,
                         reason="model deleted")
        if model.weights:
            default_storage.delete(model.weights.name)
        for photo in model.photos.all():
            _delete_files(photo)
        model.delete()
        enqueue(sweep_cleanups)


def _number(value) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _clean_parameter(name, value):
    low, high = TRAINING_RANGES[name]
    if value is None or value == "":
        return TRAINING_DEFAULTS[name]
    try:
        value = int(value) if name != "learning_rate" else float(value)
    except (TypeError, ValueError):
        raise InvalidInput(name, f"{name.replace('_', ' ').capitalize()} must be a number.")
    if not low <= value <= high:
        raise InvalidInput(name, f"{name.replace('_', ' ').capitalize()} must be between "
                                 f"{_number(low)} and {_number(high)}.")
    return value


def update_parameters(model: PersonalModel, **params) -> PersonalModel:
    _require_draft(model)
    for name in TRAINING_DEFAULTS:
        if name in params:
            setattr(model, name, _clean_parameter(name, params[name]))
    model.save()
    return model


def queue_model(model: PersonalModel, **params):
    """Hand a draft to training: charges the training's credits and queues the pipeline
    (the model is `queued` until a worker picks the run up, then `training`)."""
    from studio.training import start_training

    _require_draft(model)
    return start_training(model, **params).model
