"""Training on fal.ai with fal-ai/flux-lora-fast-training."""

import re

from django.conf import settings

from likeness.errors import ProviderError
from providers.fal.client import app_url, completed_error, request
from providers.interfaces import Trainer, TrainingState
from providers.results import download

TRAINER_APP = "fal-ai/flux-lora-fast-training"
STATES = {"IN_QUEUE": "starting", "IN_PROGRESS": "running", "COMPLETED": "succeeded"}


def progress_from_logs(logs: list) -> float | None:
    for entry in reversed(logs or []):
        found = re.search(r"(\d+)/(\d+)", str(entry.get("message", "")))
        if found:
            done, total = int(found.group(1)), int(found.group(2))
            return min(done / max(total, 1), 1.0)
    return None


class FalTrainer(Trainer):
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

    def status(self, run, logs: bool = True) -> dict:
        return request("GET", app_url(TRAINER_APP, "requests", run.provider_id, "status"),
                       params={"logs": 1 if logs else 0})

    def state(self, run):
        status = self.status(run)
        logs = status.get("logs") or []
        text = "\n".join(str(entry.get("message", "")) for entry in logs)
        state = STATES.get(status.get("status"), "running")
        if state != "succeeded":
            return TrainingState(state, progress_from_logs(logs), text, raw=status)
        failure = completed_error(status)  # COMPLETED, but with an error: the run failed
        if failure is not None:
            canceled = status.get("error_type") == "client_cancelled"
            return TrainingState("canceled" if canceled else "failed", None, text,
                                 error=failure.message, raw=status)
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
        """fal takes a request that has not started off its queue; one in progress is only
        told to stop, and a training runs on to its end."""
        queued = self.status(run, logs=False).get("status") == "IN_QUEUE"
        try:
            request("PUT", app_url(TRAINER_APP, "requests", run.provider_id, "cancel"))
        except ProviderError as exc:
            if exc.transient:
                raise
            return False  # already completed: following it tells how it ended
        return queued

    def fetch_weights(self, run, state):
        return download(state.weights_url)
