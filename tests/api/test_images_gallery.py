"""The gallery's API: favourite, delete, share, bulk delete, archive, and cursors bound to their
account and filters. Another account's images are 404 / not_found and never change."""

import io
import json
import zipfile
from datetime import UTC, datetime

from django.http import StreamingHttpResponse

from generation.models import Image
from tests.api.conftest import assert_error
from tests.factories import make_image


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch_json(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def stamp(*images):
    for n, image in enumerate(images):
        Image.objects.filter(pk=image.pk).update(created_at=datetime(2026, 1, 1, 0, n, tzinfo=UTC))


def test_patch_favorite(alice, alice_api):
    image = make_image(alice)
    response = patch_json(alice_api, f"/api/v1/images/{image.id}", {"favorite": True})
    assert response.status_code == 200 and response.json()["favorite"] is True
    assert Image.objects.get(pk=image.pk).favorite
    response = patch_json(alice_api, f"/api/v1/images/{image.id}", {"favorite": False})
    assert response.json()["favorite"] is False
    assert not Image.objects.get(pk=image.pk).favorite


def test_patch_refuses_junk(alice, alice_api):
    image = make_image(alice)
    for body in ({"favorite": "yes"}, {"favourite": True}, {"prompt": "x"}):
        assert_error(patch_json(alice_api, f"/api/v1/images/{image.id}", body), 422,
                     "validation_error")
    assert not Image.objects.get(pk=image.pk).favorite


def test_delete_image_removes_row_and_files(alice, alice_api,
                                            django_capture_on_commit_callbacks):
    image = make_image(alice)
    storage, names = image.file.storage, [image.file.name, image.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.delete(f"/api/v1/images/{image.id}")
    assert response.status_code == 204
    assert not Image.objects.filter(pk=image.pk).exists()
    assert not any(storage.exists(n) for n in names)
    assert_error(alice_api.get(f"/api/v1/images/{image.id}"), 404, "not_found")


def test_share_and_revoke(alice, alice_api, client):
    image = make_image(alice)
    response = alice_api.post(f"/api/v1/images/{image.id}/share")
    assert response.status_code == 200
    url = response.json()["share_url"]
    image.refresh_from_db()
    assert url == f"http://testserver/s/{image.share_token}"
    assert alice_api.post(f"/api/v1/images/{image.id}/share").json()["share_url"] == url
    assert alice_api.get(f"/api/v1/images/{image.id}").json()["share_url"] == url
    assert client.get(url).status_code == 200

    assert alice_api.delete(f"/api/v1/images/{image.id}/share").status_code == 204
    assert client.get(url).status_code == 404
    assert alice_api.get(f"/api/v1/images/{image.id}").json()["share_url"] is None


def test_bobs_image_is_404_everywhere_and_unchanged(alice, bob, alice_api):
    his = make_image(bob)
    his.share_token = "b" * 43
    his.save()
    base = f"/api/v1/images/{his.id}"
    for response in (
        alice_api.get(base), alice_api.get(base + "/file"), alice_api.get(base + "/thumbnail"),
        patch_json(alice_api, base, {"favorite": True}), alice_api.delete(base),
        alice_api.post(base + "/share"), alice_api.delete(base + "/share"),
    ):
        assert_error(response, 404, "not_found")
    his.refresh_from_db()
    assert not his.favorite and his.share_token == "b" * 43


def test_bulk_delete_reports_not_found_and_spares_bob(alice, bob, alice_api,
                                                      django_capture_on_commit_callbacks):
    a, b = make_image(alice), make_image(alice)
    keep = make_image(alice)
    his = make_image(bob)
    ids = [str(b.id), str(his.id), "nope", str(a.id), str(a.id)]

    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(alice_api, "/api/v1/images/bulk-delete", {"ids": ids})

    assert response.status_code == 200
    assert response.json() == {"deleted": [str(b.id), str(a.id)],
                               "not_found": [str(his.id), "nope"]}
    assert list(Image.objects.filter(user=alice)) == [keep]
    assert his.file.storage.exists(his.file.name) and Image.objects.filter(pk=his.pk).exists()


def test_bulk_delete_limits(alice, alice_api, settings):
    settings.GALLERY_ARCHIVE_MAX_IMAGES = 2
    images = [make_image(alice) for _ in range(3)]
    details = assert_error(post_json(alice_api, "/api/v1/images/bulk-delete",
                                     {"ids": [str(i.id) for i in images]}), 413, "too_large")
    assert details == {"limit": 2, "requested": 3}
    assert Image.objects.filter(user=alice).count() == 3
    assert_error(post_json(alice_api, "/api/v1/images/bulk-delete", {"ids": []}), 422,
                 "validation_error")


def test_archive_streams_a_zip_of_own_images(alice, bob, alice_api):
    fox = make_image(alice, prompt="a fox")
    his = make_image(bob)
    response = post_json(alice_api, "/api/v1/images/archive",
                         {"ids": [str(fox.id), str(his.id)]})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/zip"
    assert response["X-Not-Found"] == "1"
    chunks = list(response.streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.namelist() == [f"likeness-a-fox-{fox.seed}.png", "images.json"]
    with fox.file.open("rb") as stored:
        assert archive.read(archive.namelist()[0]) == stored.read()


def test_archive_limit_and_nothing_found(alice, bob, alice_api, settings):
    settings.GALLERY_ARCHIVE_MAX_IMAGES = 2
    images = [make_image(alice) for _ in range(3)]
    details = assert_error(post_json(alice_api, "/api/v1/images/archive",
                                     {"ids": [str(i.id) for i in images]}), 413, "too_large")
    assert details["limit"] == 2
    his = make_image(bob)
    details = assert_error(post_json(alice_api, "/api/v1/images/archive",
                                     {"ids": [str(his.id)]}), 404, "not_found")
    assert details["not_found"] == [str(his.id)]


def test_cursor_is_bound_to_account_and_filters(alice, bob, alice_api, bob_api):
    mine = [make_image(alice, prompt="fox") for _ in range(3)]
    stamp(*mine)
    for _ in range(3):
        make_image(bob, prompt="fox")
    cursor = alice_api.get("/api/v1/images?limit=1&q=fox").json()["next_cursor"]
    assert cursor

    assert alice_api.get(f"/api/v1/images?limit=1&q=fox&cursor={cursor}").status_code == 200
    assert alice_api.get(f"/api/v1/images?limit=2&q=fox&cursor={cursor}").status_code == 200
    for response in (
        bob_api.get(f"/api/v1/images?limit=1&q=fox&cursor={cursor}"),  # foreign
        alice_api.get(f"/api/v1/images?limit=1&q=owl&cursor={cursor}"),  # other filters
        alice_api.get(f"/api/v1/images?limit=1&cursor={cursor}"),
        alice_api.get(f"/api/v1/images?limit=1&q=fox&order=oldest&cursor={cursor}"),
        alice_api.get(f"/api/v1/images?limit=1&q=fox&cursor={cursor[:-4]}AAAA"),
    ):
        assert_error(response, 400, "invalid_cursor")


def test_oldest_first_walk(alice, alice_api):
    images = [make_image(alice) for _ in range(5)]
    stamp(*images)
    seen, cursor = [], None
    while True:
        url = "/api/v1/images?order=oldest&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = alice_api.get(url).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [str(i.id) for i in images]
    assert_error(alice_api.get("/api/v1/images?order=random"), 422, "validation_error")


def test_file_download_has_a_meaningful_name(alice, alice_api):
    image = make_image(alice, prompt="A red fox")
    inline = alice_api.get(f"/api/v1/images/{image.id}/file")
    name = f"likeness-a-red-fox-{image.seed}.png"
    assert inline["Content-Disposition"] == f'inline; filename="{name}"'
    download = alice_api.get(f"/api/v1/images/{image.id}/file?download=true")
    assert download["Content-Disposition"].startswith("attachment")
    assert f"likeness-a-red-fox-{image.seed}.png" in download["Content-Disposition"]
