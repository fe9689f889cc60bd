"""Creating, checking and revoking API keys."""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from api.models import ApiKey
from likeness.text import clean_text

KEY_PREFIX = "lk_"


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_key(user, name: str) -> tuple[ApiKey, str]:
    """Returns the stored key and the raw key, which is never shown again. InvalidInput for a
    name that is not text (likeness.text)."""
    name = clean_text((name or "").strip(), "name")[:100] or "API key"
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(user=user, name=name, prefix=raw[:10], key_hash=hash_key(raw))
    return key, raw


def find_key(raw: str) -> ApiKey | None:
    """The active key of an active user, or None. Touches last_used_at at most once a minute."""
    if not raw or not raw.startswith(KEY_PREFIX) or len(raw) > 200:
        return None
    try:  # get(): one row by a unique hash, without the ORDER BY first() adds
        key = ApiKey.objects.select_related("user").get(key_hash=hash_key(raw),
                                                        revoked_at__isnull=True)
    except ApiKey.DoesNotExist:
        return None
    if not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def authenticate_key(raw: str):
    """The user owning an active key, or None."""
    key = find_key(raw)
    return key.user if key else None


def revoke_api_key(user, key_id) -> bool:
    return bool(ApiKey.objects.filter(user=user, pk=key_id, revoked_at__isnull=True)
                .update(revoked_at=timezone.now()))
