"""Every generated image says it is one: IPTC's digital source type trainedAlgorithmicMedia in
XMP, in the file every download serves (the web's file and ?download=1, the API's /file, a ZIP,
a share link), read back from the bytes; and with AI_MARK_VISIBLE a visible label."""

import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest
from PIL import Image as PILImage

from gallery import sharing
from generation import provenance
from generation.actions import create_generation
from tests.factories import key_client
from tests.studio.photos import encode, scene

IPTC = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}"


def source_type(data: bytes) -> str | None:
    """The DigitalSourceType read back from a file's XMP, parsed as XML."""
    packet = provenance.read_xmp(data)
    if not packet:
        return None
    root = ET.fromstring(packet[packet.index("<x:xmpmeta"):packet.index("</x:xmpmeta>") + 12])
    for node in root.iter():
        if f"{IPTC}DigitalSourceType" in node.attrib:
            return node.attrib[f"{IPTC}DigitalSourceType"]
    return None


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_each_format_gets_the_packet_and_keeps_its_pixels(fmt):
    picture = scene(3, size=(320, 240))
    original = encode(picture, fmt)
    stamped = provenance.stamp(original, system="FLUX.1 [dev]")
    assert source_type(stamped) == provenance.DIGITAL_SOURCE_TYPE
    assert "FLUX.1 [dev]" in provenance.read_xmp(stamped)
    with PILImage.open(io.BytesIO(stamped)) as out, PILImage.open(io.BytesIO(original)) as inp:
        assert out.format == fmt and out.size == inp.size
        if fmt != "WEBP":  # inserted, not re-encoded
            assert out.convert("RGB").tobytes() == inp.convert("RGB").tobytes()
    # Stamping again replaces the packet instead of adding a second one.
    twice = provenance.stamp(stamped, system="FLUX.1 [dev]")
    if fmt != "WEBP":
        assert twice == stamped


def test_a_jpeg_keeps_its_other_segments():
    out = io.BytesIO()
    scene(1, size=(200, 160)).save(out, "JPEG", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00"
                                   b"\x00\x00\x00\x00", comment=b"c2pa stand-in")
    stamped = provenance.stamp(out.getvalue())
    with PILImage.open(io.BytesIO(stamped)) as picture:
        assert picture.info.get("comment") == b"c2pa stand-in" and "exif" in picture.info


def test_the_visible_label_changes_the_corner_only():
    original = encode(scene(5, size=(600, 400)), "PNG")
    marked = provenance.stamp(original, visible=True)
    assert source_type(marked) == provenance.DIGITAL_SOURCE_TYPE
    with PILImage.open(io.BytesIO(marked)) as out, PILImage.open(io.BytesIO(original)) as inp:
        a, b = out.convert("RGB"), inp.convert("RGB")
        corner = (0, 300, 200, 400)
        assert a.crop(corner).tobytes() != b.crop(corner).tobytes()
        assert a.crop((300, 0, 600, 200)).tobytes() == b.crop((300, 0, 600, 200)).tobytes()


def test_every_download_carries_it(rich_alice, run_jobs, alice_client, client, settings):
    generation = create_generation(rich_alice, prompt="a lighthouse at dusk", num_images=2)
    run_jobs()
    image = generation.images.first()
    downloads = {
        "web": alice_client.get(f"/images/{image.pk}/file"),
        "web download": alice_client.get(f"/images/{image.pk}/file?download=1"),
        "api": key_client(rich_alice).get(f"/api/v1/images/{image.pk}/file"),
    }
    token = sharing.share(image)
    downloads["share link"] = client.get(f"/s/{token}/image")
    for name, response in downloads.items():
        assert response.status_code == 200, name
        assert source_type(b"".join(response.streaming_content)) == \
            provenance.DIGITAL_SOURCE_TYPE, name
    archive = alice_client.post("/dashboard/gallery/archive",
                                {"ids": [str(i.pk) for i in generation.images.all()]})
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as zipped:
        images = [n for n in zipped.namelist() if n.endswith((".png", ".jpg", ".webp"))]
        assert len(images) == 2
        for name in images:
            assert source_type(zipped.read(name)) == provenance.DIGITAL_SOURCE_TYPE
    api_zip = key_client(rich_alice).post("/api/v1/images/archive", json.dumps(
        {"ids": [str(image.pk)]}), content_type="application/json")
    with zipfile.ZipFile(io.BytesIO(b"".join(api_zip.streaming_content))) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith((".png", ".jpg", ".webp")))
        assert source_type(zipped.read(name)) == provenance.DIGITAL_SOURCE_TYPE


def test_the_visible_mark_is_an_operator_setting(rich_alice, run_jobs, settings):
    settings.AI_MARK_VISIBLE = True
    generation = create_generation(rich_alice, prompt="a lighthouse at dusk")
    run_jobs()
    image = generation.images.get()
    with image.file.open("rb") as handle:
        data = handle.read()
    assert source_type(data) == provenance.DIGITAL_SOURCE_TYPE
    from providers.demo.images import encode_png, render

    plain = encode_png(render("a lighthouse at dusk", image.seed, image.width, image.height),
                       "a lighthouse at dusk", image.seed)
    with PILImage.open(io.BytesIO(data)) as marked, PILImage.open(io.BytesIO(plain)) as bare:
        assert marked.convert("RGB").tobytes() != bare.convert("RGB").tobytes()
