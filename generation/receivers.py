"""Generation's reactions: to the jobs' give-up signal, to a finished training (its validation
round), and to a deleted validation sample (its file). Connected in GenerationConfig.ready()."""

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from generation import validation
from generation.instant_tasks import run_instant
from generation.models import Generation, ValidationSample
from generation.results import fail_remaining
from generation.tasks import run_generation
from generation.version_tasks import run_version
from jobs.queue import enqueue
from jobs.reaper import task_abandoned
from studio.models import TrainingRun
from studio.signals import training_finished


@receiver(task_abandoned, dispatch_uid="generation.abandon_generation")
def abandon_generation(sender, task_path, args, kwargs, **extra):
    """The job died with its workers too often: finish it and refund what is missing."""
    if task_path not in (run_generation.module_path, run_version.module_path,
                         run_instant.module_path) or not args:
        return
    generation = Generation.objects.filter(pk=args[0]).first()
    if generation and not generation.is_finished:
        fail_remaining(generation, "worker_lost", "The job was interrupted too many times.")


@receiver(training_finished, dispatch_uid="generation.validate_trained_model")
def validate_trained_model(sender, run, **kwargs):
    """A model just trained: measure its likeness and tune its strength."""
    if run.status == TrainingRun.Status.SUCCEEDED:
        run.model.refresh_from_db()
        if validation.wanted(run.model):
            enqueue(validation.validate_model, str(run.model_id))


@receiver(post_delete, sender=ValidationSample, dispatch_uid="generation.sample_file")
def delete_sample_file(sender, instance, **kwargs):
    name = instance.thumbnail.name
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))
