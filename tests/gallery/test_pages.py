"""The gallery page: keyset pages for infinite scroll, filters in the URL, the remembered
layout, the details dialog and page, and the single-image actions."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from gallery import filters as listing
from generation.models import Generation, Image
from tests.factories import make_image
from tests.gallery.conftest import EPOCH, at, series

HX = {"HTTP_HX_REQUEST": "true"}


def card_ids(body: str) -> list[str]:
    return re.findall(r'data-card data-id="([0-9a-f-]{36})"', body)


def more_url(body: str) -> str | None:
    match = re.search(r'data-more\s+hx-get="([^"]+)"', body)
    return match.group(1).replace("&amp;", "&") if match else None


def walk(client, url: str) -> tuple[list[str], int]:
    first = client.get(url)
    assert first.status_code == 200
    body = first.content.decode()
    seen, pages = card_ids(body), 1
    while (next_url := more_url(body)) is not None:
        assert "cursor=" in next_url
        response = client.get(next_url, **HX)
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" not in body  # a fragment, appended by htmx
        seen += card_ids(body)
        pages += 1
        assert pages < 20
    return seen, pages


def test_infinite_scroll_walks_every_image_once(alice_client, alice, bob, settings, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 4)
    images = series(alice, 10)
    make_image(bob)

    seen, pages = walk(alice_client, reverse("gallery"))

    assert seen == [str(i.pk) for i in reversed(images)]
    assert pages == 3
    oldest, _ = walk(alice_client, reverse("gallery") + "?sort=oldest")
    assert oldest == [str(i.pk) for i in images]


def test_gallery_without_javascript_pages_by_link(alice_client, alice, settings, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    images = series(alice, 3)
    body = alice_client.get(reverse("gallery")).content.decode()
    link = re.search(r'href="([^"]*cursor=[^"]+)"', body).group(1).replace("&amp;", "&")

    second = alice_client.get(link).content.decode()  # a whole page, starting at the cursor

    assert "<html" in second and card_ids(second) == [str(images[0].pk)]
    assert "Back to the start" in second


def test_tampered_or_foreign_cursor_is_400(alice_client, client, alice, bob, settings, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 1)
    series(alice, 3)
    series(bob, 3)
    body = alice_client.get(reverse("gallery")).content.decode()
    url = more_url(body)
    cursor = re.search(r"cursor=([^&]+)", url).group(1)

    assert alice_client.get(url[:-3] + "abc", **HX).status_code == 400
    assert alice_client.get(reverse("gallery") + "?cursor=garbage").status_code == 400
    # The same cursor with other filters, or for another account, is refused too.
    assert alice_client.get(reverse("gallery") + f"?favorite=1&cursor={cursor}").status_code \
        == 400
    client.force_login(bob)
    assert client.get(reverse("gallery") + f"?cursor={cursor}").status_code == 400


def test_filters_combine_and_stay_in_the_links(alice_client, alice):
    fox = at(make_image(alice, prompt="A red FOX in snow", base_model="flux-dev",
                        aspect_ratio="16:9", favorite=True), 1)
    fox2 = at(make_image(alice, prompt="a fox at dawn", base_model="flux-dev",
                         aspect_ratio="1:1"), 2)
    owl = at(make_image(alice, prompt="an owl", base_model="flux-schnell",
                        aspect_ratio="16:9", favorite=True), 3)
    Image.objects.filter(pk=owl.pk).update(created_at=EPOCH + timedelta(days=10))

    def ids(query):
        response = alice_client.get(reverse("gallery") + "?" + query)
        assert response.status_code == 200
        return card_ids(response.content.decode())

    assert ids("q=fox") == [str(fox2.pk), str(fox.pk)]
    assert ids("model=flux-dev&aspect_ratio=16:9") == [str(fox.pk)]
    assert ids("favorite=1") == [str(owl.pk), str(fox.pk)]
    assert ids("favorite=1&q=owl&model=flux-schnell") == [str(owl.pk)]
    assert ids("aspect_ratio=16:9&sort=oldest") == [str(fox.pk), str(owl.pk)]
    assert ids("since=2026-06-05") == [str(owl.pk)]
    assert ids("until=2026-06-01") == [str(fox2.pk), str(fox.pk)]  # "to" is inclusive
    assert ids(f"model={fox.generation_id}") == []  # a personal model: none linked yet
    assert "No images match" in alice_client.get(reverse("gallery") + "?q=zebra").content.decode()
    # Junk is dropped, not a 500.
    assert ids("since=yesterday&aspect_ratio=7:1&model=sdxl") == [
        str(owl.pk), str(fox2.pk), str(fox.pk)]
    # The next page keeps the filters.
    body = alice_client.get(reverse("gallery") + "?q=fox&favorite=1").content.decode()
    assert 'name="q" value="fox"' in body.replace("&amp;", "&") or "q=fox" in body


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=9999-12-31&until=9999-12-31",
                                   "q=fox%1b", "q=%00"])
def test_dates_and_text_no_query_can_hold_are_a_message_not_a_500(alice_client, alice, query):
    image = make_image(alice, prompt="a fox")
    response = alice_client.get(reverse("gallery") + "?" + query)
    assert response.status_code == 200
    body = response.content.decode()
    assert ("Choose a date between the years 1 and 9999" in body
            or "Remove the control character" in body or "Null characters" in body)
    assert card_ids(body) == [str(image.pk)]  # the filter is dropped, the gallery shown


def test_the_last_day_of_the_calendar_is_accepted(alice_client, alice):
    image = make_image(alice)
    body = alice_client.get(reverse("gallery") + "?until=9999-12-30").content.decode()
    assert card_ids(body) == [str(image.pk)]


def test_next_page_link_keeps_filters(alice_client, alice, settings, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 1)
    series(alice, 3, prompt="fox", favorite=True)
    body = alice_client.get(reverse("gallery") + "?q=fox&favorite=1&view=list").content.decode()
    url = more_url(body)
    assert "q=fox" in url and "favorite=1" in url and "view=list" in url


def test_layout_is_remembered(alice_client, alice):
    make_image(alice)
    response = alice_client.get(reverse("gallery") + "?view=list")
    assert response.cookies["gallery_view"].value == "list"
    assert 'data-view="list"' in response.content.decode()
    # The next visit, without ?view, keeps the list.
    assert 'data-view="list"' in alice_client.get(reverse("gallery")).content.decode()
    assert 'data-view="grid"' in alice_client.get(
        reverse("gallery") + "?view=grid").content.decode()


def test_listing_touches_no_file(alice_client, alice, settings):
    images = series(alice, 3)
    for image in images:  # rows without files: listing must not care
        image.file.storage.delete(image.file.name)
    assert card_ids(alice_client.get(reverse("gallery")).content.decode()) == [
        str(i.pk) for i in reversed(images)]


def test_gallery_page_queries_stay_few(alice_client, alice, django_assert_max_num_queries):
    series(alice, 30)
    with django_assert_max_num_queries(12):
        response = alice_client.get(reverse("gallery"))
    assert len(card_ids(response.content.decode())) == 24


def test_details_dialog_and_page(alice_client, alice):
    older, image, newer = series(alice, 3, prompt="a lighthouse at dusk")

    dialog = alice_client.get(reverse("image_detail", args=[image.pk]), **HX)
    page = alice_client.get(reverse("image_detail", args=[image.pk]))

    fragment = dialog.content.decode()
    assert "<html" not in fragment and "data-dialog-close" in fragment
    body = page.content.decode()
    assert "<html" in body and "data-dialog-close" not in body
    for html in (fragment, body):
        assert "a lighthouse at dusk" in html
        assert f'data-copy="#prompt-{image.pk}"' in html
        assert reverse("image_file", args=[image.pk]) + "?download=1" in html
        assert reverse("image_vary", args=[image.pk]) in html
        assert reverse("image_favorite", args=[image.pk]) in html
        assert reverse("image_share", args=[image.pk]) in html
        assert reverse("image_delete", args=[image.pk]) in html
        assert reverse("generate") + f"?image={image.pk}" in html  # "use these settings"
        assert "<script>" not in html and "onclick" not in html  # CSP-ready
    assert f'href="{reverse("image_detail", args=[newer.pk])}" data-nav="prev"' in body
    assert f'href="{reverse("image_detail", args=[older.pk])}" data-nav="next"' in body


def test_favorite_toggle(alice_client, alice):
    image = make_image(alice)
    response = alice_client.post(reverse("image_favorite", args=[image.pk]), {"favorite": "1"},
                                 **HX)
    assert response.status_code == 200 and 'data-favorite="1"' in response.content.decode()
    image.refresh_from_db()
    assert image.favorite
    response = alice_client.post(reverse("image_favorite", args=[image.pk]), {"favorite": "0"})
    assert response.status_code == 302
    image.refresh_from_db()
    assert not image.favorite


def test_delete_from_the_page_removes_row_and_files(alice_client, alice,
                                                    django_capture_on_commit_callbacks):
    image = make_image(alice)
    storage, names = image.file.storage, [image.file.name, image.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("image_delete", args=[image.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("gallery")
    assert not Image.objects.filter(pk=image.pk).exists()
    assert not any(storage.exists(n) for n in names)


def test_delete_from_the_dialog_tells_the_page(alice_client, alice):
    image = make_image(alice)
    response = alice_client.post(reverse("image_delete", args=[image.pk]), **HX)
    assert response.status_code == 204
    assert str(image.pk) in response["HX-Trigger"]
    assert not Image.objects.filter(pk=image.pk).exists()


def test_vary_seed_makes_a_new_generation(alice_client, alice):
    image = make_image(alice, prompt="a lighthouse at dusk", base_model="flux-schnell")
    response = alice_client.post(reverse("image_vary", args=[image.pk]))
    generation = Generation.objects.filter(user=alice).exclude(pk=image.generation_id).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("generation_detail", args=[generation.pk])
    assert generation.prompt == "a lighthouse at dusk" and generation.num_images == 1


def test_vary_seed_without_credits_says_so(alice_client, alice):
    image = make_image(alice, base_model="flux-pro")  # 4 credits; alice has 5
    alice_client.post(reverse("image_vary", args=[image.pk]))
    response = alice_client.post(reverse("image_vary", args=[image.pk]), follow=True)
    assert "credits and your balance is" in response.content.decode()
    assert Generation.objects.filter(user=alice).count() == 2


def test_download_has_a_meaningful_name(alice_client, alice):
    image = make_image(alice, prompt="A red fox, in snow!")
    response = alice_client.get(reverse("image_file", args=[image.pk]) + "?download=1")
    assert response["Content-Disposition"].startswith("attachment")
    assert f'likeness-a-red-fox-in-snow-{image.seed}.png' in response["Content-Disposition"]
    assert b"".join(response.streaming_content)[:4] == b"\x89PNG"


def _object_urls(image):
    return [
        ("get", reverse("image_detail", args=[image.pk]), {}),
        ("get", reverse("image_detail", args=[image.pk]), HX),
        ("get", reverse("image_file", args=[image.pk]), {}),
        ("get", reverse("image_file", args=[image.pk]) + "?download=1", {}),
        ("get", reverse("image_thumbnail", args=[image.pk]), {}),
        ("post", reverse("image_favorite", args=[image.pk]), {}),
        ("post", reverse("image_share", args=[image.pk]), {}),
        ("post", reverse("image_unshare", args=[image.pk]), {}),
        ("post", reverse("image_vary", args=[image.pk]), {}),
        ("post", reverse("image_delete", args=[image.pk]), {}),
    ]


def test_every_image_url_is_404_for_bob(client, alice, bob):
    image = make_image(alice, favorite=False)
    image.share_token = "t" * 43
    image.save()
    client.force_login(bob)
    for method, url, extra in _object_urls(image):
        assert getattr(client, method)(url, **extra).status_code == 404, url
    image.refresh_from_db()
    assert image.share_token == "t" * 43 and not image.favorite
    assert Generation.objects.filter(user=bob).count() == 0


def test_image_urls_send_anonymous_visitors_to_sign_in(client, alice):
    image = make_image(alice)
    for method, url, extra in _object_urls(image):
        response = getattr(client, method)(url, **extra)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login"))
    assert Image.objects.filter(pk=image.pk).exists()


@pytest.mark.parametrize("name", ["gallery_bulk", "gallery_archive"])
def test_bulk_urls_need_a_post(alice_client, name):
    assert alice_client.get(reverse(name)).status_code == 405


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_windowed_text_search_finds_every_match_once(alice_client, alice, settings,
                                                     monkeypatch, sort):
    """On SQLite a text search reads a bounded window per page; tiny windows here prove the
    walk across windows (including empty pages) misses and repeats nothing, on any database."""
    from gallery import filters

    monkeypatch.setattr(filters, "SEARCH_WINDOW", 3)
    monkeypatch.setattr(filters, "search_is_windowed", lambda: True)
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    images = [at(make_image(alice, prompt=p), n) for n, p in enumerate(
        ["fox", "owl", "owl", "owl", "owl", "a FOX", "owl", "fox", "fox", "owl", "owl"])]
    # Two images at one time, on either side of a window edge.
    Image.objects.filter(pk__in=[images[2].pk, images[3].pk]).update(
        created_at=images[2].created_at)
    foxes = [str(i.pk) for i in images if "fox" in i.prompt.lower()]
    expected = foxes if sort == "oldest" else foxes[::-1]

    seen, pages = walk(alice_client, reverse("gallery") + f"?q=fox&sort={sort}")

    assert seen == expected
    assert pages >= 3
