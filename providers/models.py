"""The live catalogue's memory: what each provider last said about each of our models."""

from django.db import models


class ServedModel(models.Model):
    """Whether `provider` serves our catalogue's `model` (a base model's id, or "personal"),
    as learned by asking it (`manage.py check_providers`, the hourly refresh) or from a
    request it refused because it does not serve the model."""

    class Source(models.TextChoices):
        CHECK = "check", "Asked the provider"
        REQUEST = "request", "A request was refused"

    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=40)
    provider_model = models.CharField(max_length=200, blank=True)
    served = models.BooleanField()
    detail = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CHECK)
    checked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "model"],
                                               name="served_model_once")]
        ordering = ["provider", "model"]

    def __str__(self) -> str:
        return f"{self.provider} {'serves' if self.served else 'does not serve'} {self.model}"
