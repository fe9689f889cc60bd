"""Bulk actions from the gallery page: favourite, delete, and the ZIP streamed as it is built.
Another account's ids change nothing and are reported as not found."""

import io
import json
import os
import tracemalloc
import zipfile

from django.core.files.base import ContentFile
from django.http import StreamingHttpResponse
from django.urls import reverse

from gallery.archive import CHUNK
from generation.models import Image
from tests.factories import make_image
from tests.gallery.conftest import at, series


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_bulk_favorite_and_unfavorite(alice_client, alice):
    a, b, c = series(alice, 3)
    response = alice_client.post(reverse("gallery_bulk"), {
        "action": "favorite", "ids": [a.pk, b.pk], "next": reverse("gallery") + "?q=x"})
    assert response.status_code == 302 and response["Location"] == reverse("gallery") + "?q=x"
    assert set(Image.objects.filter(favorite=True).values_list("pk", flat=True)) == {a.pk, b.pk}

    alice_client.post(reverse("gallery_bulk"), {"action": "unfavorite", "ids": [a.pk]})
    assert set(Image.objects.filter(favorite=True).values_list("pk", flat=True)) == {b.pk}
    assert not Image.objects.get(pk=c.pk).favorite


def test_bulk_with_bobs_ids_changes_nothing_of_his(alice_client, alice, bob,
                                                  django_capture_on_commit_callbacks):
    mine = make_image(alice)
    his = make_image(bob)
    his_files = [his.file.name, his.thumbnail.name]

    response = alice_client.post(reverse("gallery_bulk"), {
        "action": "favorite", "ids": [mine.pk, his.pk, "not-an-id"]}, follow=True)
    assert "2 of the chosen images were not found." in messages_of(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("gallery_bulk"), {
            "action": "delete", "ids": [mine.pk, his.pk]}, follow=True)

    assert "Deleted 1 image." in messages_of(response)
    assert "1 of the chosen images were not found." in messages_of(response)
    assert not Image.objects.filter(pk=mine.pk).exists()
    his.refresh_from_db()
    assert not his.favorite
    assert all(his.file.storage.exists(name) for name in his_files)


def test_select_all_matching_the_filter(alice_client, alice, bob):
    foxes = series(alice, 3, prompt="a fox")
    owl = make_image(alice, prompt="an owl")
    bobs_fox = make_image(bob, prompt="a fox")

    alice_client.post(reverse("gallery_bulk"), {"action": "favorite", "all": "1", "q": "fox"})

    assert set(Image.objects.filter(favorite=True).values_list("pk", flat=True)) == {
        f.pk for f in foxes}
    assert not Image.objects.get(pk=owl.pk).favorite
    assert not Image.objects.get(pk=bobs_fox.pk).favorite

    alice_client.post(reverse("gallery_bulk"), {"action": "delete", "all": "1",
                                                "favorite": "1"})
    assert list(Image.objects.filter(user=alice)) == [owl]
    assert Image.objects.filter(pk=bobs_fox.pk).exists()


def test_unknown_bulk_action_is_400(alice_client, alice):
    image = make_image(alice)
    assert alice_client.post(reverse("gallery_bulk"), {"action": "explode",
                                                       "ids": [image.pk]}).status_code == 400
    assert Image.objects.filter(pk=image.pk).exists()


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_archive_holds_the_chosen_images_with_their_names(alice_client, alice, bob):
    fox = at(make_image(alice, prompt="A red fox"), 2)
    twin = at(make_image(alice, fox.generation, index=1), 1)  # same prompt and seed + 1
    Image.objects.filter(pk=twin.pk).update(seed=fox.seed)
    twin.refresh_from_db()
    his = make_image(bob)

    response = alice_client.post(reverse("gallery_archive"),
                                 {"ids": [fox.pk, twin.pk, his.pk]})

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="likeness-images-')
    archive = _zip(response)
    assert archive.testzip() is None
    name = f"likeness-a-red-fox-{fox.seed}.png"
    assert archive.namelist() == [name, name.replace(".png", "-2.png"), "images.json"]
    with fox.file.open("rb") as stored:
        assert archive.read(name) == stored.read()
    manifest = json.loads(archive.read("images.json"))
    assert [(row["file"], row["id"]) for row in manifest] == [
        (name, str(fox.pk)), (name.replace(".png", "-2.png"), str(twin.pk))]
    assert manifest[0]["prompt"] == fox.prompt and manifest[0]["likeness"] is None


def test_archive_streams_in_bounded_chunks(alice_client, alice):
    """Memory stays flat: the ZIP leaves in pieces no bigger than one read from storage (plus
    the headers), and building it never holds a whole image, let alone all of them."""
    size = 3 * 1024 * 1024
    images = []
    for n in range(4):
        image = make_image(alice)
        image.file.storage.delete(image.file.name)
        image.file.save(f"big-{n}.png", ContentFile(os.urandom(size)), save=True)
        images.append(image)

    tracemalloc.start()
    try:
        response = alice_client.post(reverse("gallery_archive"),
                                     {"ids": [i.pk for i in images]})
        assert response.streaming
        sizes, total = [], 0
        tracemalloc.reset_peak()
        data = io.BytesIO()
        for chunk in response.streaming_content:
            sizes.append(len(chunk))
            total += len(chunk)
            data.write(chunk)
            data.seek(0, io.SEEK_END)
        # What the generator itself held at most, next to the 12 MB it sent.
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 4 * size
    assert len(sizes) >= 4 * size // CHUNK
    assert max(sizes) <= CHUNK + 1024
    # The test keeps every byte in `data` (12 MB); the stream itself adds little on top.
    assert peak < 4 * size + 2 * 1024 * 1024
    assert zipfile.ZipFile(data).testzip() is None


def test_archive_over_the_limit_is_refused_clearly(alice_client, alice, settings):
    settings.GALLERY_ARCHIVE_MAX_IMAGES = 3
    images = series(alice, 4)
    response = alice_client.post(reverse("gallery_archive"),
                                 {"ids": [i.pk for i in images]}, follow=True)
    assert response.status_code == 200
    assert "A download holds at most 3 images; 4 were chosen." in " ".join(
        messages_of(response))
    response = alice_client.post(reverse("gallery_archive"), {"all": "1"}, follow=True)
    assert "at most 3 images" in " ".join(messages_of(response))


def test_archive_of_nothing_found(alice_client, bob):
    his = make_image(bob)
    response = alice_client.post(reverse("gallery_archive"), {"ids": [his.pk]}, follow=True)
    assert "Choose at least one image to download." in messages_of(response)
