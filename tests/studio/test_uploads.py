"""A corpus of hostile uploads, built here: each one is refused with a code and a sentence a
person understands, through the API and the web page alike, and leaves nothing in storage."""

import gzip
import io
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from studio.actions import create_model
from tests.factories import key_client
from tests.studio.photos import encode, scene


def _photo(variant=1) -> bytes:
    return encode(scene(variant), "JPEG", quality=90)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _png_bomb() -> bytes:
    # 30000 x 30000 black pixels (900 MP) that compress to under 1 MB.
    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _jpeg_with_comments(total: int) -> bytes:
    photo = _photo(3)
    segment = b"\xff\xfe" + struct.pack(">H", 65535) + b"x" * 65533
    return photo[:2] + segment * (total // 65535 + 1) + photo[2:]


def _jpeg_with_segment(marker: bytes, payload: bytes) -> bytes:
    photo = _photo(4)
    return photo[:2] + marker + struct.pack(">H", len(payload) + 2) + payload + photo[2:]


def _tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        data = _photo(5)
        info = tarfile.TarInfo("photo.jpg")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="600" '
       b'height="600"><script>alert(document.cookie)</script><rect width="600" '
       b'height="600"/></svg>')
HTML = b"<!doctype html><html><body><script>fetch('/api/v1/me')</script></body></html>"

# name -> (filename, bytes, expected code). Built lazily: some take a moment.
CORPUS = {
    "zero_bytes": lambda: ("empty.jpg", b"", "empty"),
    "truncated_jpeg": lambda: ("cut.jpg", _photo(6)[: len(_photo(6)) // 2], "corrupt"),
    "corrupt_jpeg": lambda: ("noise.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40,
                             "corrupt"),
    "truncated_png": lambda: ("cut.png", encode(scene(7), "PNG")[:5000], "corrupt"),
    "decompression_bomb_png": lambda: ("bomb.png", _png_bomb(), "too_many_pixels"),
    "polyglot_jpeg_zip": lambda: ("holiday.jpg", _photo(8) + _zip({"evil.txt": b"hi"}),
                                  "polyglot"),
    "polyglot_png_zip": lambda: ("holiday.png",
                                 encode(scene(9), "PNG") + _zip({"a.html": HTML}), "polyglot"),
    "polyglot_jpeg_html_trailer": lambda: ("page.jpg", _photo(10) + HTML, "polyglot"),
    "polyglot_jpeg_html_comment": lambda: ("page.jpg", _jpeg_with_segment(b"\xff\xfe", HTML),
                                           "polyglot"),
    "polyglot_jpeg_html_exif": lambda: ("page.jpg", _jpeg_with_segment(
        b"\xff\xe1", b"Exif\x00\x00" + HTML), "polyglot"),
    "jpeg_with_trailing_data": lambda: ("tail.jpg", _photo(11) + b"\x01\x02payload" * 100,
                                        "trailing_data"),
    "svg_with_script": lambda: ("avatar.svg", SVG, "unsupported_format"),
    "svg_named_jpeg": lambda: ("avatar.jpg", SVG, "unsupported_format"),
    "html_named_png": lambda: ("photo.png", HTML, "unsupported_format"),
    "pdf_named_jpeg": lambda: ("scan.jpg", b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF",
                               "unsupported_format"),
    "exe_named_jpeg": lambda: ("setup.jpg", b"MZ\x90\x00" + b"\x00" * 500, "unsupported_format"),
    "gif_named_jpeg": lambda: ("anim.jpg", b"GIF89a" + b"\x00" * 100, "unsupported_format"),
    "huge_metadata": lambda: ("meta.jpg", _jpeg_with_comments(3 * 1024 * 1024),
                              "metadata_too_large"),
    "zip_archive": lambda: ("photos.zip", _zip({"a.jpg": _photo(12)}), "unsupported_format"),
    "zip_named_jpeg": lambda: ("photo.jpg", _zip({"a.jpg": _photo(13)}),
                                "unsupported_format"),
    "tar_archive": lambda: ("photos.tar", _tar(), "unsupported_format"),
    "gzip_archive": lambda: ("photos.jpg.gz", gzip.compress(_photo(14)), "unsupported_format"),
}


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.exists() else []


def media_root() -> Path:
    return Path(settings.STORAGES["default"]["OPTIONS"]["location"])


@pytest.fixture
def model(alice):
    return create_model(alice, name="Me", subject_class="person")


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_api_refuses_each_hostile_upload_and_keeps_nothing(alice, model, name):
    filename, data, code = CORPUS[name]()
    client = key_client(alice)
    response = client.post(f"/api/v1/models/{model.id}/photos",
                           {"files": [_upload(filename, data)]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == []
    [rejected] = body["rejected"]
    assert rejected["code"] == code, rejected
    assert rejected["filename"] == filename
    assert len(rejected["reason"]) > 15 and rejected["reason"].endswith(".")
    assert model.photos.count() == 0
    assert stored_files(media_root()) == []


def test_the_web_upload_refuses_them_too(alice, alice_client, model):
    names = ["polyglot_jpeg_zip", "svg_with_script", "huge_metadata", "zero_bytes"]
    files = [_upload(*CORPUS[name]()[:2]) for name in names]
    response = alice_client.post(f"/dashboard/models/{model.id}/photos/", {"files": files},
                                 headers={"HX-Request": "true"})
    assert response.status_code in (200, 302)
    assert model.photos.count() == 0
    assert stored_files(media_root()) == []


def test_a_plain_photo_still_passes_the_structure_checks():
    from studio.uploads import inspect_upload

    inspect_upload(_photo(15), "JPEG")
    inspect_upload(encode(scene(16), "PNG"), "PNG")
    inspect_upload(encode(scene(17), "WEBP", quality=80), "WEBP")
    # A phone's extra images after the first (MPF) are images too.
    inspect_upload(_photo(18) + _photo(19), "JPEG")


def _upload(filename, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(filename, data, content_type="image/jpeg")
