"""GET /api/v1/images is rendered without re-validating its own output (api.routes.images
.trusted_json) and with its URLs reversed once a page (ImageLinks): the answer stays the bytes
the validated schema gives, every item equals GET /images/{id}'s (which ninja validates), and
a page costs the same queries whatever its size."""

import json
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from api.api import api
from api.schemas import ImageListOut
from generation.models import Generation, Image
from tests.factories import make_generation, make_image, make_personal_model


def many_images(user, count: int) -> None:
    """`count` rows, one a minute (listing never opens the files)."""
    generation = make_generation(user, num_images=count)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    Image.objects.bulk_create([Image(
        user=user, generation=generation, index=n, content_type="image/png", width=64,
        height=48, prompt=f"picture {n}", base_model="flux-schnell", aspect_ratio="1:1",
        seed=n, provider="demo", is_demo=True, file=f"images/t/{n}.png",
        thumbnail=f"images/t/{n}.webp", metadata={"seed": n},
    ) for n in range(count)])
    for n, image in enumerate(Image.objects.filter(generation=generation).order_by("index")):
        Image.objects.filter(pk=image.pk).update(created_at=start + timedelta(minutes=n))


def varied_images(alice) -> list[Image]:
    """Images with every kind of field the list shows: shared, of a personal model with a
    likeness, a version of another, non-ASCII text, nested metadata, a favourite."""
    plain = make_image(alice, prompt="un café à Paris — «ünïcode» ✓", favorite=True)
    model = make_personal_model(alice)
    scored = make_image(alice, prompt="a portrait of zorvek woman")
    Image.objects.filter(pk=scored.pk).update(
        personal_model=model, likeness=83, face_count=2, all_faces_subject=True,
        metadata={"seed": 3, "steps": 28, "guidance": 3.5, "nested": {"a": [1, None, "x"]}})
    version = make_image(alice, generation=scored.generation, index=1)
    Image.objects.filter(pk=version.pk).update(original=scored, operation="upscale_2x")
    shared = make_image(alice, prompt="a shared lighthouse")
    Image.objects.filter(pk=shared.pk).update(share_token="T0k3n_-" + "a" * 36)
    for n, image in enumerate([plain, scored, version, shared]):
        Image.objects.filter(pk=image.pk).update(
            created_at=datetime(2026, 1, 1, 10, n, 5, 123456, tzinfo=UTC))
    return [plain, scored, version, shared]


def test_list_is_the_bytes_of_the_validated_schema(alice, alice_api):
    varied_images(alice)

    response = alice_api.get("/api/v1/images?limit=3")

    assert response.status_code == 200
    assert response["Content-Type"] == api.get_content_type()
    body = json.loads(response.content)
    assert len(body["items"]) == 3 and body["next_cursor"]
    # What ninja answers for a validated ImageListOut made of the same data.
    validated = ImageListOut.model_validate(body).model_dump()
    assert response.content == api.renderer.render(None, validated, response_status=200)


def test_every_item_equals_the_image_answer(alice, alice_api):
    images = varied_images(alice)

    items = alice_api.get("/api/v1/images").json()["items"]

    assert [item["id"] for item in items] == [str(i.pk) for i in reversed(images)]
    for item in items:
        one = alice_api.get(f"/api/v1/images/{item['id']}")
        assert one.status_code == 200
        assert item == one.json()
        assert item["url"] == "http://testserver" + reverse("api:image_file",
                                                            args=[item["id"]])
        assert item["thumbnail_url"] == "http://testserver" + reverse(
            "api:image_thumbnail", args=[item["id"]])
    shared = next(i for i in items if i["share_url"])
    assert shared["share_url"] == "http://testserver" + reverse(
        "shared_image", args=["T0k3n_-" + "a" * 36])
    scored = next(i for i in items if i["likeness"] is not None)
    assert scored["metadata"]["nested"] == {"a": [1, None, "x"]}
    assert scored["face_count"] == 2 and scored["all_faces_subject"] is True
    version = next(i for i in items if i["operation"])
    assert version["original_id"] == scored["id"]


def test_queries_do_not_grow_with_the_page(alice, alice_api):
    many_images(alice, 60)
    alice_api.get("/api/v1/images")  # the key's last use is written at most once a minute
    counts = {}
    for limit in (1, 24, 100):
        with CaptureQueriesContext(connection) as queries:
            response = alice_api.get(f"/api/v1/images?limit={limit}")
        assert response.status_code == 200
        assert len(response.json()["items"]) == min(limit, 60)
        counts[limit] = len(queries)
    # The key (with its user) and the page: nothing per image.
    assert counts[1] == counts[24] == counts[100] == 2, counts


def test_the_walk_is_unchanged(alice, alice_api):
    """Every page's cursor leads to the next: all 60 images once each, newest first."""
    many_images(alice, 60)
    seen, url = [], "/api/v1/images?limit=7"
    while url:
        body = alice_api.get(url).json()
        seen += [item["prompt"] for item in body["items"]]
        url = f"/api/v1/images?limit=7&cursor={body['next_cursor']}" if body["next_cursor"] \
            else None
    assert seen == [f"picture {n}" for n in reversed(range(60))]
    assert Generation.objects.count() == 1
