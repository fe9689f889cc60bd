"""The gallery and the image files. Files leave only through these views, for their owner (or,
for a shared image, for whoever holds its token): another account's image is a 404, never a
403, so ids reveal nothing. Views stay thin; gallery.actions changes things."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from gallery import actions, sharing
from gallery import filters as listing
from gallery.archive import archive_response, download_name
from gallery.filters import CARD_FIELDS, account_images, all_but, page
from gallery.forms import LIKENESS_FLOORS, GalleryFilterForm
from generation import versions
from generation.catalogue import BASE_MODELS, INSTANT_MODEL
from generation.models import Image
from generation.views import vary
from likeness.errors import InvalidCursor, show
from likeness.files import serve_file
from providers.registry import delivery

VIEWS = ("grid", "list")
VIEW_COOKIE = "gallery_view"


def _view_mode(request) -> str:
    mode = request.GET.get("view") or request.COOKIES.get(VIEW_COOKIE)
    return mode if mode in VIEWS else "grid"


@login_required
@require_GET
def gallery(request):
    form = GalleryFilterForm(request.GET, user=request.user)
    filters = form.filters()
    try:
        images, next_cursor = page(
            request.user, filters, cursor=request.GET.get("cursor") or None,
            limit=listing.PAGE_SIZE, defer=all_but(CARD_FIELDS), records=True)
    except InvalidCursor:
        return HttpResponseBadRequest("This link to more images has expired; reload the gallery.")
    query = form.query()
    mode = _view_mode(request)
    first_page = not request.GET.get("cursor")
    context = {
        "form": form, "filters": filters, "images": images, "next_cursor": next_cursor,
        "query": query, "filter_fields": list(QueryDict(query).items()), "view": mode,
        "first_page": first_page, "likeness_floors": LIKENESS_FLOORS,
        "has_any": bool(images) or account_images(request.user).exists(),
        # The newest first: the page looks for newer images (gallery_newer) and puts them on top.
        "live": first_page and not filters.oldest_first and not filters.best_likeness,
        "newest": images[0].pk if images else "",
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "gallery/gallery.html#items", context)
    response = render(request, "gallery/gallery.html", context)
    if request.GET.get("view") in VIEWS:  # remembered for the next visit
        response.set_cookie(VIEW_COOKIE, mode, max_age=365 * 86400, samesite="Lax",
                            secure=request.is_secure(), httponly=True)
    return response


@login_required
@require_GET
def gallery_newer(request):
    """The images newer than the one on top of an open gallery (`since`), with its filters: the
    cards to put on top, and the poll that follows with the new top; 204 when there are none
    (htmx leaves the page alone: a session, a user and one indexed query). An empty gallery
    that now has an image is reloaded."""
    form = GalleryFilterForm(request.GET, user=request.user)
    filters = form.filters()
    newer = listing.newer_than(request.user, filters, request.GET.get("since"))
    if newer is None:
        if account_images(request.user).exists():  # the page showed none, or its top is gone
            return HttpResponse(headers={"HX-Refresh": "true"})
        return HttpResponse(status=204)
    if not newer:
        return HttpResponse(status=204)
    return render(request, "gallery/gallery.html#newer", {
        "images": newer, "newest": newer[0].pk, "query": form.query(), "live": True,
        "eager": True, "view": _view_mode(request), "filters": filters})


def _owned(request, pk) -> Image:
    return get_object_or_404(Image.objects.select_related("generation", "personal_model"), pk=pk,
                             user=request.user)


def _neighbours(image: Image) -> tuple[Image | None, Image | None]:
    """The newer and the older image of the same account (the gallery's default order)."""
    mine = Image.objects.filter(user_id=image.user_id).only("pk")
    newer = mine.filter(Q(created_at__gt=image.created_at) | Q(
        created_at=image.created_at, pk__gt=image.pk)).order_by("created_at", "pk").first()
    older = mine.filter(Q(created_at__lt=image.created_at) | Q(
        created_at=image.created_at, pk__lt=image.pk)).order_by("-created_at", "-pk").first()
    return newer, older


def _detail_context(request, image: Image) -> dict:
    stored = image.metadata or {}
    meta = {
        "base_model": stored.get("base_model") or image.base_model,
        "provider": stored.get("provider") or image.provider,
        "seed": stored.get("seed", image.seed),
        "width": stored.get("width") or image.width,
        "height": stored.get("height") or image.height,
        "steps": stored.get("steps"),
        "guidance": stored.get("guidance"),
        "negative_prompt": stored.get("negative_prompt") or "",
        "credits": stored.get("credits"),
    }
    model = BASE_MODELS.get(meta["base_model"]) or (
        INSTANT_MODEL if meta["base_model"] == INSTANT_MODEL.id else None)
    newer, older = _neighbours(image)
    return {
        "image": image, "meta": meta, "model_name": model.name if model else meta["base_model"],
        "newer": newer, "older": older, "share_url": sharing.share_url(request, image),
        "shareable": sharing.shareable(image),
        "download_name": download_name(image),
        "vary_cost": model.credits_per_image if model else None,
        "offers": versions.offers(image), "family": versions.family(image),
    }


@login_required
@require_GET
def image_detail(request, pk):
    image = _owned(request, pk)
    context = _detail_context(request, image)
    if request.htmx:  # the gallery's details dialog
        return render(request, "gallery/image_detail.html#panel", {**context, "in_dialog": True})
    return render(request, "gallery/image_detail.html", context)


def _back(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return default


@login_required
@require_POST
def image_favorite(request, pk):
    image = _owned(request, pk)
    value = request.POST.get("favorite", "1" if not image.favorite else "0") == "1"
    actions.set_favorite(request.user, Image.objects.filter(pk=image.pk), value)
    image.favorite = value
    if request.htmx:
        return render(request, "gallery/image_detail.html#favorite", {"image": image})
    return redirect(_back(request, reverse("image_detail", args=[image.pk])))


@login_required
@require_POST
def image_share(request, pk):
    image = _owned(request, pk)
    try:
        sharing.share(image)
    except sharing.SharingNotAllowed as exc:
        if request.htmx:
            return render(request, "gallery/image_detail.html#share",
                          {"image": image, "share_url": None, "shareable": False})
        show(request, exc)
        return redirect(_back(request, reverse("image_detail", args=[image.pk])))
    if request.htmx:
        return render(request, "gallery/image_detail.html#share",
                      {"image": image, "share_url": sharing.share_url(request, image),
                       "shareable": True})
    messages.success(request, "Anyone with the link can now see this image.")
    return redirect(_back(request, reverse("image_detail", args=[image.pk])))


@login_required
@require_POST
def image_unshare(request, pk):
    image = _owned(request, pk)
    sharing.revoke(image)
    if request.htmx:
        return render(request, "gallery/image_detail.html#share",
                      {"image": image, "share_url": None, "shareable": sharing.shareable(image)})
    messages.success(request, "The link no longer works.")
    return redirect(_back(request, reverse("image_detail", args=[image.pk])))


@login_required
@require_POST
def image_delete(request, pk):
    image = _owned(request, pk)
    actions.delete_images(request.user, Image.objects.filter(pk=image.pk))
    if request.htmx:  # the dialog closes and the card goes (static/js/gallery.js)
        response = HttpResponse(status=204)
        response["HX-Trigger"] = f'{{"imageDeleted": "{image.pk}"}}'
        return response
    messages.success(request, "Image deleted.")
    return redirect(_back(request, reverse("gallery")))


@login_required
@require_POST
def image_vary(request, pk):
    """From the image's page: a variation, or back to the image with the refusal."""
    return vary(request, pk, back="image_detail")


def _selection(request):
    """The images a bulk form names: the ticked ids, or every image matching its filters."""
    if request.POST.get("all") == "1":
        form = GalleryFilterForm(request.POST, user=request.user)
        return form.filters().apply(account_images(request.user)), []
    return actions.resolve(request.user, request.POST.getlist("ids"))


@login_required
@require_POST
def gallery_bulk(request):
    images, not_found = _selection(request)
    action = request.POST.get("action")
    if action in ("favorite", "unfavorite"):
        count = actions.set_favorite(request.user, images, action == "favorite")
        verb = "Added" if action == "favorite" else "Removed"
        messages.success(request, f"{verb} {count} image{'s' * (count != 1)} "
                                  f"{'to' if action == 'favorite' else 'from'} favourites.")
    elif action == "delete":
        count = len(actions.delete_images(request.user, images))
        messages.success(request, f"Deleted {count} image{'s' * (count != 1)}.")
    else:
        return HttpResponseBadRequest("Unknown action.")
    if not_found:
        messages.warning(request, f"{len(not_found)} of the chosen images were not found.")
    return redirect(_back(request, reverse("gallery")))


@login_required
@require_POST
def gallery_archive(request):
    images, _ = _selection(request)
    try:
        rows = actions.archive_selection(request.user, images)
    except actions.TooManyImages as exc:
        show(request, exc)
        return redirect(_back(request, reverse("gallery")))
    if not rows:
        messages.warning(request, "Choose at least one image to download.")
        return redirect(_back(request, reverse("gallery")))
    return archive_response(rows)


def _serve(request, image: Image, field, content_type: str, extension: str):
    # Django's storage API, so the same code serves local files and S3/R2 (by signed URL).
    download = request.GET.get("download") == "1"
    response = serve_file(field, content_type=content_type,
                          download_name=download_name(image, extension) if download else None)
    if not download and not response.has_header("Location"):
        response["Content-Disposition"] = f'inline; filename="{download_name(image, extension)}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def image_file(request, pk):
    image = get_object_or_404(Image, pk=pk, user=request.user)
    if request.GET.get("download") != "1" and (url := delivery().delivery_url(image)):
        return redirect(url)
    return _serve(request, image, image.file, image.content_type, image.extension)


@login_required
@require_GET
def image_thumbnail(request, pk):
    image = get_object_or_404(Image.objects.only("pk", "user", "thumbnail", "prompt", "seed"),
                              pk=pk, user=request.user)
    return _serve(request, image, image.thumbnail, "image/webp", "webp")


# --- Public, by share token ----------------------------------------------------------------
@require_GET
def shared_image(request, token):
    image = sharing.shared_image(token)
    response = render(request, "gallery/shared.html", {
        "image": image, "token": token,
        "image_url": request.build_absolute_uri(reverse("shared_image_file", args=[token])),
        "page_url": request.build_absolute_uri(reverse("shared_image", args=[token])),
    })
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return response


@require_GET
def shared_image_file(request, token):
    image = sharing.shared_image(token)
    response = serve_file(image.file, content_type=image.content_type)
    if not response.has_header("Location"):
        response["Content-Disposition"] = f'inline; filename="likeness.{image.extension}"'
    # Short, so a revoked link stops working soon even where it was cached.
    response["Cache-Control"] = "public, max-age=60"
    return response
