"""Is a FLUX.1 model directory complete and loadable offline? Problems in plain words.

The engine loads FLUX.1 in the diffusers layout, which is what an operator gets by fetching the
official repository once, on a machine with network, into the models directory:

    hf download black-forest-labs/FLUX.1-schnell --local-dir $LOCAL_MODELS_DIR/flux-schnell \
        --exclude "flux1-schnell.safetensors" --exclude "ae.safetensors"

(`huggingface-cli download …` with the same arguments on huggingface_hub before 1.0.) The two
excluded files are single-file copies for other tools (about 24 GB) that diffusers does not read.
FLUX.1-schnell is Apache-2.0. FLUX.1-dev is gated (accept its licence on the Hub and pass
`--token`) and its licence forbids commercial use of the model and, by default, of its outputs.

    model_index.json
    scheduler/scheduler_config.json
    text_encoder/config.json, model.safetensors                      (CLIP-L, 246 MB)
    text_encoder_2/config.json, model.safetensors.index.json, model-0000N-of-00002.safetensors
                                                                     (T5-XXL encoder, 9.5 GB)
    tokenizer/tokenizer_config.json, vocab.json + merges.txt (or tokenizer.json)
    tokenizer_2/tokenizer_config.json, tokenizer.json (or spiece.model)
    transformer/config.json, diffusion_pytorch_model.safetensors.index.json,
                diffusion_pytorch_model-0000N-of-00003.safetensors   (12B parameters, 23.8 GB)
    vae/config.json, diffusion_pytorch_model.safetensors             (168 MB)

A weights file may also be one unsharded `.safetensors` instead of an index and its shards (a
converted or tiny model). Each safetensors file's header is read (a few kilobytes) to catch
truncated downloads and Git LFS pointer files without loading any weights.
"""

import json
import struct
from pathlib import Path

WEIGHTS = {
    "transformer": "diffusion_pytorch_model.safetensors",
    "vae": "diffusion_pytorch_model.safetensors",
    "text_encoder": "model.safetensors",
    "text_encoder_2": "model.safetensors",
}
# The components the real repositories ship sharded: their index is what to ask for.
SHARDED = {"transformer", "text_encoder_2"}
CONFIGS = {"transformer": "config.json", "vae": "config.json", "text_encoder": "config.json",
           "text_encoder_2": "config.json", "scheduler": "scheduler_config.json",
           "tokenizer": "tokenizer_config.json", "tokenizer_2": "tokenizer_config.json"}
# Either set of files is enough for a tokenizer to load.
TOKENIZER_FILES = {
    "tokenizer": (("vocab.json", "merges.txt"), ("tokenizer.json",)),
    "tokenizer_2": (("tokenizer.json",), ("spiece.model",)),
}
COMPONENTS = tuple(CONFIGS)
MAX_HEADER = 100 * 1024 * 1024


def variant(directory) -> str | None:
    """"dev" for a guidance-distilled transformer (FLUX.1-dev), "schnell" otherwise; None when
    the transformer's config cannot be read."""
    try:
        config = json.loads((Path(directory) / "transformer" / "config.json").read_text())
    except (OSError, ValueError):
        return None
    return "dev" if config.get("guidance_embeds") else "schnell"


def label(directory) -> str:
    kind = variant(directory)
    return f"FLUX.1-{kind}" if kind else Path(directory).name


def _read_json(path: Path, rel: str, problems: list[str]) -> dict | None:
    if not path.is_file():
        problems.append(f"{rel} is missing")
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        problems.append(f"{rel} is not valid JSON ({exc})")
        return None


def safetensors_problem(path: Path) -> str | None:
    """Why `path` is not a complete safetensors file, or None. Reads only the header."""
    size = path.stat().st_size
    if size < 8:
        return "is empty or truncated"
    with path.open("rb") as handle:
        start = handle.read(64)
        if start.startswith(b"version https://git-lfs"):
            return "is a Git LFS pointer, not the weights (fetch it with `hf download`)"
        (length,) = struct.unpack("<Q", start[:8])
        if length > MAX_HEADER or 8 + length > size:
            return "is not a complete safetensors file (interrupted download?)"
        handle.seek(8)
        try:
            header = json.loads(handle.read(length))
        except ValueError:
            return "has a corrupt safetensors header"
    end = max((entry["data_offsets"][1] for key, entry in header.items()
               if key != "__metadata__"), default=0)
    if 8 + length + end > size:
        return f"is truncated ({size} bytes of {8 + length + end})"
    return None


def _check_weights(directory: Path, name: str, problems: list[str]) -> None:
    single = directory / name / WEIGHTS[name]
    index = single.with_name(single.name + ".index.json")
    if not index.exists() and single.is_file():
        files = [single]
    elif not index.exists() and name not in SHARDED:
        problems.append(f"{name}/{single.name} is missing")
        return
    else:
        data = _read_json(index, f"{name}/{index.name}", problems)
        if data is None:
            return
        shards = sorted(set(data.get("weight_map", {}).values()))
        if not shards:
            problems.append(f"{name}/{index.name} lists no weights")
        files = []
        for shard in shards:
            if (directory / name / shard).is_file():
                files.append(directory / name / shard)
            else:
                problems.append(f"{name}/{shard} is missing (listed in {index.name})")
    for path in files:
        problem = safetensors_problem(path)
        if problem:
            problems.append(f"{name}/{path.name} {problem}")


def _check_tokenizer(directory: Path, name: str, problems: list[str]) -> None:
    choices = TOKENIZER_FILES[name]
    if not any(all((directory / name / f).is_file() for f in files) for files in choices):
        wanted = " or ".join(" + ".join(f"{name}/{f}" for f in files) for files in choices)
        problems.append(f"{wanted} is missing")


def _check_index(directory: Path, problems: list[str]) -> None:
    index = _read_json(directory / "model_index.json", "model_index.json", problems)
    if index is None:
        return
    if index.get("_class_name") != "FluxPipeline":
        problems.append(f"model_index.json describes a {index.get('_class_name')!r}, "
                        "not a FluxPipeline")
    for name in COMPONENTS:
        if not (isinstance(index.get(name), list) and index[name][0]):
            problems.append(f"model_index.json does not list the {name}")


def _unfinished_downloads(directory: Path) -> list[str]:
    cache = directory / ".cache" / "huggingface" / "download"
    if not cache.is_dir():
        return []
    return [f"a download did not finish ({path.relative_to(directory)}); run the same "
            "`hf download` again to resume it" for path in sorted(cache.rglob("*.incomplete"))]


def check_model_dir(directory) -> list[str]:
    """Every problem that would stop FluxPipeline.from_pretrained(directory,
    local_files_only=True); an empty list when the directory is complete. Each problem starts
    with the model's name, e.g. "FLUX.1-schnell: transformer/config.json is missing"."""
    directory = Path(directory)
    name = label(directory)
    if not directory.is_dir():
        return [f"{name}: the directory {directory} does not exist"]
    if (directory / "snapshots").is_dir() or any(directory.glob("models--*")):
        return [f"{name}: {directory} is a Hugging Face cache, not a model directory; "
                "download with `hf download … --local-dir` into the models directory"]
    problems: list[str] = []
    _check_index(directory, problems)
    for component in COMPONENTS:
        config = directory / component / CONFIGS[component]
        _read_json(config, f"{component}/{CONFIGS[component]}", problems)
        if component in WEIGHTS:
            _check_weights(directory, component, problems)
        elif component in TOKENIZER_FILES:
            _check_tokenizer(directory, component, problems)
    problems += _unfinished_downloads(directory)
    return [f"{name}: {problem}" for problem in problems]
