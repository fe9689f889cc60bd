"""fal.ai: LoRA training with fal-ai/flux-lora-fast-training through fal's queue API. fal's
SDK hard-codes its hosts, so a plain httpx client with FAL_QUEUE_URL is the seam."""

import re

import httpx
from django.conf import settings

from providers.base import ProviderError
from providers.replicate import download
from providers.training import TrainingProvider, TrainingState

TRAINER_APP = "fal-ai/flux-lora-fast-training"
STATES = {"IN_QUEUE": "starting", "IN_PROGRESS": "running", "COMPLETED": "succeeded"}


def request(method: str, url: str, **kwargs) -> dict:
    headers = {"Authorization": f"Key {settings.FAL_KEY}"}
    try:
        response = httpx.request(method, url, headers=headers,
                                 timeout=settings.PROVIDER_TIMEOUT_SECONDS, **kwargs)
    except httpx.TransportError as exc:
        raise ProviderError(f"fal.ai did not answer: {exc}", transient=True,
                            code="provider_unavailable")
    if response.status_code >= 400:
        retry_after = response.headers.get("Retry-After")
        detail = response.text[:300]
        raise ProviderError(
            f"fal.ai answered {response.status_code}: {detail}",
            transient=response.status_code == 429 or response.status_code >= 500,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            code=f"fal_{response.status_code}",
        )
    try:
        return response.json() if response.content else {}
    except ValueError:
        raise ProviderError("fal.ai sent a malformed answer.", transient=True,
                            code="malformed_response")


def app_url(app: str, *parts: str) -> str:
    return "/".join([settings.FAL_QUEUE_URL, app, *parts])


def progress_from_logs(logs: list) -> float | None:
    for entry in reversed(logs or []):
        found = re.search(r"(\d+)/(\d+)", str(entry.get("message", "")))
        if found:
            done, total = int(found.group(1)), int(found.group(2))
            return min(done / max(total, 1), 1.0)
    return None


class FalTrainer(TrainingProvider):
    name = "fal"
    label = "fal.ai"
    supports_webhooks = True

    @property
    def poll_seconds(self):
        return settings.TRAINING_POLL_SECONDS

    def start(self, run, *, zip_url, webhook_url):
        params = {"fal_webhook": webhook_url} if webhook_url else {}
        answer = request("POST", app_url(TRAINER_APP), params=params, json={
            "images_data_url": zip_url,
            "trigger_word": run.model.trigger_word,
            "steps": run.steps,
            "create_masks": run.model.subject_class not in ("dog", "cat"),
            "is_style": False,
        })
        if not answer.get("request_id"):
            raise ProviderError("fal.ai did not return a request id.", transient=True,
                                code="malformed_response")
        return answer["request_id"]

    def state(self, run):
        status = request("GET", app_url(TRAINER_APP, "requests", run.provider_id, "status"),
                         params={"logs": 1})
        logs = status.get("logs") or []
        text = "\n".join(str(entry.get("message", "")) for entry in logs)
        state = STATES.get(status.get("status"), "running")
        if state != "succeeded":
            return TrainingState(state, progress_from_logs(logs), text, raw=status)
        try:
            output = request("GET", app_url(TRAINER_APP, "requests", run.provider_id))
        except ProviderError as exc:
            if exc.transient:
                raise
            return TrainingState("failed", None, text, error=str(exc), raw=status)
        weights = (output.get("diffusers_lora_file") or {}).get("url", "")
        if not weights:
            return TrainingState("failed", None, text, raw=output,
                                 error=str(output.get("detail") or "No weights in the result."))
        metrics = status.get("metrics") or {}
        return TrainingState("succeeded", 1.0, text, weights_url=weights, raw=output,
                             predict_time=metrics.get("inference_time"))

    def cancel(self, run):
        try:
            request("PUT", app_url(TRAINER_APP, "requests", run.provider_id, "cancel"))
        except ProviderError as exc:
            if exc.transient:
                raise

    def fetch_weights(self, run, state):
        return download(state.weights_url)
