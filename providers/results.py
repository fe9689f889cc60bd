"""What the image adapters share: downloads of result URLs that survive a brief 404, the
content type of what came back, and the wording of refusals."""

import base64
import time

import httpx
from django.conf import settings

from jobs.retry import backoff
from likeness import http
from likeness.errors import ProviderError

MAX_IMAGE_BYTES = 40 * 1024 * 1024
MAX_WEIGHTS_BYTES = 2 * 1024**3
CONTENT_TYPES = {"image/png", "image/jpeg", "image/webp"}


def permanent(message: str, code: str) -> ProviderError:
    return ProviderError(message, transient=False, code=code)


def flagged(provider_label: str) -> ProviderError:
    return permanent(f"{provider_label}'s safety checker flagged this image.", "content_flagged")


def looks_flagged(text: str) -> bool:
    text = (text or "").lower()
    return "nsfw" in text or "safety" in text


def wrong_count(label: str, got: int, wanted: int) -> ProviderError:
    return ProviderError(f"{label} returned {got} images instead of {wanted}.", transient=True,
                         code="malformed_response")


def fetch(url: str, label: str) -> tuple[bytes, str]:
    """Download one result at once (provider URLs expire). A URL that answers 404 right after the
    provider named it is usually not replicated yet: it is tried again a few times before the
    image counts as lost (transient: the provider is asked again)."""
    attempts = max(1, settings.GENERATION_PROVIDER_ATTEMPTS)
    error: ProviderError | None = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff(attempt, error.retry_after if error else None,
                               base=settings.GENERATION_RETRY_BASE_SECONDS, cap=2.0))
        try:
            response = http.send("GET", url, service=label)
        except ProviderError as exc:
            error = ProviderError(f"Downloading {label}'s result failed: {exc}", transient=True,
                                  code="result_unavailable")
            continue
        status = response.status_code
        if status == 200:
            if len(response.content) > MAX_IMAGE_BYTES:
                raise permanent(f"{label}'s result is too large.", "result_too_large")
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
            return response.content, content_type
        error = ProviderError(f"{label}'s result URL answered {status}.",
                              transient=status in (403, 404, 410) or http.is_transient(status),
                              retry_after=http.retry_after(response), code="result_unavailable")
        if not error.transient:
            raise error
    raise error


def content_type_of(data: bytes, declared: str = "") -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return declared if declared in CONTENT_TYPES else "application/octet-stream"


def download(url: str, *, limit: int = MAX_WEIGHTS_BYTES) -> bytes:
    """A result file (trained weights), streamed and bounded."""
    try:
        with http.client().stream("GET", url, timeout=http.timeout(
                settings.PROVIDER_TIMEOUT_SECONDS * 4)) as response:
            if response.status_code >= 400:
                status = response.status_code
                raise ProviderError(f"Downloading the result failed with {status}.",
                                    transient=http.is_transient(status), status=status,
                                    code="weights_missing" if status == 404
                                    else f"download_{status}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ProviderError("The weights file is too large.", transient=False,
                                        code="weights_too_large")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TransportError as exc:
        raise ProviderError(f"Downloading the result failed: {exc}", transient=True,
                            code="provider_unavailable")


def data_uri(data: bytes, content_type: str) -> str:
    """An image as a `data:` URI, the inline form Replicate's and fal's file inputs take: our
    files stay private (no public link to them) and no upload round trip is needed."""
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"
