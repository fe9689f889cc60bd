import uuid

from django.conf import settings
from django.db import models


class CreditAccount(models.Model):
    """The running balance of one customer. It is only ever changed together with a new
    CreditEntry, under a row lock, so it always equals the sum of the ledger."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_account"
    )
    balance = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="balance_not_negative")
        ]

    def __str__(self):
        return f"{self.user} ({self.balance})"


class CreditEntry(models.Model):
    """One row of the append-only credit ledger."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        SPEND = "spend", "Spend"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_entries"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    delta = models.IntegerField()
    balance_after = models.IntegerField()
    reason = models.CharField(max_length=200)
    # What the movement is for; unique, which makes every movement idempotent.
    reference = models.CharField(max_length=120, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who made an adjustment.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="credit_user_recent")]
        verbose_name_plural = "credit entries"

    def __str__(self):
        return f"{self.delta:+d} {self.reason}"


class WelcomedAddress(models.Model):
    """An address that has had the welcome credits, as a keyed digest that names no one
    (credits.addresses). It is no part of any account, so it stays when one is deleted."""

    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.digest[:12]
