"""Reports from the public and what staff did about them.

A Report is either "report this image" (from a share page) or a removal request ("this model
shows me"); it names the image, the personal model and the account it concerns while they
exist, and keeps their ids and the model's name when they are gone. Every staff action is a
StaffAction row, written in the same transaction as the action itself and never changed:
who, when, what, on what, why."""

from django.conf import settings
from django.db import models


class Report(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Report of a shared image"
        REMOVAL = "removal", "Removal request: this model shows me"

    class Reason(models.TextChoices):
        SEXUAL = "sexual", "Sexual or nude content"
        MINOR = "minor", "It involves a child"
        NOT_CONSENTED = "not_consented", "It shows me (or someone) without consent"
        VIOLENCE = "violence", "Violence or gore"
        HATE = "hate", "Hate or harassment"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACTIONED = "actioned", "Action taken"
        DISMISSED = "dismissed", "Dismissed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    details = models.TextField(blank=True)
    contact = models.EmailField(blank=True, help_text="The reporter's address, if given.")
    link = models.CharField(max_length=500, blank=True, help_text="What the reporter pointed at.")
    image = models.ForeignKey("generation.Image", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    personal_model = models.ForeignKey("studio.PersonalModel", on_delete=models.SET_NULL,
                                       null=True, blank=True, related_name="+")
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+")
    # Kept when the rows above are deleted, so the queue and the audit still say what it was.
    image_ref = models.UUIDField(null=True, blank=True)
    model_ref = models.UUIDField(null=True, blank=True)
    model_name = models.CharField(max_length=80, blank=True)
    account_ref = models.UUIDField(null=True, blank=True, help_text="The account's public id.")
    # A removal request may come with the requester's photo: its face's distance to the model's
    # faces (likeness.faces; the photo itself is not kept).
    face_distance = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="report_status_recent")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class StaffAction(models.Model):
    """The audit trail of trust and safety: one row per staff action, never edited."""

    class Action(models.TextChoices):
        REMOVE_IMAGE = "remove_image", "Removed an image"
        SUSPEND_MODEL = "suspend_model", "Suspended a model"
        REINSTATE_MODEL = "reinstate_model", "Reinstated a model"
        SUSPEND_ACCOUNT = "suspend_account", "Suspended an account"
        REINSTATE_ACCOUNT = "reinstate_account", "Reinstated an account"
        DISMISS_REPORT = "dismiss_report", "Dismissed a report"
        OVERRIDE_CONSENT = "override_consent", "Accepted a consent selfie that did not match"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              related_name="+")
    actor_email = models.EmailField(help_text="Kept when the staff account is deleted.")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    target_kind = models.CharField(max_length=10)  # image, model, account, report, consent
    target_ref = models.CharField(max_length=64)
    target_label = models.CharField(max_length=200, blank=True)
    reason = models.TextField()
    report = models.ForeignKey(Report, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="actions")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.actor_email}: {self.get_action_display()} {self.target_label}"
