"""Image files leave only through the owner's authenticated views, straight from storage."""

from django.urls import reverse


def _body(response):
    return b"".join(response.streaming_content)


def test_image_file_streams_the_stored_bytes(alice_client, image):
    response = alice_client.get(reverse("image_file", args=[image.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == image.content_type
    assert "private" in response["Cache-Control"]
    with image.file.open("rb") as stored:
        assert _body(response) == stored.read()
    assert not response["Content-Disposition"].startswith("attachment")


def test_image_download_has_a_meaningful_name(alice_client, image):
    response = alice_client.get(reverse("image_file", args=[image.pk]) + "?download=1")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"likeness-a-lighthouse-at-dusk-{image.seed}.{image.extension}" in disposition
    _body(response)


def test_thumbnail_is_webp(alice_client, image):
    response = alice_client.get(reverse("image_thumbnail", args=[image.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert "private" in response["Cache-Control"]
    data = _body(response)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
