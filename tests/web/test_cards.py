"""The gallery's cards (web.cards, Jinja2) mean what the Django template meant: each image's
links as reverse() makes them, its text escaped, Django's truncatechars and date (in the current
time zone), the Django templates' demo label and likeness badge, both views, eager thumbnails."""

import re
from datetime import UTC, datetime

from django.template.defaultfilters import truncatechars
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from generation.models import Image
from tests.factories import make_image
from web.cards import render_cards
from web.templatetags.ui import model_name


def cards_of(alice):
    plain = make_image(alice, prompt='un "café" <b>à</b> Paris & ' + "long " * 30,
                       favorite=True)
    Image.objects.filter(pk=plain.pk).update(is_demo=False)
    scored = make_image(alice, prompt="it's a portrait")
    Image.objects.filter(pk=scored.pk).update(
        likeness=83, all_faces_subject=True, is_demo=True, aspect_ratio="16:9",
        base_model="flux-dev", created_at=datetime(2026, 1, 1, 23, 30, tzinfo=UTC))
    return plain, scored, list(Image.objects.filter(user=alice).order_by("-created_at"))


def card(html: str, image) -> str:
    """The markup of one image's card."""
    start = html.index(f'data-id="{image.pk}"')
    following = html.find("data-card", start)
    return html[start: following if following != -1 else len(html)]


def test_grid_cards(alice):
    plain, scored, images = cards_of(alice)
    html = render_cards(images, view="grid")
    assert html.count("data-card") == 2
    for image in images:
        one = card(html, image)
        assert f'href="{reverse("image_detail", args=[image.pk])}"' in one
        assert f'src="{reverse("image_thumbnail", args=[image.pk])}"' in one
        assert 'loading="lazy"' in one
    first = card(html, plain)
    assert "<b>" not in html and "&lt;b&gt;à&lt;/b&gt; Paris &amp;" in first
    alt = re.search(r'alt="([^"]*)"', first).group(1)
    assert alt.replace("&#34;", '"').replace("&lt;", "<").replace("&gt;", ">").replace(
        "&amp;", "&") == truncatechars(plain.prompt, 80)
    assert "data-star hidden" not in first  # a favourite shows its star
    second = card(html, scored)
    assert "data-star hidden" in second and "aspect-[16/9]" in second
    assert render_to_string("components/ui.html#demo_label").strip() in second
    scored.refresh_from_db()
    assert render_to_string("gallery/_likeness.html", {"image": scored}).strip() in second
    assert "Demo image" not in first and "data-likeness" not in first


def test_list_cards_and_eager_thumbnails(alice):
    _, scored, images = cards_of(alice)
    html = render_cards(images, view="list", eager=True)
    one = card(html, scored)
    assert f"{model_name('flux-dev')} · 16:9" in one and model_name("flux-dev") != "flux-dev"
    assert "likeness 83" in one and "every face is the subject" in one
    assert "demo image, not AI" in one and 'loading="eager"' in one
    assert "1 Jan 2026, 23:30" in one
    with timezone.override("Europe/Paris"):  # Django's date filter: the current time zone
        assert "2 Jan 2026, 00:30" in card(render_cards(images, view="list"), scored)
