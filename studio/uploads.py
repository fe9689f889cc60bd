"""Structural checks that an upload is one image and nothing else.

studio.photos decodes and re-encodes every photo (so nothing but pixels is ever stored), but a
file that is also something else is refused outright: an image with a ZIP archive appended or
hidden in it, a web page or script in its metadata or after its end, or metadata far larger
than any camera writes. The image formats are walked segment by segment; only the metadata
segments and anything after the image are searched, never the compressed pixels, so a photo
cannot be refused because its pixel data happens to spell something."""

import io
import re
import zipfile

from django.conf import settings

from likeness.errors import DomainError

MARKUP = re.compile(rb"<\s*(script|html|iframe|body|svg|object|embed)\b|<\?php|javascript:",
                    re.IGNORECASE)


class Unread(bytes):
    """An upload too large to read at all: no bytes, only its size, which is enough to refuse
    it (studio.photos.check_photo answers file_too_large with the real size)."""

    def __new__(cls, size: int):
        data = super().__new__(cls)
        data.size = size
        return data


def size_of(data: bytes) -> int:
    return data.size if isinstance(data, Unread) else len(data)


def read_uploads(files):
    """(name, bytes) for each uploaded file (the web form's and the API's), one at a time, so
    that at most one photo is in memory, and none over PHOTO_MAX_BYTES is read."""
    limit = settings.PHOTO_MAX_BYTES
    for upload in files:
        if (upload.size or 0) > limit:  # counted by Django as the body was received
            yield upload.name, Unread(upload.size)
            continue
        data = upload.read(limit + 1)
        yield upload.name, Unread(len(data)) if len(data) > limit else data


class PhotoRejected(DomainError):
    """A photo refused, with a code and a sentence a person understands."""

    status = 422

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _reject(code, reason):
    return PhotoRejected(code, reason)


def _truncated():
    return _reject("corrupt", "The file is cut short (truncated); upload it again.")


def _jpeg(data: bytes, start: int = 0) -> tuple[list[bytes], int]:
    """Metadata segments (APPn, COM) of the JPEG at `start`, and the offset after its EOI."""
    segments, pos, end = [], start + 2, len(data)
    while True:
        if pos >= end or data[pos] != 0xFF:
            raise _truncated() if pos >= end else _reject(
                "corrupt", "The file is damaged and cannot be read as a photo.")
        while pos < end and data[pos] == 0xFF:
            pos += 1
        if pos >= end:
            raise _truncated()
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return segments, pos
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if pos + 2 > end:
            raise _truncated()
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > end:
            raise _truncated()
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            segments.append(data[pos + 2:pos + length])
        pos += length
        if marker == 0xDA:  # entropy-coded data runs to the next real marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= end:
                    raise _truncated()
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break


def _jpeg_all(data: bytes) -> tuple[list[bytes], bytes]:
    segments, pos = _jpeg(data)
    # Phones append more JPEGs after the first (MPF: depth and gain maps); those are images too.
    while data.startswith(b"\xff\xd8\xff", pos):
        more, pos = _jpeg(data, pos)
        segments += more
    return segments, data[pos:]


def _png(data: bytes) -> tuple[list[bytes], bytes]:
    segments, pos, end = [], 8, len(data)
    while True:
        if pos + 8 > end:
            raise _truncated()
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if pos + 12 + length > end:
            raise _truncated()
        if kind not in (b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB",
                        b"pHYs", b"sBIT", b"bKGD", b"hIST", b"sPLT"):
            segments.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
        if kind == b"IEND":
            return segments, data[pos:]


def _webp(data: bytes) -> tuple[list[bytes], bytes]:
    total = 8 + int.from_bytes(data[4:8], "little")
    if total > len(data):
        raise _truncated()
    segments, pos = [], 12
    while pos + 8 <= total:
        kind = data[pos:pos + 4]
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        if kind not in (b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"):
            segments.append(data[pos + 8:pos + 8 + size])
        pos += 8 + size + (size & 1)
    return segments, data[total:]


def _heif(data: bytes) -> tuple[list[bytes], bytes]:
    pos, end = 0, len(data)
    while pos + 8 <= end:
        size = int.from_bytes(data[pos:pos + 4], "big")
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end or not data[pos + 4:pos + 8].isalnum():
            break
        pos += size
    return [], data[pos:]


WALKERS = {"JPEG": _jpeg_all, "PNG": _png, "WEBP": _webp, "HEIF": _heif}


def is_lossless(fmt: str, data: bytes) -> bool:
    """PNG, and WebP whose image is VP8L (lossless), as its chunks say."""
    if fmt == "PNG":
        return True
    if fmt != "WEBP":
        return False
    pos, end = 12, min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while pos + 8 <= end:
        kind, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if kind in (b"VP8 ", b"VP8L"):
            return kind == b"VP8L"
        pos += 8 + size + (size & 1)
    return False


def _harmless_trailer(trailer: bytes) -> bool:
    # Zero padding, or Samsung's trailer (its own records, ending in "SEFT").
    return not trailer.strip(b"\x00") or trailer.endswith(b"SEFT")


def inspect_upload(data: bytes, fmt: str) -> None:
    """Raise PhotoRejected when the image `data` (already sniffed as `fmt`) is not only that."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        raise _reject("polyglot", "The file is also a ZIP archive (something is hidden inside "
                                  "the image); upload the plain photo.")
    segments, trailer = WALKERS[fmt](data)
    for part in (*segments, trailer):
        if MARKUP.search(part):
            raise _reject("polyglot", "The file hides web page or script code inside the image; "
                                      "upload the plain photo.")
    if trailer and not _harmless_trailer(trailer):
        raise _reject("trailing_data", f"The file carries {len(trailer)} bytes of other data "
                                       "after the image; upload the plain photo.")
    metadata = sum(len(part) for part in segments)
    if metadata > settings.PHOTO_MAX_METADATA_BYTES:
        raise _reject("metadata_too_large",
                      f"The file holds {metadata / 1_000_000:.1f} MB of metadata (the limit is "
                      f"{settings.PHOTO_MAX_METADATA_BYTES / 1_000_000:.1f} MB); export the "
                      "photo again without it.")
