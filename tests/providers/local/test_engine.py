"""The engine on the tiny model: offline loading, seeds, progress, guidance, LoRAs applied per
request and removed again, and GPU failures classified as transient."""

import gc
import weakref

import numpy as np
import peft
import pytest
import torch

from providers.local import engine, memory
from providers.local.engine import EngineError

PROMPT = "a photo of tok person in a park"
SIZE = {"width": 32, "height": 32}


def pixels(images):
    return np.stack([np.asarray(image, dtype=np.int16) for image in images])


def test_loads_offline_and_a_seed_gives_the_same_image(tiny_dir, no_network):
    engine.drop_pipelines()
    pipe = engine.load_pipeline(tiny_dir, "cpu-fp32")
    assert engine.load_pipeline(tiny_dir, "cpu-fp32") is pipe  # kept warm
    first = engine.generate(pipe, PROMPT, **SIZE, seed=7)
    again = engine.generate(pipe, PROMPT, **SIZE, seed=7)
    other = engine.generate(pipe, PROMPT, **SIZE, seed=8)
    assert first[0].size == (32, 32)
    assert (pixels(first) == pixels(again)).all()
    assert (pixels(first) != pixels(other)).any()


def test_a_dropped_pipeline_is_freed(tiny_dir, trained):
    pipe = engine.load_pipeline(tiny_dir, "cpu-fp32")
    engine.generate(pipe, PROMPT, **SIZE, seed=1, steps=1, lora=(trained[0].lora_path, 1.0))
    alive = weakref.ref(pipe)
    del pipe
    engine.drop_pipelines()
    gc.collect()
    assert alive() is None


def test_image_i_of_a_batch_is_the_image_of_seed_plus_i(pipe):
    batch = engine.generate(pipe, PROMPT, **SIZE, seed=7, num_images=2)
    alone = engine.generate(pipe, PROMPT, **SIZE, seed=8)
    assert (pixels(batch[1:]) == pixels(alone)).all()


def test_progress_is_reported_after_every_step(pipe):
    calls = []
    engine.generate(pipe, PROMPT, **SIZE, seed=1, steps=3, on_step=lambda *a: calls.append(a))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_guidance_counts_for_dev_and_is_ignored_by_schnell(pipe, tiny_dev_dir):
    low = engine.generate(pipe, PROMPT, **SIZE, seed=1, guidance=1.0)
    high = engine.generate(pipe, PROMPT, **SIZE, seed=1, guidance=9.0)
    assert (pixels(low) == pixels(high)).all()
    dev = engine.load_pipeline(tiny_dev_dir, "cpu-fp32")  # evicts schnell: one warm at a time
    low = engine.generate(dev, PROMPT, **SIZE, seed=1, steps=2, guidance=1.0)
    high = engine.generate(dev, PROMPT, **SIZE, seed=1, steps=2, guidance=9.0)
    assert (pixels(low) != pixels(high)).any()
    assert engine.load_pipeline(tiny_dev_dir, "cpu-fp32") is dev


def test_a_lora_applies_to_one_request_and_is_removed_again(pipe, trained):
    result, _, _ = trained
    lora = (result.lora_path, 1.0)
    base = pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3))
    with_lora = pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3, lora=lora))
    assert np.abs(with_lora - base).mean() > 0.5
    # Kept loaded for the next request, but off: the plain image is the base model's again.
    assert engine.loaded_adapters(pipe) == [engine.adapter_name(result.lora_path)]
    assert (pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3)) == base).all()
    assert (pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3, lora=lora)) == with_lora).all()
    engine.unload_adapters(pipe)
    assert engine.loaded_adapters(pipe) == []
    assert not any(isinstance(m, peft.tuners.tuners_utils.BaseTunerLayer)
                   for m in pipe.transformer.modules())
    assert (pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3)) == base).all()


def test_the_lora_scale_is_honoured_and_old_adapters_are_deleted(pipe, trained):
    path = trained[0].lora_path
    base = pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3))
    off = pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3, lora=(path, 0.0)))
    half = pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3, lora=(path, 0.5)))
    full = pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3, lora=(path, 1.0), keep_adapters=0))
    assert (off == base).all()
    assert np.abs(half - base).mean() < np.abs(full - base).mean()
    assert engine.loaded_adapters(pipe) == []  # keep_adapters=0: deleted right after


def test_the_int8_profile_quantises_and_still_takes_a_lora(tiny_dir, trained):
    """torchao's int8 weight-only path, run on the CPU (the fp8 and nf4 paths need a GPU)."""
    pipe = engine.load_pipeline(tiny_dir, "int8", device="cpu")
    weight = pipe.transformer.transformer_blocks[0].attn.to_q.weight
    assert type(weight).__name__ == "Int8Tensor"
    base = pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3, steps=2))
    lora = pixels(engine.generate(pipe, PROMPT, **SIZE, seed=3, steps=2,
                                  lora=(trained[0].lora_path, 1.0), keep_adapters=0))
    assert np.abs(lora - base).mean() > 0.5
    engine.drop_pipelines()


@pytest.mark.parametrize(("profile", "backend"), [("fp8", "TorchAoConfig"),
                                                   ("nf4", "BitsAndBytesConfig")])
def test_gpu_profiles_quantise_the_transformer_and_t5(profile, backend):
    mapping = memory.quantization_config(memory.PROFILES[profile]).quant_mapping
    assert sorted(mapping) == ["text_encoder_2", "transformer"]
    assert {type(config).__name__ for config in mapping.values()} == {backend}


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_gpu_profile_without_a_gpu_is_a_permanent_error(tiny_dir):
    with pytest.raises(EngineError) as caught:
        engine.load_pipeline(tiny_dir, "bf16")
    assert not caught.value.transient and caught.value.code == "local_no_gpu"
    with pytest.raises(EngineError, match="Unknown memory profile"):
        engine.load_pipeline(tiny_dir, "fp4")


def test_out_of_memory_is_transient_and_drops_the_warm_pipeline(tiny_dir):
    pipe = engine.load_pipeline(tiny_dir, "cpu-fp32")

    def out_of_memory(module, args):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    hook = pipe.transformer.register_forward_pre_hook(out_of_memory)
    try:
        with pytest.raises(EngineError) as caught:
            engine.generate(pipe, PROMPT, **SIZE, seed=1)
    finally:
        hook.remove()
    assert caught.value.transient and caught.value.code == "local_gpu_oom"
    assert engine.load_pipeline(tiny_dir, "cpu-fp32") is not pipe  # loaded afresh


@pytest.mark.parametrize(("error", "transient", "restart"), [
    (RuntimeError("CUDA error: an illegal memory access was encountered"), True, True),
    (RuntimeError("CUDA driver error: unknown error"), True, False),
    (RuntimeError("CUBLAS_STATUS_EXECUTION_FAILED when calling cublasGemmEx"), True, False),
    (ValueError("height must be positive"), False, False),
])
def test_gpu_errors_are_transient_others_permanent(error, transient, restart):
    classified = engine.classify(error)
    assert (classified.transient, classified.restart) == (transient, restart)


def test_sizes_must_be_multiples_of_16(pipe):
    with pytest.raises(EngineError, match="multiples of 16") as caught:
        engine.generate(pipe, PROMPT, width=30, height=32, seed=1)
    assert not caught.value.transient
