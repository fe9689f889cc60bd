"""The bookkeeping of a training run: its timeline, its costs, what it leaves to clean up, and
what the customer reads about it (the page, the e-mail)."""

from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from studio.models import Cleanup, PersonalModel, TrainingEvent, TrainingRun

ERROR_EXPLANATIONS = {
    "provider_rejected": "The training service refused the request.",
    "provider_failed": "The training service reported an error while training.",
    "timeout": "The training took far longer than it should and was stopped.",
    "weights_missing": "The training finished but its result could not be downloaded.",
    "worker_lost": "Our job was interrupted too many times.",
    "internal_error": "Something went wrong on our side.",
}


def record(run: TrainingRun, message: str, *, status: str | None = None, **data):
    """One line of the run's timeline, with debug data (provider ids, request summaries)."""
    return TrainingEvent.objects.create(run=run, stage=run.stage, status=status or run.status,
                                        message=message[:500], data=data)


def save(run: TrainingRun, *fields):
    run.save(update_fields=[*fields, "updated_at"])


def estimate_cents(steps: int) -> Decimal:
    return (Decimal(str(settings.TRAINING_PRICE_PER_STEP_CENTS)) * steps).quantize(Decimal("0.01"))


def actual_cents(predict_time: float | None) -> Decimal | None:
    if predict_time is None:
        return None
    return (Decimal(str(settings.TRAINING_PRICE_PER_SECOND_CENTS))
            * Decimal(str(predict_time))).quantize(Decimal("0.01"))


def private_repo(user) -> bool:
    return user.plan_info.private_models or not settings.HF_PUBLIC_REPOS


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


def explain(run: TrainingRun) -> str:
    """The error in plain words, for the page and the e-mail."""
    plain = ERROR_EXPLANATIONS.get(run.error_code, "The training did not complete.")
    return f"{plain} ({run.error})" if run.error and run.error not in plain else plain


def can_retry(run: TrainingRun) -> bool:
    return (run.status in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED)
            and active_run(run.model) is None
            and run.model.status in (PersonalModel.Status.FAILED, PersonalModel.Status.CANCELED))


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
