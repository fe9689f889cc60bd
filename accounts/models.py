import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from accounts.plans import DEFAULT_PLAN, PLAN_CHOICES, get_plan


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A customer. The e-mail address is the login; there is no username."""

    username = None
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("e-mail address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    plan = models.CharField(max_length=20, choices=PLAN_CHOICES, default=DEFAULT_PLAN)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self):
        return self.email

    @property
    def plan_info(self):
        return get_plan(self.plan)

    @property
    def display_name(self):
        return self.name or self.email.split("@")[0]


class AccountDeletion(models.Model):
    """The receipt of a deleted account, kept without any personal data: what was removed,
    and the clean-ups (provider models, Hub repositories) still to finish. The customer gets
    its secret link, which shows the clean-ups finishing."""

    token = models.CharField(max_length=64, unique=True)
    account_ref = models.UUIDField(help_text="The deleted account's public id.")
    counts = models.JSONField(default=dict)
    cleanup_ids = models.JSONField(default=list)
    canceled_subscriptions = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"deletion of {self.account_ref} at {self.created_at:%Y-%m-%d %H:%M}"
