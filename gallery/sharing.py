"""Public links to one image. The token is 32 random bytes (secrets.token_urlsafe), stored on
the image while it is shared; revoking clears it, so the old link is a 404 for good, and sharing
again makes a new one. A shared link shows the image and nothing else of the account."""

import re
import secrets

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from generation.models import Image

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def share(image: Image) -> str:
    """Share `image` (the caller has checked it is theirs) and return its token. Sharing an
    image that is already shared keeps its link."""
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
    image = Image.objects.filter(share_token=token).first()
    if image is None:
        raise Http404
    return image


def share_url(request, image: Image) -> str | None:
    if not image.share_token:
        return None
    return request.build_absolute_uri(reverse("shared_image", args=[image.share_token]))
