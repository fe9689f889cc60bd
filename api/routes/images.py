"""The gallery's API: GET /images (with filters), GET/PATCH/DELETE /images/{id}, the bytes
(/file, /thumbnail), sharing, bulk deletion and ZIP archives. The same domain functions as the
web gallery (gallery.filters, gallery.actions, gallery.sharing, gallery.archive)."""

import re
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from ninja import Field, Query, Router, Status
from pydantic import field_validator

from api.errors import ERRORS_CHANGE, ERRORS_READ, ApiError, ErrorOut
from api.pagination import PageParams
from api.renderers import json_response
from api.routes.lookup import owned
from api.schemas import (
    AspectRatio,
    BaseModelId,
    BulkDeleteOut,
    ImageIdsIn,
    ImageListOut,
    ImageOut,
    ImagePatchIn,
    ShareOut,
)
from gallery import actions, sharing
from gallery.archive import archive_response, download_name
from gallery.filters import ImageFilters as Filters
from gallery.filters import all_but, page
from gallery.templatetags.gallery_urls import around
from generation.models import Image
from likeness.files import serve_file
from providers.registry import delivery

router = Router(tags=["Images"])


class ImageLinks:
    """The absolute URLs of a request's images, made from a path reversed once per process
    (gallery_urls.around) instead of twice an image: they differ only by the image's id, a
    UUID, which reverse() never quotes, so the bytes are those reverse() makes for each image."""

    def __init__(self, request: HttpRequest):
        self.file = self._around(request, "api:image_file")
        self.thumbnail = self._around(request, "api:image_thumbnail")

    @staticmethod
    def _around(request: HttpRequest, name: str) -> tuple[str, str]:
        head, tail = around(name)
        return request.build_absolute_uri(head), tail

    def of(self, image_id: str) -> tuple[str, str]:
        return (self.file[0] + image_id + self.file[1],
                self.thumbnail[0] + image_id + self.thumbnail[1])


# The fields image_out() reads: a page of the list reads no others.
SHOWN = ("id", "generation", "width", "height", "prompt", "base_model", "aspect_ratio", "seed",
         "favorite", "share_token", "created_at", "provider", "is_demo", "personal_model",
         "likeness", "face_count", "all_faces_subject", "original", "operation", "metadata")


def image_out(request: HttpRequest, image: Image, links: ImageLinks | None = None) -> dict:
    """The JSON of an image (ImageOut's shape), from an Image or a record of its values
    (gallery.filters.page's `records`), read by attribute name only."""
    image_id = str(image.id)
    url, thumbnail_url = (links or ImageLinks(request)).of(image_id)
    return {
        "id": image_id,
        "generation_id": str(image.generation_id),
        "url": url,
        "thumbnail_url": thumbnail_url,
        "width": image.width,
        "height": image.height,
        "prompt": image.prompt,
        "model": image.base_model,
        "aspect_ratio": image.aspect_ratio,
        "seed": image.seed,
        "favorite": image.favorite,
        "share_url": sharing.share_url(request, image),
        "created_at": image.created_at,
        "provider": image.provider,
        "is_demo": image.is_demo,
        "model_id": str(image.personal_model_id) if image.personal_model_id else None,
        "likeness": image.likeness,
        "face_count": image.face_count,
        "all_faces_subject": image.all_faces_subject,
        "original_id": str(image.original_id) if image.original_id else None,
        "operation": image.operation or None,
        "metadata": image.metadata,
    }


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=UTC)  # times without a zone are UTC, like ours
    return value


class ImageFilters(PageParams):
    model_id: str | None = Field(None, description="Images of a personal model.")
    base_model: BaseModelId | None = None
    aspect_ratio: AspectRatio | None = None
    favorite: bool | None = None
    q: str | None = Field(None, max_length=200, description="Text in the prompt.")
    since: datetime | None = Field(None, description="Made at or after (ISO 8601).")
    until: datetime | None = Field(None, description="Made before (ISO 8601).")
    order: str = Field("newest", pattern="^(newest|oldest|likeness)$",
                       description="newest (the default), oldest first, or likeness: best "
                                   "likeness first (then newest), which lists only scored "
                                   "images (those of personal models).")
    pack: str | None = Field(None, max_length=60, description="Images made by runs of this "
                                                          "pack (its id, GET /packs).")
    min_likeness: int | None = Field(None, ge=0, le=100,
                                     description="Only images whose likeness is at least this "
                                                 "(0-100); unscored images are left out.")

    @field_validator("since", "until", mode="before")
    @classmethod
    def iso_8601_only(cls, value):
        # pydantic would also read "0.0" as Unix seconds; the contract says ISO 8601.
        if isinstance(value, str) and value and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
            raise ValueError("Use an ISO 8601 date or time, e.g. 2026-11-24T10:00:00Z.")
        return value

    @field_validator("since", "until", mode="after")
    @classmethod
    def in_utc(cls, value):
        # 9999-12-31T23:00-05:00 is a time, but not one UTC (or any database) can hold.
        try:
            return _aware(value).astimezone(UTC) if value is not None else None
        except OverflowError:
            raise ValueError("The time is out of range: it must fall between the years 1 and "
                             "9999 in UTC.")


@router.get("/images", response={200: ImageListOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
            summary="List images",
            description="The caller's images, newest first. Filters combine; a cursor works only "
                        "with the filters (and order) it was made for, and only for its "
                        "account: any other is answered 400 invalid_cursor. A text search (`q`) "
                        "reads at most 20,000 images per page, so its pages may be short, even "
                        "empty, with a next_cursor: follow it until it is null.")
def list_images(request: HttpRequest, filters: Query[ImageFilters]):
    chosen = Filters(
        base_model=filters.base_model, model_id=filters.model_id,
        aspect_ratio=filters.aspect_ratio, favorite=filters.favorite, q=(filters.q or "").strip(),
        since=_aware(filters.since), until=_aware(filters.until),
        oldest_first=filters.order == "oldest", best_likeness=filters.order == "likeness",
        min_likeness=filters.min_likeness, pack=filters.pack,
    )
    rows, next_cursor = page(request.auth, chosen, cursor=filters.cursor, limit=filters.limit,
                             defer=all_but(SHOWN), records=True)
    links = ImageLinks(request)
    return trusted_json({"items": [image_out(request, i, links) for i in rows],
                         "next_cursor": next_cursor})


def trusted_json(data: dict) -> HttpResponse:
    """A 200 of `data`, which is built by image_out in ImageListOut's shape, rendered as ninja
    renders a validated ImageListOut but without validating it again: pydantic re-checking our
    own output took about a seventh of a gallery page's time (bench/gallery_server.py
    --profile). tests/api/test_images_page.py holds the bytes to those of the validated
    schema."""
    return json_response(data)


# Before /images/{image_id}, which would otherwise take these paths.
def _check_count(ids: list[str]) -> None:
    limit = settings.GALLERY_ARCHIVE_MAX_IMAGES
    if len(set(ids)) > limit:
        raise ApiError(413, "too_large", f"Send at most {limit:,} ids per request; "
                       f"{len(set(ids)):,} were sent. Split the request.",
                       limit=limit, requested=len(set(ids)))


@router.post("/images/bulk-delete", response={200: BulkDeleteOut, **ERRORS_CHANGE, 413: ErrorOut,
                                              422: ErrorOut},
             summary="Delete many images",
             description="Deletes the caller's images among `ids`. Ids that are unknown, or of "
                         "another account, are changed nowhere and listed in `not_found`.")
def bulk_delete(request: HttpRequest, payload: ImageIdsIn):
    _check_count(payload.ids)
    images, not_found = actions.resolve(request.auth, payload.ids)
    deleted = actions.delete_images(request.auth, images)
    order = {text: n for n, text in enumerate(payload.ids)}
    deleted.sort(key=lambda pk: order.get(pk, len(order)))
    return {"deleted": deleted, "not_found": not_found}


@router.post("/images/archive", response={200: None, **ERRORS_READ, 413: ErrorOut, 422: ErrorOut},
             summary="Download many images as one ZIP",
             description="Streams a ZIP of the caller's images among `ids` (at most "
                         "GALLERY_ARCHIVE_MAX_IMAGES, 1,000 by default), built as it is sent. Ids "
                         "not found are left out and counted in the X-Not-Found header; none "
                         "found is a 404.",
             openapi_extra={"responses": {200: {
                 "description": "The ZIP.",
                 "content": {"application/zip": {"schema": {"type": "string",
                                                            "format": "binary"}}}}}})
def archive(request: HttpRequest, payload: ImageIdsIn):
    _check_count(payload.ids)
    images, not_found = actions.resolve(request.auth, payload.ids)
    rows = actions.archive_selection(request.auth, images)
    if not rows:
        raise ApiError(404, "not_found", "None of these images were found.",
                       not_found=not_found)
    response: HttpResponse = archive_response(rows)
    response["X-Not-Found"] = str(len(not_found))
    return response


@router.get("/images/{image_id}", response={200: ImageOut, **ERRORS_READ}, summary="One image")
def get_image(request: HttpRequest, image_id: str):
    return image_out(request, owned(Image.objects, request.auth, image_id, "image"))


@router.patch("/images/{image_id}", response={200: ImageOut, **ERRORS_READ, 422: ErrorOut},
              summary="Change an image", description="Mark or unmark it as a favourite.")
def patch_image(request: HttpRequest, image_id: str, payload: ImagePatchIn):
    image = owned(Image.objects, request.auth, image_id, "image")
    if payload.favorite is not None:
        actions.set_favorite(request.auth, Image.objects.filter(pk=image.pk), payload.favorite)
        image.favorite = payload.favorite
    return image_out(request, image)


@router.delete("/images/{image_id}", response={204: None, **ERRORS_READ},
               summary="Delete an image",
               description="Deletes the image and its files (here and at any delivery backend).")
def delete_image(request: HttpRequest, image_id: str):
    image = owned(Image.objects, request.auth, image_id, "image")
    actions.delete_images(request.auth, Image.objects.filter(pk=image.pk))
    return Status(204, None)


@router.post("/images/{image_id}/share", response={200: ShareOut, 403: ErrorOut, **ERRORS_READ},
             summary="Share an image",
             description="A public link to this image alone, with an unguessable token. Sharing "
                         "a shared image returns its link again. 403 sharing_not_allowed for an "
                         "image of a child's model (never shared by link) or of a suspended "
                         "model.")
def share_image(request: HttpRequest, image_id: str):
    image = owned(Image.objects, request.auth, image_id, "image")
    sharing.share(image)
    return {"share_url": sharing.share_url(request, image)}


@router.delete("/images/{image_id}/share", response={204: None, **ERRORS_READ},
               summary="Stop sharing an image",
               description="The link stops working at once (404); sharing again makes a new one.")
def unshare_image(request: HttpRequest, image_id: str):
    image = owned(Image.objects, request.auth, image_id, "image")
    sharing.revoke(image)
    return Status(204, None)



def _binary(description: str, *content_types: str) -> dict:
    return {"responses": {200: {
        "description": description,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in content_types},
    }}}


def _serve(field, content_type: str, filename: str, download: bool = False):
    # Local files stream from here; on S3/R2 the answer is a redirect to a signed URL.
    response = serve_file(field, content_type=content_type,
                          download_name=filename if download else None)
    if not download and not response.has_header("Location"):
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@router.get("/images/{image_id}/file", response=ERRORS_READ, url_name="image_file",
            summary="The image file",
            description="The original image bytes (a redirect to a short-lived URL when files "
                        "live in S3/R2 or Cloudflare Images). `?download=true` makes it an "
                        "attachment named after the prompt and seed.",
            openapi_extra=_binary("The image.", "image/png", "image/jpeg", "image/webp"))
def image_file(request: HttpRequest, image_id: str, download: bool = False):
    image = owned(Image.objects, request.auth, image_id, "image")
    if not download and (url := delivery().delivery_url(image)):
        return HttpResponseRedirect(url)
    return _serve(image.file, image.content_type, download_name(image), download)


@router.get("/images/{image_id}/thumbnail", response=ERRORS_READ, url_name="image_thumbnail",
            summary="The image's thumbnail", description="A WebP, at most 512 px on a side.",
            openapi_extra=_binary("The thumbnail.", "image/webp"))
def image_thumbnail(request: HttpRequest, image_id: str):
    image = owned(Image.objects, request.auth, image_id, "image")
    return _serve(image.thumbnail, "image/webp", f"likeness-{image.id}-thumb.webp")
