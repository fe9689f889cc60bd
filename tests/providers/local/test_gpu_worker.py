"""The local engine as a GPU worker runs it, on this CPU with the tiny FLUX.1: its jobs are on
the gpu queue, the pipeline stays loaded from one job to the next, and a job whose GPU fails
(out of memory) is retried as transient after the device is freed, then succeeds; one whose
CUDA context is lost is retried too, and its worker asked to exit."""

import pytest
import torch
from diffusers import FluxPipeline
from django_tasks_db.models import DBTaskResult

from generation.actions import create_generation
from generation.models import Generation
from jobs.progress import restart_requested
from providers.local import engine, memory
from tests.providers.local.test_product import local_engine  # noqa: F401


@pytest.fixture
def loads(monkeypatch):
    """The pipelines really loaded from disk (and each freeing of the GPU), from a cold start."""
    engine.drop_pipelines()
    calls = {"load": 0, "free": 0}
    load, free = memory.load, memory.free_gpu

    def counted_load(*args, **kwargs):
        calls["load"] += 1
        return load(*args, **kwargs)

    def counted_free():
        calls["free"] += 1
        free()

    monkeypatch.setattr(memory, "load", counted_load)
    monkeypatch.setattr(memory, "free_gpu", counted_free)
    yield calls
    engine.drop_pipelines()


def generate(user, seed):
    return create_generation(user, prompt="a lighthouse", base_model="flux-schnell", seed=seed,
                             aspect_ratio="1:1")


def warm() -> list:
    return list(engine._cache.values())


def test_the_pipeline_stays_loaded_across_jobs(rich_alice, local_engine, loads,  # noqa: F811
                                               run_jobs):
    first, second = generate(rich_alice, 1), generate(rich_alice, 2)
    assert set(DBTaskResult.objects.values_list("queue_name", flat=True)) == {"gpu"}
    run_jobs(max_tasks=1)
    (pipe,) = warm()
    run_jobs(max_tasks=1)
    for generation in (first, second):
        generation.refresh_from_db()
        assert generation.status == "succeeded", generation.error
    assert warm() == [pipe] and warm()[0] is pipe, "the second job used the same pipeline"
    assert loads == {"load": 1, "free": 0}


def test_a_job_whose_gpu_runs_out_of_memory_is_retried_after_the_device_is_freed(
        settings, rich_alice, local_engine, loads, run_jobs, monkeypatch):  # noqa: F811
    settings.GENERATION_PROVIDER_ATTEMPTS = 1  # one try at the provider per job
    calls = []
    real_call = FluxPipeline.__call__

    def out_of_memory_once(pipe, *args, **kwargs):
        calls.append(pipe)
        if len(calls) == 1:  # what torch raises when a CUDA allocation fails
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_call(pipe, *args, **kwargs)

    monkeypatch.setattr(FluxPipeline, "__call__", out_of_memory_once)
    generation = generate(rich_alice, 3)
    run_jobs(max_tasks=1)

    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING and not generation.failures
    assert generation.credits_reserved == 1 and generation.slot_states == ["queued"]
    assert warm() == [] and loads == {"load": 1, "free": 1}, "the pipeline dropped, GPU freed"
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert (retry.task_path, retry.queue_name) == ("generation.tasks.run_generation", "gpu")

    run_jobs()
    generation.refresh_from_db()
    assert generation.status == "succeeded", generation.error
    assert generation.images.count() == 1 and generation.attempts == 2
    assert loads["load"] == 2 and calls[1] is not calls[0], "loaded afresh for the retry"


def test_a_lost_cuda_context_retries_the_job_and_restarts_the_worker(
        settings, rich_alice, local_engine, loads, run_jobs, monkeypatch):  # noqa: F811
    settings.GENERATION_PROVIDER_ATTEMPTS = 1

    def illegal_access(pipe, *args, **kwargs):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(FluxPipeline, "__call__", illegal_access)
    generation = generate(rich_alice, 4)
    run_jobs(max_tasks=1)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING and generation.credits_reserved == 1
    assert warm() == [] and loads["free"] == 1
    assert restart_requested(), "the worker exits after this job (jobs.progress)"
    assert DBTaskResult.objects.filter(status="READY", queue_name="gpu").count() == 1


def test_a_local_training_takes_the_card_from_the_warm_pipeline(local_engine, tiny_dir,  # noqa: F811
                                                                loads, monkeypatch, tmp_path):
    from providers.local import jobs, training

    engine.load_pipeline(tiny_dir, "cpu-fp32")
    assert len(warm()) == 1
    spawned = []
    monkeypatch.setattr(jobs, "spawn", lambda *args, **kwargs: spawned.append(warm()))

    class Run:
        id, steps, learning_rate, lora_rank = "run-1", 6, 1e-2, 4

    training.LocalTrainer()._spawn(Run())
    assert spawned == [[]], "the pipeline was dropped before the trainer started"
    assert loads["free"] == 1
