"""Completion callbacks: when a training or a generation finishes, we POST the resource (as the
API shows it) to the caller's `callback_url`, signed with the account's signing secret.

Signature header: `Likeness-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>` — the same scheme as Stripe's, so the same few lines verify it. Failed
deliveries are retried with backoff, a bounded number of times. URLs that resolve to private,
loopback, link-local or otherwise internal addresses are refused at request time
(likeness.http.check_public_url) and at delivery, where the public-only client checks the
address it actually connects to, unless CALLBACKS_ALLOW_PRIVATE is on. Trainings and
generations announce that they finished (studio.signals, generation.signals); we listen."""

import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task

from api.models import Callback, SigningSecret
from api.routes.generations import generation_payload
from api.routes.trainings import training_out
from generation.signals import generation_finished
from jobs.queue import enqueue
from jobs.retry import backoff
from likeness import http
from likeness.errors import ProviderError
from studio.models import TrainingRun
from studio.signals import training_finished

MAX_ATTEMPTS = 8


def signing_secret(user) -> str:
    secret, _ = SigningSecret.objects.get_or_create(
        user=user, defaults={"secret": "lksig_" + secrets.token_urlsafe(32)})
    return secret.secret


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def schedule(user, kind: str, object_id, url: str):
    """Queue the callback for a finished resource (once: one row per resource)."""
    if not url:
        return None
    callback, created = Callback.objects.get_or_create(
        kind=kind, object_id=str(object_id), defaults={"user": user, "url": url})
    if created:
        enqueue(deliver_callback, callback.pk)
    return callback


@receiver(training_finished, dispatch_uid="api.training_callback")
def training_callback(sender, run, **kwargs):
    schedule(run.user, "training", run.id, run.callback_url)


@receiver(generation_finished, dispatch_uid="api.generation_callback")
def generation_callback(sender, generation, **kwargs):
    schedule(generation.user, "generation", generation.id, generation.callback_url)


def payload(callback) -> dict:
    if callback.kind == "training":
        run = TrainingRun.objects.filter(pk=callback.object_id).first()
        return {"type": f"training.{run.status}", "data": training_out(run)} if run else {}
    data = generation_payload(callback.object_id)
    return {"type": f"generation.{data['status']}", "data": data} if data else {}


def _post(callback, body: bytes) -> tuple[int | None, str]:
    """One delivery: (status, error). The public-only client refuses private addresses."""
    headers = {"Content-Type": "application/json", "User-Agent": "Likeness-Callbacks/1",
               "Likeness-Signature": sign(signing_secret(callback.user), body)}
    try:
        response = http.send("POST", callback.url, service="the callback URL", content=body,
                             headers=headers, http=http.client(public_only=True,
                                                               follow_redirects=False))
    except ProviderError as exc:
        return None, str(exc)[:300]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"answered {response.status_code}"


@task()
def deliver_callback(callback_id: int):
    callback = Callback.objects.filter(pk=callback_id, delivered_at__isnull=True).first()
    if callback is None or callback.attempts >= MAX_ATTEMPTS:
        return
    callback.attempts += 1
    body = json.dumps(payload(callback), cls=DjangoJSONEncoder).encode()
    status, error = _post(callback, body)
    if not error:
        callback.delivered_at = timezone.now()
    callback.last_status_code, callback.last_error = status, error
    callback.save(update_fields=["attempts", "delivered_at", "last_status_code", "last_error"])
    if callback.delivered_at is None and callback.attempts < MAX_ATTEMPTS:
        enqueue(deliver_callback, callback.pk, run_after=timezone.now()
                + timedelta(seconds=backoff(callback.attempts)))
