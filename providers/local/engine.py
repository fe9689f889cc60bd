"""The self-hosted image engine: FLUX.1 from a local directory, kept warm, personal LoRAs per
request. Nothing here touches the network: pipelines load with `local_files_only=True` from a
directory `layout.check_model_dir` accepts.

    pipe = load_pipeline(models_dir / "flux-schnell", "bf16")
    images = generate(pipe, "a photo of TOK person", width=1024, height=1024, steps=4,
                      guidance=None, seed=7, lora=(run_dir / "lora.safetensors", 1.0),
                      on_step=lambda step, total: ...)
"""

import hashlib
import threading
import weakref
from collections import OrderedDict
from pathlib import Path

import torch

from jobs.progress import request_restart
from likeness.errors import ProviderError
from providers.local import memory
from providers.local.layout import check_model_dir
from providers.local.memory import PROFILES

# Defaults by model kind: schnell is distilled to few steps and has no guidance input.
DEFAULTS = {"schnell": {"steps": 4, "guidance": None, "max_sequence_length": 256},
            "dev": {"steps": 28, "guidance": 3.5, "max_sequence_length": 512}}
# Adapters kept loaded (disabled) after a request, so a customer's next image skips the reload.
# A rank-16 FLUX LoRA is about 40 MB in bf16: cheap next to the 24 GB transformer.
KEEP_ADAPTERS = 4
MAX_PIPELINES = 1  # one FLUX.1 fills a card; loading another evicts the one before

_cache: "OrderedDict[tuple, object]" = OrderedDict()  # (directory, profile, device) → pipeline
_cache_lock = threading.Lock()
# Every pipeline generate() has seen, warm or not, with its lock and adapters; weakly, so a
# dropped pipeline is freed.
_entries: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_entries_lock = threading.Lock()


class EngineError(ProviderError):
    """The engine could not do what was asked. `transient` (GPU out of memory, a CUDA driver
    error) means try again later; `restart` means this process's CUDA context is lost and the
    worker should exit after reporting, so a fresh process gets a fresh context."""

    def __init__(self, message, *, transient, code="local_engine_error", restart=False):
        super().__init__(message, transient=transient, code=code)
        self.restart = restart


class FluxPipelineEntry:
    """The lock that serialises requests on a pipeline (adapters are pipeline-wide state) and
    its loaded adapters, least recently used first. It holds no reference to the pipeline."""

    def __init__(self):
        self.lock = threading.Lock()
        self.adapters: OrderedDict[str, float] = OrderedDict()


def load_pipeline(directory, profile: str = "bf16", *, device: str | None = None):
    """The FluxPipeline in `directory` set up for `profile`, loaded once per process. Call it
    for every request rather than keeping the pipeline: one evicted or dropped after a GPU
    error is only freed once nothing holds it."""
    if profile not in PROFILES:
        raise EngineError(f"Unknown memory profile {profile!r}; known: {', '.join(PROFILES)}.",
                          transient=False, code="local_bad_profile")
    key = (str(Path(directory).resolve()), profile, device)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        problems = check_model_dir(directory)
        if problems:
            raise EngineError("; ".join(problems), transient=False, code="local_model_missing")
        while len(_cache) >= MAX_PIPELINES:
            _cache.popitem(last=False)
            memory.free_gpu()
        try:
            pipe = memory.load(Path(directory), PROFILES[profile], device=device)
        except Exception as exc:
            raise classify(exc) from exc
        _cache[key] = pipe
        return pipe


def _entry_of(pipe) -> FluxPipelineEntry:
    """The bookkeeping of `pipe`, also for a pipeline built elsewhere (a test, the bench)."""
    with _entries_lock:
        if pipe not in _entries:
            _entries[pipe] = FluxPipelineEntry()
        return _entries[pipe]


def drop_pipelines() -> None:
    """Forget every warm pipeline and give the GPU memory back."""
    with _cache_lock:
        _cache.clear()
    memory.free_gpu()


def classify(exc: BaseException) -> EngineError:
    """The EngineError for `exc`: a GPU failure is transient (and the warm pipelines are dropped
    so the memory is really freed); anything else is permanent."""
    if isinstance(exc, EngineError):
        return exc
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        _drop_after_gpu_error()
        return EngineError(f"The GPU ran out of memory: {exc}", transient=True,
                           code="local_gpu_oom")
    if memory.is_cuda_error(exc):
        _drop_after_gpu_error()
        restart = memory.is_sticky_cuda_error(exc)
        if restart:  # the context is gone until the process exits: the worker restarts
            request_restart(f"CUDA context lost: {exc}")
        return EngineError(f"CUDA error: {exc}", transient=True, code="local_gpu_error",
                           restart=restart)
    return EngineError(f"{type(exc).__name__}: {exc}", transient=False)


def _drop_after_gpu_error():
    with _cache_lock:
        _cache.clear()
    memory.free_gpu()


def kind(pipe) -> str:
    """"dev" for a guidance-distilled transformer, "schnell" otherwise."""
    return "dev" if pipe.transformer.config.guidance_embeds else "schnell"


def adapter_name(path) -> str:
    """A stable adapter name for a LoRA file: its path, size and modification time, so a file
    replaced in place is loaded afresh."""
    path = Path(path).resolve()
    stat = path.stat()
    digest = hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
    return f"lora_{digest[:16]}"


def _activate_lora(pipe, entry: FluxPipelineEntry, path, scale: float) -> str:
    name = adapter_name(path)
    if name not in entry.adapters:
        path = Path(path)
        pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=name)
    entry.adapters[name] = scale
    entry.adapters.move_to_end(name)
    pipe.enable_lora()
    pipe.set_adapters([name], adapter_weights=[scale])
    return name


def _release_lora(pipe, entry: FluxPipelineEntry, keep: int) -> None:
    """Switch adapters off after a request and delete the least recently used beyond `keep`;
    with none left, remove peft's layers altogether so the base model is exactly as loaded."""
    loaded = set(loaded_adapters(pipe))
    for name in [name for name in entry.adapters if name not in loaded]:
        del entry.adapters[name]  # a load that failed half-way
    while len(entry.adapters) > keep:
        name, _ = entry.adapters.popitem(last=False)
        pipe.delete_adapters(name)
    if entry.adapters:
        pipe.disable_lora()
    elif loaded:
        pipe.unload_lora_weights()


def unload_adapters(pipe) -> None:
    """Delete every cached adapter from `pipe` (the base model stays loaded)."""
    entry = _entry_of(pipe)
    with entry.lock:
        entry.adapters.clear()
        if loaded_adapters(pipe):
            pipe.unload_lora_weights()


def loaded_adapters(pipe) -> list[str]:
    return [name for names in pipe.get_list_adapters().values() for name in names]


def _step_callback(on_step, total):
    def callback(pipe, step_index, timestep, callback_kwargs):
        on_step(step_index + 1, total)
        return callback_kwargs
    return callback


def generate(pipe, prompt: str, *, width: int, height: int, steps: int | None = None,
             guidance: float | None = None, seed: int, num_images: int = 1,
             lora: tuple | None = None, on_step=None, max_sequence_length: int | None = None,
             keep_adapters: int = KEEP_ADAPTERS) -> list:
    """PIL images for `prompt`. Image i is seeded with seed + i (a CPU generator, so a seed
    gives the same picture on any card). `lora` is (path to a .safetensors, scale), applied for
    this request only; `on_step(step, total)` is called after every denoising step. Guidance
    is ignored by schnell-like models, which have no guidance input."""
    if width % 16 or height % 16:
        raise EngineError(f"Width and height must be multiples of 16 (got {width}×{height}).",
                          transient=False, code="local_bad_size")
    defaults = DEFAULTS[kind(pipe)]
    steps = steps or defaults["steps"]
    guidance = defaults["guidance"] if kind(pipe) == "schnell" or guidance is None else guidance
    entry = _entry_of(pipe)
    with entry.lock:
        try:
            if lora:
                _activate_lora(pipe, entry, lora[0], float(lora[1]))
            images = pipe(
                prompt, width=width, height=height, num_inference_steps=steps,
                guidance_scale=guidance or 0.0, num_images_per_prompt=num_images,
                generator=[torch.Generator("cpu").manual_seed(seed + i) for i in range(num_images)],
                max_sequence_length=max_sequence_length or defaults["max_sequence_length"],
                callback_on_step_end=_step_callback(on_step, steps) if on_step else None,
                output_type="pil").images
        except Exception as exc:
            error = classify(exc)
            if lora and not error.transient:  # after a GPU error the pipeline is dropped anyway
                _release_lora(pipe, entry, keep_adapters)
            raise error from exc
        if lora:
            _release_lora(pipe, entry, keep_adapters)
        return images
