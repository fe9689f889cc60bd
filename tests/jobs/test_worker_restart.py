"""A worker whose process cannot go on (its GPU lost the CUDA context, jobs.progress.
request_restart) finishes the task in hand, takes no other, and exits with EXIT_RESTART so its
supervisor starts a fresh process."""

import pytest
from django.core.management import call_command
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from jobs.progress import EXIT_RESTART, request_restart, restart_requested
from jobs.queue import enqueue

RAN: list[str] = []


@task()
def lose_context(name: str):
    RAN.append(name)
    if name == "first":
        request_restart("an illegal memory access was encountered")


@pytest.mark.django_db(transaction=True)
def test_the_worker_exits_for_a_restart_after_the_task_in_hand():
    RAN.clear()
    enqueue(lose_context, "first")
    enqueue(lose_context, "second")
    assert not restart_requested()
    with pytest.raises(SystemExit) as exited:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload",
                     "--interval", "0", "--threads", "1", "--worker-id", "restart-test")
    assert exited.value.code == EXIT_RESTART
    assert RAN == ["first"], "no task was taken after the restart was asked for"
    left = DBTaskResult.objects.get(status="READY")
    assert left.args_kwargs["args"] == ["second"], "the next worker takes it"
