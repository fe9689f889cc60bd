"""Replicate: LoRA training with ostris/flux-dev-lora-trainer, through the official SDK pointed
at REPLICATE_BASE_URL. Every error is classified transient (retry) or permanent (fail now)."""

import io
import re
import tarfile
from functools import cache

import httpx
from django.conf import settings

from providers.base import ProviderError
from providers.training import TrainingProvider, TrainingState

MAX_WEIGHTS_BYTES = 2 * 1024**3
STATES = {"starting": "starting", "processing": "running", "succeeded": "succeeded",
          "failed": "failed", "canceled": "canceled"}


def client():
    import replicate

    return replicate.Client(
        api_token=settings.REPLICATE_API_TOKEN,
        base_url=settings.REPLICATE_BASE_URL,
        timeout=httpx.Timeout(settings.PROVIDER_TIMEOUT_SECONDS),
    )


def classify(exc: Exception, what: str) -> ProviderError:
    """Timeouts, connection errors, 429 and 5xx are worth retrying; the rest is final."""
    from replicate.exceptions import ReplicateError

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, httpx.TransportError):
        return ProviderError(f"Replicate did not answer ({what}): {exc}", transient=True,
                             code="provider_unavailable")
    if isinstance(exc, ReplicateError):
        status = exc.status or 0
        transient = status == 429 or status >= 500
        return ProviderError(f"Replicate refused {what}: {exc.detail or exc.title or status}",
                             transient=transient, code=f"replicate_{status or 'error'}")
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return ProviderError(f"Replicate answered {status} for {what}",
                             transient=status == 429 or status >= 500, code=f"replicate_{status}")
    return ProviderError(f"Replicate ({what}): {exc}", transient=True, code="provider_error")


@cache
def _owner(token: str, base_url: str) -> str:
    return client().accounts.current().username


def owner() -> str:
    return settings.REPLICATE_OWNER or _owner(settings.REPLICATE_API_TOKEN,
                                              settings.REPLICATE_BASE_URL)


def progress_from_logs(logs: str, steps: int) -> float | None:
    """The trainer prints tqdm bars ('… 120/1000 [00:42<…]'); the last one tells the step."""
    matches = re.findall(r"(\d+)/(\d+) \[", logs or "")
    if not matches:
        return None
    done, total = (int(v) for v in matches[-1])
    return min(done / max(total, 1), 1.0)


def weights_from_tar(data: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.rsplit("/", 1)[-1] == "lora.safetensors":
                if member.size > MAX_WEIGHTS_BYTES:
                    break
                return archive.extractfile(member).read()
    raise ProviderError("The trained weights have no lora.safetensors.", transient=False,
                        code="weights_missing")


def download(url: str) -> bytes:
    try:
        with httpx.stream("GET", url, timeout=settings.PROVIDER_TIMEOUT_SECONDS * 4,
                          follow_redirects=True) as response:
            response.raise_for_status()
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_WEIGHTS_BYTES:
                    raise ProviderError("The weights file is too large.", transient=False,
                                        code="weights_too_large")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        raise ProviderError(f"Downloading the result failed with {status}.",
                            transient=status == 429 or status >= 500,
                            code="weights_missing" if status == 404 else f"download_{status}")
    except httpx.TransportError as exc:
        raise ProviderError(f"Downloading the result failed: {exc}", transient=True,
                            code="provider_unavailable")


class ReplicateTrainer(TrainingProvider):
    name = "replicate"
    label = "Replicate"
    supports_webhooks = True

    @property
    def poll_seconds(self):
        return settings.TRAINING_POLL_SECONDS

    def prepare(self, run):
        """A private destination model per run, which receives the trained version."""
        name = f"likeness-{run.model.trigger_word}-{run.id.hex[:8]}"
        try:
            api = client()
            api.models.create(owner=owner(), name=name, visibility="private",
                              hardware="gpu-t4", description=f"Likeness personal model {name}")
        except Exception as exc:
            error = classify(exc, "creating the destination model")
            if "already exists" not in str(error).lower() and "409" not in error.code:
                raise error
        return f"{owner()}/{name}"

    def start(self, run, *, zip_url, webhook_url):
        model = run.model
        params = {
            "input": {
                "input_images": zip_url,
                "trigger_word": model.trigger_word,
                "steps": run.steps,
                "learning_rate": run.learning_rate,
                "lora_rank": run.lora_rank,
                "autocaption": True,
                "autocaption_prefix": f"a photo of {model.trigger_word} {model.subject_class},",
            },
            "destination": run.provider_ref,
        }
        if webhook_url:
            params.update(webhook=webhook_url, webhook_events_filter=["start", "completed"])
        try:
            training = client().trainings.create(
                model=settings.REPLICATE_TRAINER, version=settings.REPLICATE_TRAINER_VERSION,
                **params)
        except Exception as exc:
            raise classify(exc, "starting the training")
        return training.id

    def find_started(self, run):
        try:
            page = client().trainings.list()
        except Exception as exc:
            raise classify(exc, "listing trainings")
        for training in page.results:
            images = str((training.input or {}).get("input_images", ""))
            if training.destination == run.provider_ref or str(run.id) in images:
                return training.id
        return ""

    def state(self, run):
        try:
            raw = client()._request("GET", f"/v1/trainings/{run.provider_id}").json()
        except Exception as exc:
            raise classify(exc, "reading the training")
        output = raw.get("output") or {}
        metrics = raw.get("metrics") or {}
        state = STATES.get(raw.get("status"), "running")
        return TrainingState(
            state=state,
            progress=1.0 if state == "succeeded" else progress_from_logs(raw.get("logs"),
                                                                         run.steps),
            logs=raw.get("logs") or "",
            error=str(raw.get("error") or ""),
            predict_time=metrics.get("predict_time"),
            weights_url=output.get("weights", "") if isinstance(output, dict) else "",
            version=output.get("version", "") if isinstance(output, dict) else "",
            raw=raw,
        )

    def cancel(self, run):
        try:
            client().trainings.cancel(run.provider_id)
        except Exception as exc:
            error = classify(exc, "canceling the training")
            if error.transient:
                raise error

    def fetch_weights(self, run, state):
        if not state.weights_url:
            raise ProviderError("The training finished without weights.", transient=False,
                                code="weights_missing")
        return weights_from_tar(download(state.weights_url))

    def delete_ref(self, ref):
        """Delete the destination model (Replicate wants its versions deleted first)."""
        owner_name, _, name = ref.partition("/")
        try:
            api = client()
            model = api.models.get(owner_name, name)
            for version in model.versions.list():
                model.versions.delete(version.id)
            api.models.delete(owner_name, name)
        except Exception as exc:
            error = classify(exc, "deleting the destination model")
            if error.code != "replicate_404":
                raise error


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
    from replicate.webhook import Webhooks, WebhookSigningSecret, WebhookValidationError

    try:
        Webhooks.validate(headers={k.lower(): v for k, v in headers.items()},
                          body=body.decode("utf-8"),
                          secret=WebhookSigningSecret(key=webhook_secret()), tolerance=300)
    except (WebhookValidationError, UnicodeDecodeError, ValueError):
        return False
    return True
