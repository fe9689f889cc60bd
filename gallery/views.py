"""The gallery and the image files. Files leave only through these views, for their owner:
another account's image is a 404, never a 403, so ids reveal nothing."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify

from generation.catalogue import BASE_MODELS
from generation.models import Image

PAGE_SIZE = 24


@login_required
def gallery(request):
    images = Image.objects.filter(user=request.user)
    page = Paginator(images, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "gallery/gallery.html", {"page_obj": page})


@login_required
def image_detail(request, pk):
    image = get_object_or_404(Image.objects.select_related("generation"), pk=pk,
                              user=request.user)
    model = BASE_MODELS.get(image.metadata.get("base_model") or image.base_model)
    return render(request, "gallery/image_detail.html", {
        "image": image, "meta": image.metadata, "model_name": model.name if model else "",
    })


def download_name(image, extension):
    slug = slugify(image.prompt)[:50].strip("-") or "image"
    return f"likeness-{slug}-{image.seed}.{extension}"


def _stream(request, image, field, content_type, extension):
    # Django's storage API, so the same code serves local files and S3/R2.
    response = FileResponse(
        field.open("rb"),
        content_type=content_type,
        as_attachment=request.GET.get("download") == "1",
        filename=download_name(image, extension),
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def image_file(request, pk):
    image = get_object_or_404(Image, pk=pk, user=request.user)
    return _stream(request, image, image.file, image.content_type, image.extension)


@login_required
def image_thumbnail(request, pk):
    image = get_object_or_404(Image, pk=pk, user=request.user)
    return _stream(request, image, image.thumbnail, "image/webp", "webp")
