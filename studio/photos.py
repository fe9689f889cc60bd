"""Checking and normalising training photos, offline.

Each refusal has a code and a sentence a person understands. Everything runs on the bytes we
were given (the extension is never trusted), cheapest check first, with bounded work: the size
and the pixel count are checked from the header before anything is decoded, JPEGs are decoded
at a reduced scale inside the decoder when they are larger than we keep, any other format is
reduced at once after decoding (before anything else copies it), and one upload request decodes
at most PHOTO_MAX_PIXELS_PER_REQUEST pixels in all (Batch). A file the request has already
refused is recognised by its sha256 and refused again without being decoded again.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass
from functools import cache

import dlib
import imagehash
import numpy as np
import pillow_heif
from django.conf import settings
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from likeness import faces
from studio.identity import as_list
from studio.uploads import PhotoRejected, Unread, inspect_upload, is_lossless, size_of

pillow_heif.register_heif_opener()

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
LONG_SIDE = 2048
THUMBNAIL_SIDE = 384
SHARPNESS_SIDE = 512  # sharpness is measured at one scale, so thresholds mean the same thing
DETECTION_SIDE = 1024
NEAR_DUPLICATE_BITS = 8  # of 64: closer than this is the same photo, re-encoded or resized
REDUCIBLE_MODES = {"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "I", "F"}
OVER_BUDGET = "request_pixel_limit"
# Lossless formats (PNG, lossless WebP) cannot be decoded at a reduced scale, and a photo does
# not compress losslessly to much less than a tenth of its pixels' bytes (blurred, upscaled
# portraits: 4-20x). A file whose pixels would take more than this many times its size is a
# decompression bomb (an all-black 7700x7700 PNG: 1,000x), refused from its header.
MAX_LOSSLESS_EXPANSION = 100


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


def sniff(head: bytes) -> str | None:
    """The format from the first bytes, whatever the file is called."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"mif1",
                                               b"msf1", b"heim", b"heis"):
        return "HEIF"
    return None


def _to_srgb(image: Image.Image) -> Image.Image:
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                              outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to treating the pixels as sRGB
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


class Batch:
    """The checks of one upload request: the pixels it may still decode, and the files it has
    refused (by sha256), so that a copy sent again is refused for the same reason at once."""

    def __init__(self):
        self.pixels_left = settings.PHOTO_MAX_PIXELS_PER_REQUEST
        self.refused: dict[str, PhotoRejected] = {}

    def spend(self, pixels: int) -> None:
        """Before decoding `pixels`: PhotoRejected when the request has no room left for it."""
        if pixels > self.pixels_left:
            limit = settings.PHOTO_MAX_PIXELS_PER_REQUEST
            raise PhotoRejected(
                OVER_BUDGET, f"This request has had as many pixels checked as one request may "
                             f"({limit // 1_000_000} megapixels); send this photo again in "
                             "another request.")
        self.pixels_left -= pixels

    def check(self, data: bytes, **kwargs) -> "CheckedPhoto":
        """check_photo, within this request's budget and memory of refusals."""
        if isinstance(data, Unread):
            return check_photo(data, batch=self, **kwargs)  # refused on its size, unread
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.refused:
            raise self.refused[digest]
        try:
            return check_photo(data, batch=self, **kwargs)
        except PhotoRejected as exc:
            if exc.code != OVER_BUDGET:  # the file's own fault, whenever it is sent
                self.refused[digest] = exc
            raise


def _reduced(image: Image.Image) -> Image.Image:
    """A decoded image at least twice the LONG_SIDE we keep, box-reduced by a whole factor
    (in C, at once, so the full-size pixels are freed before anything copies them)."""
    factor = max(image.size) // LONG_SIDE
    if factor < 2:
        return image
    if image.mode not in REDUCIBLE_MODES:  # palette, 1-bit and 16-bit images
        image = image.convert({"P": "RGBA", "PA": "RGBA", "1": "L"}.get(image.mode, "I"))
    return image.reduce(factor)


def decode(data: bytes, batch: Batch | None = None) -> tuple[Image.Image, str]:
    """Open, validate and decode an upload (at a reduced scale when it is large) into an
    upright sRGB image."""
    fmt = sniff(data[:16])
    if fmt is None:
        raise PhotoRejected("unsupported_format",
                            "This is not a JPEG, PNG, WebP or HEIC photo.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            if getattr(image, "n_frames", 1) > 1 or getattr(image, "is_animated", False):
                raise PhotoRejected("animated", "Animated images cannot be used; upload a photo.")
            width, height = image.size
            if width * height > settings.PHOTO_MAX_PIXELS:
                raise PhotoRejected(
                    "too_many_pixels",
                    f"The image is {width}×{height} pixels; at most "
                    f"{settings.PHOTO_MAX_PIXELS // 1_000_000} megapixels are accepted.")
            if min(width, height) < settings.PHOTO_MIN_SIDE:
                raise PhotoRejected(
                    "too_small",
                    f"The photo is {width}×{height} pixels; its short side must be at least "
                    f"{settings.PHOTO_MIN_SIDE} px.")
            expansion = width * height * len(image.getbands()) / len(data)
            if is_lossless(image.format, data) and expansion > MAX_LOSSLESS_EXPANSION:
                raise PhotoRejected(
                    "decompression_bomb",
                    f"The image is {width}×{height} pixels in {len(data) / 1000:.0f} KB: opened, "
                    f"it would fill {expansion * len(data) / 1_000_000:.0f} MB, far more than "
                    "any photo compresses to. Upload the photo itself.")
            full = width * height
            if image.format == "JPEG":
                # Decode at 1/2, 1/4 or 1/8 scale (done inside the JPEG decoder, nearly free)
                # when that still leaves at least 3/4 of the LONG_SIDE we keep.
                for reduction in (8, 4, 2):
                    if max(width, height) / reduction >= LONG_SIDE * 0.75:
                        image.draft("RGB", (width // reduction, height // reduction))
                        break
            if batch is not None:
                # What the decoder will fill: a progressive JPEG keeps every coefficient of the
                # full image, whatever the scale it is decoded at.
                batch.spend(full if image.info.get("progressive")
                            else image.width * image.height)
            image.load()
            image = _reduced(image)
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected("too_many_pixels", "The image has too many pixels to be a photo.")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        message = str(exc).lower()
        if "truncated" in message:
            raise PhotoRejected("corrupt", "The file is cut short (truncated); upload it again.")
        raise PhotoRejected("corrupt", "The file is damaged and cannot be read as a photo.")
    image = ImageOps.exif_transpose(image)
    return _to_srgb(image), fmt


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


def _gray(image: Image.Image, long_side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, long_side / max(image.size))
    small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                         Image.Resampling.BILINEAR, reducing_gap=2.0) if scale < 1 else image
    return np.asarray(small.convert("L")), scale


def find_faces(image: Image.Image, upsample: int = 0) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in the image's own pixels, largest first."""
    gray, scale = _gray(image, DETECTION_SIDE)
    rects, scores, _ = _face_detector().run(gray, upsample, 0.0)
    faces = [
        tuple(int(v / scale) for v in (r.left(), r.top(), r.width(), r.height()))
        for r, score in zip(rects, scores, strict=True) if score >= FACE_SCORE
    ]
    return sorted(faces, key=lambda box: box[2] * box[3], reverse=True)


def sharpness(image: Image.Image, face: tuple[int, int, int, int] | None) -> float:
    """Variance of the Laplacian at a fixed scale, over the face when there is one."""
    gray, scale = _gray(image, SHARPNESS_SIDE * max(image.size) // min(image.size))
    if face is not None:
        x, y, w, h = (int(v * scale) for v in face)
        region = gray[max(0, y):y + h, max(0, x):x + w]
        if region.size >= 64:
            gray = region
    g = gray.astype(np.float64)
    laplacian = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(laplacian.var())


def the_face(image: Image.Image) -> tuple[int, int, int, int]:
    """The one face of a person's photo, large enough; PhotoRejected otherwise."""
    too_small = PhotoRejected("face_too_small",
                              "The face is too small in this photo; use a closer shot.")
    faces = find_faces(image)
    if not faces and find_faces(image, upsample=1):
        raise too_small
    if not faces:
        raise PhotoRejected("no_face",
                            "No face was found. Use photos where the face is clearly visible.")
    if len(faces) > 1:
        raise PhotoRejected("multiple_faces",
                            f"{len(faces)} faces were found; use photos of the person alone.")
    if faces[0][2] < min(image.size) * settings.PHOTO_MIN_FACE_RATIO:
        raise too_small
    return faces[0]


def check_photo(data: bytes, *, subject_class: str, existing: list[tuple[str, str]] = (),
                batch: Batch | None = None) -> CheckedPhoto:
    """Check one upload against the rules and the model's photos so far (`existing` holds
    (sha256, phash) pairs) and return it normalised; raise PhotoRejected otherwise. Uploads
    go through Batch.check, which bounds the work of their request."""
    if size_of(data) > settings.PHOTO_MAX_BYTES:
        raise PhotoRejected(
            "file_too_large",
            f"The file is {size_of(data) / 1_000_000:.1f} MB; the limit is "
            f"{settings.PHOTO_MAX_BYTES // 1_000_000} MB.")
    if not data:
        raise PhotoRejected("empty", "The file is empty.")
    digest = hashlib.sha256(data).hexdigest()
    if any(digest == sha for sha, _ in existing):
        raise PhotoRejected("duplicate", "This exact photo is already in the model.")

    if (sniffed := sniff(data[:16])) is not None:
        inspect_upload(data, sniffed)  # an image and nothing else (archives, markup, trailers)
    image, fmt = decode(data, batch)
    image = _normalise(image)

    blurry = PhotoRejected("blurry", "The photo is too blurry; use a sharp, well-lit photo.")
    # Whole-image blur first: a blurred face is often not found at all, and "blurry" is the
    # reason to tell, not "no face".
    if sharpness(image, None) < settings.PHOTO_BLUR_THRESHOLD:
        raise blurry
    face = None if subject_class in ("dog", "cat") else the_face(image)
    score = sharpness(image, face)
    if score < settings.PHOTO_BLUR_THRESHOLD:
        raise blurry
    phash = str(imagehash.phash(image))
    for _, other in existing:
        if imagehash.hex_to_hash(other) - imagehash.hex_to_hash(phash) <= NEAR_DUPLICATE_BITS:
            raise PhotoRejected("near_duplicate",
                                "This photo is almost the same as one already in the model.")
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return CheckedPhoto(
        jpeg=_encode(image, "JPEG", quality=92, optimize=False),
        thumbnail=_encode(thumb, "WEBP", quality=80),
        width=image.width,
        height=image.height,
        source_format=fmt,
        sha256=digest,
        phash=phash,
        sharpness=round(score, 1),
        face_box=list(face) if face else None,
        embedding=as_list(faces.embed(image, face)) if face else None,
    )
