"""Job ids (and the job's account) on every log line a task writes, from django_tasks' signals."""

import logging

from django.apps import apps
from django.dispatch import receiver
from django_tasks.signals import task_finished, task_started

from observability import context

logger = logging.getLogger(__name__)

# Tasks whose first argument is the id of a row that belongs to an account.
OWNERS = {
    "generation.tasks.run_generation": ("generation", "Generation"),
    "generation.version_tasks.run_version": ("generation", "Generation"),
    "studio.tasks.advance_training": ("studio", "TrainingRun"),
    "studio.tasks.send_training_email": ("studio", "TrainingRun"),
}


def _account_of(task_result) -> str:
    owner = OWNERS.get(task_result.task.module_path)
    if owner is None or not task_result.args:
        return ""
    try:
        model = apps.get_model(*owner)
        user_id = model.objects.filter(pk=task_result.args[0]).values_list("user_id",
                                                                             flat=True).first()
    except Exception:  # a bad id must not stop the task
        return ""
    return str(user_id) if user_id is not None else ""


@receiver(task_started)
def job_started(sender, task_result, **kwargs):
    context.job_id.set(str(task_result.id))
    context.account_id.set(_account_of(task_result))


@receiver(task_finished)
def job_finished(sender, task_result, **kwargs):
    logger.info("job %s finished: %s", task_result.task.module_path, task_result.status,
                extra={"task": task_result.task.module_path, "status": str(task_result.status)})
    context.job_id.set("")
    context.account_id.set("")
