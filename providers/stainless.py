"""Errors of the Stainless-generated SDKs (`together`, `openai`), which raise the same shapes,
in our terms; and the HTTP client they are given (likeness.http, with their own retries off:
the routing retries and fails over, and the SDKs' retries would hide the errors from it)."""

from functools import cache

import httpx
from django.conf import settings

from likeness import http
from likeness.errors import ProviderError
from providers.interfaces import PERSONAL, ImageProvider, ImageRequest, ModelCheck
from providers.results import flagged, looks_flagged


@cache
def _client(factory, api_key: str, base_url: str, timeout: float):
    return factory(api_key=api_key, base_url=base_url, max_retries=0, timeout=http.timeout(),
                   http_client=http.client())


class StainlessProvider(ImageProvider):
    """Together and Nebius: one cached SDK client per key and address; base models by their
    provider id (MODELS), personal models by the URL of their LoRA."""

    MODELS: dict[str, str] = {}
    LORA_MODEL = ""  # the provider's model for FLUX.1 [dev] with a personal LoRA

    def sdk(self):
        """The SDK's client class (imported when first used)."""
        raise NotImplementedError

    def settings(self) -> tuple[str, str]:
        """(API key, base URL)."""
        raise NotImplementedError

    def client(self):
        api_key, base_url = self.settings()
        return _client(self.sdk(), api_key, base_url, settings.PROVIDER_TIMEOUT_SECONDS)

    def supports(self, request: ImageRequest) -> bool:
        if request.lora is not None:
            return all(lora.url for lora in request.loras)
        return request.base_model in self.MODELS

    def listed_models(self) -> set[str]:
        """The ids of the models the provider lists now."""
        raise NotImplementedError

    def check_models(self, models: list[str]) -> list[ModelCheck]:
        try:
            listed = self.listed_models()
        except Exception as exc:
            raise classify(exc, self.label)
        checks = []
        for model in models:
            ours = self.LORA_MODEL if model == PERSONAL else self.MODELS.get(model, "")
            if not ours:
                checks.append(ModelCheck(model, "", False, "not offered by this adapter"))
            elif ours in listed:
                checks.append(ModelCheck(model, ours, True, "listed"))
            else:
                checks.append(ModelCheck(model, ours, False, "not in its list of models"))
        return checks


def classify(exc: Exception, label: str) -> ProviderError:
    """Timeouts and connection errors have no status; 429 and 5xx are worth retrying; 401/403
    mean our key is wrong (another provider may still serve); the rest is a refused request."""
    if isinstance(exc, ProviderError):
        return exc
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    name = type(exc).__name__
    if name == "APIResponseValidationError" or isinstance(exc, ValueError):
        return ProviderError(f"{label} sent a malformed answer.", transient=True,
                             code="malformed_response")
    if status is None:
        if name == "APITimeoutError" or isinstance(exc, httpx.TimeoutException):
            return ProviderError(f"{label} did not answer in time.", transient=True,
                                 code="provider_timeout")
        if name == "APIConnectionError" or isinstance(exc, httpx.TransportError):
            return ProviderError(f"{label} could not be reached.", transient=True,
                                 code="provider_unavailable")
        return ProviderError(f"{label}: {exc}", transient=True, code="provider_error")
    message = _message(exc)
    if http.is_transient(status):
        return ProviderError(f"{label} answered {status}: {message}", transient=True,
                             retry_after=http.retry_after(response), status=status,
                             code="rate_limited" if status == 429 else f"provider_{status}")
    if status in (401, 403):
        return ProviderError(f"{label} refused our API key.", transient=False,
                             code="provider_auth", status=status)
    if status == 404:  # the endpoint exists: it is the model that is not (or no longer) served
        return ProviderError(f"{label} does not serve this model: {message}", transient=False,
                             code="model_unavailable", status=status)
    if looks_flagged(message):
        return flagged(label)
    return ProviderError(f"{label} refused the request: {message}", transient=False,
                         code="invalid_request", status=status)


def _message(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        if isinstance(error, dict):
            return str(error.get("message") or error.get("code") or error)[:300]
        if isinstance(error, list) and error:
            first = error[0]
            if isinstance(first, dict):
                where = ".".join(str(p) for p in first.get("loc", [])[1:])
                return f"{where}: {first.get('msg', '')}"[:300]
        return str(error)[:300]
    return str(getattr(exc, "message", exc))[:300]
