import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


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
    # Set once trained: our copy of the LoRA, where it is published, and the provider's version.
    weights = models.FileField(upload_to="weights/", max_length=300, blank=True)
    weights_is_demo = models.BooleanField(default=False)
    hf_repo_id = models.CharField(max_length=200, blank=True)
    hf_private = models.BooleanField(default=False)
    provider_version = models.CharField(max_length=200, blank=True,
                                        help_text="Replicate's trained version (owner/name:hash).")
    trained_at = models.DateTimeField(null=True, blank=True)
    # Set by staff after a report (safety): a suspended model neither trains nor generates.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=500, blank=True)
    # Likeness (studio.identity, generation.likeness): the face embeddings of the training
    # photos, kept when the photos themselves are deleted, so that every image can be scored;
    # those of the photos held out of training, which the validation round scores against; and
    # what that round found: the LoRA strength with the best median likeness, and its report.
    face_references = models.JSONField(default=list, blank=True)
    holdout_references = models.JSONField(default=list, blank=True)
    default_lora_scale = models.FloatField(null=True, blank=True)
    likeness_report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="model_user_recent")]

    def __str__(self):
        return f"{self.name} ({self.trigger_word})"

    @property
    def is_pet(self):
        return self.subject_class in self.PETS

    @property
    def is_child(self):
        return self.subject_class == self.SubjectClass.CHILD

    @property
    def is_suspended(self):
        return self.suspended_at is not None

    @property
    def hf_repo_url(self):
        return f"{settings.HF_ENDPOINT.rstrip('/')}/{self.hf_repo_id}" if self.hf_repo_id else ""

    @property
    def cover(self):
        return self.photos.order_by("created_at").first()


class SlotChoice(models.Model):
    """After a downgrade to fewer model slots: the models the customer chose to keep using
    (studio.slots)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="slot_choice")
    kept_model_ids = models.JSONField(default=list, blank=True)
    chosen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"models kept by {self.user_id}"


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
    # The face's embedding (128 numbers, likeness.faces), and how it compares with the model's
    # other photos (studio.identity): "same", "borderline" (shown on the review step),
    # "different" (blocks training until removed), or "" while too few photos to compare.
    embedding = models.JSONField(null=True, blank=True)
    identity = models.CharField(max_length=12, blank=True)
    identity_distance = models.FloatField(null=True, blank=True)
    held_out = models.BooleanField(default=False, help_text="Kept out of training, to score.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.filename


class TrainingRun(models.Model):
    """One attempt to train a personal model: a durable state machine. Each stage is advanced
    by an idempotent task; the row holds everything needed to resume after a crash."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    class Stage(models.TextChoices):
        PACKAGING = "packaging", "Packaging photos"
        UPLOADING = "uploading", "Uploading"
        TRAINING = "training", "Training"
        PUBLISHING = "publishing", "Publishing"
        DONE = "done", "Ready"

    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)
    STAGES = [Stage.PACKAGING, Stage.UPLOADING, Stage.TRAINING, Stage.PUBLISHING, Stage.DONE]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="training_runs")
    model = models.ForeignKey(PersonalModel, on_delete=models.CASCADE, related_name="runs")
    provider = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.PACKAGING)
    progress = models.FloatField(default=0.0, help_text="Progress of the training stage, 0-1.")
    steps = models.PositiveIntegerField()
    learning_rate = models.FloatField()
    lora_rank = models.PositiveSmallIntegerField()
    credits = models.PositiveIntegerField(default=0)
    credits_refunded = models.BooleanField(default=False)
    cost_estimate_cents = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    cost_actual_cents = models.DecimalField(max_digits=10, decimal_places=2, null=True,
                                            blank=True)
    zip_file = models.FileField(upload_to="trainings/", max_length=300, blank=True)
    # At the provider: its id for the training, and what we created there (a destination).
    provider_id = models.CharField(max_length=200, blank=True)
    provider_ref = models.CharField(max_length=200, blank=True)
    provider_status = models.CharField(max_length=40, blank=True)
    # Written just before the provider is asked to train: after a crash, a run with this set
    # and no provider_id looks for the training it may have started instead of starting another.
    start_requested_at = models.DateTimeField(null=True, blank=True)
    predict_time = models.FloatField(null=True, blank=True)
    logs = models.TextField(blank=True)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    # The provider could not stop the training (it had started): it may still finish.
    cancel_refused = models.BooleanField(default=False)
    callback_url = models.URLField(max_length=2000, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="run_user_recent"),
            models.Index(fields=["status", "updated_at"], name="run_status_updated"),
        ]

    def __str__(self):
        return f"{self.model.name}: {self.stage} ({self.status})"

    @property
    def is_finished(self):
        return self.status in self.FINAL

    @property
    def overall_progress(self):
        """0-1 across the whole pipeline, for one progress bar."""
        if self.status == self.Status.SUCCEEDED:
            return 1.0
        weights = {"packaging": 0.0, "uploading": 0.05, "training": 0.1, "publishing": 0.9,
                   "done": 1.0}
        base = weights[self.stage]
        if self.stage == self.Stage.TRAINING:
            return base + 0.8 * min(max(self.progress, 0.0), 1.0)
        return base

    @property
    def overall_percent(self):
        return round(self.overall_progress * 100)

    @property
    def stage_index(self):
        return self.STAGES.index(self.stage)

    @property
    def duration(self):
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at


class TrainingEvent(models.Model):
    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="events")
    stage = models.CharField(max_length=12)
    status = models.CharField(max_length=12)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.stage}/{self.status}: {self.message}"


class Cleanup(models.Model):
    """Something to remove outside our database (a file, a provider's destination model, a
    Hugging Face repository). Rows outlive the model they came from, so nothing is forgotten
    when a model is deleted; a recurring sweep retries the ones that have not succeeded."""

    class Kind(models.TextChoices):
        FILE = "file", "File in storage"
        PROVIDER_MODEL = "provider_model", "Model at the training provider"
        HF_REPO = "hf_repo", "Hugging Face repository"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    run = models.ForeignKey(TrainingRun, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="cleanups")
    model_name = models.CharField(max_length=80, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    provider = models.CharField(max_length=20, blank=True)
    target = models.CharField(max_length=300)
    reason = models.CharField(max_length=200)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "provider", "target"],
                                               name="one_cleanup_per_target")]

    def __str__(self):
        return f"{self.kind}: {self.target}"


class WebhookDelivery(models.Model):
    """Every verified webhook, stored once: a repeated delivery finds its row and does nothing."""

    provider = models.CharField(max_length=20)
    delivery_id = models.CharField(max_length=200)
    run = models.ForeignKey(TrainingRun, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="webhooks")
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "delivery_id"],
                                               name="one_delivery")]

    def __str__(self):
        return f"{self.provider}:{self.delivery_id}"


def consent_path(instance, filename):
    return f"consents/{instance.user.public_id}/{instance.model_id}/{filename}"


class Consent(models.Model):
    """The account's consent to a model of a person's face (studio.consent): who gave it,
    when, how (a selfie matched to the training photos, or a parent's statement for a child),
    the distance the match found, and the photos it was given for. Each attempt is a row; a
    selfie that did not match stays as one, for staff to review and override with a reason.
    The selfie itself is kept only where the operator turns CONSENT_KEEP_SELFIES on."""

    class Method(models.TextChoices):
        SELFIE = "selfie", "Selfie matched to the photos"
        GUARDIAN = "guardian", "Statement of parental authority"

    class Status(models.TextChoices):
        VERIFIED = "verified", "Verified"
        MISMATCH = "mismatch", "Did not match"

    model = models.ForeignKey(PersonalModel, on_delete=models.CASCADE, related_name="consents")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="consents")
    method = models.CharField(max_length=10, choices=Method.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    statement = models.TextField(help_text="The words the account holder confirmed.")
    photos_digest = models.CharField(max_length=64, help_text="The training photos it covers.")
    photo_count = models.PositiveSmallIntegerField(default=0)
    match_distance = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)
    selfie = models.FileField(upload_to=consent_path, max_length=300, blank=True)
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+")
    overridden_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_method_display()} for {self.model_id}: {self.status}"

    @property
    def is_valid(self):
        return self.status == self.Status.VERIFIED or self.overridden_at is not None
