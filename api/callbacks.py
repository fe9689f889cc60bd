"""Completion callbacks: when a training or a generation finishes, we POST the resource (as the
API shows it) to the caller's `callback_url`, signed with the account's signing secret.

Signature header: `Likeness-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>` — the same scheme as Stripe's, so the same few lines verify it. Failed
deliveries are retried with backoff, a bounded number of times. URLs that resolve to private,
loopback, link-local or otherwise internal addresses are refused (at request time and again at
delivery, against DNS tricks) unless CALLBACKS_ALLOW_PRIVATE is on."""

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django_tasks import task

from jobs.queue import backoff_seconds, enqueue
from likeness.errors import InvalidInput

MAX_ATTEMPTS = 8


def signing_secret(user) -> str:
    from api.models import SigningSecret

    secret, _ = SigningSecret.objects.get_or_create(
        user=user, defaults={"secret": "lksig_" + secrets.token_urlsafe(32)})
    return secret.secret


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _address_allowed(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return False
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if (address.is_private or address.is_loopback or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified):
            return False
    return True


def check_url(url: str | None) -> str:
    """Clean a callback URL or raise InvalidInput (422)."""
    if not url:
        return ""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 2000:
        raise InvalidInput("callback_url", "The callback URL must be an http(s) URL.")
    if parts.username or parts.password:
        raise InvalidInput("callback_url", "The callback URL must not carry credentials.")
    if not settings.CALLBACKS_ALLOW_PRIVATE and not _address_allowed(parts.hostname):
        raise InvalidInput("callback_url", "The callback URL resolves to a private or internal "
                                           "address, which is not allowed.")
    return url


def schedule(user, kind: str, object_id, url: str):
    """Queue the callback for a finished resource (once: one row per resource)."""
    from api.models import Callback

    if not url:
        return None
    callback, created = Callback.objects.get_or_create(
        kind=kind, object_id=str(object_id), defaults={"user": user, "url": url})
    if created:
        enqueue(deliver_callback, callback.pk)
    return callback


def payload(callback) -> dict:
    if callback.kind == "training":
        from api.routes.trainings import training_out
        from studio.models import TrainingRun

        run = TrainingRun.objects.filter(pk=callback.object_id).first()
        return {"type": f"training.{run.status}", "data": training_out(run)} if run else {}
    from api.routes.generations import generation_payload

    data = generation_payload(callback.object_id)
    return {"type": f"generation.{data['status']}", "data": data} if data else {}


@task()
def deliver_callback(callback_id: int):
    from api.models import Callback

    callback = Callback.objects.filter(pk=callback_id, delivered_at__isnull=True).first()
    if callback is None or callback.attempts >= MAX_ATTEMPTS:
        return
    callback.attempts += 1
    body = json.dumps(payload(callback), cls=DjangoJSONEncoder).encode()
    error, status = "", None
    try:
        if not settings.CALLBACKS_ALLOW_PRIVATE and not _address_allowed(
                urlsplit(callback.url).hostname or ""):
            error = "the URL now resolves to a private address"
        else:
            response = httpx.post(callback.url, content=body, timeout=10,
                                  follow_redirects=False, headers={
                                      "Content-Type": "application/json",
                                      "User-Agent": "Likeness-Callbacks/1",
                                      "Likeness-Signature": sign(signing_secret(callback.user),
                                                                 body)})
            status = response.status_code
            if 200 <= status < 300:
                callback.delivered_at = timezone.now()
            else:
                error = f"answered {status}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    callback.last_status_code, callback.last_error = status, error
    callback.save(update_fields=["attempts", "delivered_at", "last_status_code", "last_error"])
    if callback.delivered_at is None and callback.attempts < MAX_ATTEMPTS:
        enqueue(deliver_callback, callback.pk, run_after=timezone.now()
                + timedelta(seconds=backoff_seconds(callback.attempts)))
