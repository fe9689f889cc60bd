"""The studio's background work. `advance_training` moves a run as far as it can go now
(studio.pipeline) and queues itself again when it has to wait; any number of copies may be
queued (by webhooks, polls and the reconcile sweep) because the run's lease lets only one work
at a time."""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from accounts.models import User
from jobs.queue import enqueue
from jobs.retry import retry_or_fail
from jobs.routes import LOCAL, register_kind
from likeness.errors import PrivateModeRefused, ProviderError
from providers.registry import publisher
from studio import cleanup, pipeline
from studio.models import PersonalModel, TrainingRun
from studio.runs import notify, private_repo, record, save

logger = logging.getLogger(__name__)


def _after_error(run: TrainingRun, exc: Exception):
    """Count the attempt and retry the run later, or fail it for good."""
    run.refresh_from_db()
    run.attempts += 1
    save(run, "attempts")
    if isinstance(exc, ProviderError):
        record(run, f"{'Temporary' if exc.transient else 'Permanent'} provider error: {exc}",
               code=exc.code, attempt=run.attempts)
        code, error = "provider_rejected", str(exc)
    elif isinstance(exc, PrivateModeRefused):  # final: the trainer is not in-house
        record(run, str(exc), code=exc.code, attempt=run.attempts)
        code, error = exc.code, str(exc)
    else:
        logger.exception("training %s crashed", run.id, exc_info=exc)
        code, error = "internal_error", f"{type(exc).__name__}: {exc}"
    pipeline.release(run)
    retry_or_fail(advance_training, str(run.id), attempt=run.attempts, error=exc,
                  give_up=lambda: pipeline.finish_failed(run, error=error, code=code))


@task()
def advance_training(run_id: str):
    run = pipeline.claim(run_id)
    if run is None:
        return
    try:
        wait = pipeline.advance(run)
        if wait is not None:
            enqueue(advance_training, str(run.id),
                    run_after=timezone.now() + timedelta(seconds=wait))
        if run.attempts:
            TrainingRun.objects.filter(pk=run.pk).update(attempts=0)
    except Exception as exc:
        _after_error(run, exc)
    finally:
        pipeline.release(run)


def training_kind(run_id: str, *args, **kwargs) -> str | None:
    """`local` for a run the local GPU engine trains: every step of it (the photos unpacked,
    the trainer's process spawned and polled) runs on a GPU worker (TASK_ROUTES)."""
    provider = TrainingRun.objects.filter(pk=run_id).values_list("provider", flat=True).first()
    return LOCAL if provider == LOCAL else None


register_kind(advance_training, training_kind)


@task()
def send_training_email(run_id: str, attempt: int = 1):
    """The "ready" or "failed" e-mail, as its own job: a mail outage is retried, not fatal."""
    run = TrainingRun.objects.select_related("model", "user").filter(pk=run_id).first()
    if run is None or not run.is_finished or run.status == TrainingRun.Status.CANCELED:
        return
    try:
        notify(run, failed=run.status == TrainingRun.Status.FAILED)
    except Exception as exc:
        logger.exception("could not send the training e-mail for %s", run_id)
        retry_or_fail(send_training_email, run_id, attempt + 1, attempt=attempt, error=exc)


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


@task()
def sweep_cleanups():
    return cleanup.sweep()


@task()
def apply_photo_retention():
    """Recurring (RECURRING_TASKS): the retention of training photos."""
    return cleanup.apply_photo_retention()


@task()
def sync_repo_visibility(user_id: int, attempt: int = 1):
    """Make the user's published repositories private or public as their plan now says."""
    hub = publisher()
    if not hub.configured():
        return
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    private = private_repo(user)
    for model in PersonalModel.objects.filter(user=user).exclude(hf_repo_id=""):
        if model.hf_private == private:
            continue
        try:
            hub.set_visibility(model.hf_repo_id, private=private)
        except ProviderError as exc:
            if retry_or_fail(sync_repo_visibility, user_id, attempt + 1, attempt=attempt,
                             error=exc):
                return
            logger.error("cannot change the visibility of %s: %s", model.hf_repo_id, exc)
            continue
        PersonalModel.objects.filter(pk=model.pk).update(hf_private=private)
