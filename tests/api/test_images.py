from datetime import UTC, datetime, timedelta

from generation.models import Image
from tests.api.conftest import assert_error
from tests.factories import make_generation, make_image, png_bytes, webp_bytes


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_image_detail(alice, alice_api):
    image = make_image(alice, prompt="a fox in snow", favorite=True)

    response = alice_api.get(f"/api/v1/images/{image.id}")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(image.id),
        "generation_id": str(image.generation_id),
        "url": f"http://testserver/api/v1/images/{image.id}/file",
        "thumbnail_url": f"http://testserver/api/v1/images/{image.id}/thumbnail",
        "width": 64,
        "height": 48,
        "prompt": "a fox in snow",
        "model": "flux-schnell",
        "aspect_ratio": "1:1",
        "seed": image.seed,
        "favorite": True,
        "share_url": None,
        "created_at": body["created_at"],
        "provider": "demo",
        "is_demo": True,
        "model_id": None,
        "likeness": None,
        "face_count": None,
        "all_faces_subject": False,
        "original_id": None,
        "operation": None,
        "metadata": {"seed": image.seed},
    }
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)


def test_image_file_and_thumbnail(alice, alice_api):
    image = make_image(alice)

    original = alice_api.get(f"/api/v1/images/{image.id}/file")
    assert original.status_code == 200
    assert original["Content-Type"] == "image/png"
    assert original["Cache-Control"].startswith("private")
    assert b"".join(original.streaming_content) == png_bytes()

    thumb = alice_api.get(f"/api/v1/images/{image.id}/thumbnail")
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/webp"
    assert thumb["Cache-Control"].startswith("private")
    assert b"".join(thumb.streaming_content) == webp_bytes()


def test_list_images_newest_first_and_only_own(alice, bob, alice_api):
    first = make_image(alice)
    second = make_image(alice)
    make_image(bob)

    response = alice_api.get("/api/v1/images")

    assert ids(response) == [str(second.id), str(first.id)]
    assert response.json()["next_cursor"] is None


def test_list_images_filters(alice, alice_api):
    fox = make_image(alice, prompt="A red FOX in the snow", base_model="flux-dev",
                     aspect_ratio="16:9", favorite=True)
    owl = make_image(alice, prompt="an owl at night", base_model="flux-schnell",
                     aspect_ratio="1:1")

    assert ids(alice_api.get("/api/v1/images?q=fox")) == [str(fox.id)]
    assert ids(alice_api.get("/api/v1/images?base_model=flux-schnell")) == [str(owl.id)]
    assert ids(alice_api.get("/api/v1/images?aspect_ratio=16:9")) == [str(fox.id)]
    assert ids(alice_api.get("/api/v1/images?favorite=true")) == [str(fox.id)]
    assert ids(alice_api.get("/api/v1/images?favorite=false")) == [str(owl.id)]
    assert ids(alice_api.get("/api/v1/images?q=owl&favorite=true")) == []
    assert ids(alice_api.get(f"/api/v1/images?model_id={fox.generation_id}")) == []


def test_list_images_since_until(alice, alice_api):
    old, new = make_image(alice), make_image(alice)
    Image.objects.filter(pk=old.pk).update(created_at=datetime(2026, 1, 1, 12, tzinfo=UTC))
    Image.objects.filter(pk=new.pk).update(created_at=datetime(2026, 3, 1, 12, tzinfo=UTC))

    assert ids(alice_api.get("/api/v1/images?since=2026-02-01T00:00:00Z")) == [str(new.id)]
    assert ids(alice_api.get("/api/v1/images?until=2026-02-01T00:00:00Z")) == [str(old.id)]
    # A time without a zone is UTC.
    assert ids(alice_api.get("/api/v1/images?since=2026-01-01T12:00:00")) == [
        str(new.id), str(old.id)]
    assert ids(alice_api.get(
        "/api/v1/images?since=2026-01-01T00:00:00%2B00:00&until=2026-01-02T00:00:00Z"
    )) == [str(old.id)]


def test_list_images_bad_filters_are_422(alice_api):
    for query, field in (("since=yesterday", "since"), ("aspect_ratio=5:1", "aspect_ratio"),
                         ("base_model=sdxl", "base_model"), ("favorite=maybe", "favorite"),
                         ("limit=101", "limit"), ("limit=0", "limit")):
        details = assert_error(alice_api.get(f"/api/v1/images?{query}"), 422,
                               "validation_error")
        assert details["field"] == field


def test_images_of_a_generation_are_in_order(alice, alice_api):
    generation = make_generation(alice, num_images=2)
    second = make_image(alice, generation, index=1)
    first = make_image(alice, generation, index=0)

    body = alice_api.get(f"/api/v1/generations/{generation.id}").json()

    assert [i["id"] for i in body["images"]] == [str(first.id), str(second.id)]


def test_unknown_image_is_404(alice_api):
    for suffix in ("", "/file", "/thumbnail"):
        for iid in ("7d0c3c4e-8d4b-4a8e-9a53-2f0d7a1c9b11", "nope"):
            assert_error(alice_api.get(f"/api/v1/images/{iid}{suffix}"), 404, "not_found")
