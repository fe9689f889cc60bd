"""What the gallery changes: favourites and deletion, one image or many. The web pages and the
API call these. Only the caller's images are ever touched: an id of another account's image is
treated exactly like an id that does not exist, and reported back as not found."""

import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet

from gallery import tasks
from generation.models import Image
from jobs.queue import enqueue
from likeness.errors import TooLarge

logger = logging.getLogger(__name__)
BATCH = 500


class TooManyImages(TooLarge):
    def __init__(self, requested: int, limit: int):
        super().__init__(f"A download holds at most {limit:,} images; {requested:,} were chosen. "
                         "Choose fewer, or narrow the filter.", requested=requested, limit=limit)
        self.requested = requested
        self.limit = limit


def resolve(user, ids: Iterable) -> tuple[QuerySet, list[str]]:
    """The caller's images among `ids`, and the ids that are not (malformed, unknown, or
    another account's), in the order given, without repeats."""
    wanted: dict[str, uuid.UUID | None] = {}
    for raw in ids:
        text = str(raw).strip()
        if text in wanted:
            continue
        try:
            wanted[text] = uuid.UUID(text)
        except ValueError:
            wanted[text] = None
    pks = [pk for pk in wanted.values() if pk is not None]
    found = set(Image.objects.filter(user=user, pk__in=pks)
                .values_list("pk", flat=True)) if pks else set()
    not_found = [text for text, pk in wanted.items() if pk not in found]
    return Image.objects.filter(user=user, pk__in=found), not_found


def set_favorite(user, images: QuerySet, value: bool) -> int:
    """Mark (or unmark) the caller's images in `images` as favourites. Returns how many."""
    return images.filter(user=user).update(favorite=value)


def _delete_files(names: list[str], cf_ids: list[str]):
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # a file already gone must not undo the deletion of the rows
            logger.exception("could not delete %s", name)
    if cf_ids:
        for cf_id in cf_ids:
            enqueue(tasks.delete_from_cloudflare, cf_id)


def delete_images(user, images: QuerySet) -> list[str]:
    """Delete the caller's images in `images`, with their files here and at Cloudflare Images.
    Rows go in one transaction per batch; files once it has committed. Returns the ids."""
    deleted: list[str] = []
    images = images.filter(user=user).order_by()
    while True:
        with transaction.atomic():
            rows = list(images.select_for_update().values_list(
                "pk", "file", "thumbnail", "cf_image_id")[:BATCH])
            if not rows:
                break
            Image.objects.filter(pk__in=[r[0] for r in rows]).delete()
            names = [name for r in rows for name in (r[1], r[2]) if name]
            cf_ids = [r[3] for r in rows if r[3]]
            transaction.on_commit(lambda n=names, c=cf_ids: _delete_files(n, c))
        deleted += [str(r[0]) for r in rows]
    return deleted


def archive_selection(user, images: QuerySet) -> list[Image]:
    """The images of a ZIP download, newest first, refused beyond the configured limit."""
    limit = settings.GALLERY_ARCHIVE_MAX_IMAGES
    rows = list(images.filter(user=user).defer("metadata")
                .order_by("-created_at", "-pk")[: limit + 1])
    if len(rows) > limit:
        raise TooManyImages(images.filter(user=user).count(), limit)
    return rows
