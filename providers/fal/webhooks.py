"""fal's webhook signatures (docs/providers.md, "fal.ai"): Ed25519 over
`request_id\\nuser_id\\ntimestamp\\nsha256hex(body)`, in the X-Fal-Webhook-* headers, checked
against any key of fal's JWKS (FAL_JWKS_URL), cached for a day, with timestamps within five
minutes. Likeness also checks the per-run token it put in the webhook URL (studio.webhooks)."""

import base64
import binascii
import hashlib
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from likeness import http
from likeness.errors import ProviderError
from providers.fal.client import LABEL

TOLERANCE_SECONDS = 300
KEYS_TTL_SECONDS = 24 * 3600
REFRESH_AFTER_SECONDS = 300  # a signature no cached key knows re-reads the keys at most this often
_cache: dict[str, tuple[float, list[bytes]]] = {}
_lock = threading.Lock()


def _fetch(url: str) -> list[bytes]:
    response = http.send("GET", url, service=f"{LABEL}'s signing keys")
    if response.status_code != 200:
        raise http.failure(response, f"{LABEL}'s signing keys", code="fal_jwks")
    try:
        keys = response.json().get("keys") or []
        return [base64.urlsafe_b64decode(k["x"] + "=" * (-len(k["x"]) % 4))
                for k in keys if k.get("kty") == "OKP" and k.get("crv") == "Ed25519"]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise ProviderError(f"{LABEL}'s signing keys are unreadable.", transient=True,
                            code="fal_jwks")


def public_keys(*, fresh: bool = False) -> list[bytes]:
    """fal's Ed25519 keys (raw 32 bytes), cached; `fresh` re-reads keys older than a few
    minutes (fal may have rotated them)."""
    url = settings.FAL_JWKS_URL
    with _lock:
        fetched, keys = _cache.get(url, (0.0, []))
    age = time.monotonic() - fetched
    if keys and age < KEYS_TTL_SECONDS and not (fresh and age > REFRESH_AFTER_SECONDS):
        return keys
    keys = _fetch(url)
    with _lock:
        _cache[url] = (time.monotonic(), keys)
    return keys


def _signed_by(keys: list[bytes], signature: bytes, message: bytes) -> bool:
    for key in keys:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
            return True
        except (InvalidSignature, ValueError):
            continue
    return False


def verify(headers, body: bytes, *, now: float | None = None) -> bool:
    """Whether fal signed this delivery, now. Raises ProviderError when the keys cannot be
    read (the view answers 503 and fal delivers again later)."""
    request_id = headers.get("X-Fal-Webhook-Request-Id", "")
    user_id = headers.get("X-Fal-Webhook-User-Id", "")
    timestamp = headers.get("X-Fal-Webhook-Timestamp", "")
    try:
        signature = bytes.fromhex(headers.get("X-Fal-Webhook-Signature", ""))
        sent = int(timestamp)
    except ValueError:
        return False
    if not (request_id and user_id and signature):
        return False
    if abs((time.time() if now is None else now) - sent) > TOLERANCE_SECONDS:
        return False
    message = "\n".join([request_id, user_id, timestamp,
                         hashlib.sha256(body).hexdigest()]).encode()
    return (_signed_by(public_keys(), signature, message)
            or _signed_by(public_keys(fresh=True), signature, message))
