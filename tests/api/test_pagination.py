import base64
import json
from datetime import UTC, datetime

from django.core import signing

from credits import actions as credits
from credits.models import CreditEntry
from generation.models import Image
from likeness.pagination import encode_cursor
from tests.api.conftest import assert_error
from tests.factories import make_generation, make_image


def walk(client, path, limit):
    seen, pages, cursor = [], 0, None
    while True:
        url = f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["items"]) <= limit
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages
        assert pages < 50


def test_images_walk_every_item_once(alice, alice_api):
    generation = make_generation(alice, num_images=4)
    images = [make_image(alice, generation, index=i % 4) if i < 4 else make_image(alice)
              for i in range(11)]
    # Several rows sharing one timestamp: the id breaks the tie.
    Image.objects.filter(pk__in=[i.pk for i in images[:5]]).update(
        created_at=datetime(2026, 5, 1, tzinfo=UTC))
    expected = list(Image.objects.filter(user=alice).order_by("-created_at", "-id")
                    .values_list("id", flat=True))

    seen, pages = walk(alice_api, "/api/v1/images", limit=3)

    assert seen == [str(pk) for pk in expected]
    assert len(set(seen)) == 11
    assert pages == 4


def test_default_and_exact_page(alice, alice_api):
    for i in range(25):
        credits.grant(alice, 1, reason="r", reference=f"page:{i}")

    body = alice_api.get("/api/v1/credits").json()
    assert len(body["items"]) == 24 and body["next_cursor"]

    seen, pages = walk(alice_api, "/api/v1/credits", limit=26)
    assert len(seen) == 26 and pages == 1  # a full last page has no next cursor


def test_credits_walk_every_entry_once(alice, alice_api):
    for i in range(9):
        credits.grant(alice, 1, reason="r", reference=f"walk:{i}")

    seen, _ = walk(alice_api, "/api/v1/credits", limit=4)

    assert sorted(seen) == sorted(str(pk) for pk in
                                  CreditEntry.objects.filter(user=alice).values_list("pk",
                                                                                     flat=True))
    assert len(seen) == len(set(seen)) == 10


def test_new_rows_during_the_walk_do_not_repeat(alice, alice_api):
    for _ in range(4):
        make_image(alice)
    first = alice_api.get("/api/v1/images?limit=2").json()
    make_image(alice)  # newer than everything: belongs before page one, not in page two

    second = alice_api.get(f"/api/v1/images?limit=2&cursor={first['next_cursor']}").json()

    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert len(second["items"]) == 2


def test_bad_cursors_are_400(alice, alice_api):
    for _ in range(3):
        make_image(alice)
    good = alice_api.get("/api/v1/images?limit=1").json()["next_cursor"]
    parts = good.split(":")
    tampered_json = base64.urlsafe_b64encode(json.dumps(
        {"t": "2030-01-01T00:00:00+00:00", "id": "7d0c3c4e-8d4b-4a8e-9a53-2f0d7a1c9b11"}
    ).encode()).decode().rstrip("=")
    credits_cursor = encode_cursor("credits", CreditEntry.objects.filter(user=alice).first())
    foreign = signing.dumps({"t": "2026-01-01T00:00:00+00:00", "id": "x"}, key="another-key-" * 4,
                            salt="likeness.api.cursor.images")

    tampered = ":".join([tampered_json, *parts[1:]])

    for cursor in ("garbage", tampered, good[:-2] + "xx",
                   credits_cursor, foreign):
        assert_error(alice_api.get(f"/api/v1/images?cursor={cursor}"), 400, "invalid_cursor")
    assert_error(alice_api.get("/api/v1/credits?cursor=garbage"), 400, "invalid_cursor")
