"""The training ZIP, for the provider's trainer to fetch by a signed, expiring link (local
storage only; on S3/R2 the provider gets a presigned bucket URL instead)."""

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.views.decorators.http import require_GET

from likeness.files import serve_file
from studio.models import TrainingRun
from studio.pipeline import ZIP_SALT


@require_GET
def training_zip(request, run_id, token):
    try:
        signed = signing.loads(token, salt=ZIP_SALT, max_age=settings.TRAINING_ZIP_URL_SECONDS)
    except signing.BadSignature:
        raise Http404("This link is not valid or has expired.")
    if signed != str(run_id):
        raise Http404("This link is not valid or has expired.")
    run = TrainingRun.objects.filter(pk=run_id).exclude(zip_file="").first()
    if run is None or run.is_finished:
        raise Http404("This training is over.")
    return serve_file(run.zip_file, content_type="application/zip")
