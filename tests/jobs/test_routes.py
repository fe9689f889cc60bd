"""Task routing by kind (TASK_ROUTES, jobs.routes): work for the local GPU engine goes to the
`gpu` queue, which only GPU workers take, and a GPU worker takes nothing else; on the database
queue and on Redis (RQ)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from generation.models import Generation
from generation.tasks import run_generation
from generation.validation import validate_model
from jobs.management.commands.db_worker import plan_queues
from jobs.queue import enqueue
from jobs.routes import gpu_queues, queue_for, register_kind
from studio.catalogue import TRAINING_DEFAULTS
from studio.models import TrainingRun
from studio.tasks import advance_training
from tests.factories import make_generation, make_personal_model

RAN: list[str] = []


@task()
def note(name: str):
    RAN.append(name)


# A task whose kind is in its argument, to drive the routing without a provider.
register_kind(note, lambda name: "local" if name.startswith("gpu") else None)


@pytest.fixture(autouse=True)
def _clean():
    RAN.clear()
    yield
    RAN.clear()


def queued() -> dict[str, str]:
    return {row.args_kwargs["args"][0]: row.queue_name
            for row in DBTaskResult.objects.filter(task_path=note.module_path)}


def test_local_work_goes_to_the_gpu_queue_everything_else_to_default(db):
    enqueue(note, "gpu-1")
    enqueue(note, "web-1")
    assert queued() == {"gpu-1": "gpu", "web-1": "default"}


def test_a_dotted_path_routes_a_task_and_a_queue_chosen_in_code_stays(settings, db):
    settings.TASK_ROUTES = {"local": "gpu", note.module_path: "slow"}
    assert queue_for(note, ("web-1",)) == "slow"
    assert queue_for(note, ("gpu-1",)) == "gpu", "the kind wins over the task's path"
    assert queue_for(note.using(queue_name="gpu"), ("web-1",)) == "gpu"


def test_routing_local_to_the_default_queue_makes_no_gpu_queue(settings, db):
    settings.TASK_ROUTES = {"local": "default"}
    assert gpu_queues() == set()
    assert queue_for(note, ("gpu-1",)) == "default"


def test_generations_trainings_and_validations_are_local_by_their_route(settings, alice):
    settings.GENERATION_PROVIDERS = ["together"]
    settings.GENERATION_ROUTES = {"flux-schnell": ["local", "together"]}
    schnell, dev = make_generation(alice), make_generation(alice, base_model="flux-dev")
    assert queue_for(run_generation, (str(schnell.id),)) == "gpu"
    assert queue_for(run_generation, (str(dev.id),)) == "default"

    model = make_personal_model(alice)
    assert queue_for(validate_model, (str(model.id),)) == "default"
    settings.GENERATION_ROUTES = {"personal": ["local", "replicate"]}
    assert queue_for(validate_model, (str(model.id),)) == "gpu"
    demo = make_personal_model(alice, name="Demo", trigger_word="qarvel", demo=True)
    assert queue_for(validate_model, (str(demo.id),)) == "default", "demo weights: demo only"

    local = TrainingRun.objects.create(user=alice, model=model, provider="local", credits=0,
                                       **TRAINING_DEFAULTS)
    cloud = TrainingRun.objects.create(user=alice, model=demo, provider="replicate", credits=0,
                                       **TRAINING_DEFAULTS)
    assert queue_for(advance_training, (str(local.id),)) == "gpu"
    assert queue_for(advance_training, (str(cloud.id),)) == "default"


def test_two_people_in_one_picture_are_not_drawn_locally(settings, alice):
    settings.GENERATION_ROUTES = {"personal": ["local", "together"]}
    first = make_personal_model(alice)
    second = make_personal_model(alice, name="Bob", trigger_word="qarvel")
    one = make_generation(alice, base_model="flux-dev")
    Generation.objects.filter(pk=one.pk).update(personal_model=first, lora_scale=1.0)
    two = make_generation(alice, base_model="flux-dev")
    Generation.objects.filter(pk=two.pk).update(personal_model=first, lora_scale=1.0,
                                                 second_model=second, second_lora_scale=1.0)
    assert queue_for(run_generation, (str(one.id),)) == "gpu"
    assert queue_for(run_generation, (str(two.id),)) == "default", "local takes one LoRA"


def test_a_personal_model_without_a_stored_copy_is_not_drawn_locally(settings, alice):
    settings.GENERATION_ROUTES = {"personal": ["local", "replicate"]}
    model = make_personal_model(alice, provider_version="owner/model:abc")
    model.weights = ""
    model.save()
    assert queue_for(validate_model, (str(model.id),)) == "default"


@pytest.mark.parametrize(("queues", "excluded"), [
    (["default"], []),
    (["*"], ["gpu"]),
    (["default", "mail"], []),
])
def test_a_default_worker_never_takes_the_gpu_queue(settings, queues, excluded):
    assert plan_queues(queues, [], None) == (queues, excluded, settings.WORKER_THREADS)


def test_a_gpu_worker_takes_only_its_queue_one_job_per_device(settings):
    assert plan_queues(["gpu"], [], None) == (["gpu"], [], 1)
    settings.GPU_JOBS_PER_DEVICE = 2
    assert plan_queues(["gpu"], [], None)[2] == 2
    with pytest.raises(CommandError, match="takes only its queue"):
        plan_queues(["gpu", "default"], [], None)
    with pytest.raises(CommandError, match="at most GPU_JOBS_PER_DEVICE=2"):
        plan_queues(["gpu"], [], 3)


def run_worker(queue_name: str):
    """The real command, one batch of everything ready (no heartbeat thread races the test)."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0",
                 "--queue-name", queue_name, "--worker-id", f"test-{queue_name[:8]}")


@pytest.mark.django_db(transaction=True)
def test_the_command_runs_default_and_gpu_work_on_their_own_workers():
    for name in ("gpu-1", "web-1", "gpu-2", "web-2"):
        enqueue(note, name)
    run_worker("*")
    assert sorted(RAN) == ["web-1", "web-2"], "`*` takes every queue but the GPU one"
    RAN.clear()
    enqueue(note, "web-3")
    run_worker("gpu")
    assert sorted(RAN) == ["gpu-1", "gpu-2"], "the GPU worker took only GPU work"
    assert DBTaskResult.objects.filter(status="READY").get().args_kwargs["args"] == ["web-3"]
    with pytest.raises(CommandError, match="takes only its queue"):
        run_worker("gpu,default")


@pytest.fixture
def rq_backend(settings):
    """TASK_BACKEND=rq as likeness.settings.jobs builds it, on a Redis database of its own."""
    pytest.importorskip("django_tasks_rq")
    import django_rq
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    url = "redis://127.0.0.1:6379/13"
    try:
        Redis.from_url(url).ping()
    except RedisDown:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.RQ_QUEUES = {name: {"URL": url} for name in settings.TASK_QUEUES}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend",
                                  "QUEUES": settings.TASK_QUEUES}}
    queues = {name: django_rq.get_queue(name) for name in settings.TASK_QUEUES}
    for queue in queues.values():
        queue.empty()
    yield queues
    for queue in queues.values():
        queue.empty()


@pytest.mark.django_db(transaction=True)
def test_on_redis_each_kind_lands_in_its_rq_queue(rq_backend):
    from django_tasks_rq import Job
    from rq import SimpleWorker

    for name in ("gpu-1", "web-1"):
        enqueue(note, name)
    assert [job.args for job in rq_backend["gpu"].get_jobs()] == [("gpu-1",)]
    assert [job.args for job in rq_backend["default"].get_jobs()] == [("web-1",)]
    connection = rq_backend["default"].connection
    # As `manage.py rqworker default --job-class django_tasks_rq.Job` does.
    SimpleWorker([rq_backend["default"]], connection=connection, job_class=Job).work(burst=True)
    assert RAN == ["web-1"] and rq_backend["gpu"].count == 1, "rqworker default left GPU work"
    SimpleWorker([rq_backend["gpu"]], connection=connection, job_class=Job).work(burst=True)
    assert RAN == ["web-1", "gpu-1"]
