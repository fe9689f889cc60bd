"""The training pipeline: a durable state machine on TrainingRun rows.

States (`status`): queued → running → succeeded | failed | canceled. Within running, the
stages (`stage`) go in order, each step checking what is already done before doing it, so a
run can be advanced again at any point (a retry, a webhook, the reconcile sweep, a worker that
died) without paying twice:

  packaging   the normalised photos and a caption each, in a ZIP in our storage
  uploading   what the trainer needs at the provider (a destination model), and a signed link
              to the ZIP the provider fetches
  training    the paid start (start_requested_at is written first: after a crash the run
              adopts the training it started), then following the provider until it ends
  publishing  the weights copied into our storage, then to the Hub when configured
  done        the model is ready

`advance(run)` moves a claimed run as far as it can go now and says how long to wait before
looking again. A lease on the row (`claim`) lets one worker at a time work on a run. A run that
ends sends `training_finished` on commit: the e-mail, the clean-up sweep and the API's
completion callback listen."""

import io
import zipfile
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from credits import actions as credits
from providers.registry import publisher, trainer
from studio.models import Cleanup, PersonalModel, TrainingRun
from studio.runs import (
    actual_cents,
    private_repo,
    record,
    save,
    schedule_cleanup,
    schedule_run_cleanups,
)
from studio.signals import training_finished

ZIP_SALT = "likeness.training-zip"
WEBHOOK_SALT = "likeness.training-webhook"


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


# --- the stages -------------------------------------------------------------------------------
def caption(run: TrainingRun) -> str:
    return f"a photo of {run.model.trigger_word} {run.model.subject_class}"


def package(run: TrainingRun):
    """A ZIP of the normalised photos, each with a caption file (trigger word + class)."""
    if not run.zip_file:
        buffer = io.BytesIO()
        # Photos held out (studio.actions._hold_out) are for the validation round only.
        photos = list(run.model.photos.filter(held_out=False))
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for number, photo in enumerate(photos, start=1):
                with photo.file.open("rb") as handle:
                    archive.writestr(f"{number:02d}.jpg", handle.read())
                archive.writestr(f"{number:02d}.txt", caption(run))
        name = f"{run.user.public_id}/{run.id}/photos.zip"  # under the field's trainings/
        run.zip_file.save(name, ContentFile(buffer.getvalue()), save=False)
        save(run, "zip_file")
        record(run, f"Packed {len(photos)} photos with captions.",
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


def run_token(run_id) -> str:
    """The per-run token in the webhook URL we give a provider (checked by studio.webhooks)."""
    return signing.Signer(salt=WEBHOOK_SALT).signature(str(run_id))


def webhook_url(run: TrainingRun, provider) -> str:
    if not provider.supports_webhooks:
        return ""
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


def _summary(raw: dict) -> dict:
    keep = ("id", "status", "error", "metrics", "created_at", "started_at", "completed_at",
            "request_id", "version")
    return {key: raw[key] for key in keep if key in raw}


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
        run.status = finish_failed(run, error=state.error or "The provider reported a failure.",
                                   code="provider_failed").status
    elif state.state == "canceled":
        run.status = finish_failed(run, error="Canceled at the provider.", code="canceled",
                                   status=TrainingRun.Status.CANCELED).status
    elif state.state == "succeeded":
        store_weights(run, provider.fetch_weights(run, state), state, provider)
        return True
    return False


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
    model, hub = run.model, publisher()
    if hub.configured():
        with model.weights.open("rb") as handle:
            weights = handle.read()
        private = private_repo(run.user)
        model.hf_repo_id = hub.publish(model, weights, private=private)
        model.hf_private = private
        model.save(update_fields=["hf_repo_id", "hf_private", "updated_at"])
        record(run, f"Published to Hugging Face ({'private' if private else 'public'}).",
               repo=model.hf_repo_id)
    else:
        record(run, "Hugging Face is not configured; the weights stay in Likeness storage.")
    succeed(run)


# --- the ends ---------------------------------------------------------------------------------
def _finished(run: TrainingRun):
    transaction.on_commit(lambda: training_finished.send(sender=TrainingRun, run=run))


def succeed(run: TrainingRun):
    model = run.model
    with transaction.atomic():
        run.stage = TrainingRun.Stage.DONE
        run.status = TrainingRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        save(run, "stage", "status", "finished_at")
        model.status = PersonalModel.Status.READY
        model.trained_at = run.finished_at
        model.save(update_fields=["status", "trained_at", "updated_at"])
        record(run, f"{model.name} is ready. Trigger word: {model.trigger_word}.")
        schedule_cleanup(run, user=run.user, model_name=model.name, kind=Cleanup.Kind.FILE,
                         target=run.zip_file.name, reason="training finished")
        _finished(run)


def finish_failed(run: TrainingRun, *, error: str, code: str, status=TrainingRun.Status.FAILED,
                  refund: bool = True) -> TrainingRun:
    """Final state for a run that did not succeed: refund when it is not the customer's doing,
    schedule the clean-up, tell the customer."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            return run
        run.status = status
        run.error, run.error_code = error[:2000], code
        run.finished_at = timezone.now()
        if refund and run.credits and not run.credits_refunded:
            outcome = "was canceled" if status == TrainingRun.Status.CANCELED else "failed"
            credits.refund(run.user, run.credits,
                           reason=f"Refund: training of {run.model.name} {outcome}",
                           reference=f"train:{run.id}:refund")
            run.credits_refunded = True
        run.save()
        run.model.status = (PersonalModel.Status.CANCELED if status == TrainingRun.Status.CANCELED
                            else PersonalModel.Status.FAILED)
        run.model.save(update_fields=["status", "updated_at"])
        record(run, error if status == TrainingRun.Status.FAILED else "Training canceled.",
               code=code, refunded=run.credits_refunded)
        schedule_run_cleanups(run, "training failed" if status == TrainingRun.Status.FAILED
                              else "training canceled")
        _finished(run)
    return run


CANCEL_REFUSED = ("{provider} could not stop this training: it had already started, so it may "
                  "still finish. If it ends without a model, your credits come back.")


def cancel(run: TrainingRun, provider) -> bool:
    """Cancel the run; False when the provider could not stop it (the run goes on, followed
    as before: a model if it finishes, a refund if it ends without one)."""
    started = bool(run.provider_id)
    if started and not provider.cancel(run):
        run.cancel_refused = True
        save(run, "cancel_refused")
        record(run, CANCEL_REFUSED.format(provider=provider.label))
        return False
    # Canceled before the provider began: nothing was spent there, so the credits come back.
    finish_failed(run, error="Canceled by the customer.", code="canceled",
                  status=TrainingRun.Status.CANCELED, refund=not started)
    return True


def advance(run: TrainingRun) -> float | None:
    """Move a claimed run as far as it can go now. The seconds to wait before looking at it
    again, or None when there is nothing to wait for (finished, or a stage to run next)."""
    provider = trainer(run.provider)
    if run.cancel_requested and not run.cancel_refused and cancel(run, provider):
        return None
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
            finish_failed(run, error="The training took too long.", code="timeout")
            return None
        if not follow(run, provider):
            return None if run.is_finished else provider.poll_seconds
    if run.stage == TrainingRun.Stage.PUBLISHING:
        publish_weights(run)
    return None
