"""Files in and out: the cap on every upload, and handing a stored file to its owner.

Every upload (a multipart body: the web photo form, the API, any other form) larger than
PHOTO_UPLOAD_MAX_REQUEST_BYTES is refused from its Content-Length before anything reads the
body (UploadLimitMiddleware): not the CSRF check, not a form, not a view.

Views check ownership first; serve_file only delivers. On S3/R2 the answer is a redirect to a
signed URL that expires in minutes, so the bytes never pass through the web process; local
files are streamed."""

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponseRedirect, JsonResponse

from likeness.errors import error_body


def declared_size(request) -> int:
    """The body's size as the client declared it; Django never reads past it."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # Django then reads no body at all


class UploadLimitMiddleware:
    """Refuses an upload over the cap unread: the API in its error shape (413 too_large), a
    script that asked for JSON with {"error", "message"}, a page by sending the browser back
    to it with the reason as a message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        size, limit = declared_size(request), settings.PHOTO_UPLOAD_MAX_REQUEST_BYTES
        if request.content_type != "multipart/form-data" or size <= limit:
            return self.get_response(request)
        message = (f"The upload is {size / 1_000_000:.1f} MB; at most {limit / 1_000_000:.0f} "
                   "MB can be sent at once. Send the files in several requests.")
        if request.path.startswith("/api/"):
            return JsonResponse(error_body("too_large", message, {"size": size, "limit": limit}),
                                status=413)
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"error": "too_large", "message": message}, status=413)
        messages.error(request, message)
        return HttpResponseRedirect(request.get_full_path())


def serve_file(field, *, content_type: str, download_name: str | None = None):
    storage = field.storage
    if hasattr(storage, "bucket_name"):  # django-storages' S3Storage
        parameters = {"ResponseContentType": content_type}
        if download_name:
            parameters["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        response = HttpResponseRedirect(storage.url(field.name, parameters=parameters))
    else:
        response = FileResponse(field.open("rb"), content_type=content_type,
                                as_attachment=bool(download_name), filename=download_name or "")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
