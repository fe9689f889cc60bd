"""FLUX.1 LoRA training on this machine: diffusers' DreamBooth-LoRA recipe for FLUX
(examples/dreambooth/train_dreambooth_lora_flux.py in the diffusers repository), composed from
the parts of it that diffusers, peft and torch ship, so nothing is vendored:
flow-matching noise at a timestep drawn by diffusers.training_utils, FluxPipeline's latent
packing and prompt encoding, peft LoRA on the attention projections (the recipe's targets,
alpha = rank, Gaussian init), AdamW with gradient clipping, weights written by
FluxPipeline.save_lora_weights — the format `pipe.load_lora_weights` reads.

Resumable: a checkpoint (LoRA + optimizer state) every `checkpoint_every` steps, written to a
temporary folder and renamed, so a process killed at any moment leaves only whole checkpoints.
Every random draw of step k comes from a generator seeded with (seed, k), so a resumed training
takes exactly the steps an uninterrupted one would have taken.

Run it in a subprocess (`python -m providers.local.trainer …`, see providers.local.jobs): a
worker can watch progress.json and train.log, stop it with a STOP file or kill it, and the GPU
memory is certainly freed when the process exits.
"""

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from providers.local import memory, photos
from providers.local.engine import DEFAULTS, EngineError
from providers.local.layout import check_model_dir, variant

LORA_FILE = "lora.safetensors"
TARGET_MODULES = ["to_k", "to_q", "to_v", "to_out.0"]
KEEP_CHECKPOINTS = 2
STOP_FILE = "STOP"
logger = logging.getLogger("likeness.local.trainer")


@dataclass
class TrainResult:
    state: str  # "succeeded" | "stopped"
    step: int
    total: int
    loss: float | None
    lora_path: Path | None
    resumed_from: int


def checkpoints(output_dir) -> list[tuple[int, Path]]:
    """Complete checkpoints (their state.json is written last), oldest first."""
    found = []
    for path in Path(output_dir).glob("checkpoint-*"):
        if path.suffix != ".tmp" and (path / "state.json").is_file():
            found.append((int(path.name.split("-")[1]), path))
    return sorted(found)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _lora_state(transformer) -> dict:
    from peft.utils import get_peft_model_state_dict

    return get_peft_model_state_dict(transformer)


def _save_lora(transformer, directory: Path) -> Path:
    from diffusers import FluxPipeline

    FluxPipeline.save_lora_weights(directory, transformer_lora_layers=_lora_state(transformer),
                                   weight_name=LORA_FILE)
    return directory / LORA_FILE


def save_checkpoint(output_dir: Path, step: int, transformer, optimizer, state: dict) -> Path:
    final = output_dir / f"checkpoint-{step:06d}"
    tmp = output_dir / f"checkpoint-{step:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _save_lora(transformer, tmp)
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps({**state, "step": step}))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for _, old in checkpoints(output_dir)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(path: Path, transformer, optimizer) -> dict:
    from diffusers import FluxPipeline
    from peft import set_peft_model_state_dict

    weights = FluxPipeline.lora_state_dict(str(path), weight_name=LORA_FILE)
    weights = {k.removeprefix("transformer."): v for k, v in weights.items()}
    set_peft_model_state_dict(transformer, weights, adapter_name="default")
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=True))
    return json.loads((path / "state.json").read_text())


def load_lora_transformer(base_model_dir, profile, device, rank: int, seed: int):
    """The transformer from `base_model_dir`, quantised as `profile` says, frozen, with a
    fresh trainable LoRA."""
    from diffusers import FluxTransformer2DModel

    quant = memory.quantization_config(profile)
    on_gpu = device != "cpu"  # loaded (and quantised) straight onto the GPU
    transformer = FluxTransformer2DModel.from_pretrained(
        base_model_dir, subfolder="transformer", local_files_only=True, dtype=profile.dtype,
        quantization_config=quant.quant_mapping.get("transformer") if quant else None,
        device_map=device if on_gpu else None)
    if not on_gpu:
        transformer.to(device)
    return add_training_lora(transformer, rank=rank, seed=seed,
                             gradient_checkpointing=device != "cpu")


def add_training_lora(transformer, *, rank: int, seed: int, gradient_checkpointing: bool):
    from diffusers.training_utils import cast_training_params
    from peft import LoraConfig

    transformer.requires_grad_(False)
    if gradient_checkpointing:  # recompute activations in backward: 1024 px fits in far less
        transformer.enable_gradient_checkpointing()
    torch.manual_seed(seed)  # the LoRA's Gaussian init (a resumed run loads its weights)
    transformer.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                                       target_modules=TARGET_MODULES))
    cast_training_params(transformer, dtype=torch.float32)  # train the LoRA in fp32
    return transformer


def step_loss(transformer, scheduler, data, batch, generator, device, guidance, dtype=None):
    """The flow-matching loss for one photo at one random timestep (the recipe's loss with its
    default uniform timestep density). `dtype` is the profile's compute dtype: a quantised
    model's own `dtype` may name its storage or the fp32 LoRA instead."""
    from diffusers import FluxPipeline
    from diffusers.training_utils import compute_density_for_timestep_sampling

    mean, std = data["latents"][batch["index"]]
    latents = mean + std * torch.randn(mean.shape, generator=generator)
    latents = ((latents - data["shift"]) * data["scale"]).to(device)
    noise = torch.randn(latents.shape, generator=generator).to(device)
    u = compute_density_for_timestep_sampling("none", 1, generator=generator)
    index = (u * scheduler.config.num_train_timesteps).long()
    timesteps = scheduler.timesteps[index].to(device)
    sigmas = scheduler.sigmas[index].to(device).view(-1, 1, 1, 1)
    noisy = (1.0 - sigmas) * latents + sigmas * noise
    b, c, h, w = latents.shape
    dtype = dtype or transformer.dtype
    embeds, pooled, text_ids = (t.to(device, dtype) for t in batch["text"])
    guidance_tensor = (torch.full((b,), guidance, device=device)
                       if transformer.config.guidance_embeds else None)
    with torch.autocast(device_type=torch.device(device).type, dtype=dtype,
                        enabled=dtype != torch.float32):
        pred = transformer(
            hidden_states=FluxPipeline._pack_latents(noisy, b, c, h, w).to(dtype),
            timestep=timesteps / 1000, guidance=guidance_tensor, pooled_projections=pooled,
            encoder_hidden_states=embeds, txt_ids=text_ids,
            img_ids=FluxPipeline._prepare_latent_image_ids(b, h // 2, w // 2, device, dtype),
            return_dict=False)[0]
    target = FluxPipeline._pack_latents(noise - latents, b, c, h, w)
    return torch.nn.functional.mse_loss(pred.float(), target.float())


def _order(seed: int, step: int, count: int) -> int:
    """Which photo step `step` (0-based) trains on: each epoch a fresh seeded shuffle."""
    epoch, position = divmod(step, count)
    permutation = torch.randperm(count, generator=torch.Generator().manual_seed(seed + epoch))
    return int(permutation[position])


def _prepare(photos_dir, base_model_dir, profile, device, resolution) -> dict:
    problems = check_model_dir(base_model_dir)
    if problems:
        raise EngineError("; ".join(problems), transient=False, code="local_model_missing")
    if resolution % 16:
        raise EngineError("The resolution must be a multiple of 16.", transient=False,
                          code="local_bad_size")
    pictures = photos.read_photos(photos_dir, resolution)
    max_len = DEFAULTS[variant(base_model_dir) or "dev"]["max_sequence_length"]
    captions = photos.encode_captions(base_model_dir, [c for _, c in pictures], device=device,
                                      dtype=profile.dtype, max_sequence_length=max_len)
    data = photos.encode_pixels(base_model_dir, [p for p, _ in pictures], device=device,
                                dtype=profile.dtype)
    data["captions"] = [captions[c] for _, c in pictures]
    memory.free_gpu()
    return data


class _Reporter:
    """train.log for people, progress.json for the worker, on_progress for the caller."""

    def __init__(self, output_dir: Path, total: int, on_progress):
        self.output_dir, self.total, self.on_progress = output_dir, total, on_progress
        self.handler = logging.FileHandler(output_dir / "train.log", encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(self.handler)
        logger.setLevel(logging.INFO)
        self.started = time.monotonic()

    def begin(self):
        self.started = time.monotonic()

    def step(self, step: int, loss: float, first: int):
        rate = (time.monotonic() - self.started) / max(step - first, 1)
        logger.info("step %d/%d loss %.4f (%.2f s/step)", step, self.total, loss, rate)
        self.state("running", step, loss)
        if self.on_progress:
            self.on_progress(step, self.total, loss)

    def state(self, state: str, step: int, loss: float | None, **extra):
        _write_json(self.output_dir / "progress.json",
                    {"state": state, "step": step, "total": self.total, "loss": loss,
                     "updated": time.time(), **extra})

    def close(self):
        logger.removeHandler(self.handler)
        self.handler.close()


def _resolve_profile(profile: str | None):
    name = profile or ("bf16" if torch.cuda.is_available() else "cpu-fp32")
    if name not in memory.PROFILES or memory.PROFILES[name].offload:
        raise EngineError(f"Training cannot use the memory profile {name!r}.", transient=False,
                          code="local_bad_profile")
    return memory.PROFILES[name]


def train(photos_dir, output_dir, *, base_model_dir, steps: int = 1000,
          learning_rate: float = 1e-4, rank: int = 16, resolution: int = 512, seed: int = 0,
          checkpoint_every: int | None = None, guidance: float = 1.0,
          profile: str | None = None, on_progress=None, should_stop=None) -> TrainResult:
    """Train a LoRA on `photos_dir` and write `output_dir/lora.safetensors`; called again on
    the same `output_dir` it resumes from the newest checkpoint (or returns at once when the
    LoRA is already there). `should_stop()` (or a STOP file in `output_dir`) is checked
    before every step: the training then checkpoints and returns state "stopped"."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    reporter = _Reporter(output_dir, steps, on_progress)
    try:
        return _train(photos_dir, output_dir, Path(base_model_dir), steps, learning_rate, rank,
                      resolution, seed, checkpoint_every or max(1, min(250, steps // 4)),
                      guidance, _resolve_profile(profile), reporter, should_stop)
    except Exception as exc:
        logger.exception("training failed: %s", exc)
        reporter.state("failed", 0, None, error=str(exc))
        raise
    finally:
        reporter.close()
        memory.free_gpu()


def _train(photos_dir, output_dir, base_model_dir, steps, learning_rate, rank, resolution,
           seed, checkpoint_every, guidance, profile, reporter, should_stop):
    from diffusers import FlowMatchEulerDiscreteScheduler

    done = output_dir / "progress.json"
    if (output_dir / LORA_FILE).is_file() and done.is_file():
        previous = json.loads(done.read_text())
        if previous.get("state") == "succeeded" and previous.get("total") == steps:
            logger.info("already trained: %s", output_dir / LORA_FILE)
            return TrainResult("succeeded", steps, steps, previous.get("loss"),
                               output_dir / LORA_FILE, steps)
    device = "cuda" if profile.device == "cuda" else "cpu"
    logger.info("training %d steps at %dpx, rank %d, lr %g, profile %s, seed %d", steps,
                resolution, rank, learning_rate, profile.name, seed)
    data = _prepare(photos_dir, base_model_dir, profile, device, resolution)
    scheduler = FlowMatchEulerDiscreteScheduler.from_pretrained(
        base_model_dir, subfolder="scheduler", local_files_only=True)
    transformer = load_lora_transformer(base_model_dir, profile, device, rank, seed)
    params = [p for p in transformer.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=1e-4)
    step, loss = 0, None
    if checkpoints(output_dir):
        step, path = checkpoints(output_dir)[-1]
        loss = load_checkpoint(path, transformer, optimizer).get("loss")
        logger.info("resumed from %s", path.name)
    first = step
    transformer.train()
    reporter.begin()
    while step < steps:
        if (should_stop and should_stop()) or (output_dir / STOP_FILE).exists():
            save_checkpoint(output_dir, step, transformer, optimizer, {"loss": loss})
            logger.info("stopped at step %d/%d", step, steps)
            reporter.state("stopped", step, loss)
            return TrainResult("stopped", step, steps, loss, None, first)
        generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
        index = _order(seed, step, len(data["latents"]))
        batch = {"index": index, "text": data["captions"][index]}
        loss_tensor = step_loss(transformer, scheduler, data, batch, generator, device, guidance,
                                profile.dtype)
        loss_tensor.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step, loss = step + 1, float(loss_tensor.detach())
        if not math.isfinite(loss):
            raise EngineError(f"The loss diverged at step {step} ({loss}); try a lower "
                              "learning rate.", transient=False, code="local_diverged")
        reporter.step(step, loss, first)
        if step % checkpoint_every == 0 and step < steps:
            save_checkpoint(output_dir, step, transformer, optimizer, {"loss": loss})
    lora = _save_lora(transformer, output_dir)
    logger.info("wrote %s", lora)
    reporter.state("succeeded", step, loss, lora=LORA_FILE)
    return TrainResult("succeeded", step, steps, loss, lora, first)


def main(argv=None) -> int:
    """The command a worker runs in a subprocess (see providers.local.jobs)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photos_dir")
    parser.add_argument("output_dir")
    parser.add_argument("--base-model-dir", required=True)
    for name, kind in (("steps", int), ("learning-rate", float), ("rank", int),
                       ("resolution", int), ("seed", int), ("checkpoint-every", int),
                       ("guidance", float), ("profile", str)):
        parser.add_argument(f"--{name}", type=kind)
    args = vars(parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    positional = args.pop("photos_dir"), args.pop("output_dir")
    result = train(*positional, **{k: v for k, v in args.items() if v is not None})
    print(json.dumps({"state": result.state, "step": result.step, "total": result.total}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
