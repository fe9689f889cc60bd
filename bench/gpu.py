"""Benchmark: the local engine on a GPU, per memory profile. Seconds per 1024² image (4 steps as
schnell runs, 28 as dev runs, each with and without a personal LoRA), seconds per LoRA training
step at 512 and 1024 px, and peak GPU memory (torch.cuda.max_memory_allocated), printed in a
table beside each profile's memory budget.

    .venv/bin/python bench/gpu.py --random-weights [--quick] [--profiles bf16,nf4]
        [--time-limit 540] [--json var/bench/gpu.json] [--work-dir DIR]
    .venv/bin/python bench/gpu.py --model-dir $LOCAL_MODELS_DIR/flux-dev [--lora lora.safetensors]

--random-weights builds full-size FLUX.1 (dev architecture: 12B transformer, T5-XXL, CLIP-L, the
16-channel VAE) from the configs in providers/local/flux_configs.py and saves it in the operator
layout under --work-dir (about 34 GB), so every profile loads through the engine's own loading
code with no network. Random weights take the time and memory of real ones; schnell and dev
differ only by a guidance embedder (under 0.1% of the compute), so the 4-step figures stand for
schnell. A random rank-16 LoRA on the trainer's target modules stands for a personal one.
--quick measures 4 steps and derives 28 (fixed cost + 28 × the median step: marked ~) and
times 2 training steps per size. Work that would start after --time-limit is skipped and
reported. Without CUDA it runs the tiny model on the CPU at 64 px, and says so.
"""

import sys
from pathlib import Path

# Run as a script, bench/ comes first on the path, where a sibling could shadow a module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from providers.local import engine, memory, trainer  # noqa: E402
from providers.local.memory import PROFILES  # noqa: E402

GPU_PROFILES = ["bf16", "fp8", "int8", "nf4", "offload"]
PROMPT = "a photo of tok person in a sunlit park, portrait, 85mm"


class Clock:
    def __init__(self, limit: float):
        self.start, self.limit = time.monotonic(), limit

    def left(self) -> float:
        return self.limit - (time.monotonic() - self.start)


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn):
    sync()
    start = time.perf_counter()
    result = fn()
    sync()
    return time.perf_counter() - start, result


def random_lora(transformer_config: dict, path: Path, rank: int = 16) -> Path:
    """A LoRA on the trainer's target modules with random weights, in the trainer's format.
    The module names come from a transformer built on the meta device (no memory)."""
    from diffusers import FluxPipeline, FluxTransformer2DModel

    with torch.device("meta"):
        model = FluxTransformer2DModel.from_config(transformer_config)
    generator = torch.Generator().manual_seed(0)
    layers = {}
    for name, module in model.named_modules():
        if any(name.endswith("." + target) for target in trainer.TARGET_MODULES):
            a = torch.randn(rank, module.in_features, generator=generator) / module.in_features
            b = torch.randn(module.out_features, rank, generator=generator) / rank
            layers[f"{name}.lora_A.weight"] = a.to(torch.bfloat16)
            layers[f"{name}.lora_B.weight"] = b.to(torch.bfloat16)
    FluxPipeline.save_lora_weights(path.parent, transformer_lora_layers=layers,
                                   weight_name=path.name)
    return path


def prepare(args, work: Path) -> tuple[Path, str]:
    """The model directory to measure and a line saying what it is."""
    from providers.local.flux_configs import build_full_size_pipeline
    from providers.local.tiny import build_tiny_model_dir, save_operator_layout

    if args.model_dir:
        return Path(args.model_dir), f"the model in {args.model_dir}"
    if not torch.cuda.is_available():
        return (build_tiny_model_dir(work / "tiny", guidance_embeds=True),
                "NO CUDA GPU: the TINY test model on the CPU, not FLUX.1 (checks the bench only)")
    start = time.perf_counter()
    pipe = build_full_size_pipeline(guidance_embeds=True, device="cuda")
    built = time.perf_counter()
    save_operator_layout(pipe, work / "flux-random")
    del pipe
    memory.free_gpu()
    print(f"built full-size FLUX.1 (random weights) on the GPU in {built - start:.0f} s, saved "
          f"it ({_size_gb(work / 'flux-random'):.1f} GB) in {time.perf_counter() - built:.0f} s",
          flush=True)
    return work / "flux-random", "full-size FLUX.1 (dev architecture), random weights"


def _size_gb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / memory.GB


def image_times(pipe, size: int, lora, quick: bool) -> dict:
    """Seconds per image: 4 steps and 28 steps, without and with the LoRA."""
    result = {}
    for label, adapter in (("", None), ("+lora", lora)):
        ticks = []
        seconds, _ = timed(lambda adapter=adapter, ticks=ticks: engine.generate(
            pipe, PROMPT, width=size, height=size, steps=4, guidance=3.5, seed=1, lora=adapter,
            on_step=lambda step, total: (sync(), ticks.append(time.perf_counter()))))
        steps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        per_step = statistics.median(steps) if steps else seconds / 4
        result[f"4{label}"] = seconds
        if quick:
            result[f"28{label}"] = seconds + 24 * per_step
            result["28_estimated"] = True
        else:
            result[f"28{label}"], _ = timed(lambda adapter=adapter: engine.generate(
                pipe, PROMPT, width=size, height=size, steps=28, guidance=3.5, seed=1,
                lora=adapter))
    return result


def vae_scale(model_dir: Path) -> int:
    config = json.loads((model_dir / "vae" / "config.json").read_text())
    return 2 ** (len(config["block_out_channels"]) - 1)


def training_times(transformer, model_dir: Path, profile, sizes, steps: int,
                   clock: Clock) -> dict:
    """Seconds per training step (forward, backward, AdamW) at each size, on the profile's
    transformer with a fresh rank-16 LoRA, on synthetic latents and prompt embeddings."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    device = "cuda" if torch.cuda.is_available() else "cpu"
    transformer = trainer.add_training_lora(transformer, rank=16, seed=0,
                                            gradient_checkpointing=device == "cuda")
    scheduler = FlowMatchEulerDiscreteScheduler.from_pretrained(model_dir, subfolder="scheduler")
    params = [p for p in transformer.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    config, result = transformer.config, {}
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for size in sizes:
        if clock.left() < 30:
            result[f"train{size}"] = "skipped (time limit)"
            continue
        side = size // vae_scale(model_dir)
        shape = (1, config.in_channels // 4, side, side)
        data = {"latents": [(torch.zeros(shape), torch.ones(shape))], "shift": 0.0, "scale": 1.0}
        text = (torch.randn(1, 512, config.joint_attention_dim),
                torch.randn(1, config.pooled_projection_dim), torch.zeros(512, 3))
        batch = {"index": 0, "text": text}
        durations = []
        for step in range(steps + 1):  # the first one warms up
            def one(step=step, data=data, batch=batch):
                loss = trainer.step_loss(transformer, scheduler, data, batch,
                                         torch.Generator().manual_seed(step), device, 1.0,
                                         profile.dtype)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            durations.append(timed(one)[0])
        result[f"train{size}"] = statistics.median(durations[1:])
    result["train_peak_gb"] = memory.peak_gb()
    return result


def run_profile(name: str, model_dir: Path, lora: Path, args, clock: Clock) -> dict:
    row = {"profile": name}
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    row["load_s"], pipe = timed(lambda: engine.load_pipeline(model_dir, name))
    size = args.size
    engine.generate(pipe, PROMPT, width=size, height=size, steps=1, seed=0)  # warm-up
    row.update(image_times(pipe, size, (lora, 1.0), args.quick))
    row["peak_gb"] = memory.peak_gb()
    print(f"  {name}: images done ({clock.left():.0f} s left)", flush=True)
    engine.unload_adapters(pipe)
    if PROFILES[name].offload or args.no_train:
        row["train"] = "n/a (offload profiles do not train)" if not args.no_train else "skipped"
    elif clock.left() < 60:
        row["train"] = "skipped (time limit)"
    else:
        transformer = pipe.transformer  # the text encoders and VAE go: training's own peak
        del pipe
        engine.drop_pipelines()
        row.update(training_times(transformer, model_dir, PROFILES[name], args.train_sizes,
                                  2 if args.quick else 5, clock))
        del transformer
    engine.drop_pipelines()
    gc.collect()
    return row


def cell(row: dict, key: str, digits: int = 2) -> str:
    value = row.get(key)
    if isinstance(value, float):
        estimated = "~" if key.startswith("28") and row.get("28_estimated") else ""
        return f"{estimated}{value:.{digits}f}"
    return "-" if value is None else str(value)[:14]


def print_table(rows: list[dict], what: str, size: int, train_sizes) -> None:
    print(f"\n{what}; {size}² images; s = seconds, GB = GiB of GPU memory; ~ = derived")
    header = ["profile", "budget GB", "load s", "4 st s", "+LoRA", "28 st s", "+LoRA",
              "peak GB", *(f"train{s} s/st" for s in train_sizes), "train GB", "notes"]
    print(" | ".join(header))
    print(" | ".join("-" * len(h) for h in header))
    for row in rows:
        profile = PROFILES.get(row["profile"])
        note = row.get("error") or row.get("train") or (profile.note if profile else "")
        cells = [row["profile"], f"{profile.budget_gb:g}" if profile else "-",
                 cell(row, "load_s", 0), cell(row, "4"), cell(row, "4+lora"), cell(row, "28"),
                 cell(row, "28+lora"), cell(row, "peak_gb", 1),
                 *(cell(row, f"train{s}") for s in train_sizes),
                 cell(row, "train_peak_gb", 1), note]
        print(" | ".join(cells))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model-dir", help="a FLUX.1 directory in the operator layout")
    source.add_argument("--random-weights", action="store_true",
                        help="build full-size FLUX.1 with random weights (no network)")
    parser.add_argument("--profiles", default=",".join(GPU_PROFILES))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-train", action="store_true")
    parser.add_argument("--lora", help="a LoRA .safetensors to use instead of a random one")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--train-sizes", type=lambda v: [int(x) for x in v.split(",")],
                        default=[512, 1024])
    parser.add_argument("--time-limit", type=float, default=540, help="seconds (default 540)")
    parser.add_argument("--work-dir", help="where --random-weights saves the model")
    parser.add_argument("--json", help="also write the figures here")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    clock = Clock(args.time_limit)
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if not torch.cuda.is_available():
        print("No CUDA GPU here: running the TINY model on the CPU instead (64 px). These "
              "figures say nothing about FLUX.1; they only show the bench runs.", flush=True)
        profiles, args.size, args.train_sizes = ["cpu-fp32"], 64, [64]
    else:
        print(f"GPU: {torch.cuda.get_device_name()}, "
              f"{torch.cuda.get_device_properties(0).total_memory / memory.GB:.0f} GiB", flush=True)
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="likeness-bench-"))
    model_dir, what = prepare(args, work)
    config = json.loads((model_dir / "transformer" / "config.json").read_text())
    lora = Path(args.lora) if args.lora else random_lora(config, work / "lora" / "lora.safetensors")
    rows = []
    for name in profiles:
        if clock.left() < 90:
            rows.append({"profile": name, "error": "skipped (time limit)"})
            continue
        print(f"profile {name} ({clock.left():.0f} s left)", flush=True)
        try:
            rows.append(run_profile(name, model_dir, lora, args, clock))
        except Exception as exc:  # one profile failing must not hide the others' figures
            engine.drop_pipelines()
            rows.append({"profile": name, "error": f"{type(exc).__name__}: {exc}"[:300]})
            print(f"  {name} failed: {rows[-1]['error']}", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps({"what": what, "rows": rows}, indent=1))
    print_table(rows, what, args.size, args.train_sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
