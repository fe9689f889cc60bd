"""The studio's reactions: to its own finished runs (the e-mail, the clean-up sweep) and to the
jobs' give-up signal. Connected in StudioConfig.ready()."""

from django.dispatch import receiver

from jobs.queue import enqueue
from jobs.reaper import task_abandoned
from studio import pipeline, tasks
from studio.models import TrainingRun
from studio.signals import training_finished


@receiver(training_finished, dispatch_uid="studio.after_training")
def after_training(sender, run, **kwargs):
    if run.status != TrainingRun.Status.CANCELED:
        enqueue(tasks.send_training_email, str(run.id))
    enqueue(tasks.sweep_cleanups)


@receiver(task_abandoned, dispatch_uid="studio.abandon_training")
def abandon_training(sender, task_path, args, kwargs, **extra):
    """The job died with its workers too often: finish the run and refund it."""
    if task_path == tasks.advance_training.module_path and args:
        run = TrainingRun.objects.filter(pk=args[0]).first()
        if run and not run.is_finished:
            pipeline.finish_failed(run, error="The job was interrupted too many times.",
                                   code="worker_lost")
