"""Training actions: start (charging credits), cancel, retry, and the run's bookkeeping
(events, failure with refund and clean-up, success, notifications)."""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from credits import actions as credits
from jobs.queue import enqueue
from likeness.errors import Conflict, InvalidInput
from providers.training import TRAINERS, training_provider
from studio.actions import TRAINING_DEFAULTS, _clean_parameter
from studio.models import Cleanup, PersonalModel, TrainingEvent, TrainingRun

logger = logging.getLogger(__name__)


def record(run: TrainingRun, message: str, *, status: str | None = None, **data):
    """One line of the run's timeline, with debug data (provider ids, request summaries)."""
    return TrainingEvent.objects.create(run=run, stage=run.stage, status=status or run.status,
                                        message=message[:500], data=data)


def estimate_cents(steps: int) -> Decimal:
    return (Decimal(str(settings.TRAINING_PRICE_PER_STEP_CENTS)) * steps).quantize(Decimal("0.01"))


def actual_cents(predict_time: float | None) -> Decimal | None:
    if predict_time is None:
        return None
    return (Decimal(str(settings.TRAINING_PRICE_PER_SECOND_CENTS))
            * Decimal(str(predict_time))).quantize(Decimal("0.01"))


def private_repo(user) -> bool:
    return user.plan_info.private_models or not settings.HF_PUBLIC_REPOS


def start_training(model: PersonalModel, *, provider: str | None = None,
                   callback_url: str | None = None, **params) -> TrainingRun:
    """Charge the training's credits and queue its first stage, all or nothing."""
    from api.callbacks import check_url
    from studio.tasks import advance_training

    callback_url = check_url(callback_url)
    provider = provider or settings.TRAINING_PROVIDER
    if provider not in TRAINERS:
        raise InvalidInput("provider", f"Unknown training provider {provider!r}; "
                                       f"available: {', '.join(TRAINERS)}.")
    values = {name: _clean_parameter(name, params.get(name, getattr(model, name, None)))
              for name in TRAINING_DEFAULTS}
    with transaction.atomic():
        model = PersonalModel.objects.select_for_update().get(pk=model.pk)
        from billing.enforcement import ensure_usable

        ensure_usable(model)  # a model beyond the plan's slots waits for the customer's choice
        if active_run(model) is not None or model.status not in (
                PersonalModel.Status.DRAFT, PersonalModel.Status.QUEUED,
                PersonalModel.Status.FAILED, PersonalModel.Status.CANCELED):
            raise Conflict(f"The model is {model.get_status_display().lower()}; it cannot be "
                           "trained again now.", status=model.status)
        count = model.photos.count()
        if count < settings.MODEL_MIN_PHOTOS:
            raise InvalidInput("photos", f"The model has {count} photo(s); it needs at least "
                                         f"{settings.MODEL_MIN_PHOTOS} (10–20 is best).")
        for name, value in values.items():
            setattr(model, name, value)
        run = TrainingRun.objects.create(
            user=model.user, model=model, provider=provider, credits=settings.TRAINING_CREDITS,
            cost_estimate_cents=estimate_cents(values["steps"]), callback_url=callback_url,
            **values,
        )
        if run.credits:
            credits.spend(model.user, run.credits, reason=f"Training of {model.name}",
                          reference=f"train:{run.id}")
        model.status = PersonalModel.Status.QUEUED
        model.queued_at = timezone.now()
        model.save()
        record(run, f"Training queued with {training_provider(provider).label}: {count} photos, "
                    f"{values['steps']} steps.", credits=run.credits,
               cost_estimate_cents=str(run.cost_estimate_cents))
        enqueue(advance_training, str(run.id))
    return run


def request_cancel(run: TrainingRun) -> TrainingRun:
    from studio.tasks import advance_training

    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            raise Conflict(f"The training has already {run.get_status_display().lower()}.",
                           status=run.status)
        if not run.cancel_requested:
            run.cancel_requested = True
            run.save(update_fields=["cancel_requested", "updated_at"])
            record(run, "Cancel requested.")
        enqueue(advance_training, str(run.id))
    return run


def active_run(model: PersonalModel) -> TrainingRun | None:
    return model.runs.exclude(status__in=TrainingRun.FINAL).first()


def schedule_cleanup(run: TrainingRun | None, *, user, model_name: str, kind: str, target: str,
                     reason: str, provider: str = "") -> Cleanup | None:
    if not target:
        return None
    cleanup, _ = Cleanup.objects.get_or_create(
        kind=kind, provider=provider, target=target,
        defaults={"run": run, "user": user, "model_name": model_name, "reason": reason},
    )
    return cleanup


def schedule_run_cleanups(run: TrainingRun, reason: str, *, keep_published=False):
    """Everything a finished run leaves outside the database: its ZIP, the provider's
    destination model, and (unless the model is ready and keeps it) the Hub repository."""
    args = {"user": run.user, "model_name": run.model.name, "reason": reason}
    schedule_cleanup(run, kind=Cleanup.Kind.FILE, target=run.zip_file.name, **args)
    if not keep_published:
        schedule_cleanup(run, kind=Cleanup.Kind.PROVIDER_MODEL, provider=run.provider,
                         target=run.provider_ref, **args)


def finish_failed(run: TrainingRun, *, error: str, code: str, status=TrainingRun.Status.FAILED,
                  refund: bool = True):
    """Final state for a run that did not succeed: refund when it is not the customer's doing,
    schedule the clean-up, tell the customer."""
    from studio.tasks import sweep_cleanups

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
        model = run.model
        model.status = (PersonalModel.Status.CANCELED if status == TrainingRun.Status.CANCELED
                        else PersonalModel.Status.FAILED)
        model.save(update_fields=["status", "updated_at"])
        record(run, error if status == TrainingRun.Status.FAILED else "Training canceled.",
               code=code, refunded=run.credits_refunded)
        schedule_run_cleanups(run, "training failed" if status == TrainingRun.Status.FAILED
                              else "training canceled")
        schedule_callback(run)
        enqueue(sweep_cleanups)
        if status == TrainingRun.Status.FAILED:
            from studio.tasks import send_training_email

            enqueue(send_training_email, str(run.id))
    return run


def schedule_callback(run: TrainingRun):
    from api.callbacks import schedule

    schedule(run.user, "training", run.id, run.callback_url)


def notify(run: TrainingRun, *, failed: bool):
    link = settings.PUBLIC_BASE_URL + reverse("training_detail", args=[run.id])
    if failed:
        subject = f"Training of {run.model.name} failed"
        body = (f"We could not train your model {run.model.name}.\n\n{explain(run)}\n\n"
                f"{'Your credits were refunded.' if run.credits_refunded else ''}\n\n"
                f"Details and a retry button: {link}\n")
    else:
        subject = f"{run.model.name} is ready"
        body = (f"Your personal model {run.model.name} is trained and ready.\n\n"
                f"Use the trigger word {run.model.trigger_word} in your prompts.\n\n{link}\n")
    send_mail(subject, body, None, [run.user.email])


ERROR_EXPLANATIONS = {
    "provider_rejected": "The training service refused the request.",
    "provider_failed": "The training service reported an error while training.",
    "timeout": "The training took far longer than it should and was stopped.",
    "weights_missing": "The training finished but its result could not be downloaded.",
    "worker_lost": "Our job was interrupted too many times.",
    "internal_error": "Something went wrong on our side.",
}


def explain(run: TrainingRun) -> str:
    """The error in plain words, for the page and the e-mail."""
    plain = ERROR_EXPLANATIONS.get(run.error_code, "The training did not complete.")
    return f"{plain} ({run.error})" if run.error and run.error not in plain else plain


def can_retry(run: TrainingRun) -> bool:
    return (run.status in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED)
            and active_run(run.model) is None
            and run.model.status in (PersonalModel.Status.FAILED, PersonalModel.Status.CANCELED))


def retry(run: TrainingRun) -> TrainingRun:
    if not can_retry(run):
        raise Conflict("This training cannot be retried now.")
    return start_training(run.model, provider=run.provider, steps=run.steps,
                          learning_rate=run.learning_rate, lora_rank=run.lora_rank)
