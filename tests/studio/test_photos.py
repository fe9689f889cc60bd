"""Every upload check, on photos made by the test: each refusal has its code and a reason."""

import io
import struct
import zlib

import imagehash
import numpy as np
import pillow_heif
import pytest
from PIL import Image
from skimage import data

from likeness import faces
from studio.photos import PhotoRejected, _normalise, check_photo, decode, sharpness
from tests.studio.photos import astronaut, blurred_jpeg, cat, encode, person_jpeg, scene


def rejected(data, subject_class="woman", existing=()):
    with pytest.raises(PhotoRejected) as info:
        check_photo(data, subject_class=subject_class, existing=list(existing))
    assert info.value.reason  # a sentence for a person, not just a code
    return info.value.code


def test_a_good_photo_is_normalised_to_a_clean_srgb_jpeg():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "Camera Maker"
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0)}  # GPS info
    # Stored on its side, as a phone does; the orientation tag says how to turn it upright.
    sideways = scene(1, size=(1200, 1500)).rotate(90, expand=True)
    data = encode(sideways, exif=exif, comment=b"secret comment")
    checked = check_photo(data, subject_class="woman")
    out = Image.open(io.BytesIO(checked.jpeg))
    assert out.format == "JPEG" and out.mode == "RGB"
    assert (out.width, out.height) == (1200, 1500)  # the orientation was applied
    assert not out.getexif() and "exif" not in out.info and "comment" not in out.info
    assert "icc_profile" not in out.info
    assert Image.open(io.BytesIO(checked.thumbnail)).format == "WEBP"
    assert checked.face_box and checked.sharpness > 40


def test_the_long_side_is_capped_at_2048():
    checked = check_photo(encode(scene(2, size=(3000, 4000)), "PNG"), subject_class="man")
    assert max(checked.width, checked.height) == 2048
    # JPEGs are decoded at a reduced scale when that still leaves 3/4 of the cap.
    checked = check_photo(encode(scene(2, size=(3000, 4000))), subject_class="man")
    assert 1536 <= max(checked.width, checked.height) <= 2048


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIF"])
def test_png_webp_and_heic_are_accepted(fmt):
    image = scene(3)
    if fmt == "HEIF":
        heif = pillow_heif.from_pillow(image)
        out = io.BytesIO()
        heif.save(out, quality=90)
        data = out.getvalue()
    else:
        data = encode(image.convert("RGBA") if fmt == "PNG" else image, fmt)
    assert check_photo(data, subject_class="person").source_format == fmt


def test_the_extension_is_not_trusted_content_is_sniffed():
    assert rejected(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
                    ) == "unsupported_format"
    assert rejected(encode(scene(1), "GIF")) == "unsupported_format"
    assert rejected(b"PK\x03\x04" + b"\0" * 100) == "unsupported_format"
    assert rejected(b"") in ("empty", "unsupported_format")


def test_animated_images_are_refused():
    frames = [scene(i) for i in range(2)]
    out = io.BytesIO()
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:])
    assert rejected(out.getvalue()) == "animated"
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:])
    assert rejected(out.getvalue()) == "animated"


def test_truncated_and_corrupt_files_are_refused():
    data = person_jpeg(4)
    assert rejected(data[: len(data) // 2]) == "corrupt"
    assert rejected(data[:200] + b"\0" * 5000) == "corrupt"


def _png_header_only(width, height):
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bombs_are_refused_before_decoding():
    assert rejected(_png_header_only(100_000, 100_000)) == "too_many_pixels"
    assert rejected(_png_header_only(9_000, 9_000)) == "too_many_pixels"


def test_size_limits(settings):
    assert rejected(encode(scene(1, size=(600, 400)))) == "too_small"
    settings.PHOTO_MAX_BYTES = 10_000
    assert rejected(person_jpeg(1)) == "file_too_large"


def test_faces_are_checked_for_people_but_not_for_pets():
    texture = Image.fromarray(data.brick()).convert("RGB")
    landscape = encode(scene(5, subject=texture))
    assert rejected(landscape) == "no_face"
    assert check_photo(landscape, subject_class="dog").face_box is None

    person = astronaut().resize((600, 600))
    two = Image.new("RGB", (1400, 800), (120, 120, 120))
    two.paste(person, (50, 100))
    two.paste(person.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (750, 100))
    assert rejected(encode(two)) == "multiple_faces"


def test_a_small_face_is_refused():
    texture = Image.fromarray(data.brick()).convert("RGB")
    wide = scene(9, size=(3000, 3000), subject=texture)
    wide.paste(astronaut().resize((900, 900)), (1000, 1000))
    assert rejected(encode(wide)) == "face_too_small"


def test_blurry_photos_are_refused():
    assert rejected(blurred_jpeg(2)) == "blurry"


def test_exact_and_near_duplicates_are_refused():
    first = check_photo(person_jpeg(8), subject_class="woman")
    existing = [(first.sha256, first.phash)]
    assert rejected(person_jpeg(8), existing=existing) == "duplicate"
    assert rejected(person_jpeg(8, quality=60), existing=existing) == "near_duplicate"
    resized = encode(scene(8).resize((960, 1200)))
    assert rejected(resized, existing=existing) == "near_duplicate"
    other = check_photo(person_jpeg(9), subject_class="woman", existing=existing)
    assert other.sha256 != first.sha256


def test_a_cat_photo_for_a_cat_model():
    assert check_photo(encode(cat().resize((900, 700))), subject_class="cat").face_box is None


@pytest.mark.parametrize("size", [(4000, 3000), (1200, 1500), (900, 700)])
def test_the_checks_read_from_small_copies_what_the_whole_photo_gives(size):
    """examine takes the sharpness, the face and the hash from one gray copy and the embedding
    from the face's region alone (likeness.faces.embed): they match what the whole normalised
    photo and its embedding copy give."""
    data = encode(scene(size[0] % 7, size=size), quality=92)
    checked = check_photo(data, subject_class="woman")
    whole = _normalise(decode(data)[0])
    pixels, scale = faces._scaled(whole, faces.EMBEDDING_SIDE, "RGB")
    embedding = faces._descriptor(pixels, faces._scale_box(tuple(checked.face_box), scale))
    assert faces.distance(np.asarray(checked.embedding, np.float32), embedding) < 1e-3
    assert imagehash.hex_to_hash(checked.phash) - imagehash.phash(whole) <= 2
    assert checked.sharpness == pytest.approx(sharpness(whole, tuple(checked.face_box)), rel=0.01)
