"""Checking and normalising training photos, offline.

Each refusal has a code and a sentence a person understands. Everything runs on the bytes we
were given, cheapest check first, with bounded work: studio.decoding opens and decodes an
upload (its header checked before anything is decoded), and one upload request decodes at most
PHOTO_MAX_PIXELS_PER_REQUEST pixels in all (Batch). Batch.check_all settles what depends on the
order of the uploads (the budget, copies, duplicates) and has the rest of each photo's checks
(examine) run side by side in the photo-check processes (studio.photo_pool). A copy of a file
the request has already checked is judged by that file's outcome, not decoded again.
"""

import hashlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import dlib
import imagehash
import numpy as np
from django.conf import settings
from PIL import Image

from likeness import faces
from studio import photo_pool
from studio.decoding import (  # noqa: F401 (decode, sniff: studio.photos is where callers look)
    ALLOWED_FORMATS,
    LONG_SIDE,
    _draft,
    _load,
    _reading,
    decode,
    open_photo,
    sniff,
)
from studio.identity import as_list
from studio.uploads import PhotoRejected, inspect_upload, size_of

THUMBNAIL_SIDE = 384
SHARPNESS_SIDE = 512  # sharpness is measured at one scale, so thresholds mean the same thing
DETECTION_SIDE = 1024
NEAR_DUPLICATE_BITS = 8  # of 64: closer than this is the same photo, re-encoded or resized
OVER_BUDGET = "request_pixel_limit"


@dataclass
class CheckedPhoto:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    source_format: str
    sha256: str
    phash: str
    sharpness: float
    face_box: list[int] | None
    embedding: list[float] | None = None  # the face's (likeness.faces), for studio.identity
    identity: str = ""  # set by studio.identity against the model's other photos
    identity_distance: float | None = None


class Batch:
    """The checks of one upload request: the pixels it may still decode (a copy of a file it
    has already checked is judged by that file's outcome, by sha256, and not decoded again)."""

    def __init__(self):
        self.pixels_left = settings.PHOTO_MAX_PIXELS_PER_REQUEST

    def spend(self, pixels: int) -> None:
        """Before decoding `pixels`: PhotoRejected when the request has no room left for it."""
        if pixels > self.pixels_left:
            limit = settings.PHOTO_MAX_PIXELS_PER_REQUEST
            raise PhotoRejected(
                OVER_BUDGET, f"This request has had as many pixels checked as one request may "
                             f"({limit // 1_000_000} megapixels); send this photo again in "
                             "another request.")
        self.pixels_left -= pixels

    def check_all(self, uploads: list, *, subject_class: str,
                  existing: list[tuple[str, str]]) -> Iterator["CheckedPhoto | PhotoRejected"]:
        """Check the uploads of one request: yields each one's CheckedPhoto or PhotoRejected,
        in order. The caller appends to `existing` the (sha256, phash) of each photo it keeps
        before it asks for the next outcome, and the next upload is judged against it.

        The header checks and the request's pixel budget are settled here first, in order,
        with nothing decoded; then the photos are decoded and checked side by side in the
        photo-check processes (studio.photo_pool, PHOTO_CHECK_PROCESSES), each on its own
        core, so the outcomes are the ones checking them one by one would give."""
        rules, plans, first_of = Rules.now(), [], {}
        for data in uploads:
            try:
                digest = _precheck(data)
                if digest in first_of:  # judged by the first copy's outcome, not decoded again
                    plans.append(("copy", digest, first_of[digest]))
                    continue
                first_of[digest] = len(plans)
                _is_duplicate(digest, existing)
                fmt = _open_within(data, self)
            except PhotoRejected as exc:
                plans.append(("refused", exc, None))
                continue
            plans.append(("check", digest, photo_pool.submit(data, fmt, subject_class, rules)))
        outcomes = []
        try:
            for kind, detail, work in plans:
                if kind == "refused":
                    outcome = detail
                elif kind == "copy":
                    earlier = outcomes[work]
                    outcome = earlier if isinstance(earlier, PhotoRejected) else PhotoRejected(
                        "duplicate", "This exact photo is already in the model.")
                else:
                    outcome = work.outcome()
                    if isinstance(outcome, CheckedPhoto):
                        outcome.sha256 = detail
                        try:
                            _is_near_duplicate(outcome.phash, existing)
                        except PhotoRejected as exc:
                            outcome = exc
                outcomes.append(outcome)
                yield outcome
        finally:  # the caller stopped early (the model is full): drop the checks not begun
            for kind, _, work in plans:
                if kind == "check":
                    work.cancel()


def _normalise(image: Image.Image) -> Image.Image:
    if max(image.size) > LONG_SIDE:
        image = image.copy()
        image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    # A fresh image carries no info dict at all: no EXIF, GPS, ICC, XMP or comments.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return clean


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


FACE_SCORE = 0.3  # dlib's HOG margin: true faces score ~0.8+, stray detections below 0.2


@cache
def _face_detector():
    # dlib's HOG + linear SVM frontal face detector is built into dlib: nothing to download.
    return dlib.get_frontal_face_detector()


def _shrunk(image: Image.Image, long_side: int) -> tuple[Image.Image, float]:
    """A copy whose long side is at most long_side, and its scale."""
    scale = min(1.0, long_side / max(image.size))
    if scale == 1:
        return image, scale
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0), scale


def _luma(image: Image.Image) -> np.ndarray:
    """The image's gray pixels (an L image as it is: convert() would copy it)."""
    return np.asarray(image if image.mode == "L" else image.convert("L"))


def _gray(image: Image.Image, long_side: int) -> tuple[np.ndarray, float]:
    small, scale = _shrunk(image, long_side)
    return _luma(small), scale


def find_faces(image: Image.Image, upsample: int = 0,
               shrunk: tuple[Image.Image, float] | None = None) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in the image's own pixels, largest first (`shrunk`: the
    DETECTION_SIDE copy, when the caller has it already)."""
    small, scale = shrunk or _shrunk(image, DETECTION_SIDE)
    rects, scores, _ = _face_detector().run(_luma(small), upsample, 0.0)
    faces = [
        tuple(int(v / scale) for v in (r.left(), r.top(), r.width(), r.height()))
        for r, score in zip(rects, scores, strict=True) if score >= FACE_SCORE
    ]
    return sorted(faces, key=lambda box: box[2] * box[3], reverse=True)


def sharpness(image: Image.Image, face: tuple[int, int, int, int] | None,
              gray: tuple[np.ndarray, float] | None = None) -> float:
    """Variance of the Laplacian at a fixed scale, over the face when there is one (`gray`:
    the image's _sharpness_gray, when the caller has it already)."""
    gray, scale = gray or _sharpness_gray(image)
    if face is not None:
        x, y, w, h = (int(v * scale) for v in face)
        region = gray[max(0, y):y + h, max(0, x):x + w]
        if region.size >= 64:
            gray = region
    g = gray.astype(np.int16)  # exact (|laplacian| <= 1020), and a fifth of float64's time
    laplacian = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(laplacian.var(dtype=np.float64))


def _sharpness_gray(image: Image.Image) -> tuple[np.ndarray, float]:
    return _gray(image, SHARPNESS_SIDE * max(image.size) // min(image.size))


def the_face(image: Image.Image, min_face_ratio: float | None = None,
             shrunk: tuple[Image.Image, float] | None = None) -> tuple[int, int, int, int]:
    """The one face of a person's photo, large enough; PhotoRejected otherwise."""
    if min_face_ratio is None:
        min_face_ratio = settings.PHOTO_MIN_FACE_RATIO
    shrunk = shrunk or _shrunk(image, DETECTION_SIDE)
    too_small = PhotoRejected("face_too_small",
                              "The face is too small in this photo; use a closer shot.")
    faces = find_faces(image, shrunk=shrunk)
    if not faces and find_faces(image, upsample=1, shrunk=shrunk):
        raise too_small
    if not faces:
        raise PhotoRejected("no_face",
                            "No face was found. Use photos where the face is clearly visible.")
    if len(faces) > 1:
        raise PhotoRejected("multiple_faces",
                            f"{len(faces)} faces were found; use photos of the person alone.")
    if faces[0][2] < min(image.size) * min_face_ratio:
        raise too_small
    return faces[0]


@dataclass(frozen=True)
class Rules:
    """The settings the checks of one photo read, handed to the process that runs them
    (studio.photo_pool), which has no settings of its own."""

    blur_threshold: float
    min_face_ratio: float

    @classmethod
    def now(cls) -> "Rules":
        return cls(settings.PHOTO_BLUR_THRESHOLD, settings.PHOTO_MIN_FACE_RATIO)


STAGES = ("decode", "normalise", "blur", "face", "phash", "files", "embedding")


def examine(data: bytes, fmt: str, subject_class: str, rules: Rules,
            timings: dict[str, float] | None = None) -> CheckedPhoto:
    """The checks of one photo that need no other photo: decode, normalise, blur, the one
    face, the perceptual hash, the stored files and the face's embedding (its sha256 and the
    duplicate checks are the caller's). The upload has passed open_photo already. It reads no
    setting (`rules` carries them), so it can run in a photo-check process. `timings`, when
    given, gets the seconds of each of STAGES."""
    clock = [time.thread_time()]

    def lap(stage):
        if timings is not None:
            now = time.thread_time()
            timings[stage] = timings.get(stage, 0.0) + now - clock[0]
            clock[0] = now

    with _reading():
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        _draft(image)
    image = _load(image)
    lap("decode")
    image = _normalise(image)
    luma = image.convert("L")  # one gray copy, for the sharpness, the face and the hash
    lap("normalise")
    blurry = PhotoRejected("blurry", "The photo is too blurry; use a sharp, well-lit photo.")
    # Whole-image blur first: a blurred face is often not found at all, and "blurry" is the
    # reason to tell, not "no face".
    gray = _sharpness_gray(luma)
    if sharpness(image, None, gray) < rules.blur_threshold:
        raise blurry
    lap("blur")
    face, shrunk = None, _shrunk(luma, DETECTION_SIDE)
    if subject_class not in ("dog", "cat"):
        face = the_face(image, rules.min_face_ratio, shrunk)
    score = sharpness(image, face, gray)
    if score < rules.blur_threshold:
        raise blurry
    lap("face")
    # The hash shrinks its image to 32x32 gray first: the sharpness copy gives the same bits
    # as the whole photo, for a tenth of the resizing.
    phash = str(imagehash.phash(Image.fromarray(gray[0])))
    lap("phash")
    jpeg = _encode(image, "JPEG", quality=92, optimize=False)
    lap("files")
    embedding = as_list(faces.embed(image, face)) if face else None
    lap("embedding")
    width, height = image.size
    # The thumbnail last, in place: nothing reads the photo after it, and thumbnail() on a copy
    # would copy the whole photo first. Measured on a 2000x1500 photo: a reducing gap of 1.5 is
    # 50 dB from Lanczos over the whole image (2.0, Pillow's default: 56 dB) in two thirds of
    # the time; WebP's method 2 takes half of the default 4's time for 3 % more bytes and the
    # same quality (within 0.1 dB).
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS, reducing_gap=1.5)
    thumbnail = _encode(image, "WEBP", quality=80, method=2)
    lap("files")
    return CheckedPhoto(jpeg=jpeg, thumbnail=thumbnail, width=width, height=height,
                        source_format=fmt, sha256="", phash=phash, sharpness=round(score, 1),
                        face_box=list(face) if face else None, embedding=embedding)


def _precheck(data: bytes) -> str:
    """The checks of an upload that need no decoding (its size, its bytes); its sha256."""
    if size_of(data) > settings.PHOTO_MAX_BYTES:
        raise PhotoRejected(
            "file_too_large",
            f"The file is {size_of(data) / 1_000_000:.1f} MB; the limit is "
            f"{settings.PHOTO_MAX_BYTES // 1_000_000} MB.")
    if not data:
        raise PhotoRejected("empty", "The file is empty.")
    return hashlib.sha256(data).hexdigest()


def _is_duplicate(digest: str, existing) -> None:
    if any(digest == sha for sha, _ in existing):
        raise PhotoRejected("duplicate", "This exact photo is already in the model.")


def _is_near_duplicate(phash: str, existing) -> None:
    for _, other in existing:
        if imagehash.hex_to_hash(other) - imagehash.hex_to_hash(phash) <= NEAR_DUPLICATE_BITS:
            raise PhotoRejected("near_duplicate",
                                "This photo is almost the same as one already in the model.")


def check_photo(data: bytes, *, subject_class: str, existing: list[tuple[str, str]] = (),
                batch: Batch | None = None) -> CheckedPhoto:
    """Check one upload against the rules and the model's photos so far (`existing` holds
    (sha256, phash) pairs) and return it normalised; raise PhotoRejected otherwise, here, in
    this thread. Uploads go through Batch.check_all, which checks several at once and bounds
    the work of their request."""
    digest = _precheck(data)
    _is_duplicate(digest, existing)
    fmt = _open_within(data, batch)
    checked = examine(data, fmt, subject_class, Rules.now())
    _is_near_duplicate(checked.phash, existing)
    checked.sha256 = digest
    return checked


def _open_within(data: bytes, batch: Batch | None) -> str:
    """The header checks of an upload that passed _precheck, and its pixels spent from the
    batch; its format."""
    if (sniffed := sniff(data[:16])) is not None:
        inspect_upload(data, sniffed)  # an image and nothing else (archives, markup, trailers)
    _, fmt, pixels = open_photo(data)
    if batch is not None:
        batch.spend(pixels)
    return fmt
