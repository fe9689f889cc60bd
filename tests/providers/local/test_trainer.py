"""The trainer on the tiny model: a LoRA the engine loads, progress per step, and a training
that is stopped or killed part-way continues from its last checkpoint to the same result."""

import json
import signal
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from providers.local import jobs
from providers.local.trainer import checkpoints, train

from .conftest import TRAINING

KILLED_AT = 5
# A training that SIGKILLs itself right after step 5 (checkpoints are at 2 and 4): as sudden as
# a worker killing it or the machine losing power, and at an exact step.
KILLED = """
import os, signal, sys
from providers.local.trainer import train
def progress(step, total, loss):
    if step == {killed_at}:
        os.kill(os.getpid(), signal.SIGKILL)
train(sys.argv[1], sys.argv[2], base_model_dir=sys.argv[3], on_progress=progress, **{training})
"""


def same_weights(a, b):
    first, second = load_file(a), load_file(b)
    return first.keys() == second.keys() and all(
        torch.allclose(first[k], second[k], rtol=0, atol=1e-6) for k in first)


def test_training_writes_a_lora_the_pipeline_can_load(trained):
    result, output, calls = trained
    assert (result.state, result.step, result.total) == ("succeeded", 6, 6)
    assert [(step, total) for step, total, _ in calls] == [(n, 6) for n in range(1, 7)]
    weights = load_file(result.lora_path)
    assert result.lora_path == output / "lora.safetensors"
    assert any(k.startswith("transformer.") and "to_q.lora_A" in k for k in weights)
    assert {tuple(t.shape) for k, t in weights.items() if "to_q.lora_A" in k} == {(4, 16)}
    progress = json.loads((output / "progress.json").read_text())
    assert (progress["state"], progress["step"], progress["total"]) == ("succeeded", 6, 6)
    log = (output / "train.log").read_text()
    assert "step 6/6 loss" in log and "wrote" in log
    assert [n for n, _ in checkpoints(output)] == [2, 4]


def test_training_again_when_done_returns_at_once(trained, tiny_dir, photos_dir):
    result, output, _ = trained
    calls = []
    again = train(photos_dir, output, base_model_dir=tiny_dir,
                  on_progress=lambda *a: calls.append(a), **TRAINING)
    assert (again.state, again.lora_path, calls) == ("succeeded", result.lora_path, [])


def test_a_stopped_training_resumes_to_the_same_lora(tmp_path, trained, tiny_dir, photos_dir):
    calls = []
    stopped = train(photos_dir, tmp_path, base_model_dir=tiny_dir, **TRAINING,
                    on_progress=lambda *a: calls.append(a), should_stop=lambda: len(calls) == 3)
    assert (stopped.state, stopped.step, stopped.lora_path) == ("stopped", 3, None)
    assert [n for n, _ in checkpoints(tmp_path)][-1] == 3
    resumed = train(photos_dir, tmp_path, base_model_dir=tiny_dir, **TRAINING,
                    on_progress=lambda *a: calls.append(a))
    assert (resumed.state, resumed.resumed_from, resumed.step) == ("succeeded", 3, 6)
    assert [step for step, _, _ in calls] == [1, 2, 3, 4, 5, 6]
    assert same_weights(resumed.lora_path, trained[0].lora_path)


def test_a_stop_file_stops_before_the_next_step(tmp_path, tiny_dir, photos_dir):
    jobs.request_stop(tmp_path)  # as a worker asks a training in another process to stop
    stopped = train(photos_dir, tmp_path, base_model_dir=tiny_dir, **TRAINING)
    assert (stopped.state, stopped.step) == ("stopped", 0)
    assert jobs.read_progress(tmp_path)["state"] == "stopped"
    assert "stopped at step 0/6" in jobs.read_log(tmp_path)


@pytest.mark.slow
def test_a_killed_training_process_resumes_from_its_checkpoint(tmp_path, trained, tiny_dir,
                                                              photos_dir):
    output = tmp_path / "run"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED.format(killed_at=KILLED_AT, training=TRAINING),
         str(photos_dir), str(output), str(tiny_dir)],
        cwd=jobs.ROOT, env={**jobs.os.environ, "PYTHONPATH": str(jobs.ROOT)}, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert [n for n, _ in checkpoints(output)] == [2, 4]
    assert jobs.read_progress(output)["step"] == KILLED_AT
    assert not (output / "lora.safetensors").exists()

    process = jobs.spawn(photos_dir, output, base_model_dir=tiny_dir, **TRAINING)
    assert process.wait(timeout=300) == 0, (output / "process.log").read_text()
    assert not jobs.is_running(output)
    progress = jobs.read_progress(output)
    assert (progress["state"], progress["step"], progress["total"]) == ("succeeded", 6, 6)
    log = jobs.read_log(output, tail=100)
    after = log.split("resumed from checkpoint-000004")[1]
    assert [line.split()[3] for line in after.splitlines() if " step " in line] == ["5/6", "6/6"]
    assert same_weights(output / "lora.safetensors", trained[0].lora_path)


def test_a_photo_without_a_caption_fails_clearly(tmp_path, tiny_dir, photos_dir):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "01.jpg").write_bytes((photos_dir / "01.jpg").read_bytes())
    with pytest.raises(ValueError, match="01.jpg has no caption file 01.txt"):
        train(tmp_path / "photos", tmp_path / "out", base_model_dir=tiny_dir, **TRAINING)
    assert jobs.read_progress(tmp_path / "out")["state"] == "failed"
