"""Calls to fal's queue API, with fal's key, and their errors in our terms."""

from django.conf import settings

from likeness import http
from likeness.errors import ProviderError

LABEL = "fal.ai"


def request(method: str, url: str, **kwargs) -> dict:
    headers = {"Authorization": f"Key {settings.FAL_KEY}"}
    response = http.send(method, url, service=LABEL, headers=headers, **kwargs)
    if response.status_code >= 400:
        raise http.failure(response, LABEL, code=f"fal_{response.status_code}")
    try:
        return response.json() if response.content else {}
    except ValueError:
        raise ProviderError(f"{LABEL} sent a malformed answer.", transient=True,
                            code="malformed_response")


def app_url(app: str, *parts: str) -> str:
    return "/".join([settings.FAL_QUEUE_URL, app, *parts])


# fal's error types that another try may get past (docs/providers.md, "fal.ai").
RETRYABLE_ERRORS = {"request_timeout", "startup_timeout", "runner_scheduling_failure",
                    "runner_disconnected", "runner_server_error", "internal_error"}


def completed_error(status: dict) -> ProviderError | None:
    """A COMPLETED status that carries `error` (or `error_type`) is a run that failed: its text,
    not a result to fetch. None for a run that finished well."""
    error, kind = status.get("error"), status.get("error_type")
    if not error and not kind:
        return None
    return ProviderError(f"{LABEL}'s run failed: {error or kind}", code="run_failed",
                         transient=kind in RETRYABLE_ERRORS)
