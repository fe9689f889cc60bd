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
