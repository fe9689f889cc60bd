"""Incoming webhooks from the training providers. A webhook is only a verified nudge: it is
stored once (a repeat changes nothing) and queues the run's next step, which reads the state
from the provider's API itself, so late, repeated or out-of-order deliveries are harmless."""

import json
import logging

from django.core import signing
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jobs.queue import enqueue
from likeness.errors import ProviderError, error_body
from providers.fal import webhooks as fal
from providers.replicate import webhooks as replicate
from studio.models import TrainingRun, WebhookDelivery
from studio.pipeline import run_token
from studio.runs import record
from studio.tasks import advance_training

logger = logging.getLogger(__name__)


def token_is_valid(run_id: str, token: str) -> bool:
    return bool(run_id and token) and signing.constant_time_compare(run_token(run_id), token)


def _refused(message):
    return JsonResponse(error_body("bad_signature", message), status=400)


def _event(body: bytes) -> dict | None:
    """The signed body as a JSON object, or None for anything else (`[]`, `"x"`, not JSON)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _not_an_event():
    return JsonResponse(error_body("bad_request", "The webhook body is not a JSON object."),
                        status=400)


def _accept(provider: str, delivery_id: str, run: TrainingRun | None, payload: dict,
            summary: str):
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(provider=provider, delivery_id=delivery_id[:200],
                                           run=run, payload=payload)
            if run is not None and not run.is_finished:
                record(run, summary, delivery=delivery_id)
                enqueue(advance_training, str(run.id))
    except IntegrityError:
        return JsonResponse({"status": "duplicate"})
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_POST
def replicate_webhook(request):
    try:
        valid = replicate.verify_webhook(request.headers, request.body)
    except ProviderError as exc:  # no secret to check with: ask Replicate to try again later
        logger.warning("cannot verify a Replicate webhook: %s", exc)
        return JsonResponse(error_body("unavailable", str(exc)), status=503)
    if not valid:
        return _refused("The webhook signature does not match.")
    payload = _event(request.body)
    if payload is None:
        return _not_an_event()
    run = TrainingRun.objects.filter(provider="replicate", provider_id=payload.get("id")).first()
    delivery = request.headers.get("webhook-id", "")
    return _accept("replicate", delivery, run, payload,
                   f"Webhook from Replicate: {payload.get('status', 'unknown')}.")


@csrf_exempt
@require_POST
def fal_webhook(request):
    """Checked twice: fal's own Ed25519 signature (providers.fal.webhooks), and the per-run
    token signed with our SECRET_KEY in the URL we gave fal."""
    run_id, token = request.GET.get("run", ""), request.GET.get("token", "")
    if not token_is_valid(run_id, token):
        return _refused("The webhook token does not match.")
    try:
        signed = fal.verify(request.headers, request.body)
    except ProviderError as exc:  # fal's keys cannot be read now: fal delivers again later
        logger.warning("cannot verify a fal.ai webhook: %s", exc)
        return JsonResponse(error_body("unavailable", str(exc)), status=503)
    if not signed:
        return _refused("The webhook signature does not match.")
    payload = _event(request.body)
    if payload is None:
        return _not_an_event()
    request_id = str(payload.get("request_id", ""))
    if request_id != request.headers.get("X-Fal-Webhook-Request-Id"):
        return _refused("The webhook is signed for another request.")
    run = TrainingRun.objects.filter(pk=run_id, provider="fal").first()
    if run is None or not request_id:
        return _refused("The webhook names no training of ours.")
    if not run.provider_id and run.start_requested_at:
        # We crashed between asking fal to train and recording the request id: adopt it.
        TrainingRun.objects.filter(pk=run.pk, provider_id="").update(provider_id=request_id)
        run.refresh_from_db()
    if run.provider_id != request_id:
        return _refused("The webhook is for another request.")
    return _accept("fal", f"{request_id}:{payload.get('status', '')}", run, payload,
                   f"Webhook from fal.ai: {payload.get('status', 'unknown')}.")
