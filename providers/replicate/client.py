"""The SDK client and the classification of its errors (transient or permanent)."""

from functools import cache

import httpx
from django.conf import settings

from likeness import http
from likeness.errors import ProviderError

TRAINER = "ostris/flux-dev-lora-trainer"


def client():
    import replicate  # loaded when first used: only the SDKs a deployment calls

    return replicate.Client(api_token=settings.REPLICATE_API_TOKEN,
                            base_url=settings.REPLICATE_BASE_URL, timeout=http.timeout(),
                            transport=http.transport())


def classify(exc: Exception, what: str) -> ProviderError:
    """Timeouts, connection errors, 429 and 5xx are worth retrying; the rest is final."""
    from replicate.exceptions import ReplicateError  # the SDK, loaded when first used

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, httpx.TransportError):
        return ProviderError(f"Replicate did not answer ({what}): {exc}", transient=True,
                             code="provider_unavailable")
    if isinstance(exc, ReplicateError):
        status = exc.status or 0
        return ProviderError(f"Replicate refused {what}: {exc.detail or exc.title or status}",
                             transient=http.is_transient(status) and status != 0,
                             code=f"replicate_{status or 'error'}", status=status or None)
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return ProviderError(f"Replicate answered {status} for {what}",
                             transient=http.is_transient(status), code=f"replicate_{status}",
                             status=status)
    return ProviderError(f"Replicate ({what}): {exc}", transient=True, code="provider_error")


@cache
def _owner(token: str, base_url: str) -> str:
    return client().accounts.current().username


def owner() -> str:
    return settings.REPLICATE_OWNER or _owner(settings.REPLICATE_API_TOKEN,
                                              settings.REPLICATE_BASE_URL)
