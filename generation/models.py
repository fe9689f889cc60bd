import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from generation.catalogue import ASPECT_RATIOS, OPERATIONS
from generation.styles import STYLES

SUBJECT_CLASSES = ("man", "woman", "person", "child", "dog", "cat")
# What made an image other than a prompt alone: a version of another image, or instant mode.
OPERATION_CHOICES = [("", "Original"), *((op.id, op.name) for op in OPERATIONS.values()),
                     ("instant", "Instant preview")]


class Pack(models.Model):
    """A set of prompts for one occasion ("Corporate headshots"), run on a personal model in one
    click (generation.packs). `prompts`: [{"title", "style", "aspect_ratio", "prompts": {class:
    text with "{subject}"}}]; a child uses the "person" variant. `subjects`: the subject
    classes it is for. Shipped ones come from generation.pack_catalogue; staff edit them in the
    admin."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField()
    cover = models.JSONField(default=list, blank=True,
                             help_text="Two CSS colours for the cover's gradient.")
    subjects = models.JSONField(default=list)
    prompts = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def variant(self, subject_class: str) -> str:
        return "person" if subject_class == "child" else subject_class

    def prompts_for(self, subject_class: str) -> list[dict]:
        """The pack's items with the text for this subject class ({subject} still in it)."""
        key = self.variant(subject_class)
        return [{"title": p["title"], "style": p.get("style") or "",
                 "aspect_ratio": p["aspect_ratio"], "prompt": p["prompts"][key]}
                for p in self.prompts if key in p["prompts"]]

    def clean(self):
        unknown = set(self.subjects or []) - set(SUBJECT_CLASSES)
        if not self.subjects or unknown:
            raise ValidationError({"subjects": f"Name subject classes among "
                                               f"{', '.join(SUBJECT_CLASSES)}."})
        if not isinstance(self.prompts, list) or not self.prompts:
            raise ValidationError({"prompts": "A pack needs at least one prompt."})
        for number, entry in enumerate(self.prompts, start=1):
            where = f"Prompt {number}"
            if not isinstance(entry, dict) or not entry.get("title"):
                raise ValidationError({"prompts": f"{where} needs a title."})
            if entry.get("aspect_ratio") not in ASPECT_RATIOS:
                raise ValidationError({"prompts": f"{where}: aspect_ratio is one of "
                                                  f"{', '.join(ASPECT_RATIOS)}."})
            if entry.get("style") and entry["style"] not in STYLES:
                raise ValidationError({"prompts": f"{where}: unknown style {entry['style']!r}."})
            variants = entry.get("prompts") or {}
            for subject in self.subjects:
                text = variants.get(self.variant(subject), "")
                if "{subject}" not in text:
                    raise ValidationError({"prompts": f"{where} needs a {self.variant(subject)} "
                                                      "variant with {subject} in it."})


class PackRun(models.Model):
    """One pack run on one personal model: a generation per prompt, reserved together."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="pack_runs")
    pack = models.ForeignKey(Pack, on_delete=models.SET_NULL, null=True, related_name="runs")
    pack_name = models.CharField(max_length=80)
    personal_model = models.ForeignKey("studio.PersonalModel", on_delete=models.SET_NULL,
                                       null=True, related_name="pack_runs")
    credits_reserved = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.pack_name} ({self.created_at:%Y-%m-%d})"


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
    # A personal model (its LoRA on base_model), the style applied, and the prompt as sent to
    # the provider (trigger word inserted, style template applied); `prompt` is as written.
    personal_model = models.ForeignKey("studio.PersonalModel", on_delete=models.SET_NULL,
                                       null=True, blank=True, related_name="generations")
    style = models.CharField(max_length=40, blank=True)
    prompt_sent = models.TextField(blank=True)
    lora_scale = models.FloatField(null=True, blank=True)
    # Two people in one picture: the second person's model and strength, sent as a second LoRA
    # (generation.pairs); its trigger word is in prompt_sent too.
    second_model = models.ForeignKey("studio.PersonalModel", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="paired_generations")
    second_lora_scale = models.FloatField(null=True, blank=True)
    # Generations queued together by the batch mode share this id.
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    # POSTed the generation when it finishes (api.callbacks), if the client asked for it.
    callback_url = models.URLField(max_length=2000, blank=True)
    # The live state of each image slot: "queued", "generating", "saving", "done", "failed".
    slots = models.JSONField(default=list, blank=True)
    # The likeness guarantee (personal models only): an image scoring under likeness_min_score
    # is made again, free, up to LIKENESS_RETRIES times, and refunded if it never passes.
    likeness_guarantee = models.BooleanField(default=False)
    likeness_min_score = models.PositiveSmallIntegerField(null=True, blank=True)
    # The pack run it belongs to, and which of the pack's prompts it is.
    pack_run = models.ForeignKey(PackRun, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="generations")
    pack_item = models.CharField(max_length=80, blank=True)
    # A new version of an existing image (generation.versions): the operation
    # (generation.catalogue.OPERATIONS) and the image it is made from; blank for text-to-image.
    operation = models.CharField(max_length=20, blank=True, choices=OPERATION_CHOICES)
    source_image = models.ForeignKey("Image", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="version_jobs")
    # Instant mode (operation "instant", generation.instant): the ids of the personal model's
    # photos it draws from, in turn.
    references = models.JSONField(default=list, blank=True)

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

    @property
    def slot_states(self) -> list[str]:
        states = list(self.slots or [])
        return (states + ["queued"] * self.num_images)[:self.num_images]

    @property
    def stage(self) -> str:
        """What the page says: queued, generating, saving, done (or failed)."""
        if self.status == self.Status.FAILED:
            return "failed"
        if self.is_finished:
            return "done"
        if self.status == self.Status.QUEUED:
            return "queued"
        return "saving" if "saving" in self.slot_states else "generating"

    @property
    def subject_models(self) -> list:
        """The personal models in the picture: its own and, for two people, the second."""
        return [m for m in (self.personal_model, self.second_model) if m is not None]

    @property
    def is_instant(self) -> bool:
        return self.operation == "instant"

    @property
    def is_version(self) -> bool:
        return bool(self.operation) and not self.is_instant

    @property
    def is_pair(self) -> bool:
        return self.second_lora_scale is not None

    def reference_faces(self) -> list:
        """The faces its images are scored against: the personal model's; none for two people
        in one picture (which face is whose is not measured) or without a personal model."""
        if self.personal_model is None or self.is_pair:
            return []
        return list(self.personal_model.face_references or [])

    @property
    def prompt_for_provider(self) -> str:
        return self.prompt_sent or self.prompt

    def slot_views(self) -> list[dict]:
        """Per image slot, for the page: its state, its image once stored, its failure."""
        images = {image.index: image for image in self.images.all()}
        failures = {f["index"]: f for f in self.failures}
        states = self.slot_states
        views = []
        for index in range(self.num_images):
            state = "done" if index in images else "failed" if index in failures else (
                "failed" if self.is_finished else states[index])
            views.append({"index": index, "state": state, "image": images.get(index),
                          "failure": failures.get(index)})
        return views


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
    # Gallery: a public link while shared (secrets.token_urlsafe; None when not shared), and the
    # copy at Cloudflare Images when that delivery backend is on.
    share_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    shared_at = models.DateTimeField(null=True, blank=True)
    cf_image_id = models.CharField(max_length=100, blank=True)
    cf_url = models.URLField(max_length=400, blank=True)
    # The personal model it was made with (kept as None when that model is deleted).
    personal_model = models.ForeignKey("studio.PersonalModel", on_delete=models.SET_NULL,
                                       null=True, blank=True, related_name="images")
    # How much it looks like the personal model's subject (generation.likeness): 0-100, the
    # best face's distance, the usable faces found, and whether every face of a group shot is
    # the subject. None for images of base models.
    likeness = models.PositiveSmallIntegerField(null=True, blank=True)
    likeness_distance = models.FloatField(null=True, blank=True)
    face_count = models.PositiveSmallIntegerField(null=True, blank=True)
    all_faces_subject = models.BooleanField(default=False)
    # A version of another image (upscaled, face restored): the image it was made from and
    # how (generation.catalogue.OPERATIONS); blank for an image made from a prompt.
    original = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="versions")
    operation = models.CharField(max_length=20, blank=True, choices=OPERATION_CHOICES)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "index"], name="one_image_per_slot")
        ]
        # The gallery's keyset pages: newest (or oldest) first, per account, optionally within
        # one filter value. Text search has its own index on PostgreSQL (migration 0002).
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="image_user_recent"),
            models.Index(fields=["user", "favorite", "-created_at", "-id"],
                         name="image_user_favorite"),
            models.Index(fields=["user", "base_model", "-created_at", "-id"],
                         name="image_user_base_model"),
            models.Index(fields=["user", "aspect_ratio", "-created_at", "-id"],
                         name="image_user_aspect"),
            models.Index(fields=["user", "personal_model", "-created_at", "-id"],
                         name="image_user_personal_model"),
            models.Index(fields=["user", "-likeness", "-created_at", "-id"],
                         name="image_user_likeness"),
        ]

    def __str__(self):
        return f"{self.prompt[:40]} #{self.index + 1}"

    @property
    def extension(self):
        return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(
            self.content_type, "bin")


def sample_path(instance, filename):
    return f"validation/{instance.model.user.public_id}/{instance.model_id}/{filename}"


class ValidationSample(models.Model):
    """One image of a personal model's validation round (generation.validation): the prompt,
    the LoRA strength and seed it was made with, its likeness against the held-out faces, and a
    thumbnail for the model's likeness report (the full image is not kept)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    model = models.ForeignKey("studio.PersonalModel", on_delete=models.CASCADE,
                              related_name="validation_samples")
    prompt = models.TextField()
    lora_scale = models.FloatField()
    seed = models.BigIntegerField()
    provider = models.CharField(max_length=40)
    likeness = models.PositiveSmallIntegerField()
    likeness_distance = models.FloatField(null=True, blank=True)
    thumbnail = models.FileField(upload_to=sample_path, max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lora_scale", "created_at"]

    def __str__(self):
        return f"{self.model_id} at {self.lora_scale}: {self.likeness}"
