"""Instant mode offline: the demo's stand-in for PuLID. The face of the reference photo (its
known box, else the one likeness.faces finds) is cropped and composed into each drawn picture
the way the demo LoRA composes its training faces (providers.demo.faces), at the strength where
it works best, so an instant image really shows the person of the photo and its likeness score
is a real measurement. A photo with no face gives a picture with no face (scored 0)."""

import io

from PIL import Image, ImageOps

from likeness import faces as face_finder
from providers.demo import faces
from providers.interfaces import ImageRequest, Reference


def face_crop(reference: Reference) -> bytes | None:
    """The reference's face as the demo weights keep faces (a square JPEG crop), or None."""
    with Image.open(io.BytesIO(reference.data)) as photo:
        photo = photo.convert("RGB")
    box = reference.face_box
    if not box:
        found = face_finder.detect(photo)
        if not found:
            return None
        box = found[0]
    x, y, w, h = box
    pad_x, pad_y = int(w * faces.CROP_MARGIN), int(h * faces.CROP_MARGIN)
    crop = photo.crop((max(0, x - pad_x), max(0, y - pad_y),
                       min(photo.width, x + w + pad_x), min(photo.height, y + h + pad_y)))
    crop = ImageOps.fit(crop, (faces.CROP_SIDE, faces.CROP_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=90)
    return out.getvalue()


def draw(picture: Image.Image, request: ImageRequest, seed: int, crop: bytes | None):
    """The picture with the reference's face in it (unchanged when the photo has none)."""
    if crop is None:
        return picture
    weight = request.reference.id_weight if request.reference else 1.0
    return faces.compose(picture, (crop,), seed, weight, 1.0)
