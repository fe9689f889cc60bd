"""Test photos made on the spot: a real photo of a person (skimage's astronaut) placed on
different backgrounds at different sizes, so each is a distinct photo of the same person."""

import io
import random
from functools import cache

from PIL import Image, ImageDraw, ImageFilter
from skimage import data


@cache
def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


@cache
def cat() -> Image.Image:
    return Image.fromarray(data.chelsea())


def scene(variant: int, size=(1200, 1500), subject=None) -> Image.Image:
    rng = random.Random(variant)
    canvas = Image.new("RGB", size, tuple(rng.randint(0, 255) for _ in range(3)))
    draw = ImageDraw.Draw(canvas)
    for _ in range(12):
        x, y = rng.randint(0, size[0]), rng.randint(0, size[1])
        w, h = rng.randint(50, size[0] // 2), rng.randint(50, size[1] // 2)
        draw.rectangle((x, y, x + w, y + h), fill=tuple(rng.randint(0, 255) for _ in range(3)))
    person = (subject or astronaut()).copy()
    if variant % 2:
        person = person.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    side = int(min(size) * rng.uniform(0.6, 0.85))
    person = person.resize((side, side), Image.Resampling.LANCZOS)
    canvas.paste(person, (rng.randint(0, size[0] - side), rng.randint(0, size[1] - side)))
    return canvas


def encode(image: Image.Image, fmt="JPEG", **options) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        options.setdefault("quality", 90)
    image.save(out, format=fmt, **options)
    return out.getvalue()


def person_jpeg(variant: int, **options) -> bytes:
    return encode(scene(variant), **options)


def blurred_jpeg(variant: int) -> bytes:
    return encode(scene(variant).filter(ImageFilter.GaussianBlur(6)))


def selfie(subject=None, size=(640, 480), variant=0) -> Image.Image:
    """A webcam frame of the subject (the astronaut by default): the face large and centred,
    on a plain wall, as a consent selfie looks."""
    rng = random.Random(1000 + variant)
    frame = Image.new("RGB", size, tuple(rng.randint(150, 220) for _ in range(3)))
    person = (subject or astronaut()).copy()
    side = int(size[1] * 0.95)
    person = person.resize((side, side), Image.Resampling.LANCZOS)
    frame.paste(person, ((size[0] - side) // 2, (size[1] - side) // 2))
    return frame


def selfie_jpeg(subject=None, **options) -> bytes:
    return encode(selfie(subject, **options))
