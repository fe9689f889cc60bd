"""What we keep of Stripe: the customer link, subscriptions as last read from Stripe, payments
(each one credited once), and every webhook event, stored before it is processed."""

from django.conf import settings
from django.db import models


class BillingAccount(models.Model):
    """A customer's billing state on our side, created the first time it is needed."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="billing")
    stripe_customer_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    # Low-credit notice: set when the balance falls below LOW_CREDIT_THRESHOLD (one e-mail),
    # cleared when it rises above it again; the banner shows until dismissed.
    low_credit_notified = models.BooleanField(default=False)
    low_credit_banner = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user} ({self.stripe_customer_id or 'no Stripe customer'})"


class Subscription(models.Model):
    """A Stripe subscription as Stripe last told us. The customer's plan follows from these
    rows (billing.actions.refresh_plan), never from the order in which events arrived."""

    # Statuses that keep the plan's benefits: past_due is Stripe's grace period while it
    # retries the card.
    ENTITLED = ("active", "trialing", "past_due")

    stripe_id = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="subscriptions")
    plan = models.CharField(max_length=20)
    price_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.stripe_id} {self.plan} ({self.status})"

    @property
    def is_entitled(self):
        return self.status in self.ENTITLED


class Payment(models.Model):
    """Money received: a paid invoice of a subscription, or a paid credit-pack checkout. The
    credits it bought are granted with the reference `stripe:invoice:<id>` or
    `stripe:checkout:<id>`, so they arrive once however often Stripe tells us."""

    class Kind(models.TextChoices):
        SUBSCRIPTION = "subscription", "Subscription"
        PACK = "pack", "Credit pack"

    stripe_id = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="payments")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    item = models.CharField(max_length=20, help_text="The plan or the pack bought.")
    subscription_id = models.CharField(max_length=100, blank=True)
    billing_reason = models.CharField(max_length=40, blank=True)
    amount_cents = models.IntegerField()
    currency = models.CharField(max_length=3, default="usd")
    credits = models.IntegerField()
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(db_index=True)
    hosted_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["-paid_at", "-id"]

    def __str__(self):
        return f"{self.stripe_id} {self.item} {self.amount_cents / 100:.2f} {self.currency}"


class StripeEvent(models.Model):
    """Every verified webhook event, stored before it is processed; the unique id makes a
    repeated delivery a no-op. Failed ones can be processed again from the admin."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=80, db_index=True)
    created = models.DateTimeField(help_text="When Stripe created the event.")
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=1)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="stripe_event_status")]

    def __str__(self):
        return f"{self.event_id} {self.type} ({self.status})"


class Notice(models.Model):
    """A message we sent a customer about billing, keyed so that it goes out once (for example
    one e-mail per failed invoice attempt however often Stripe reports it)."""

    key = models.CharField(max_length=160, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="billing_notices")
    kind = models.CharField(max_length=30)
    subject = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind}: {self.subject}"
