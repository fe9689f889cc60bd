"""Background work of the gallery: copies at Cloudflare Images (when that backend is on)."""

import logging

from django.db.models.signals import post_save
from django.dispatch import receiver
from django_tasks import task

from generation.models import Image
from jobs.queue import enqueue
from jobs.retry import retry_or_fail
from likeness.errors import ProviderError
from providers.registry import delivery

logger = logging.getLogger(__name__)


def _try(task, arg, tries: int, call, failure: str) -> bool:
    """Call Cloudflare; on an error, retry the task later or give up (logging `failure`)."""
    try:
        call()
    except ProviderError as exc:
        retry_or_fail(task, arg, attempt=tries, tries=tries + 1, error=exc,
                      give_up=lambda exc=exc: logger.warning(failure, arg, exc))
        return False
    return True


@task()
def publish_to_cloudflare(image_id: str, tries: int = 1):
    """Upload one image to Cloudflare Images. Idempotent: an image with a copy is skipped, and
    the upload uses our id, so a twin run finds the first copy. On a permanent error the image
    simply stays served from our storage."""
    image = Image.objects.filter(pk=image_id).first()
    if image is None or image.cf_image_id or not delivery().enabled():
        return
    if not _try(publish_to_cloudflare, image_id, tries, lambda: delivery().publish(image),
                "image %s stays in our storage only: %s"):
        return
    if not Image.objects.filter(pk=image_id).exists():  # deleted while it was uploading
        enqueue(delete_from_cloudflare, image.cf_image_id)


@task()
def delete_from_cloudflare(cf_image_id: str, tries: int = 1):
    if delivery().enabled():
        _try(delete_from_cloudflare, cf_image_id, tries, lambda: delivery().delete(cf_image_id),
             "could not delete %s at Cloudflare Images: %s")


@receiver(post_save, sender=Image, dispatch_uid="gallery.publish_new_images")
def publish_new_images(sender, instance, created, raw=False, **kwargs):
    if created and not raw and delivery().enabled() and not instance.cf_image_id:
        # In the image's own transaction: the job exists exactly when the image does.
        enqueue(publish_to_cloudflare, str(instance.pk))
