"""Replicate's webhook signatures, checked by the SDK itself (Webhooks.validate); the signing
secret is REPLICATE_WEBHOOK_SECRET, else read once from Replicate."""

from functools import cache

from django.conf import settings

from providers.replicate.client import classify, client


def webhook_secret() -> str:
    if settings.REPLICATE_WEBHOOK_SECRET:
        return settings.REPLICATE_WEBHOOK_SECRET
    return _fetched_secret(settings.REPLICATE_API_TOKEN, settings.REPLICATE_BASE_URL)


@cache
def _fetched_secret(token: str, base_url: str) -> str:
    try:
        return client().webhooks.default.secret().key
    except Exception as exc:
        raise classify(exc, "reading the webhook signing secret")


def verify_webhook(headers, body: bytes) -> bool:
    """Replicate's signing scheme, checked by the SDK itself."""
    # The SDK is loaded when first used: a deployment loads only the SDKs it calls.
    from replicate.webhook import Webhooks, WebhookSigningSecret, WebhookValidationError

    try:
        Webhooks.validate(headers={k.lower(): v for k, v in headers.items()},
                          body=body.decode("utf-8"),
                          secret=WebhookSigningSecret(key=webhook_secret()), tolerance=300)
    except (WebhookValidationError, UnicodeDecodeError, ValueError):
        return False
    return True
