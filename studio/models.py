import uuid

from django.conf import settings
from django.db import models


class PersonalModel(models.Model):
    """A subject (a person or a pet) that a LoRA is trained on: "a model" on screen."""

    class SubjectClass(models.TextChoices):
        MAN = "man", "Man"
        WOMAN = "woman", "Woman"
        PERSON = "person", "Person"
        CHILD = "child", "Child"
        DOG = "dog", "Dog"
        CAT = "cat", "Cat"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Queued"
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    PETS = (SubjectClass.DOG, SubjectClass.CAT)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="personal_models")
    name = models.CharField(max_length=80)
    subject_class = models.CharField(max_length=10, choices=SubjectClass.choices)
    trigger_word = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    steps = models.PositiveIntegerField(default=1000)
    learning_rate = models.FloatField(default=0.0004)
    lora_rank = models.PositiveSmallIntegerField(default=16)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="model_user_recent")]

    def __str__(self):
        return f"{self.name} ({self.trigger_word})"

    @property
    def is_pet(self):
        return self.subject_class in self.PETS

    @property
    def cover(self):
        return self.photos.order_by("created_at").first()


def photo_path(instance, filename):
    return f"photos/{instance.user.public_id}/{instance.model_id}/{filename}"


class TrainingPhoto(models.Model):
    """An accepted photo, normalised: EXIF orientation applied, every metadata field stripped,
    sRGB JPEG, long side at most 2048 px. The original upload is never kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="training_photos")
    model = models.ForeignKey(PersonalModel, on_delete=models.CASCADE, related_name="photos")
    filename = models.CharField(max_length=255, help_text="The name it was uploaded with.")
    file = models.FileField(upload_to=photo_path, max_length=300)
    thumbnail = models.FileField(upload_to=photo_path, max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source_format = models.CharField(max_length=10)
    sha256 = models.CharField(max_length=64, help_text="Of the upload, for exact duplicates.")
    phash = models.CharField(max_length=16, help_text="Perceptual hash, for near duplicates.")
    sharpness = models.FloatField()
    face_box = models.JSONField(null=True, blank=True, help_text="[x, y, w, h] in the file.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.filename
