"""POST /webhooks/stripe: verified with stripe.Webhook.construct_event, stored (unique event
id) before it is processed (billing.events), processed once.

A forged or unreadable delivery is answered 400 and stores nothing. A repeat of a processed
event is answered 200 and changes nothing. An event whose processing fails is answered 500
(Stripe retries it) and stays `failed` for the admin's re-process action and the hourly sweep."""

import stripe
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.events import process, store
from billing.models import StripeEvent
from likeness.errors import error_body
from providers.stripe import client as stripe_api


def _answer(status: int, code: str, message: str = ""):
    if status >= 400:
        return JsonResponse(error_body(code, message), status=status)
    return JsonResponse({"status": code}, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if not settings.STRIPE_WEBHOOK_SECRET:
        return _answer(503, "unavailable", "STRIPE_WEBHOOK_SECRET is not set.")
    try:
        event = stripe_api.construct_event(request.body,
                                           request.headers.get("Stripe-Signature", ""))
    except stripe.SignatureVerificationError:
        return _answer(400, "bad_signature", "The Stripe-Signature header does not match.")
    except ValueError:  # not JSON, or JSON that is not an event (`[]`, `"x"`, an id of 1)
        return _answer(400, "bad_request", "The body is not a Stripe event.")
    row, created = store(event)
    if not created and row.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
        return _answer(200, "duplicate")
    if process(row):
        return _answer(200, row.status)
    return _answer(500, "processing_failed", "The event is stored and will be retried.")
