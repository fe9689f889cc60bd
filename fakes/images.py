"""Small real images, deterministic from the seed, made with Pillow."""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw

FORMATS = {
    "png": ("PNG", "image/png", {"compress_level": 1}),
    "jpg": ("JPEG", "image/jpeg", {"quality": 85}),
    "jpeg": ("JPEG", "image/jpeg", {"quality": 85}),
    "webp": ("WEBP", "image/webp", {"quality": 80, "method": 0}),
}


def fit(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """The requested size, or the same aspect ratio scaled down to at most `max_pixels`."""
    width, height = max(1, int(width)), max(1, int(height))
    if width * height <= max_pixels:
        return width, height
    scale = math.sqrt(max_pixels / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def backdrop(width: int, height: int, rng: random.Random, cells: int = 8) -> Image.Image:
    """A smooth picture: `cells` × `cells` colours drawn from `rng`, blended to the size."""
    small = Image.new("RGB", (cells, cells))
    small.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(cells * cells)])
    return small.resize((width, height), Image.Resampling.BILINEAR)


def make_image(width: int, height: int, seed: int, fmt: str = "png", *, index: int = 0,
               max_pixels: int = 1_200_000) -> tuple[bytes, int, int, str]:
    """Encode a smooth, seed-dependent picture. Returns (bytes, width, height, content type)."""
    pil_format, content_type, options = FORMATS.get((fmt or "png").lower(), FORMATS["png"])
    w, h = fit(width, height, max_pixels)
    rng = random.Random(f"{seed}:{index}")
    image = backdrop(w, h, rng)
    draw = ImageDraw.Draw(image)
    r = max(2, min(w, h) // 6)
    cx, cy = rng.randrange(r, max(r + 1, w - r)), rng.randrange(r, max(r + 1, h - r))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    buf = io.BytesIO()
    image.save(buf, pil_format, **options)
    return buf.getvalue(), w, h, content_type


def black_image(width: int, height: int, fmt: str = "jpeg", *, max_pixels: int = 1_200_000
                ) -> tuple[bytes, int, int, str]:
    """What a safety checker returns in place of a flagged image."""
    pil_format, content_type, options = FORMATS.get((fmt or "png").lower(), FORMATS["png"])
    w, h = fit(width, height, max_pixels)
    buf = io.BytesIO()
    Image.new("RGB", (w, h)).save(buf, pil_format, **options)
    return buf.getvalue(), w, h, content_type


def safetensors_bytes(rank: int = 4, seed: int = 0) -> bytes:
    """A tiny but valid .safetensors file shaped like a FLUX LoRA."""
    import json
    import struct

    rng = random.Random(seed)
    tensors, blobs, offset = {}, [], 0
    for name in ("transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight",
                 "transformer.single_transformer_blocks.0.attn.to_q.lora_B.weight"):
        count = rank * 8
        blob = struct.pack(f"<{count}f", *(rng.uniform(-0.01, 0.01) for _ in range(count)))
        tensors[name] = {"dtype": "F32", "shape": [rank, 8] if name.endswith("A.weight")
                         else [8, rank], "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header = json.dumps({"__metadata__": {"format": "pt"}, **tensors}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + b"".join(blobs)
