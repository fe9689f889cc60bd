"""The operator's own GPU as a trainer (TRAINING_PROVIDER=local): the run's photos ZIP is
unpacked under LOCAL_TRAINING_DIR/<run id>/ and providers.local.trainer runs in its own
process (providers.local.jobs), on FLUX.1 from LOCAL_MODELS_DIR. Each poll reads its
progress.json; a process that died (a worker machine restarted) is spawned again with the same
arguments and resumes from its last checkpoint. Nothing leaves the machine."""

import shutil
import sys
import zipfile
from pathlib import Path

from django.conf import settings

from likeness.errors import ProviderError
from providers.interfaces import Trainer, TrainingState
from providers.local import jobs
from providers.local.images import directory_for

LORA = "lora.safetensors"


def run_dir(run) -> Path:
    return Path(settings.LOCAL_TRAINING_DIR) / str(run.id)


class LocalTrainer(Trainer):
    name = "local"
    label = "Your GPU"
    poll_seconds = 5

    def _options(self, run) -> dict:
        return {"steps": run.steps, "learning_rate": run.learning_rate, "rank": run.lora_rank,
                "resolution": settings.LOCAL_TRAINING_RESOLUTION,
                "profile": settings.LOCAL_MEMORY_PROFILE or None}

    def _base(self) -> Path:
        base = directory_for("flux-dev", True)
        if base is None:
            raise ProviderError("No complete FLUX.1 directory in LOCAL_MODELS_DIR to train on.",
                                transient=False, code="model_unavailable")
        return base

    def _spawn(self, run):
        directory = run_dir(run)
        engine = sys.modules.get("providers.local.engine")  # loaded only if this process drew
        if engine is not None:
            engine.drop_pipelines()  # one GPU job per device: the card is the trainer's now
        jobs.spawn(directory / "photos", directory / "output", base_model_dir=self._base(),
                   **self._options(run))

    def start(self, run, *, zip_url: str, webhook_url: str) -> str:
        directory = run_dir(run)
        photos = directory / "photos"
        shutil.rmtree(photos, ignore_errors=True)
        photos.mkdir(parents=True)
        with run.zip_file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
            for name in archive.namelist():
                if "/" not in name and not name.startswith("."):
                    (photos / name).write_bytes(archive.read(name))
        self._spawn(run)
        return f"local-{run.id}"

    def state(self, run) -> TrainingState:
        output = run_dir(run) / "output"
        progress = jobs.read_progress(output) or {}
        logs = jobs.read_log(output)
        status = progress.get("state")
        done = (progress.get("step") or 0) / max(1, progress.get("total") or run.steps)
        if status == "succeeded" and (output / LORA).exists():
            return TrainingState("succeeded", 1.0, logs, weights_url=str(output / LORA))
        if status == "failed":
            return TrainingState("failed", done, logs, error=progress.get("error") or
                                 "The local training failed (see its log).")
        if status == "stopped" and (output / jobs.STOP_FILE).exists():
            return TrainingState("canceled", done, logs)
        if not jobs.is_running(output):
            self._spawn(run)  # the process is gone without finishing: resume
        return TrainingState("running" if progress else "starting", done, logs)

    def cancel(self, run) -> bool:
        output = run_dir(run) / "output"
        jobs.request_stop(output)
        jobs.kill(output, grace=5)
        return True

    def fetch_weights(self, run, state: TrainingState) -> bytes:
        data = (run_dir(run) / "output" / LORA).read_bytes()
        shutil.rmtree(run_dir(run) / "photos", ignore_errors=True)  # our copy of the photos
        return data
