"""Every page renders for its owner, sends strangers to sign in, and hides other accounts'
objects behind a 404."""

import re

import pytest
from django.urls import reverse

from accounts.plans import PLANS
from api.keys import create_api_key

PAGES = ["dashboard", "generate", "gallery", "credits", "profile", "api_keys"]


@pytest.mark.parametrize("name", PAGES)
def test_dashboard_pages_render_for_alice(alice_client, name):
    response = alice_client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="credit-balance"' in body  # the balance is always visible
    assert reverse("account_logout") in body


@pytest.mark.parametrize("name", PAGES)
def test_dashboard_pages_send_anonymous_visitors_to_sign_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_landing_shows_the_four_plans(client, db):
    response = client.get(reverse("landing"))
    assert response.status_code == 200
    body = response.content.decode()
    for plan in PLANS.values():
        assert f'data-plan="{plan.id}"' in body
        assert plan.name in body
    assert reverse("account_signup") in body
    assert "$40" in body and "$99" in body


def test_landing_offers_the_dashboard_when_signed_in(alice_client):
    body = alice_client.get(reverse("landing")).content.decode()
    assert "Open dashboard" in body


def test_demo_banner_and_credits_in_the_shell(alice_client, settings):
    settings.GENERATION_PROVIDERS = ["demo"]
    body = alice_client.get(reverse("dashboard")).content.decode()
    assert "Demo mode: images are generated offline and are not AI" in " ".join(
        body.replace("<strong class=\"font-semibold\">", "").replace("</strong>", "").split())
    assert 'data-figure="credits">5<' in body


def test_admin_link_only_for_staff(alice_client, alice):
    admin_url = reverse("admin:index")
    assert admin_url not in alice_client.get(reverse("dashboard")).content.decode()
    alice.is_staff = True
    alice.save()
    assert admin_url in alice_client.get(reverse("dashboard")).content.decode()


def test_profile_saves_the_name(alice_client, alice):
    response = alice_client.post(reverse("profile"), {"name": "Alice Liddell"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.name == "Alice Liddell"
    body = alice_client.get(reverse("profile")).content.decode()
    assert reverse("account_email") in body and reverse("account_change_password") in body
    assert "Free" in body


def test_a_name_that_is_not_text_is_refused_and_kept_out(alice_client, alice):
    response = alice_client.post(reverse("profile"), {"name": "Alice\x1b[31m"})
    assert response.status_code == 200
    assert "Remove the control character" in response.content.decode()
    alice.refresh_from_db()
    assert alice.name == "Alice"


def test_credits_page_lists_the_ledger(alice_client):
    body = alice_client.get(reverse("credits")).content.decode()
    assert "Welcome credits (Free plan)" in body
    assert "+5" in body


def test_empty_gallery_points_to_generate(alice_client):
    body = alice_client.get(reverse("gallery")).content.decode()
    assert "Your gallery is empty" in body and reverse("generate") in body


def test_gallery_lists_images_newest_first(alice_client, finished_generation):
    body = alice_client.get(reverse("gallery")).content.decode()
    first, second = finished_generation.images.order_by("-created_at", "-id")
    assert body.index(str(first.pk)) < body.index(str(second.pk))
    assert "Demo image · not AI" in body


def test_image_detail_shows_parameters(alice_client, image):
    response = alice_client.get(reverse("image_detail", args=[image.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "A lighthouse at dusk" in body
    assert "FLUX.1 schnell" in body
    assert str(image.seed) in body
    assert f"{image.width} × {image.height}" in body
    assert reverse("image_file", args=[image.pk]) + "?download=1" in body
    assert "Demo image · not AI" in body


def test_error_pages_render(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "This page is not here" in response.content.decode()

    from django.template.loader import get_template

    html = get_template("500.html").render()  # no request, no context processors
    assert "Something went wrong" in html


def _object_urls(generation, image, key):
    return [
        ("get", reverse("generation_detail", args=[generation.pk])),
        ("get", reverse("generation_status", args=[generation.pk])),
        ("get", reverse("image_detail", args=[image.pk])),
        ("get", reverse("image_file", args=[image.pk])),
        ("get", reverse("image_thumbnail", args=[image.pk])),
        ("post", reverse("api_key_revoke", args=[key.pk])),
    ]


def test_alice_objects_are_404_for_bob(client, alice, bob, image):
    key, _ = create_api_key(alice, "laptop")
    client.force_login(bob)
    for method, url in _object_urls(image.generation, image, key):
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
    key.refresh_from_db()
    assert key.is_active


def test_object_urls_send_anonymous_visitors_to_sign_in(client, alice, image):
    key, _ = create_api_key(alice, "laptop")
    for method, url in _object_urls(image.generation, image, key):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login"))


def test_object_urls_work_for_alice(alice_client, image):
    for name in ["generation_detail", "generation_status"]:
        assert alice_client.get(reverse(name, args=[image.generation.pk])).status_code == 200
    for name in ["image_detail", "image_file", "image_thumbnail"]:
        assert alice_client.get(reverse(name, args=[image.pk])).status_code == 200


def test_every_feature_card_on_the_landing_page_has_its_own_icon(client, db):
    page = client.get("/").content.decode()
    cards = re.findall(
        r'<div class="[^"]*" data-feature>\s*<div[^>]*>\s*<svg[^>]*><path d="([^"]+)"', page)
    assert len(cards) >= 6 and len(set(cards)) == len(cards)
