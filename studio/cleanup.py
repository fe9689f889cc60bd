"""What the studio removes outside the database (files, provider destinations, Hub
repositories), retried until it is done, and the training photos past their retention."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from providers.registry import publisher, trainer
from studio.models import Cleanup, PersonalModel, TrainingPhoto, TrainingRun

logger = logging.getLogger(__name__)


def run_cleanup(cleanup: Cleanup):
    if cleanup.kind == Cleanup.Kind.FILE:
        default_storage.delete(cleanup.target)
    elif cleanup.kind == Cleanup.Kind.PROVIDER_MODEL:
        trainer(cleanup.provider, deleting=True).delete_ref(cleanup.target)  # PRIVATE_MODE too
    elif cleanup.kind == Cleanup.Kind.HF_REPO:
        hub = publisher()
        if hub.configured():
            hub.delete_repo(cleanup.target)


def sweep() -> int:
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


def apply_photo_retention(now=None) -> int:
    """Delete the training photos of models whose training ended more than
    TRAINING_PHOTO_RETENTION_DAYS ago (off when 0). The trained model keeps working."""
    days = settings.TRAINING_PHOTO_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    busy = TrainingRun.objects.exclude(status__in=TrainingRun.FINAL).values("model_id")
    done = TrainingRun.objects.filter(status__in=TrainingRun.FINAL, finished_at__lte=cutoff)
    models = PersonalModel.objects.filter(pk__in=done.values("model_id")).exclude(
        pk__in=busy).exclude(status=PersonalModel.Status.DRAFT)
    removed = 0
    for photo in TrainingPhoto.objects.filter(model__in=models):
        for field in (photo.file, photo.thumbnail):
            if field.name:
                default_storage.delete(field.name)
        photo.delete()
        removed += 1
    if removed:
        logger.info("retention: deleted %d training photos older than %d days", removed, days)
    return removed
