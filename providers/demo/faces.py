"""The demo's stand-in for what a LoRA learns: the subject's own face.

The demo trainer keeps a few face crops from the training ZIP (the photos a real trainer gets,
held-out ones excluded) inside its demo weights file, with the LoRA strength at which this
"training" works best; the demo image provider composes one of them into each picture: another
crop, mirrored or not, tilted, colour-graded and placed anywhere, and about one picture in ten
a miss (a face too small to recognise), as real LoRAs miss. Away from the best strength the
face is stretched and its colours pushed, more the further away, as an under- or over-cooked
LoRA drifts from the person, so the likeness score, the validation round and the guarantee
(generation.likeness, generation.validation) all have real faces and real numbers offline.
"""

import io
import json
import random
import struct
import zipfile

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from likeness import faces

FACE_PREFIX = "demo.face_"
MAX_FACES = 6
CROP_SIDE = 320
CROP_MARGIN = 0.6  # around the detected box, so hair and chin come along
BEST_SCALES = (0.8, 1.0, 1.2)  # where a demo training "works best", chosen per run
MISS_RATE = 0.1
STRETCH_PER_STEP = 0.6  # per 0.2 of strength away from the best: about 85 one step off


def crops_from_zip(data: bytes) -> list[bytes]:
    """JPEG crops of the faces of the photos in a training ZIP (at most MAX_FACES); files that
    are no photo, or show no face, give none."""
    crops = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in sorted(n for n in archive.namelist() if n.lower().endswith(".jpg")):
            if len(crops) >= MAX_FACES:
                break
            try:
                with Image.open(io.BytesIO(archive.read(name))) as photo:
                    photo = photo.convert("RGB")
            except (OSError, ValueError):  # not a photo: a trainer learns nothing from it
                continue
            boxes = faces.detect(photo)
            if not boxes:
                continue
            x, y, w, h = boxes[0]
            pad_x, pad_y = int(w * CROP_MARGIN), int(h * CROP_MARGIN)
            crop = photo.crop((max(0, x - pad_x), max(0, y - pad_y),
                               min(photo.width, x + w + pad_x), min(photo.height, y + h + pad_y)))
            crop = ImageOps.fit(crop, (CROP_SIDE, CROP_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            crop.save(out, "JPEG", quality=90)
            crops.append(out.getvalue())
    return crops


def read_weights(data: bytes) -> tuple[list[bytes], float | None]:
    """The face crops and best strength a demo weights file holds ([] and None if none)."""
    try:
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + length])
    except (struct.error, ValueError):
        return [], None
    body = data[8 + length:]
    crops = []
    for name in sorted(k for k in header if k.startswith(FACE_PREFIX)):
        start, end = header[name]["data_offsets"]
        crops.append(body[start:end])
    best = (header.get("__metadata__") or {}).get("best_scale")
    return crops, float(best) if best else None


def _draw(seed: int, crop_count: int):
    """The seed's first draws: which crop, how big, whether it misses; and the generator, for
    the rest of the picture's choices."""
    rng = random.Random(f"demo-face:{seed}")
    index = rng.randrange(crop_count)
    size = rng.uniform(0.4, 0.58)
    return rng, index, size, rng.random() < MISS_RATE


def misses(seed: int, crop_count: int) -> bool:
    """Whether the picture of this seed misses the face (too small to recognise)."""
    return _draw(seed, crop_count)[3]


def compose(picture: Image.Image, crops: tuple[bytes, ...], seed: int, scale: float,
            best_scale: float) -> Image.Image:
    """The picture with one of the subject's faces in it, as described above."""
    rng, index, size, miss = _draw(seed, len(crops))
    width, height = picture.size
    unit = min(width, height)
    with Image.open(io.BytesIO(crops[index])) as crop:
        face = crop.convert("RGB")
    side = int(unit * size)
    if miss:
        side = max(16, unit // 28)  # far away: too small for a face to be recognised
    face = face.resize((side, side), Image.Resampling.LANCZOS)
    if rng.random() < 0.5:
        face = ImageOps.mirror(face)
    steps_off = abs(scale - best_scale) / 0.2
    stretch = 1 + rng.uniform(0, 0.08) + STRETCH_PER_STEP * steps_off
    tall = int(side * stretch)
    face = face.resize((side, tall), Image.Resampling.BICUBIC).crop(
        (0, (tall - side) // 2, side, (tall - side) // 2 + side))
    if scale > best_scale:  # over-cooked: loud colour and contrast
        face = ImageEnhance.Contrast(ImageEnhance.Color(face).enhance(1 + steps_off)).enhance(
            1 + 0.4 * steps_off)
    elif scale < best_scale:  # under-cooked: washed out
        face = ImageEnhance.Color(face).enhance(max(0.2, 1 - 0.4 * steps_off))
    gains = [rng.uniform(0.88, 1.12) for _ in range(3)]
    face = Image.merge("RGB", [band.point(lambda v, g=g: min(255, int(v * g)))
                               for band, g in zip(face.split(), gains, strict=True)])
    face = face.rotate(rng.uniform(-9, 9), Image.Resampling.BICUBIC)
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((int(side * 0.06), 0, int(side * 0.94), side), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1, side // 20)))
    canvas = picture.convert("RGB")
    canvas.paste(face, (rng.randint(0, width - side), rng.randint(0, max(0, height - side))),
                 mask)
    return canvas
