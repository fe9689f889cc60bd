"""Memory profiles: how FLUX.1 (12B transformer + 4.7B T5-XXL encoder) is fitted onto a card.

Weights alone, by profile (activations at 1024² add about 2–4 GB on top):
    bf16         transformer 23.8 GB + T5 9.5 GB + CLIP/VAE 0.4 GB ≈ 34 GB  → 40 GB+ cards
    fp8          torchao float8 weight-only, transformer + T5 ≈ 17 GB     → 24 GB cards, best on
                 Ada/Hopper (sm 8.9+), which have float8 units
    int8         torchao int8 weight-only, transformer + T5 ≈ 17 GB       → 24 GB cards, any CUDA
    nf4          bitsandbytes 4-bit NF4, transformer + T5 ≈ 10 GB         → 16 GB cards
    offload      bf16, each component moved to the GPU only while it runs:
                 peak ≈ the transformer, 24 GB + activations; ≈ 34 GB of system RAM
    offload-seq  bf16, layer by layer: a few GB of VRAM, several times slower
    cpu-fp32     float32 on the CPU: for the tiny test model, not for FLUX.1

Quantisation uses diffusers' PipelineQuantizationConfig as the weights load, so the bf16
weights never sit whole on the GPU. optimum-quanto was not chosen: peft has no LoRA layer for
its quantised linears (it has them for torchao and bitsandbytes), so personal LoRAs would not
apply.
"""

import gc
from dataclasses import dataclass, field
from pathlib import Path

import torch

GB = 1024**3


@dataclass(frozen=True)
class Profile:
    name: str
    dtype: torch.dtype
    device: str = "cuda"
    quant: str | None = None  # "float8" | "int8" | "nf4"
    offload: str | None = None  # "model" | "sequential"
    budget_gb: float = 0.0  # weights + activations at 1024², from the figures above
    note: str = ""
    quantized: tuple = field(default=("transformer", "text_encoder_2"))


PROFILES = {p.name: p for p in (
    Profile("bf16", torch.bfloat16, budget_gb=37, note="40 GB+ cards"),
    Profile("fp8", torch.bfloat16, quant="float8", budget_gb=20,
            note="24 GB cards, Ada/Hopper best"),
    Profile("int8", torch.bfloat16, quant="int8", budget_gb=20, note="24 GB cards"),
    Profile("nf4", torch.bfloat16, quant="nf4", budget_gb=13, note="16 GB cards"),
    Profile("offload", torch.bfloat16, offload="model", budget_gb=27,
            note="32 GB cards, 34 GB+ system RAM"),
    Profile("offload-seq", torch.bfloat16, offload="sequential", budget_gb=4,
            note="any CUDA card, slow"),
    Profile("cpu-fp32", torch.float32, device="cpu", budget_gb=0, note="tests only"),
)}


def quantization_config(profile: Profile):
    """diffusers' PipelineQuantizationConfig for the profile, or None."""
    if not profile.quant:
        return None
    from diffusers import BitsAndBytesConfig as DiffusersBnb
    from diffusers import TorchAoConfig as DiffusersAo
    from diffusers.quantizers import PipelineQuantizationConfig
    from transformers import BitsAndBytesConfig as TransformersBnb
    from transformers import TorchAoConfig as TransformersAo

    if profile.quant == "nf4":
        kwargs = {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                  "bnb_4bit_compute_dtype": profile.dtype}
        diffusers_config, transformers_config = DiffusersBnb(**kwargs), TransformersBnb(**kwargs)
    else:
        from torchao.quantization import Float8WeightOnlyConfig, Int8WeightOnlyConfig

        config = Float8WeightOnlyConfig if profile.quant == "float8" else Int8WeightOnlyConfig
        diffusers_config = DiffusersAo(config())
        transformers_config = TransformersAo(config())
    mapping = {"transformer": diffusers_config, "text_encoder_2": transformers_config}
    return PipelineQuantizationConfig(
        quant_mapping={k: v for k, v in mapping.items() if k in profile.quantized})


def load(directory: Path, profile: Profile, *, device: str | None = None):
    """FluxPipeline.from_pretrained from a local directory only, set up for `profile`.
    `device` overrides the profile's (the tests run the int8 path on the CPU)."""
    from diffusers import FluxPipeline

    device = device or profile.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        from providers.local.engine import EngineError

        raise EngineError(f"The {profile.name!r} memory profile needs a CUDA GPU and none is "
                          "visible to this process.", transient=False, code="local_no_gpu")
    # Straight onto the GPU (quantised there, never whole in system RAM) unless offloading.
    device_map = "cuda" if device == "cuda" and not profile.offload else None
    pipe = FluxPipeline.from_pretrained(directory, local_files_only=True, dtype=profile.dtype,
                                        quantization_config=quantization_config(profile),
                                        device_map=device_map)
    if profile.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif profile.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    elif device_map is None:
        pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def free_gpu() -> None:
    """Collect dropped pipelines and hand cached blocks back to the driver."""
    gc.collect()
    if torch.cuda.is_available():
        try:
            torch.cuda.empty_cache()
        except RuntimeError:
            pass  # a broken context cannot free anything; the worker restarts


CUDA_MARKERS = ("cuda error", "cuda driver", "cublas_status", "cudnn_status", "cudnn error",
                "nccl error", "cuda failure", "device-side assert", "no kernel image",
                "unspecified launch failure", "illegal memory access", "ecc error")
# After these the CUDA context is unusable until the process exits.
STICKY_MARKERS = ("device-side assert", "illegal memory access", "unspecified launch failure",
                  "ecc error", "misaligned address")


def is_cuda_error(exc: BaseException) -> bool:
    accelerator_error = getattr(torch, "AcceleratorError", ())
    if accelerator_error and isinstance(exc, accelerator_error):
        return True
    return isinstance(exc, RuntimeError) and any(m in str(exc).lower() for m in CUDA_MARKERS)


def is_sticky_cuda_error(exc: BaseException) -> bool:
    return any(marker in str(exc).lower() for marker in STICKY_MARKERS)


def peak_gb() -> float:
    return torch.cuda.max_memory_allocated() / GB if torch.cuda.is_available() else 0.0
