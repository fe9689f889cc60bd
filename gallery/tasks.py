"""Background work of the gallery: copies at Cloudflare Images (when that backend is on)."""

import logging

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from django_tasks import task

from gallery import delivery
from generation.models import Image
from jobs.queue import enqueue, retry_later

logger = logging.getLogger(__name__)


@task()
def publish_to_cloudflare(image_id: str, tries: int = 1):
    """Upload one image to Cloudflare Images. Idempotent: an image with a copy is skipped, and
    the upload uses our id, so a twin run finds the first copy. On a permanent error the image
    simply stays served from our storage."""
    image = Image.objects.filter(pk=image_id).first()
    if image is None or image.cf_image_id or not delivery.enabled():
        return
    try:
        delivery.publish(image)
    except delivery.CloudflareImagesError as exc:
        if exc.transient and tries < settings.JOB_MAX_ATTEMPTS:
            retry_later(publish_to_cloudflare, image_id, attempt=tries, tries=tries + 1)
        else:
            logger.warning("image %s stays in our storage only: %s", image_id, exc)
        return
    if not Image.objects.filter(pk=image_id).exists():  # deleted while it was uploading
        enqueue(delete_from_cloudflare, image.cf_image_id)


@task()
def delete_from_cloudflare(cf_image_id: str, tries: int = 1):
    if not delivery.enabled():
        return
    try:
        delivery.delete(cf_image_id)
    except delivery.CloudflareImagesError as exc:
        if exc.transient and tries < settings.JOB_MAX_ATTEMPTS:
            retry_later(delete_from_cloudflare, cf_image_id, attempt=tries, tries=tries + 1)
        else:
            logger.error("could not delete %s at Cloudflare Images: %s", cf_image_id, exc)


@receiver(post_save, sender=Image, dispatch_uid="gallery.publish_new_images")
def publish_new_images(sender, instance, created, raw=False, **kwargs):
    if created and not raw and delivery.enabled() and not instance.cf_image_id:
        # In the image's own transaction: the job exists exactly when the image does.
        enqueue(publish_to_cloudflare, str(instance.pk))
