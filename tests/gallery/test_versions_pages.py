"""The image page's "Upscale 2× / 4×" and "Restore face": the price on each button and in its
confirmation, the new version made through the job and linked both ways, and refusals back on
the image's page with nothing charged."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from credits.actions import get_balance, spend
from generation.catalogue import OPERATIONS
from generation.models import Generation
from tests.factories import make_image


@pytest.fixture(autouse=True)
def demo(settings):
    settings.GENERATION_PROVIDERS = ["demo"]
    settings.GENERATION_ROUTES = {}


def page(client, image) -> str:
    response = client.get(reverse("image_detail", args=[image.pk]))
    assert response.status_code == 200
    return response.content.decode()


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_page_shows_each_operation_with_its_price(client, rich_alice):
    image = make_image(rich_alice)
    client.force_login(rich_alice)
    html = page(client, image)
    for operation in OPERATIONS.values():
        credits = f"{operation.credits} credit{'s' * (operation.credits != 1)}"
        assert f"{operation.name} · {credits}" in html
        assert f'data-confirm="{operation.name} for {credits}?' in html
    assert reverse("image_upscale", args=[image.pk]) in html
    assert reverse("image_restore_face", args=[image.pk]) in html


def test_upscale_from_the_page_links_original_and_version(client, rich_alice, run_jobs):
    image = make_image(rich_alice)
    client.force_login(rich_alice)
    before = get_balance(rich_alice)
    response = client.post(reverse("image_upscale", args=[image.pk]), {"scale": "4"})
    generation = Generation.objects.get(operation="upscale_4x")
    assert response.status_code == 302
    assert response["Location"] == reverse("generation_detail", args=[generation.pk])
    run_jobs()
    (version,) = image.versions.all()
    assert (version.width, version.height) == (256, 192)
    assert get_balance(rich_alice) == before - OPERATIONS["upscale_4x"].credits
    original_page = page(client, image)
    assert reverse("image_detail", args=[version.pk]) in original_page
    assert "Upscale 4×</a> · 256 × 192 px" in original_page
    version_page = page(client, version)
    assert re.search(rf'href="{reverse("image_detail", args=[image.pk])}"[^>]*data-original-link',
                     version_page)
    assert "Upscale 4× (this image)" in version_page
    progress = client.get(reverse("generation_detail", args=[generation.pk])).content.decode()
    assert "A new version: Upscale 4× of" in progress
    assert reverse("image_detail", args=[image.pk]) in progress


def test_restore_face_from_the_page(client, rich_alice, run_jobs):
    image = make_image(rich_alice)
    client.force_login(rich_alice)
    client.post(reverse("image_restore_face", args=[image.pk]))
    run_jobs()
    assert image.versions.get().operation == "face_restore"


def test_refusals_come_back_to_the_image_and_charge_nothing(client, rich_alice, bob):
    image = make_image(rich_alice)
    before = get_balance(rich_alice)
    client.force_login(bob)
    assert client.post(reverse("image_upscale", args=[image.pk]), {"scale": "2"}).status_code \
        == 404
    assert client.post(reverse("image_restore_face", args=[image.pk])).status_code == 404
    client.force_login(rich_alice)
    response = client.post(reverse("image_upscale", args=[image.pk]), {"scale": "3"})
    assert response["Location"] == reverse("image_detail", args=[image.pk])
    assert said(response) == ["Upscale by 2 or by 4."]
    image.width = image.height = 2048
    image.save()
    assert 'data-operation="upscale_4x" data-credits="2"\n                disabled' in page(
        client, image)
    response = client.post(reverse("image_upscale", args=[image.pk]), {"scale": "4"})
    assert "the largest version is 4096 × 4096" in said(response)[0]
    assert get_balance(rich_alice) == before
    assert not Generation.objects.exclude(operation="").exists()


def test_not_enough_credits_says_so(client, alice):
    image = make_image(alice)
    spend(alice, get_balance(alice), reason="test", reference="test:drain")
    client.force_login(alice)
    response = client.post(reverse("image_upscale", args=[image.pk]), {"scale": "2"})
    assert response["Location"] == reverse("image_detail", args=[image.pk])
    assert "balance is 0" in said(response)[0]
    assert not Generation.objects.exclude(operation="").exists()
