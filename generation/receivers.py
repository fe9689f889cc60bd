"""Generation's reaction to the jobs' give-up signal. Connected in GenerationConfig.ready()."""

from django.dispatch import receiver

from generation.models import Generation
from generation.results import fail_remaining
from generation.tasks import run_generation
from jobs.reaper import task_abandoned


@receiver(task_abandoned, dispatch_uid="generation.abandon_generation")
def abandon_generation(sender, task_path, args, kwargs, **extra):
    """The job died with its workers too often: finish it and refund what is missing."""
    if task_path != run_generation.module_path or not args:
        return
    generation = Generation.objects.filter(pk=args[0]).first()
    if generation and not generation.is_finished:
        fail_remaining(generation, "worker_lost", "The job was interrupted too many times.")
