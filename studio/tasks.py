"""The training pipeline's tasks. `advance_training` moves a run as far as it can go now and
queues itself again when it has to wait; any number of copies may be queued (by webhooks,
polls and the reconcile sweep) because a lease on the row lets only one work at a time and
every step checks what is already done before doing it."""

import io
import logging
import zipfile
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from jobs.queue import backoff_seconds, enqueue, retry_later, task_abandoned
from providers import publish
from providers.base import ProviderError
from providers.training import training_provider
from studio.models import Cleanup, PersonalModel, TrainingRun
from studio.training import (
    actual_cents,
    finish_failed,
    notify,
    private_repo,
    record,
    schedule_callback,
    schedule_cleanup,
)

logger = logging.getLogger(__name__)
ZIP_SALT = "likeness.training-zip"


# --- the lease --------------------------------------------------------------------------------
def claim(run_id) -> TrainingRun | None:
    """Take the run for this worker, unless another holds a live lease (it will re-queue)."""
    now = timezone.now()
    # Steps are short (one provider call each), so the lease is too: if its worker dies, the
    # next job or the reconcile sweep takes the run over within a couple of minutes.
    lease = timedelta(seconds=settings.JOB_LEASE_SECONDS * 2)
    taken = TrainingRun.objects.filter(pk=run_id).exclude(status__in=TrainingRun.FINAL).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(lease_until=now + lease)
    return TrainingRun.objects.select_related("model", "user").get(pk=run_id) if taken else None


def release(run: TrainingRun):
    TrainingRun.objects.filter(pk=run.pk).update(lease_until=None)


def save(run: TrainingRun, *fields):
    run.save(update_fields=[*fields, "updated_at"])


# --- the stages -------------------------------------------------------------------------------
def caption(run: TrainingRun) -> str:
    return f"a photo of {run.model.trigger_word} {run.model.subject_class}"


def package(run: TrainingRun):
    """A ZIP of the normalised photos, each with a caption file (trigger word + class)."""
    if not run.zip_file:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for number, photo in enumerate(run.model.photos.all(), start=1):
                with photo.file.open("rb") as handle:
                    archive.writestr(f"{number:02d}.jpg", handle.read())
                archive.writestr(f"{number:02d}.txt", caption(run))
        name = f"{run.user.public_id}/{run.id}/photos.zip"  # under the field's trainings/
        run.zip_file.save(name, ContentFile(buffer.getvalue()), save=False)
        save(run, "zip_file")
        record(run, f"Packed {run.model.photos.count()} photos with captions.",
               zip=run.zip_file.name, size=len(buffer.getvalue()), caption=caption(run))
    run.stage = TrainingRun.Stage.UPLOADING
    save(run, "stage")


def zip_url(run: TrainingRun) -> str:
    """A URL the provider can fetch the ZIP from for a few hours, without our session."""
    storage = run.zip_file.storage
    if hasattr(storage, "bucket_name"):
        return storage.url(run.zip_file.name, expire=settings.TRAINING_ZIP_URL_SECONDS)
    token = signing.dumps(str(run.id), salt=ZIP_SALT)
    # The run id stands in the URL itself: after a crash, it finds the training we started.
    return settings.PUBLIC_BASE_URL + reverse("training_zip", args=[run.id, token])


def webhook_url(run: TrainingRun, provider) -> str:
    if not provider.supports_webhooks:
        return ""
    from studio.webhooks import run_token

    return (settings.PUBLIC_BASE_URL + reverse(f"webhook_{run.provider}")
            + f"?run={run.id}&token={run_token(run.id)}")


def upload(run: TrainingRun, provider):
    if not run.provider_ref:
        run.provider_ref = provider.prepare(run)
        save(run, "provider_ref")
        if run.provider_ref:
            record(run, "Created the destination at the provider.", ref=run.provider_ref)
    record(run, "The photos are ready for the trainer at a signed link.",
           expires_in_seconds=settings.TRAINING_ZIP_URL_SECONDS)
    run.stage = TrainingRun.Stage.TRAINING
    save(run, "stage")


def start_at_provider(run: TrainingRun, provider):
    if run.provider_id:
        return
    if run.start_requested_at:
        # We asked before and crashed before recording the answer: adopt that training.
        found = provider.find_started(run)
        if found:
            run.provider_id = found
            save(run, "provider_id")
            record(run, "Found the training started before an interruption.", provider_id=found)
            return
    run.start_requested_at = timezone.now()
    save(run, "start_requested_at")
    run.provider_id = provider.start(run, zip_url=zip_url(run),
                                     webhook_url=webhook_url(run, provider))
    run.started_at = run.started_at or timezone.now()
    save(run, "provider_id", "started_at")
    record(run, "Training started at the provider.", provider_id=run.provider_id)


def follow(run: TrainingRun, provider) -> bool:
    """Ask the provider how the training goes. True when it has finished successfully."""
    state = provider.state(run)
    run.last_checked_at = timezone.now()
    changed = state.state != run.provider_status
    run.provider_status = state.state
    if state.progress is not None:
        run.progress = state.progress
    if state.logs:
        run.logs = state.logs[-100_000:]
    if state.predict_time is not None:
        run.predict_time = state.predict_time
        run.cost_actual_cents = actual_cents(state.predict_time)
    save(run, "last_checked_at", "provider_status", "progress", "logs", "predict_time",
         "cost_actual_cents")
    if changed:
        record(run, f"Provider status: {state.state}.", provider_status=state.state,
               progress=run.progress, raw=_summary(state.raw))
    if state.state == "failed":
        finish_failed(run, error=state.error or "The provider reported a failure.",
                      code="provider_failed")
        return False
    if state.state == "canceled":
        finish_failed(run, error="Canceled at the provider.", code="canceled",
                      status=TrainingRun.Status.CANCELED)
        return False
    if state.state == "succeeded":
        weights = provider.fetch_weights(run, state)
        store_weights(run, weights, state, provider)
        return True
    return False


def _summary(raw: dict) -> dict:
    keep = ("id", "status", "error", "metrics", "created_at", "started_at", "completed_at",
            "request_id", "version")
    return {key: raw[key] for key in keep if key in raw}


def store_weights(run: TrainingRun, weights: bytes, state, provider):
    model = run.model
    name = f"{run.user.public_id}/{model.id}/lora.safetensors"  # under the field's weights/
    if model.weights:
        default_storage.delete(model.weights.name)
    model.weights.save(name, ContentFile(weights), save=False)
    model.weights_is_demo = provider.is_demo
    model.provider_version = state.version
    model.save(update_fields=["weights", "weights_is_demo", "provider_version", "updated_at"])
    run.stage = TrainingRun.Stage.PUBLISHING
    run.progress = 1.0
    save(run, "stage", "progress")
    record(run, "Weights copied into Likeness storage.", file=model.weights.name,
           size=len(weights), version=state.version)


def publish_weights(run: TrainingRun):
    model = run.model
    if publish.hub_configured():
        with model.weights.open("rb") as handle:
            weights = handle.read()
        private = private_repo(run.user)
        model.hf_repo_id = publish.publish(model, weights, private=private)
        model.hf_private = private
        model.save(update_fields=["hf_repo_id", "hf_private", "updated_at"])
        record(run, f"Published to Hugging Face ({'private' if private else 'public'}).",
               repo=model.hf_repo_id)
    else:
        record(run, "Hugging Face is not configured; the weights stay in Likeness storage.")
    with transaction.atomic():
        run.stage = TrainingRun.Stage.DONE
        run.status = TrainingRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        save(run, "stage", "status", "finished_at")
        model.status = PersonalModel.Status.READY
        model.trained_at = run.finished_at
        model.save(update_fields=["status", "trained_at", "updated_at"])
        record(run, f"{model.name} is ready. Trigger word: {model.trigger_word}.")
        schedule_callback(run)
        schedule_cleanup(run, user=run.user, model_name=model.name, kind=Cleanup.Kind.FILE,
                         target=run.zip_file.name, reason="training finished")
        enqueue(send_training_email, str(run.id))
        enqueue(sweep_cleanups)


def cancel(run: TrainingRun, provider):
    started = bool(run.provider_id)
    if started:
        provider.cancel(run)
    # Canceled before the provider began: nothing was spent there, so the credits come back.
    finish_failed(run, error="Canceled by the customer.", code="canceled",
                  status=TrainingRun.Status.CANCELED, refund=not started)


def cancel_now(run: TrainingRun) -> TrainingRun:
    """Cancel at once when no worker holds the run; otherwise flag it for the worker."""
    from studio.training import request_cancel

    claimed = claim(run.pk)
    if claimed is None:
        return request_cancel(run)
    try:
        claimed.cancel_requested = True
        save(claimed, "cancel_requested")
        record(claimed, "Cancel requested.")
        cancel(claimed, training_provider(claimed.provider))
    finally:
        release(claimed)
    claimed.refresh_from_db()
    return claimed


# --- the task ---------------------------------------------------------------------------------
def _advance(run: TrainingRun):
    provider = training_provider(run.provider)
    if run.cancel_requested:
        return cancel(run, provider)
    if run.status == TrainingRun.Status.QUEUED:
        run.status = TrainingRun.Status.RUNNING
        run.started_at = run.started_at or timezone.now()
        save(run, "status", "started_at")
        PersonalModel.objects.filter(pk=run.model_id).update(
            status=PersonalModel.Status.TRAINING, updated_at=timezone.now())
    if run.stage == TrainingRun.Stage.PACKAGING:
        package(run)
    if run.stage == TrainingRun.Stage.UPLOADING:
        upload(run, provider)
    if run.stage == TrainingRun.Stage.TRAINING:
        start_at_provider(run, provider)
        if run.started_at and timezone.now() - run.started_at > timedelta(
                hours=settings.TRAINING_MAX_HOURS):
            provider.cancel(run)
            return finish_failed(run, error="The training took too long.", code="timeout")
        if not follow(run, provider):
            if not run.is_finished:
                enqueue(advance_training, str(run.id), run_after=timezone.now()
                        + timedelta(seconds=provider.poll_seconds))
            return None
    if run.stage == TrainingRun.Stage.PUBLISHING:
        publish_weights(run)
    return None


@task()
def advance_training(run_id: str):
    run = claim(run_id)
    if run is None:
        return
    try:
        _advance(run)
        if run.attempts:
            TrainingRun.objects.filter(pk=run.pk).update(attempts=0)
    except ProviderError as exc:
        run.refresh_from_db()
        run.attempts += 1
        save(run, "attempts")
        record(run, f"{'Temporary' if exc.transient else 'Permanent'} provider error: {exc}",
               code=exc.code, attempt=run.attempts)
        if exc.transient and run.attempts < settings.JOB_MAX_ATTEMPTS:
            release(run)
            retry_later(advance_training, str(run.id), attempt=run.attempts,
                        retry_after=exc.retry_after)
            return
        finish_failed(run, error=str(exc), code="provider_rejected")
    except Exception as exc:
        logger.exception("training %s crashed", run.id)
        run.refresh_from_db()
        run.attempts += 1
        save(run, "attempts")
        if run.attempts < settings.JOB_MAX_ATTEMPTS:
            release(run)
            retry_later(advance_training, str(run.id), attempt=run.attempts)
            return
        finish_failed(run, error=f"{type(exc).__name__}: {exc}", code="internal_error")
    finally:
        release(run)


@task()
def send_training_email(run_id: str, attempt: int = 1):
    """The "ready" or "failed" e-mail, as its own job: a mail outage is retried, not fatal."""
    run = TrainingRun.objects.select_related("model", "user").filter(pk=run_id).first()
    if run is None or not run.is_finished or run.status == TrainingRun.Status.CANCELED:
        return
    try:
        notify(run, failed=run.status == TrainingRun.Status.FAILED)
    except Exception:
        logger.exception("could not send the training e-mail for %s", run_id)
        if attempt < settings.JOB_MAX_ATTEMPTS:
            enqueue(send_training_email, run_id, attempt + 1, run_after=timezone.now()
                    + timedelta(seconds=backoff_seconds(attempt)))


@task()
def reconcile_trainings():
    """Pick up every unfinished run that has not moved for a while: its webhook was lost,
    its poll was never queued, or its worker died holding the lease."""
    now = timezone.now()
    # Runs every 30 s: a run that has not moved for a minute costs at most ~90 s of delay.
    stale = now - timedelta(seconds=60)
    runs = TrainingRun.objects.exclude(status__in=TrainingRun.FINAL).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)).filter(updated_at__lt=stale)
    count = 0
    for run_id in runs.values_list("id", flat=True):
        enqueue(advance_training, str(run_id))
        count += 1
    return count


def run_cleanup(cleanup: Cleanup):
    if cleanup.kind == Cleanup.Kind.FILE:
        default_storage.delete(cleanup.target)
    elif cleanup.kind == Cleanup.Kind.PROVIDER_MODEL:
        training_provider(cleanup.provider).delete_ref(cleanup.target)
    elif cleanup.kind == Cleanup.Kind.HF_REPO:
        if publish.hub_configured():
            publish.delete_repo(cleanup.target)


@task()
def sweep_cleanups():
    """Do the pending clean-ups, and find orphans: training ZIPs in storage whose run is
    finished or gone."""
    done = 0
    for cleanup in Cleanup.objects.filter(done_at__isnull=True, attempts__lt=20)[:200]:
        try:
            run_cleanup(cleanup)
        except Exception as exc:
            cleanup.attempts += 1
            cleanup.error = f"{type(exc).__name__}: {exc}"[:500]
            cleanup.save(update_fields=["attempts", "error"])
            continue
        cleanup.done_at = timezone.now()
        cleanup.error = ""
        cleanup.save(update_fields=["done_at", "error"])
        done += 1
    return done + _sweep_orphan_zips()


def _sweep_orphan_zips() -> int:
    found = 0
    try:
        users, _ = default_storage.listdir("trainings")
    except (FileNotFoundError, NotImplementedError, OSError):
        return 0
    for user_dir in users:
        run_dirs, _ = default_storage.listdir(f"trainings/{user_dir}")
        for run_dir in run_dirs:
            run = TrainingRun.objects.filter(pk=run_dir).only("status").first()
            if run is not None and not run.is_finished:
                continue
            _, files = default_storage.listdir(f"trainings/{user_dir}/{run_dir}")
            for name in files:
                path = f"trainings/{user_dir}/{run_dir}/{name}"
                Cleanup.objects.get_or_create(
                    kind=Cleanup.Kind.FILE, provider="", target=path,
                    defaults={"run": run, "reason": "orphaned file found by the sweep",
                              "done_at": timezone.now()})
                default_storage.delete(path)
                found += 1
    return found


@receiver(task_abandoned)
def abandon_training(sender, task_path, args, kwargs, **extra):
    if task_path == advance_training.module_path and args:
        run = TrainingRun.objects.filter(pk=args[0]).first()
        if run and not run.is_finished:
            finish_failed(run, error="The job was interrupted too many times.",
                          code="worker_lost")
