"""A ZIP of many images, streamed while it is built: the standard zipfile module writes into a
pipe that is emptied after every 64 KiB read from storage, so memory holds one chunk however
many images are chosen, and the first bytes leave before the last file is opened.

Images are already compressed (PNG, JPEG, WebP), so entries are stored, not deflated."""

import json
import logging
import zipfile
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

logger = logging.getLogger(__name__)
CHUNK = 64 * 1024


def download_name(image, extension: str | None = None) -> str:
    """likeness-a-lighthouse-at-dusk-1234.png: what it shows, and the seed to tell twins apart."""
    slug = slugify(image.prompt)[:50].strip("-") or "image"
    return f"likeness-{slug}-{image.seed}.{extension or image.extension}"


class ZipPipe:
    """A write-only file for zipfile that hands over what was written and forgets it."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._written = 0

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self):
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _unique(name: str, used: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    used.add(candidate)
    return candidate


MANIFEST = "images.json"


def manifest_row(image, name: str) -> dict:
    """What the archive's images.json says of one image: its file, how it was made, and its
    likeness to the personal model's subject (generation.likeness), if it was made with one."""
    return {"file": name, "id": str(image.pk), "prompt": image.prompt, "seed": image.seed,
            "base_model": image.base_model, "aspect_ratio": image.aspect_ratio,
            "provider": image.provider, "created_at": image.created_at.isoformat(),
            "personal_model_id": str(image.personal_model_id) if image.personal_model_id
            else None, "likeness": image.likeness, "face_count": image.face_count,
            "all_faces_subject": image.all_faces_subject}


def zip_stream(images) -> Iterator[bytes]:
    pipe = ZipPipe()
    used: set[str] = {MANIFEST}
    manifest = []
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for image in images:
            name = _unique(download_name(image), used)
            info = zipfile.ZipInfo(name,
                                   date_time=timezone.localtime(image.created_at).timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            try:
                source = image.file.open("rb")
            except Exception:  # a file lost from storage: leave it out, keep the rest
                logger.exception("archive: image %s has no file", image.pk)
                continue
            with source, archive.open(info, "w", force_zip64=True) as entry:
                while chunk := source.read(CHUNK):
                    entry.write(chunk)
                    yield pipe.take()
            manifest.append(manifest_row(image, name))
            yield pipe.take()
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    yield pipe.take()


def archive_response(images) -> StreamingHttpResponse:
    name = f"likeness-images-{timezone.localtime():%Y%m%d-%H%M}.zip"
    response = StreamingHttpResponse(
        (chunk for chunk in zip_stream(images) if chunk), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
