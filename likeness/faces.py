"""Face embeddings, offline: is this the same person?

dlib's HOG face detector (built into dlib), its 5-point landmark model and its ResNet face
recognition model (both shipped by face_recognition_models, public domain by dlib's author).
Nothing is downloaded at run time. An embedding is 128 float32 numbers; two photos of one
person lie close together (Euclidean distance, dlib's convention), two people far apart.

Images are PIL images, converted to RGB here. EXIF orientation is the caller's business: pass
upright pixels (studio.photos.decode does `ImageOps.exif_transpose`); a face lying on its side
is not found.
"""

import importlib.util
import threading
from pathlib import Path

import dlib
import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]  # x, y, width, height in the image's own pixels

DETECTION_SIDE = 512  # HOG runs on a copy this big: its cost grows with the pixel count
EMBEDDING_SIDE = 1024  # landmarks and the face chip are taken from a copy at most this big
DETECTION_SCORE = 0.3  # dlib's HOG margin, as in studio.photos: stray detections score < 0.2
CHIP_SIZE, CHIP_PADDING = 150, 0.25  # the aligned crop the ResNet model was trained on
# Faces narrower than this (box width, image pixels) give embeddings to distrust: shrunk to
# 45 px, a face drifted 0.16–0.22 from its full-size self, and in group photos strangers
# with 37–44 px faces came under 0.6 of each other in 14 of 78 pairs. At 60 px the drift
# was 0.10–0.17. Callers skip smaller faces (or say the face is too small) before comparing.
MIN_FACE_SIDE = 60

# Distances between embeddings, as bench/faces.py measured them on 12 real people (photos that
# scikit-image, matplotlib and Debian's libdlib19.1 ship, tests/faces_data.py): two different
# photos of one person came out at 0.33 (median), 0.50 (95th percentile) and 0.61 (worst);
# two people at 0.87 (median), 0.72 (5th percentile) and 0.60 (closest). So: at or under
# SAME_PERSON no two people were seen; over DIFFERENT_PERSON no one person was (faces of
# MIN_FACE_SIDE and more); in between is borderline: ask for a clearer photo rather than
# decide. A yes/no answer uses MATCH_THRESHOLD, dlib's own line (99.38 % on LFW by its
# author; 99.9 % on our pairs).
SAME_PERSON = 0.5
MATCH_THRESHOLD = 0.6
DIFFERENT_PERSON = 0.65

_LOADERS = {
    "detector": dlib.get_frontal_face_detector,
    "landmarks": lambda: dlib.shape_predictor(_model_file("shape_predictor_5_face_landmarks.dat")),
    "recognizer": lambda: dlib.face_recognition_model_v1(
        _model_file("dlib_face_recognition_resnet_model_v1.dat")),
}
_models: dict[str, object] = {}
_loading = threading.Lock()
# dlib documents its object detector as unsafe to share between threads, and its DNN keeps
# each call's activations inside the network: each model runs one call at a time. (dlib's
# Python calls hold the GIL anyway, so this costs no parallelism: use processes for that.)
_in_use = {name: threading.Lock() for name in _LOADERS}


def _model_file(name: str) -> str:
    # Found without importing face_recognition_models, whose __init__ needs pkg_resources
    # (gone from setuptools 81, and from fresh virtualenvs on Python 3.12+).
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed (see pyproject.toml)")
    return str(Path(next(iter(spec.submodule_search_locations))) / "models" / name)


def _model(name: str):
    """The detector, landmark model or recognition model, loaded once for the process on
    first use (the two model files are about 30 MB)."""
    if name not in _models:
        with _loading:
            if name not in _models:
                _models[name] = _LOADERS[name]()
    return _models[name]


def _shrunk_size(image: Image.Image, long_side: int) -> tuple[tuple[int, int], float]:
    """The size of the image's copy shrunk (never enlarged) so its long side is at most
    long_side, and the scale."""
    scale = min(1.0, long_side / max(image.size))
    return (max(1, round(image.width * scale)), max(1, round(image.height * scale))), scale


def _scaled(image: Image.Image, long_side: int, mode: str) -> tuple[np.ndarray, float]:
    """The image's pixels, shrunk (never enlarged) so its long side is at most long_side."""
    size, scale = _shrunk_size(image, long_side)
    if scale < 1:
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.ascontiguousarray(image.convert(mode)), scale


def _face_pixels(image: Image.Image, box: Box) -> tuple[np.ndarray, Box]:
    """The RGB pixels of the face in `box` and a face's width around it, exactly as they are in
    the image's EMBEDDING_SIDE copy (_scaled), and the box in them. The landmarks and the
    aligned chip read nothing outside that, and resizing this part alone costs a fraction of
    resizing the whole image (a 2000x1500 photo: about 1 ms against 14)."""
    (width, height), scale = _shrunk_size(image, EMBEDDING_SIDE)
    if scale == 1:
        return np.ascontiguousarray(image.convert("RGB")), box
    sx, sy = width / image.width, height / image.height
    x, y, w, h = box
    left, top = max(0, int((x - w) * sx)), max(0, int((y - h) * sy))
    right, bottom = min(width, int((x + 2 * w) * sx) + 1), min(height, int((y + 2 * h) * sy) + 1)
    region = image.resize((right - left, bottom - top), Image.Resampling.BILINEAR,
                          box=(left / sx, top / sy, right / sx, bottom / sy), reducing_gap=2.0)
    x, y, w, h = _scale_box(box, scale)
    return np.ascontiguousarray(region.convert("RGB")), (x - left, y - top, w, h)


def _hog(gray: np.ndarray, upsample: int) -> tuple[list, list]:
    with _in_use["detector"]:
        rects, scores, _ = _model("detector").run(gray, upsample, 0.0)
    return rects, scores


def detect(image: Image.Image, *, upsample: int | None = None) -> list[Box]:
    """Face boxes, largest first. HOG finds faces of about 80 px and up in its 512 px copy;
    each `upsample` doubles that copy first (about 4× the time) to find faces half as big.
    By default (None) it looks without upsampling, then once more with one if it found none."""
    gray, scale = _scaled(image, DETECTION_SIDE, "L")
    rects, scores = _hog(gray, upsample or 0)
    if upsample is None and not any(score >= DETECTION_SCORE for score in scores):
        rects, scores = _hog(gray, 1)
    boxes = [
        (round(r.left() / scale), round(r.top() / scale),
         round(r.width() / scale), round(r.height() / scale))
        for r, score in zip(rects, scores, strict=True) if score >= DETECTION_SCORE
    ]
    return sorted(boxes, key=lambda box: box[2] * box[3], reverse=True)


def _descriptor(pixels: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    rect = dlib.rectangle(x, y, x + w, y + h)
    with _in_use["landmarks"]:
        shape = _model("landmarks")(pixels, rect)
    chip = dlib.get_face_chip(pixels, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
    with _in_use["recognizer"]:
        vector = _model("recognizer").compute_face_descriptor(chip)
    return np.asarray(vector, dtype=np.float32)


def _scale_box(box: Box, scale: float) -> Box:
    return tuple(round(v * scale) for v in box)


def embed(image: Image.Image, box: Box) -> np.ndarray:
    """The 128-number embedding of the face in `box` (as `detect` gives it)."""
    return _descriptor(*_face_pixels(image, box))


def faces(image: Image.Image, *, upsample: int | None = None) -> list[tuple[Box, np.ndarray]]:
    """Every face found, largest first, with its embedding (small ones too: see
    MIN_FACE_SIDE)."""
    boxes = detect(image, upsample=upsample)
    if not boxes:
        return []
    pixels, scale = _scaled(image, EMBEDDING_SIDE, "RGB")
    return [(box, _descriptor(pixels, _scale_box(box, scale))) for box in boxes]


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings: 0 is identical, under 0.6 one person."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def medoid(embeddings: list[np.ndarray]) -> np.ndarray:
    """The embedding with the smallest total distance to the others: a model's reference face,
    which, unlike the mean, is a real face and is not dragged by one stray photo."""
    if not len(embeddings):
        raise ValueError("medoid of no embeddings")
    stack = np.asarray(embeddings, dtype=np.float32)
    totals = np.linalg.norm(stack[:, None, :] - stack[None, :, :], axis=2).sum(axis=1)
    return stack[int(np.argmin(totals))]


# likeness_score is piecewise linear through these (distance, score) points and flat outside
# them: 100 for a face as close as two real photos of one person usually are (median 0.33),
# 50 on the match line, 0 where strangers become common (a tenth of stranger pairs are closer).
SCORE_POINTS = ((0.35, 100), (MATCH_THRESHOLD, 50), (0.75, 0))


def likeness_score(dist: float) -> int:
    """How much a face looks like the person, 0–100; it never rises as the distance grows.
    On our pairs, 95 % of same-person photos scored 70 or more; 9 strangers in 10 scored 0,
    and the closest stranger about 50."""
    xs, ys = zip(*SCORE_POINTS, strict=True)
    return int(round(float(np.interp(dist, xs, ys))))
