"""Creating, checking and revoking API keys."""

import hashlib
import secrets
from datetime import timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.utils import timezone

from api.models import ApiKey
from likeness import rows
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
    key = _unrevoked(hash_key(raw))
    if key is None or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


_KEY, _USER = rows.Columns(ApiKey), rows.Columns(get_user_model())


def _unrevoked(key_hash: str) -> ApiKey | None:
    """ApiKey.objects.select_related("user").get(key_hash=..., revoked_at__isnull=True), in SQL
    kept per process (likeness.rows): every API request reads it, and the ORM's compiling of
    this one join was most of the lookup's time (bench/gallery_server.py --profile)."""
    connection = rows.connection_for(ApiKey)
    quote, column = connection.ops.quote_name, partial(rows.column, connection)
    clause, params = rows.where(connection, ApiKey, [("key_hash", "=", key_hash)])
    found = rows.fetch(connection, (
        f"SELECT {_KEY.select_list(connection)}, {_USER.select_list(connection)} "  # noqa: S608
        f"FROM {quote(_KEY.table)} INNER JOIN {quote(_USER.table)} "
        f"ON {column(ApiKey, 'user')} = {column(_USER.model, 'pk')} "
        f"WHERE {clause} AND {column(ApiKey, 'revoked_at')} IS NULL"), params)
    if not found:
        return None
    key = _KEY.instance(connection, found[0][:len(_KEY)])
    ApiKey._meta.get_field("user").set_cached_value(key, _USER.instance(
        connection, found[0][len(_KEY):]))
    return key


def authenticate_key(raw: str):
    """The user owning an active key, or None."""
    key = find_key(raw)
    return key.user if key else None


def revoke_api_key(user, key_id) -> bool:
    return bool(ApiKey.objects.filter(user=user, pk=key_id, revoked_at__isnull=True)
                .update(revoked_at=timezone.now()))
