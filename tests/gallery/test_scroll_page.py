"""The infinite scroll's pages stay cheap: the filter menus' options (and the credit balance)
are read only when shown, the queries do not grow with the page, and each card's links are those
{% url %} makes (gallery_urls.image_url reverses them once a page)."""

import re
import uuid
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credits.actions import get_balance, grant
from gallery import filters as listing
from generation.models import Image
from tests.factories import make_generation, make_personal_model


def rows(user, count: int) -> None:
    generation = make_generation(user, num_images=count)
    Image.objects.bulk_create([Image(
        user=user, generation=generation, index=n, content_type="image/png", width=64,
        height=48, prompt=f"picture {n}", base_model="flux-schnell", aspect_ratio="1:1",
        seed=n, provider="demo", is_demo=n % 2 == 0, likeness=60 if n % 3 == 0 else None,
        file=f"images/t/{n}.png", thumbnail=f"images/t/{n}.webp",
    ) for n in range(count)])
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for n, image in enumerate(Image.objects.filter(generation=generation).order_by("index")):
        Image.objects.filter(pk=image.pk).update(created_at=start + timedelta(minutes=n))


def next_page(body: str) -> str:
    return re.search(r'data-more\s+hx-get="([^"]+)"', body).group(1).replace("&amp;", "&")


def test_a_scroll_page_reads_no_menu_and_a_fixed_number_of_queries(alice, alice_client):
    make_personal_model(alice, name="Zed")
    grant(alice, 1234, reason="test", reference="scroll-test")
    rows(alice, 3 * listing.PAGE_SIZE + 5)
    first = alice_client.get(reverse("gallery")).content.decode()
    assert "Zed" in first and "Any pack" in first  # the full page shows the menus
    balance = f"{get_balance(alice):,}"
    assert re.search(rf'id="credit-balance">\s*{balance}\s*<', first), "and the balance"
    counts, url = [], next_page(first)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = alice_client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" not in body and "Zed" not in body
        sql = " ".join(q["sql"] for q in queries)
        assert "studio_personalmodel" not in sql and "generation_pack" not in sql
        assert "credits_creditaccount" not in sql  # no balance shown, none read
        counts.append(len(queries))
        url = next_page(body)
    assert counts[0] == counts[1], counts


def test_card_links_are_those_of_url(alice, alice_client):
    rows(alice, 5)
    for view in ("grid", "list"):
        body = alice_client.get(reverse("gallery") + f"?view={view}").content.decode()
        for image in Image.objects.filter(user=alice):
            assert f'href="{reverse("image_detail", args=[image.pk])}"' in body
            assert f'hx-get="{reverse("image_detail", args=[image.pk])}"' in body
            assert f'src="{reverse("image_thumbnail", args=[image.pk])}"' in body


def test_image_url_tag_matches_url_tag():
    pk = uuid.uuid4()
    page = Template("{% load gallery_urls %}{% image_url 'image_detail' pk %}|"
                    "{% url 'image_detail' pk %}|{% image_url 'image_thumbnail' pk %}|"
                    "{% url 'image_thumbnail' pk %}|{% image_url 'image_detail' text %}")
    detail, detail_url, thumb, thumb_url, from_text = page.render(
        Context({"pk": pk, "text": str(pk)})).split("|")
    assert detail == detail_url == f"/dashboard/images/{pk}/"
    assert thumb == thumb_url
    assert from_text == detail  # not a UUID: reverse() itself
