"""Instant mode: a first look at a person from their model's photos, without training.

While a personal model trains (or at any time its photos are kept), the customer can ask for
1-4 images drawn by PuLID on FLUX.1 [dev] (generation.catalogue.INSTANT_MODEL) from one of the
model's photos each: up to INSTANT_MAX_REFERENCES photos, chosen by the customer or the best
faces by default, used in turn. It is made like a generation (ARCHITECTURE.md, "How the data
flows"): the request is checked, its price reserved and a Generation recorded in one
transaction (`operation` "instant", `references` the photos' ids), and the job
(generation.instant_tasks) runs on commit through the routing table's "instant" route with
failover; each image is scored for likeness against the model's other photos, and a slot that
cannot be made is refunded once.

A person's photos are used only under the consent their training needs (studio.consent), the
prompt policy reads the prompt as for the model itself (a child's model: strict), and the
operator switches the mode off with INSTANT_MODE=0 (its face models are non-commercial)."""

import random

from django.conf import settings
from django.db import transaction

from credits import actions as credits
from generation import policy
from generation.actions import ModelNotFound, clean_request, owned_model
from generation.catalogue import (
    INSTANT_MAX_REFERENCES,
    INSTANT_MODEL,
    INSTANT_SUBJECTS,
    MAX_SEED,
    size_for,
)
from generation.instant_tasks import run_instant
from generation.models import Generation
from generation.styles import STYLES
from jobs.queue import enqueue
from likeness.errors import ConsentRequired, InvalidInput, Suspended
from providers.interfaces import INSTANT
from providers.private import refuse_route
from providers.routing import can_instant
from studio import consent, identity
from studio.models import PersonalModel, TrainingPhoto

OPERATION = "instant"
LICENCE_NOTE = ("Instant previews are drawn by PuLID, whose face models (InsightFace's) are "
                "licensed for non-commercial use only.")


def enabled() -> bool:
    return settings.INSTANT_MODE


def usable_photos(model: PersonalModel) -> list[TrainingPhoto]:
    """The model's photos instant mode may draw from, the best faces first: a face found, not
    someone else's (studio.identity), largest face and sharpest first."""
    photos = [p for p in model.photos.all()
              if p.face_box and p.identity != identity.DIFFERENT]

    def quality(photo):
        _, _, w, h = photo.face_box
        return (w * h) / max(1, photo.width * photo.height) * min(photo.sharpness, 400)

    return sorted(photos, key=lambda p: (-quality(p), str(p.pk)))


def refusal(model: PersonalModel):
    """Why instant mode cannot run on this model now, as the error to raise (None when it
    can): the page shows its message, create_instant raises it."""
    if not enabled():
        return InvalidInput("model_id", "The operator has switched instant mode off.")
    if model.subject_class not in INSTANT_SUBJECTS:
        return InvalidInput("model_id", "Instant mode draws people's faces; a pet needs its "
                                        "trained model.")
    if model.is_suspended:
        return Suspended("The operator suspended this model.", model_id=str(model.pk))
    if not usable_photos(model):
        return InvalidInput("photos", "Instant mode needs at least one photo of the model with "
                                      "a clear face.")
    if consent.required(model) and consent.current(model) is None:
        return ConsentRequired("Instant mode uses the person's photos: give the consent for "
                               "them first, as a training needs.",
                               consent_status=consent.status(model),
                               method=consent.method_for(model))
    if not can_instant():
        return InvalidInput("model_id", "No configured image provider offers instant mode "
                                        "right now.")
    return None


def choose(model: PersonalModel, photo_ids) -> list[TrainingPhoto]:
    """The references: the photos asked for (ids of this model's usable photos, at most
    INSTANT_MAX_REFERENCES), else the best ones."""
    usable = usable_photos(model)
    if photo_ids in (None, "", []):
        return usable[:INSTANT_MAX_REFERENCES]
    if not isinstance(photo_ids, list | tuple) or len(photo_ids) > INSTANT_MAX_REFERENCES:
        raise InvalidInput("photo_ids", f"Choose 1 to {INSTANT_MAX_REFERENCES} of the model's "
                                        "photos.")
    by_id = {str(p.pk): p for p in usable}
    wanted = list(dict.fromkeys(str(p) for p in photo_ids))
    unknown = [p for p in wanted if p not in by_id]
    if unknown:
        raise InvalidInput("photo_ids", "Choose photos of this model that show a clear face "
                                        f"({len(unknown)} of those chosen do not).")
    return [by_id[p] for p in wanted]


def prompt_as_sent(prompt: str, model: PersonalModel, style: str = "") -> str:
    """PuLID knows the person from the photo: the prompt names only what they are."""
    subject = "person" if model.subject_class == "child" else model.subject_class
    sent = prompt if subject in prompt.lower() else f"a photo of a {subject}, {prompt}"
    return STYLES[style].apply(sent) if style else sent


def create_instant(user, model_id, *, prompt, num_images=1, aspect_ratio="1:1", style=None,
                   seed=None, photo_ids=None) -> Generation:
    """Check, reserve the price and queue the job, all or nothing. Raises ModelNotFound,
    InvalidInput, ConsentRequired, Suspended, PromptRefused, PrivateModeRefused or
    credits.InsufficientCredits, in which case nothing was recorded or charged."""
    model = owned_model(user, model_id)  # in any state: also while it trains
    cleaned = clean_request(prompt=prompt, num_images=num_images, aspect_ratio=aspect_ratio,
                            style=style, seed=seed)
    error = refusal(model)
    if error is not None:
        raise error
    references = choose(model, photo_ids)
    refuse_route(INSTANT)  # PRIVATE_MODE: refused before any charge
    sent = prompt_as_sent(cleaned["prompt"], model, cleaned["style"])
    policy.enforce(sent, model=model)
    width, height = size_for(INSTANT_MODEL.id, cleaned["aspect_ratio"])
    count = cleaned["num_images"]
    cost = INSTANT_MODEL.credits_per_image * count
    with transaction.atomic():
        generation = Generation.objects.create(
            user=user, prompt=cleaned["prompt"], prompt_sent=sent,
            base_model=INSTANT_MODEL.id, personal_model=model, style=cleaned["style"],
            aspect_ratio=cleaned["aspect_ratio"], width=width, height=height,
            num_images=count, steps=INSTANT_MODEL.default_steps,
            guidance=INSTANT_MODEL.default_guidance,
            seed=cleaned["seed"] if cleaned["seed"] is not None
            else random.randint(0, MAX_SEED - 8),
            credits_reserved=cost, slots=["queued"] * count, operation=OPERATION,
            references=[str(photo.pk) for photo in references])
        credits.spend(user, cost, reason=f"Instant preview of {model.name}: {count} image(s)",
                      reference=f"gen:{generation.id}:reserve")
        enqueue(run_instant, str(generation.id))
    return generation


def vary(user, image) -> Generation:
    """Another instant image like `image` (an instant one) with a new seed, from the same photo
    when it is still kept: one image, charged like any other."""
    if image.personal_model_id is None:
        raise ModelNotFound("The personal model of this image no longer exists.")
    generation = image.generation
    photo = ((image.metadata or {}).get("instant") or {}).get("reference_photo")
    kept = photo and TrainingPhoto.objects.filter(pk=photo, model_id=image.personal_model_id,
                                                  face_box__isnull=False).exists()
    return create_instant(user, image.personal_model_id, prompt=generation.prompt,
                          num_images=1, aspect_ratio=image.aspect_ratio,
                          style=generation.style or None, photo_ids=[photo] if kept else None)
