import uuid

from django.conf import settings
from django.db import models


class Generation(models.Model):
    """One request for 1-4 images. Its credits are reserved when it is created; each image that
    fails is refunded, so credits_charged = credits_reserved - credits_refunded at the end."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Generating"
        SUCCEEDED = "succeeded", "Done"
        PARTIAL = "partial", "Partly done"
        FAILED = "failed", "Failed"

    FINAL = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="generations")
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    base_model = models.CharField(max_length=40)
    aspect_ratio = models.CharField(max_length=8)
    width = models.IntegerField()
    height = models.IntegerField()
    num_images = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    steps = models.IntegerField(null=True, blank=True)
    guidance = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    provider = models.CharField(max_length=40, blank=True)
    credits_reserved = models.IntegerField()
    credits_refunded = models.IntegerField(default=0)
    attempts = models.IntegerField(default=0)
    # [{"index": 2, "code": "...", "message": "..."}] for the images that could not be made.
    failures = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="generation_user_recent")]

    def __str__(self):
        return f"{self.prompt[:40]} ({self.status})"

    @property
    def is_finished(self):
        return self.status in self.FINAL

    @property
    def credits_charged(self):
        return self.credits_reserved - self.credits_refunded if self.is_finished else 0

    @property
    def credits_per_image(self):
        return self.credits_reserved // self.num_images


def image_path(instance, filename):
    return f"images/{instance.user.public_id}/{instance.generation_id}/{filename}"


class Image(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="images")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to=image_path, max_length=300)
    thumbnail = models.FileField(upload_to=image_path, max_length=300)
    content_type = models.CharField(max_length=40)
    width = models.IntegerField()
    height = models.IntegerField()
    prompt = models.TextField()
    base_model = models.CharField(max_length=40)
    aspect_ratio = models.CharField(max_length=8)
    seed = models.BigIntegerField()
    provider = models.CharField(max_length=40)
    is_demo = models.BooleanField(default=False)
    favorite = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "index"], name="one_image_per_slot")
        ]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="image_user_recent")]

    def __str__(self):
        return f"{self.prompt[:40]} #{self.index + 1}"

    @property
    def extension(self):
        return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(
            self.content_type, "bin")
