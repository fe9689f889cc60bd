"""How much a photo sent with a removal request looks like a model's subject: the distance of
its largest face to the model's reference faces (likeness.faces), for staff to weigh. The photo
is decoded, compared and dropped; only the number is kept."""

import logging

from PIL import Image, ImageOps, UnidentifiedImageError

from likeness import faces
from studio import consent

logger = logging.getLogger(__name__)


def references(model) -> list:
    """The model's face embeddings: those kept for it, else its training photos' own."""
    kept = list(model.face_references or [])
    if kept:
        return kept
    return consent.references(model)


def distance_to_model(upload, model) -> float | None:
    """The median distance of the photo's largest face to the model's faces, or None (no
    model, no face, or nothing to compare with)."""
    if model is None:
        return None
    refs = references(model)
    if not refs:
        return None
    try:
        with Image.open(upload) as picture:
            picture = ImageOps.exif_transpose(picture).convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None
    found = faces.faces(picture)
    if not found:
        return None
    return consent.match_distance(found[0][1], refs)
