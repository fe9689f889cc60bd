"""GET /images, GET /images/{id}, and the bytes: /images/{id}/file and /images/{id}/thumbnail."""

from datetime import UTC, datetime

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router

from api.errors import ERRORS_READ, ErrorOut
from api.pagination import PageParams, paginate
from api.routes.lookup import owned
from api.schemas import AspectRatio, BaseModelId, ImageListOut, ImageOut
from generation.models import Image
from likeness.files import serve_file

router = Router(tags=["Images"])


def image_out(request: HttpRequest, image: Image) -> dict:
    return {
        "id": str(image.id),
        "generation_id": str(image.generation_id),
        "url": request.build_absolute_uri(reverse("api:image_file", args=[image.id])),
        "thumbnail_url": request.build_absolute_uri(
            reverse("api:image_thumbnail", args=[image.id])),
        "width": image.width,
        "height": image.height,
        "prompt": image.prompt,
        "model": image.base_model,
        "aspect_ratio": image.aspect_ratio,
        "seed": image.seed,
        "favorite": image.favorite,
        "share_url": None,  # sharing arrives with the gallery
        "created_at": image.created_at,
        "provider": image.provider,
        "is_demo": image.is_demo,
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


@router.get("/images", response={200: ImageListOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
            summary="List images", description="The caller's images, newest first.")
def list_images(request: HttpRequest, filters: Query[ImageFilters]):
    images = Image.objects.filter(user=request.auth)
    if filters.model_id:
        # Personal models are not available yet, so no image belongs to one.
        images = images.none()
    if filters.base_model:
        images = images.filter(base_model=filters.base_model)
    if filters.aspect_ratio:
        images = images.filter(aspect_ratio=filters.aspect_ratio)
    if filters.favorite is not None:
        images = images.filter(favorite=filters.favorite)
    if filters.q and filters.q.strip():
        images = images.filter(prompt__icontains=filters.q.strip())
    if filters.since:
        images = images.filter(created_at__gte=_aware(filters.since))
    if filters.until:
        images = images.filter(created_at__lt=_aware(filters.until))
    rows, next_cursor = paginate(images, kind="images", cursor=filters.cursor,
                                 limit=filters.limit)
    return {"items": [image_out(request, i) for i in rows], "next_cursor": next_cursor}


@router.get("/images/{image_id}", response={200: ImageOut, **ERRORS_READ}, summary="One image")
def get_image(request: HttpRequest, image_id: str):
    return image_out(request, owned(Image.objects, request.auth, image_id, "image"))


def _binary(description: str, *content_types: str) -> dict:
    return {"responses": {200: {
        "description": description,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in content_types},
    }}}


def _serve(field, content_type: str, filename: str):
    # Local files stream from here; on S3/R2 the answer is a redirect to a signed URL.
    response = serve_file(field, content_type=content_type)
    if not response.has_header("Location"):
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@router.get("/images/{image_id}/file", response=ERRORS_READ, url_name="image_file",
            summary="The image file", description="The original image bytes.",
            openapi_extra=_binary("The image.", "image/png", "image/jpeg", "image/webp"))
def image_file(request: HttpRequest, image_id: str):
    image = owned(Image.objects, request.auth, image_id, "image")
    return _serve(image.file, image.content_type, f"likeness-{image.id}.{image.extension}")


@router.get("/images/{image_id}/thumbnail", response=ERRORS_READ, url_name="image_thumbnail",
            summary="The image's thumbnail", description="A WebP, at most 512 px on a side.",
            openapi_extra=_binary("The thumbnail.", "image/webp"))
def image_thumbnail(request: HttpRequest, image_id: str):
    image = owned(Image.objects, request.auth, image_id, "image")
    return _serve(image.thumbnail, "image/webp", f"likeness-{image.id}-thumb.webp")
