"""Instant mode in the browser: a page per personal model with the photos it draws from, the
price and the form (generation.instant decides; a refusal is shown on the form and changes
nothing), then the generation's own page follows the images as they arrive."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from generation.catalogue import ASPECT_RATIOS, INSTANT_MAX_REFERENCES, INSTANT_MODEL
from generation.instant import LICENCE_NOTE, create_instant, refusal, usable_photos
from generation.models import Image
from generation.styles import STYLES
from likeness.errors import ConsentRequired, DomainError, InsufficientCredits
from studio.models import PersonalModel

DEFAULT_PROMPT = "a portrait photo, soft natural light, looking at the camera"


@login_required
def instant(request, pk):
    model = get_object_or_404(PersonalModel, pk=pk, user=request.user)
    error, values = "", {"prompt": DEFAULT_PROMPT, "num_images": 2, "aspect_ratio": "1:1",
                         "style": "", "photo_ids": []}
    values.update(_from_image(request, model))  # "Use these settings" of an instant image
    if request.method == "POST":
        values = {"prompt": request.POST.get("prompt", ""),
                  "num_images": _number(request.POST.get("num_images")),
                  "aspect_ratio": request.POST.get("aspect_ratio", "1:1"),
                  "style": request.POST.get("style", ""),
                  "photo_ids": request.POST.getlist("photo_ids")}
        try:
            generation = create_instant(request.user, model.pk, **values)
        except InsufficientCredits as exc:
            error = (f"This needs {exc.needed} credits and your balance is {exc.balance}. "
                     "Choose fewer images.")
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "Your instant preview is on its way.")
            return redirect("generation_detail", pk=generation.pk)
    photos, refused = usable_photos(model), refusal(model)
    chosen = set(values["photo_ids"]) or {str(p.pk) for p in photos[:INSTANT_MAX_REFERENCES]}
    return render(request, "generation/instant.html", {
        "model": model, "photos": photos, "chosen": chosen, "values": values,
        "error": error, "reason": refused.message if refused else "",
        "needs_consent": isinstance(refused, ConsentRequired), "licence_note": LICENCE_NOTE,
        "credits_per_image": INSTANT_MODEL.credits_per_image, "aspect_ratios": ASPECT_RATIOS,
        "styles": STYLES.values(), "max_references": INSTANT_MAX_REFERENCES,
        "counts": range(1, 5),
    }, status=422 if error else 200)


def _from_image(request, model) -> dict:
    """The settings of one of this model's instant images (?image=<id>), else nothing."""
    image = (Image.objects.select_related("generation")
             .filter(pk=_uuid(request.GET.get("image")), user=request.user,
                     personal_model=model, operation="instant").first())
    if image is None:
        return {}
    photo = ((image.metadata or {}).get("instant") or {}).get("reference_photo")
    return {"prompt": image.generation.prompt, "num_images": 1,
            "aspect_ratio": image.aspect_ratio, "style": image.generation.style,
            "photo_ids": [photo] if photo else []}


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _number(value) -> int | str:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value or 1
