"""The image page's new versions: "Upscale 2× / 4×" and "Restore face" (generation.versions).
The price is on the button and in its confirmation; a refusal (too large, not enough credits,
no provider) comes back to the image's page with its reason, and nothing is charged."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from generation import versions
from generation.models import Image
from likeness.errors import DomainError, show


def _make(request, pk, make):
    image = get_object_or_404(Image, pk=pk, user=request.user)
    try:
        generation = make(image)
    except DomainError as exc:
        show(request, exc)
        return redirect("image_detail", pk=image.pk)
    messages.success(request, "The new version is on its way; it appears next to the "
                              "original once it is made.")
    return redirect("generation_detail", pk=generation.pk)


@login_required
@require_POST
def image_upscale(request, pk):
    scale = request.POST.get("scale", "")
    factor = int(scale) if scale.isdigit() else scale
    return _make(request, pk, lambda image: versions.upscale(request.user, image.pk, factor))


@login_required
@require_POST
def image_restore_face(request, pk):
    return _make(request, pk, lambda image: versions.restore_face(request.user, image.pk))
