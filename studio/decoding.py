"""Opening and decoding an upload with bounded work: the format from its bytes (the extension
is never trusted), the size and pixel count checked from the header before anything is decoded,
JPEGs decoded at a reduced scale inside the decoder when they are larger than we keep, any other
format reduced at once after decoding (before anything else copies it), and the pixels upright
in sRGB. studio.photos does the checks."""

import io
import warnings
from contextlib import contextmanager

import pillow_heif
from django.conf import settings
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from studio.uploads import PhotoRejected, is_lossless

pillow_heif.register_heif_opener()

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
LONG_SIDE = 2048
REDUCIBLE_MODES = {"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "I", "F"}
# Lossless formats (PNG, lossless WebP) cannot be decoded at a reduced scale, and a photo does
# not compress losslessly to much less than a tenth of its pixels' bytes (blurred, upscaled
# portraits: 4-20x). A file whose pixels would take more than this many times its size is a
# decompression bomb (an all-black 7700x7700 PNG: 1,000x), refused from its header.
MAX_LOSSLESS_EXPANSION = 100


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
    return image if image.mode == "RGB" else image.convert("RGB")  # convert() would copy it


def _reduced(image: Image.Image) -> Image.Image:
    """A decoded image at least twice the LONG_SIDE we keep, box-reduced by a whole factor
    (in C, at once, so the full-size pixels are freed before anything copies them)."""
    factor = max(image.size) // LONG_SIDE
    if factor < 2:
        return image
    if image.mode not in REDUCIBLE_MODES:  # palette, 1-bit and 16-bit images
        image = image.convert({"P": "RGBA", "PA": "RGBA", "1": "L"}.get(image.mode, "I"))
    return image.reduce(factor)


@contextmanager
def _reading():
    """A file Pillow cannot read, or that would decode into too many pixels, as a refusal."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected("too_many_pixels", "The image has too many pixels to be a photo.")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        message = str(exc).lower()
        if "truncated" in message:
            raise PhotoRejected("corrupt", "The file is cut short (truncated); upload it again.")
        raise PhotoRejected("corrupt", "The file is damaged and cannot be read as a photo.")


def _draft(image: Image.Image) -> None:
    """Decode a JPEG at 1/2, 1/4 or 1/8 scale (done inside the JPEG decoder, nearly free) when
    that still leaves at least 3/4 of the LONG_SIDE we keep."""
    if image.format == "JPEG":
        width, height = image.size
        for reduction in (8, 4, 2):
            if max(width, height) / reduction >= LONG_SIDE * 0.75:
                image.draft("RGB", (width // reduction, height // reduction))
                break


def open_photo(data: bytes) -> tuple[Image.Image, str, int]:
    """Open an upload and check it from its header alone: the image (not decoded yet), its
    format, and the pixels decoding it will fill (what Batch.spend counts)."""
    fmt = sniff(data[:16])
    if fmt is None:
        raise PhotoRejected("unsupported_format",
                            "This is not a JPEG, PNG, WebP or HEIC photo.")
    with _reading():
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
        _draft(image)
        # What the decoder will fill: a progressive JPEG keeps every coefficient of the full
        # image, whatever the scale it is decoded at.
        pixels = full if image.info.get("progressive") else image.width * image.height
    return image, fmt, pixels


def _load(image: Image.Image) -> Image.Image:
    """Decode an opened upload (reduced when it is large) into an upright sRGB image."""
    with _reading():
        image.load()
        image = _reduced(image)
    ImageOps.exif_transpose(image, in_place=True)  # a copy of every photo, otherwise
    return _to_srgb(image)


def decode(data: bytes, batch=None) -> tuple[Image.Image, str]:
    """Open, validate and decode an upload (at a reduced scale when it is large) into an
    upright sRGB image, within the budget of the batch (studio.photos.Batch), when one is given."""
    image, fmt, pixels = open_photo(data)
    if batch is not None:
        batch.spend(pixels)
    return _load(image), fmt
