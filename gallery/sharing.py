"""Public links to one image. The token is 32 random bytes (secrets.token_urlsafe), stored on
the image while it is shared; revoking clears it, so the old link is a 404 for good, and sharing
again makes a new one. A shared link shows the image and nothing else of the account.

Images of a child's personal model are never shared by link, and a link stops working when
staff suspend the image's model or account (safety)."""

import re
import secrets

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from generation.models import Image
from likeness.errors import DomainError

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class SharingNotAllowed(DomainError):
    status = 403
    code = "sharing_not_allowed"


def _models(image: Image) -> list:
    """The image's own model and, for two people in one picture, the second person's."""
    second = image.generation.second_model if image.generation.second_model_id else None
    return [model for model in (image.personal_model, second) if model is not None]


def shareable(image: Image) -> bool:
    return not any(model.is_child or model.is_suspended for model in _models(image))


def share(image: Image) -> str:
    """Share `image` (the caller has checked it is theirs) and return its token. Sharing an
    image that is already shared keeps its link. SharingNotAllowed for a child's model's
    images (and a suspended model's), either of two people's included."""
    if not shareable(image):
        raise SharingNotAllowed(
            "Images made with a child's model can't be shared by link; download the image to "
            "share it with people you know."
            if any(m.is_child for m in _models(image)) else
            "This image's model is suspended by the operator, so it can't be shared.")
    with transaction.atomic():
        locked = Image.objects.select_for_update().only("pk", "share_token").get(pk=image.pk)
        if not locked.share_token:
            locked.share_token = secrets.token_urlsafe(TOKEN_BYTES)
            Image.objects.filter(pk=image.pk).update(share_token=locked.share_token,
                                                     shared_at=timezone.now())
    image.refresh_from_db(fields=["share_token", "shared_at"])
    return image.share_token


def revoke(image: Image) -> None:
    Image.objects.filter(pk=image.pk).update(share_token=None, shared_at=None)
    image.share_token = image.shared_at = None


def shared_image(token: str) -> Image:
    """The image shared under `token`, or 404 (unknown, revoked or malformed alike)."""
    if not _TOKEN_SHAPE.match(token or ""):
        raise Http404
    image = (Image.objects.filter(share_token=token, user__is_active=True)
             .select_related("personal_model").first())
    if image is None or not shareable(image):
        raise Http404
    return image


def share_url(request, image: Image) -> str | None:
    if not image.share_token:
        return None
    return request.build_absolute_uri(reverse("shared_image", args=[image.share_token]))
