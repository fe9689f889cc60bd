"""The training photos: JPEGs with one caption .txt each (as studio packs them), made square,
encoded once by the VAE and the text encoders, which then leave memory before the transformer
loads, so the peak is the transformer alone."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def read_photos(photos_dir, resolution: int) -> list[tuple[torch.Tensor, str]]:
    """(pixels in [-1, 1] shaped 1×3×R×R, caption) for every photo, sorted by file name. The
    photo is resized so its short side is R and centre-cropped: faces sit near the middle."""
    photos = []
    for path in sorted(Path(photos_dir).iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        caption_file = path.with_suffix(".txt")
        if not caption_file.is_file():
            raise ValueError(f"{path.name} has no caption file {caption_file.name}")
        with Image.open(path) as image:
            image = ImageOps.fit(ImageOps.exif_transpose(image).convert("RGB"),
                                 (resolution, resolution), Image.Resampling.LANCZOS)
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1.0)
        photos.append((pixels.permute(2, 0, 1).unsqueeze(0),
                       caption_file.read_text(encoding="utf-8").strip()))
    if not photos:
        raise ValueError(f"No photos (JPEG, PNG or WebP) in {photos_dir}")
    return photos


@torch.no_grad()
def encode_captions(base_model_dir, captions, *, device, dtype,
                    max_sequence_length: int) -> dict[str, tuple]:
    """caption → (T5 embeddings, pooled CLIP embedding, text ids), on the CPU."""
    from diffusers import FluxPipeline

    pipe = FluxPipeline.from_pretrained(base_model_dir, transformer=None, vae=None,
                                        local_files_only=True, dtype=dtype).to(device)
    encoded = {}
    for caption in sorted(set(captions)):
        embeds, pooled, text_ids = pipe.encode_prompt(
            caption, prompt_2=None, device=device, max_sequence_length=max_sequence_length)
        encoded[caption] = (embeds.cpu(), pooled.cpu(), text_ids.cpu())
    del pipe
    return encoded


@torch.no_grad()
def encode_pixels(base_model_dir, pixels: list[torch.Tensor], *, device, dtype) -> dict:
    """The VAE's latent distribution (mean, std) per photo, on the CPU, and the VAE's shift
    and scale: each training step samples from the distribution, as the recipe does."""
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(base_model_dir, subfolder="vae", local_files_only=True,
                                        dtype=dtype).to(device)
    latents = []
    for batch in pixels:
        dist = vae.encode(batch.to(device, dtype)).latent_dist
        latents.append((dist.mean.float().cpu(), dist.std.float().cpu()))
    config = vae.config
    del vae
    return {"latents": latents, "shift": config.shift_factor, "scale": config.scaling_factor}
