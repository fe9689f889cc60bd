"""What a customer does with personal models: create one, add and remove photos, set its
parameters, train it (charging credits), cancel and retry a training, delete it. The web pages
and the API call these; each is one transaction that changes nothing when it refuses."""

import logging
import random
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from credits import actions as credits
from jobs.queue import enqueue
from likeness.errors import Conflict, InvalidInput, LimitReached
from likeness.http import check_public_url
from likeness.text import clean_text, printable, visible
from providers.private import refuse_outside
from providers.registry import TRAINERS, trainer
from studio import catalogue, consent, identity, pipeline
from studio.catalogue import TRAINING_DEFAULTS, TRAINING_RANGES
from studio.models import Cleanup, PersonalModel, TrainingPhoto, TrainingRun
from studio.photos import Batch, PhotoRejected
from studio.runs import active_run, can_retry, estimate_cents, record, save, schedule_cleanup
from studio.slots import ensure_usable, slots
from studio.tasks import advance_training, sweep_cleanups

logger = logging.getLogger(__name__)
_CONSONANTS, _VOWELS = "bcdfghjklmnprstvwz", "aeiou"


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
    name = clean_text((name or "").strip(), "name")
    if not visible(name) or len(name) > 80:
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
    room = catalogue.MODEL_MAX_PHOTOS - len(existing)
    if room <= 0:
        raise LimitReached(f"The model already has {len(existing)} photos, the most it can hold.",
                           photo_count=len(existing), limit=catalogue.MODEL_MAX_PHOTOS)
    passed, rejected, uploads = [], [], list(uploads)
    names = [printable(filename or "")[-255:] or "photo" for filename, _ in uploads]
    # Every photo is checked at once (studio.photos.Batch.check_all, in processes of its own),
    # within the request's bounded work; the outcomes come in order.
    outcomes = Batch().check_all([data for _, data in uploads],
                                 subject_class=model.subject_class, existing=existing)
    try:
        for filename in names:
            if len(passed) >= room:
                rejected.append({"filename": filename, "code": "too_many_photos",
                                 "reason": f"A model holds at most {catalogue.MODEL_MAX_PHOTOS} "
                                           "photos."})
                continue
            checked = next(outcomes)
            if isinstance(checked, PhotoRejected):
                rejected.append({"filename": filename, "code": checked.code,
                                 "reason": checked.reason})
                continue
            passed.append((filename, checked))
            existing.append((checked.sha256, checked.phash))
    finally:
        outcomes.close()  # the checks of the photos beyond the room are not run
    passed = _one_person(model, passed, rejected)
    return [_store_photo(model, filename, checked) for filename, checked in passed], rejected


def _one_person(model: PersonalModel, passed: list, rejected: list) -> list:
    """Refuse the new photos whose face is clearly another person's than the set's (the set:
    the stored photos and these), and judge every photo again against the set that remains."""
    if model.is_pet:
        return passed
    stored = [p for p in model.photos.all() if p.embedding]
    embeddings = [p.embedding for p in stored] + [c.embedding for _, c in passed]
    verdicts = identity.judge(embeddings)[len(stored):]
    kept = []
    for (filename, checked), verdict in zip(passed, verdicts, strict=True):
        if verdict.identity == identity.DIFFERENT:
            rejected.append({"filename": filename, "code": "different_person",
                             "reason": identity.DIFFERENT_REASON})
        else:
            kept.append((filename, checked))
    judged = identity.judge([p.embedding for p in stored] + [c.embedding for _, c in kept])
    for photo, verdict in zip(stored, judged, strict=False):
        if (photo.identity, photo.identity_distance) != (verdict.identity, verdict.distance):
            photo.identity, photo.identity_distance = verdict.identity, verdict.distance
            photo.save(update_fields=["identity", "identity_distance"])
    for (_, checked), verdict in zip(kept, judged[len(stored):], strict=True):
        checked.identity, checked.identity_distance = verdict.identity, verdict.distance
    return kept


def _store_photo(model, filename, checked) -> TrainingPhoto:
    photo = TrainingPhoto(
        user=model.user, model=model, filename=filename, width=checked.width,
        height=checked.height, source_format=checked.source_format, sha256=checked.sha256,
        phash=checked.phash, sharpness=checked.sharpness, face_box=checked.face_box,
        embedding=checked.embedding, identity=checked.identity,
        identity_distance=checked.identity_distance,
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
    _one_person(photo.model, [], [])  # the others are judged again without it


def delete_model(model: PersonalModel):
    """Delete the model and every copy of its photos and weights, here and at providers.

    Files in our storage go at once; what lives at a training provider or on the Hugging Face
    Hub is recorded as Cleanup rows (which outlive the model) and removed by the sweep, which
    retries until it succeeds."""
    with transaction.atomic():
        for run in model.runs.all():
            if not run.is_finished and run.provider_id:
                try:
                    trainer(run.provider).cancel(run)
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
        consent.delete_selfies(model)
        model.delete()
        enqueue(sweep_cleanups)


def _number(value) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def clean_parameter(name, value):
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
            setattr(model, name, clean_parameter(name, params[name]))
    model.save()
    return model


def queue_model(model: PersonalModel, **params):
    """Hand a draft to training: charges the training's credits and queues the pipeline
    (the model is `queued` until a worker picks the run up, then `training`)."""
    _require_draft(model)
    return start_training(model, **params).model


# --- Training ---------------------------------------------------------------------------------
def start_training(model: PersonalModel, *, provider: str | None = None,
                   callback_url: str | None = None, **params) -> TrainingRun:
    """Charge the training's credits and queue its first stage, all or nothing."""
    callback_url = check_public_url(callback_url)
    provider = provider or settings.TRAINING_PROVIDER
    if provider not in TRAINERS:
        raise InvalidInput("provider", f"Unknown training provider {provider!r}; "
                                       f"available: {', '.join(TRAINERS)}.")
    refuse_outside("the trainer", provider)  # PRIVATE_MODE: refused before any charge
    values = {name: clean_parameter(name, params.get(name, getattr(model, name, None)))
              for name in TRAINING_DEFAULTS}
    with transaction.atomic():
        model = PersonalModel.objects.select_for_update().get(pk=model.pk)
        ensure_usable(model)  # a model beyond the plan's slots waits for the customer's choice
        if active_run(model) is not None or model.status not in (
                PersonalModel.Status.DRAFT, PersonalModel.Status.QUEUED,
                PersonalModel.Status.FAILED, PersonalModel.Status.CANCELED):
            raise Conflict(f"The model is {model.get_status_display().lower()}; it cannot be "
                           "trained again now.", status=model.status)
        photos = list(model.photos.all())
        count = len(photos)
        if count < catalogue.MODEL_MIN_PHOTOS:
            raise InvalidInput("photos", f"The model has {count} photo(s); it needs at least "
                                         f"{catalogue.MODEL_MIN_PHOTOS} (10–20 is best).")
        strangers = [p.filename for p in photos if p.identity == identity.DIFFERENT]
        if strangers:
            raise InvalidInput("photos", f"{', '.join(strangers)} "
                                         f"{'looks' if len(strangers) == 1 else 'look'} like a "
                                         "different person from your other photos: remove "
                                         f"{'it' if len(strangers) == 1 else 'them'} first.")
        consent.ensure(model)  # a person's model: the account's consent for these photos
        held_out = _hold_out(model, photos)
        for name, value in values.items():
            setattr(model, name, value)
        run = TrainingRun.objects.create(
            user=model.user, model=model, provider=provider, credits=settings.TRAINING_CREDITS,
            cost_estimate_cents=estimate_cents(values["steps"]), callback_url=callback_url,
            **values,
        )
        if run.credits:
            credits.spend(model.user, run.credits, reason=f"Training of {model.name}",
                          reference=f"train:{run.id}")
        model.status = PersonalModel.Status.QUEUED
        model.queued_at = timezone.now()
        model.save()
        kept = f" ({held_out} held out to measure likeness)" if held_out else ""
        record(run, f"Training queued with {trainer(provider).label}: {count} photos{kept}, "
                    f"{values['steps']} steps.", credits=run.credits,
               cost_estimate_cents=str(run.cost_estimate_cents))
        enqueue(advance_training, str(run.id))
    return run


def _hold_out(model: PersonalModel, photos: list[TrainingPhoto]) -> int:
    """Keep the model's face embeddings (they outlive the photos), and, with enough photos,
    hold two out of training so the validation round scores faces the LoRA never saw. The
    choice is the same for a model every time it is trained."""
    faced = [p for p in photos if p.embedding]
    chosen = set()
    if len(faced) >= catalogue.HOLDOUT_MIN_PHOTOS and not model.is_pet:
        candidates = sorted((p for p in faced if p.identity == identity.SAME),
                            key=lambda p: str(p.pk))
        if len(candidates) >= catalogue.HOLDOUT_PHOTOS:
            chosen = {p.pk for p in random.Random(str(model.pk)).sample(
                candidates, catalogue.HOLDOUT_PHOTOS)}
    for photo in photos:
        if photo.held_out != (photo.pk in chosen):
            photo.held_out = photo.pk in chosen
            photo.save(update_fields=["held_out"])
    model.face_references = [p.embedding for p in faced]
    model.holdout_references = [p.embedding for p in faced if p.pk in chosen]
    return len(chosen)


def request_cancel(run: TrainingRun) -> TrainingRun:
    """Flag the run for the worker that holds it (the next step cancels it)."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            raise Conflict(f"The training has already {run.get_status_display().lower()}.",
                           status=run.status)
        if not run.cancel_requested:
            run.cancel_requested = True
            run.save(update_fields=["cancel_requested", "updated_at"])
            record(run, "Cancel requested.")
        enqueue(advance_training, str(run.id))
    return run


def cancel_now(run: TrainingRun) -> TrainingRun:
    """Cancel at once when no worker holds the run; otherwise flag it for the worker."""
    claimed = pipeline.claim(run.pk)
    if claimed is None:
        return request_cancel(run)
    try:
        claimed.cancel_requested = True
        save(claimed, "cancel_requested")
        record(claimed, "Cancel requested.")
        pipeline.cancel(claimed, trainer(claimed.provider))
    finally:
        pipeline.release(claimed)
    claimed.refresh_from_db()
    return claimed


def retry(run: TrainingRun) -> TrainingRun:
    if not can_retry(run):
        raise Conflict("This training cannot be retried now.")
    return start_training(run.model, provider=run.provider, steps=run.steps,
                          learning_rate=run.learning_rate, lora_rank=run.lora_rank)
