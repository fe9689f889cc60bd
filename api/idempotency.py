"""`Idempotency-Key` on POST /generations and POST /models/{id}/train.

The first request with a key records its answer; a retry with the same key and the same body
gets that answer again (header Idempotent-Replayed: true) and changes nothing — no second
charge. The same key with a different body is 409 conflict. A retry that arrives while the first
is still running waits for it. Keys are per account and kept IDEMPOTENCY_KEY_HOURS."""

import hashlib
import time
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from api.errors import error_response
from api.models import IdempotencyRecord
from likeness.text import text_problem

WAIT_SECONDS = 30
STALE_SECONDS = 120  # an unanswered record this old belongs to a dead process


def _fingerprint(request) -> str:
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n"
                          + request.body).hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status_code,
                            content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(run):
    """A ninja operation decorator (use with ninja.decorators.decorate_view)."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return run(request, *args, **kwargs)
        if len(key) > 255 or text_problem(key):
            return error_response(422, "validation_error",
                                  "The Idempotency-Key header must be at most 255 characters, "
                                  "none of them a control character.",
                                  {"field": "Idempotency-Key"})
        # Who is asking decides whose keys these are; authentication runs inside `run`, so an
        # anonymous request simply goes through and is refused there.
        response = run_once(request, key, lambda: run(request, *args, **kwargs))
        return response

    return wrapper


def _user(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    key = getattr(request, "api_key", None)  # api.middleware.ApiKeyMiddleware
    return key.user if key else None


def run_once(request, key, call):
    user = _user(request)
    if user is None:
        return call()
    fingerprint = _fingerprint(request)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, method=request.method, path=request.path[:500],
                    request_hash=fingerprint)
            break
        except IntegrityError:
            answer = _existing(user, key, fingerprint, deadline)
            if answer is not None:
                return answer
    try:
        response = call()
    except BaseException:
        record.delete()  # nothing was answered: a retry may try again
        raise
    if response.status_code >= 500:
        record.delete()
        return response
    record.status_code = response.status_code
    record.response_body = response.content
    record.content_type = response.get("Content-Type", "application/json")
    record.save(update_fields=["status_code", "response_body", "content_type"])
    return response


def _existing(user, key, fingerprint, deadline):
    """The recorded answer, a 409, or None when the key is free again (claim it anew)."""
    while True:
        record = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if record is None:
            return None  # the first attempt failed and was forgotten
        if record.request_hash != fingerprint:
            return error_response(409, "conflict", "This Idempotency-Key was used for a "
                                  "different request.", {"idempotency_key": key})
        if record.status_code is not None:
            return _replay(record)
        if timezone.now() - record.created_at > timedelta(seconds=STALE_SECONDS):
            # Its process died mid-request: forget it so this retry can run.
            IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()
            return None
        if time.monotonic() > deadline:
            return error_response(409, "conflict", "A request with this Idempotency-Key is "
                                  "still being processed; retry shortly.", {"idempotency_key": key})
        time.sleep(0.05)


def prune(now=None) -> int:
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    return IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0]
