"""Handing a stored file to its owner. Views check ownership first; this only delivers.

On S3/R2 the answer is a redirect to a signed URL that expires in minutes, so the bytes never
pass through the web process; local files are streamed."""

from django.http import FileResponse, HttpResponseRedirect


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
