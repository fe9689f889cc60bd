"""The work an upload can cost is bounded (issue 16): an upload request over the cap is refused
before its body is read, on the web as in the API and for any other form; a large image is
decoded at a reduced scale; one request decodes at most PHOTO_MAX_PIXELS_PER_REQUEST pixels; a
file already refused in the request is refused again by its hash, undecoded; and nothing of a
refused photo is kept, nor any credit spent. (The cost itself is measured by
bench/upload_bomb.py, not timed here.)"""

import io
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from credits.actions import get_balance
from studio import photos
from studio.models import TrainingPhoto
from studio.uploads import Unread, read_uploads
from tests.api.conftest import assert_error
from tests.factories import key_client
from tests.storage import stored_names
from tests.studio.photos import person_jpeg


class Tripwire(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self):
        return True

    def read(self, *args):
        raise AssertionError("the body of a refused upload was read")

    readline = readinto = read


BIG = 315_000_000  # the size an attacker declared (and would send)


def huge(client, url, **extra):
    environ = {"CONTENT_TYPE": "multipart/form-data; boundary=x", "CONTENT_LENGTH": str(BIG),
               "wsgi.input": Tripwire()}
    return client.generic("POST", url, **environ, **extra)


@pytest.fixture
def nothing_spent(model):
    before = get_balance(model.user)
    yield
    assert not TrainingPhoto.objects.exists()
    assert stored_names() == []
    assert get_balance(model.user) == before


def test_the_web_form_refuses_an_upload_over_the_cap_unread(alice_client, model, nothing_spent):
    url = reverse("model_photos", args=[model.pk])
    response = huge(alice_client, url)
    assert response.status_code == 302 and response["Location"] == url
    page = alice_client.get(url).content.decode()
    assert "The upload is 315.0 MB; at most 210 MB can be sent at once." in page


def test_the_upload_script_gets_the_reason_as_json(alice_client, model, nothing_spent):
    response = huge(alice_client, reverse("model_photos", args=[model.pk]),
                    HTTP_ACCEPT="application/json")
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert "315.0 MB" in response.json()["message"]


def test_the_api_refuses_it_unread_too(alice, model, nothing_spent):
    response = huge(key_client(alice), f"/api/v1/models/{model.pk}/photos")
    details = assert_error(response, 413, "too_large")
    assert details == {"size": BIG, "limit": 200 * 1024 * 1024}


def test_every_other_form_refuses_it_unread(alice_client, alice):
    response = huge(alice_client, reverse("profile"))
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.name == "Alice"


def test_a_file_over_the_photo_limit_is_not_even_read(settings):
    settings.PHOTO_MAX_BYTES = 1000
    big = mock.Mock(size=5_000_000, read=mock.Mock(side_effect=AssertionError("read")))
    big.name = "big.jpg"
    small = SimpleUploadedFile("small.jpg", b"x" * 10)
    (big_name, unread), (small_name, data) = list(read_uploads([big, small]))
    assert isinstance(unread, Unread) and unread.size == 5_000_000 and unread == b""
    assert (big_name, small_name, data) == ("big.jpg", "small.jpg", b"x" * 10)
    with pytest.raises(photos.PhotoRejected) as refused:
        photos.check_photo(unread, subject_class="woman")
    assert refused.value.code == "file_too_large" and "5.0 MB" in refused.value.reason


def black_png(side: int) -> bytes:
    """The bomb: a few KB of PNG that open as side × side pixels."""
    out = io.BytesIO()
    Image.new("RGB", (side, side)).save(out, format="PNG", compress_level=9)
    return out.getvalue()


def heavy_png(side: int, mode: str = "RGB") -> bytes:
    """A PNG that is costly to decode and no bomb (it compresses no better than photos):
    blocks of noise, each call different."""
    small = Image.merge("RGB", [Image.effect_noise((side // 10, side // 10), 70)
                                for _ in range(3)])
    out = io.BytesIO()
    small.resize((side, side), Image.Resampling.NEAREST).convert(mode).save(
        out, format="PNG", compress_level=1)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb():
    return black_png(7700)  # 173 KB that would open as 59 MP (the file)


def post_photos(client, model, files):
    data = {"files": [SimpleUploadedFile(name, content) for name, content in files]}
    return client.post(f"/api/v1/models/{model.pk}/photos", data)


@pytest.fixture
def decoded():
    """The pixels decoded, as the request budget counts them (studio.photos.Batch.spend)."""
    with mock.patch.object(photos.Batch, "spend", autospec=True,
                           side_effect=photos.Batch.spend) as spend:
        yield spend


def test_twenty_copies_of_the_bomb_are_refused_undecoded(alice, model, bomb, decoded,
                                                         nothing_spent):
    with mock.patch.object(photos, "open_photo", wraps=photos.open_photo) as opened:
        response = post_photos(key_client(alice), model,
                               [(f"{i}.png", bomb) for i in range(20)])
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == []
    assert [r["code"] for r in body["rejected"]] == ["decompression_bomb"] * 20
    assert "7700×7700 pixels in 173 KB" in body["rejected"][0]["reason"]
    assert len({r["reason"] for r in body["rejected"]}) == 1
    assert opened.call_count == 1  # its header, once; the 19 copies by their hash
    assert decoded.call_count == 0


def test_a_copy_of_a_refused_file_is_refused_without_decoding_it_again(alice, model, decoded,
                                                                       nothing_spent):
    heavy = heavy_png(4500)  # 20 MP of noise: decoded in full (PNG), and not a face
    body = post_photos(key_client(alice), model,
                       [("a.png", heavy), ("b.png", heavy), ("c.png", heavy)]).json()
    assert [r["code"] for r in body["rejected"]] == ["no_face"] * 3
    assert decoded.call_count == 1


def test_a_request_decodes_no_more_than_its_budget(alice, model, settings, decoded,
                                                   nothing_spent):
    settings.PHOTO_MAX_PIXELS_PER_REQUEST = 30_000_000
    files = [(f"{i}.png", heavy_png(4500)) for i in range(3)]  # 20 MP each, all different
    body = post_photos(key_client(alice), model, files).json()
    assert [r["code"] for r in body["rejected"]] == ["no_face"] + [photos.OVER_BUDGET] * 2
    assert "send this photo again in another request" in body["rejected"][1]["reason"]
    assert [call.args[1] for call in decoded.call_args_list] == [20_250_000] * 3
    # Only the first one's pixels were decoded; the next request has a budget of its own.
    body = post_photos(key_client(alice), model, files[1:2]).json()
    assert [r["code"] for r in body["rejected"]] == ["no_face"]


def test_a_jpeg_counts_the_pixels_it_is_decoded_at():
    batch = photos.Batch()
    left = batch.pixels_left
    photos.decode(photos._encode(Image.new("RGB", (4000, 3000), (90, 90, 90)), "JPEG"), batch)
    assert left - batch.pixels_left == 2000 * 1500  # decoded at 1/2 scale by the decoder
    photos.decode(photos._encode(Image.new("RGB", (4000, 3000), (90, 90, 90)), "JPEG",
                                 progressive=True), batch)
    assert left - batch.pixels_left == 2000 * 1500 + 4000 * 3000  # it holds them all


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "1"])
def test_a_large_image_comes_out_reduced(mode):
    image, fmt = photos.decode(heavy_png(4500, mode=mode))
    assert fmt == "PNG" and image.size == (2250, 2250) and image.mode == "RGB"


def test_a_lossless_webp_bomb_is_refused_and_a_lossy_photo_is_not():
    out = io.BytesIO()
    Image.new("RGB", (6000, 6000)).save(out, format="WEBP", lossless=True)
    with pytest.raises(photos.PhotoRejected) as refused:
        photos.decode(out.getvalue())
    assert refused.value.code == "decompression_bomb"
    out = io.BytesIO()
    Image.new("RGB", (3000, 3000), (80, 90, 100)).save(out, format="WEBP", quality=60)
    image, fmt = photos.decode(out.getvalue())  # lossy: it compresses far more, and is no bomb
    assert (fmt, image.size) == ("WEBP", (3000, 3000))


def test_the_first_failing_check_stops_the_rest(alice, model, decoded, nothing_spent):
    small = Image.new("RGB", (300, 300))
    tiny, zipped = photos._encode(small, "PNG"), heavy_png(600) + b"PK\x05\x06" + bytes(18)
    body = post_photos(key_client(alice), model,
                       [("tiny.png", tiny), ("zipped.png", zipped), ("tiny2.png", tiny)]).json()
    assert [r["code"] for r in body["rejected"]] == ["too_small", "polyglot", "too_small"]
    assert decoded.call_count == 0  # nothing was decoded


def test_good_photos_pass_among_refused_copies(alice, model, bomb):
    body = post_photos(key_client(alice), model, [
        ("a.jpg", person_jpeg(1)), ("bomb.png", bomb), ("b.jpg", person_jpeg(2)),
        ("bomb-again.png", bomb)]).json()
    assert [p["filename"] for p in body["accepted"]] == ["a.jpg", "b.jpg"]
    assert [(r["filename"], r["code"]) for r in body["rejected"]] == [
        ("bomb.png", "decompression_bomb"), ("bomb-again.png", "decompression_bomb")]
    assert TrainingPhoto.objects.count() == 2
