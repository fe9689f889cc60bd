"""An open gallery shows new images as they arrive: the page polls gallery_newer with the image
on top; nothing new is a 204, a new image comes back as its card with the next poll."""

import html
import re

from django.urls import reverse

from tests.factories import make_image

GALLERY = "/dashboard/gallery/"
HX = {"HX-Request": "true"}


def poll_url(page: str) -> str:
    poller = re.search(r'<div id="gallery-live"[^>]*>', page)
    assert poller, "the gallery has no live poll"
    return html.unescape(re.search(r'hx-get="([^"]+)"', poller.group(0)).group(1))


def test_a_new_image_appears_on_top_of_an_open_gallery(alice_client, alice, bob):
    older = make_image(alice, prompt="an older picture")
    page = alice_client.get(GALLERY).content.decode()
    url = poll_url(page)
    assert f"since={older.pk}" in url and 'hx-trigger="every 500ms"' in page
    assert alice_client.get(url, headers=HX).status_code == 204  # nothing new: nothing to do

    make_image(bob, prompt="bob's new picture")  # another account's: never shown here
    assert alice_client.get(url, headers=HX).status_code == 204

    newer = make_image(alice, prompt="a fresh picture")
    answer = alice_client.get(url, headers=HX)
    assert answer.status_code == 200
    body = answer.content.decode()
    assert f'data-image="{newer.pk}"' in body and f'data-image="{older.pk}"' not in body
    assert "bob&#x27;s new picture" not in body and "bob's new picture" not in body
    assert reverse("image_thumbnail", args=[newer.pk]) in body
    assert 'hx-swap-oob="true"' in body and f"since={newer.pk}" in poll_url(body)
    assert "data-more" not in body and "data-end" not in body  # cards only, for the top
    assert alice_client.get(poll_url(body), headers=HX).status_code == 204


def test_the_poll_keeps_the_gallery_filters(alice_client, alice):
    make_image(alice, favorite=True)
    url = poll_url(alice_client.get(GALLERY + "?favorite=1").content.decode())
    assert "favorite=1" in url
    make_image(alice, favorite=False)
    assert alice_client.get(url, headers=HX).status_code == 204
    liked = make_image(alice, favorite=True)
    assert f'data-image="{liked.pk}"' in alice_client.get(url, headers=HX).content.decode()


def test_an_empty_gallery_reloads_when_its_first_image_arrives(alice_client, alice):
    url = poll_url(alice_client.get(GALLERY).content.decode())
    assert url.endswith("since=")
    assert alice_client.get(url, headers=HX).status_code == 204
    make_image(alice)
    answer = alice_client.get(url, headers=HX)
    assert answer.status_code == 200 and answer["HX-Refresh"] == "true"


def test_no_poll_where_new_images_would_not_be_on_top(alice_client, alice):
    make_image(alice)
    for query in ("?sort=oldest", "?sort=likeness"):
        page = alice_client.get(GALLERY + query)
        assert 'id="gallery-live"' not in page.content.decode(), query


def test_the_poll_is_private_and_checks_its_input(alice_client, client, alice, bob):
    image = make_image(alice)
    assert alice_client.get(reverse("gallery_newer") + "?since=not-a-uuid",
                            headers=HX).status_code == 200  # treated as an empty page: reload
    # bob asking with alice's image id learns nothing: for him it is no image at all.
    client.force_login(bob)
    answer = client.get(reverse("gallery_newer") + f"?since={image.pk}", headers=HX)
    assert answer.status_code == 204 and "HX-Refresh" not in answer
