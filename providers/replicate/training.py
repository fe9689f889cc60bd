"""Training on Replicate with ostris/flux-dev-lora-trainer: a private destination model per run
receives the trained version; the weights come back as a tar holding lora.safetensors."""

import io
import re
import tarfile

from django.conf import settings

from likeness.errors import ProviderError
from providers.interfaces import Trainer, TrainingState
from providers.replicate.client import TRAINER, classify, client, owner
from providers.results import MAX_WEIGHTS_BYTES, download

STATES = {"starting": "starting", "processing": "running", "succeeded": "succeeded",
          "failed": "failed", "canceled": "canceled"}


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


class ReplicateTrainer(Trainer):
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
                model=TRAINER, version=settings.REPLICATE_TRAINER_VERSION,
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
        return True  # Replicate stops a running training

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
