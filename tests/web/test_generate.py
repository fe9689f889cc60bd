"""The generate form: bad input is explained next to its field, the input is kept, and
nothing is recorded; good input reserves credits and the page follows the job to the end."""

import html
import re

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from credits.actions import get_balance
from credits.models import CreditEntry
from generation.models import Generation

GOOD = {"prompt": "A red fox in the snow", "base_model": "flux-schnell",
        "aspect_ratio": "1:1", "num_images": "2"}


def _counts(user):
    return (Generation.objects.count(), CreditEntry.objects.filter(user=user).count(),
            DBTaskResult.objects.count(), get_balance(user))


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"prompt": ""}, "prompt", "Write a prompt"),
    ({"prompt": "   "}, "prompt", "Write a prompt"),
    ({"prompt": "x" * 2001}, "prompt", "the limit is 2,000 characters"),
    ({"aspect_ratio": "7:3"}, "aspect_ratio", "Choose one of 1:1"),
    ({"base_model": "dall-e"}, "base_model", "Choose one of the base models"),
    ({"num_images": "0"}, "num_images", "Ask for 1 to 4 images"),
    ({"num_images": "5"}, "num_images", "Ask for 1 to 4 images"),
    ({"num_images": "two"}, "num_images", "Ask for 1 to 4 images"),
    ({"num_images": ""}, "num_images", "Ask for 1 to 4 images"),
    ({"prompt": "a fox\x1b[2J in the snow"}, "prompt", "Remove the control character"),
    ({"prompt": "a fox\x00"}, "prompt", "Null characters are not allowed"),
    ({"negative_prompt": "fog\x7f"}, "negative_prompt", "Remove the control character"),
    ({"prompt": "\u200b\u200b\u2060"}, "prompt", "Write a prompt"),  # zero-width only
    ({"prompt": "\u3164 \u00a0\ufeff"}, "prompt", "Write a prompt"),  # blank-looking only
])
def test_bad_input_is_explained_kept_and_records_nothing(alice_client, alice, changes, field,
                                                        message):
    before = _counts(alice)
    data = {**GOOD, **changes}
    response = alice_client.post(reverse("generate"), data)
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert f'data-field-error="{field}"' in body
    error_at = body.index(f'data-field-error="{field}"')
    assert message in body[error_at:error_at + 300]
    if data["prompt"].strip():
        assert data["prompt"] in body  # the prompt is kept
    assert _counts(alice) == before


def test_the_other_choices_are_kept_after_an_error(alice_client):
    data = {**GOOD, "prompt": "", "base_model": "flux-dev", "aspect_ratio": "16:9",
            "num_images": "3"}
    body = alice_client.post(reverse("generate"), data).content.decode()
    assert 'value="flux-dev" data-credits="2"\n                 class="sr-only" checked' in body
    assert 'value="16:9" class="sr-only" checked' in body
    assert 'value="3" class="sr-only" checked' in body
    assert "6 credits" in body  # the cost of the kept choice


def test_too_few_credits_is_explained_and_records_nothing(alice_client, alice):
    before = _counts(alice)  # new accounts have 5 credits
    data = {**GOOD, "base_model": "flux-pro", "num_images": "2"}  # 8 credits
    response = alice_client.post(reverse("generate"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "data-form-error" in body
    assert "This needs 8 credits and your balance is 5" in body
    assert GOOD["prompt"] in body
    assert _counts(alice) == before


def test_the_form_shows_prices_before_submitting(alice_client):
    body = alice_client.get(reverse("generate")).content.decode()
    assert "1 credit per image" in body and "2 credits per image" in body
    assert "4 credits per image" in body
    assert 'data-cost data-balance="5">1 credit<' in body


def test_a_good_request_reserves_credits_and_shows_the_images(alice_client, alice, run_jobs):
    response = alice_client.post(reverse("generate"), GOOD)
    generation = Generation.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("generation_detail", args=[generation.pk])
    assert get_balance(alice) == 3
    assert generation.credits_reserved == 2

    queued = alice_client.get(response["Location"]).content.decode()
    assert 'data-status="queued"' in queued
    assert 'hx-trigger="every 500ms"' in queued

    run_jobs()
    page = alice_client.get(response["Location"]).content.decode()
    images = list(generation.images.order_by("index"))
    assert len(images) == 2
    for image in images:
        assert reverse("image_thumbnail", args=[image.pk]) in page
    assert "Demo image · not AI" in page
    assert 'data-charged>2<' in page

    file = alice_client.get(reverse("image_file", args=[images[0].pk]))
    assert file.status_code == 200
    assert file["Content-Type"] == images[0].content_type
    with images[0].file.open("rb") as stored:
        assert b"".join(file.streaming_content) == stored.read()


def test_status_partial_polls_until_finished(alice_client, alice, run_jobs):
    alice_client.post(reverse("generate"), GOOD)
    generation = Generation.objects.get(user=alice)
    url = reverse("generation_status", args=[generation.pk])

    running = alice_client.get(url, headers={"HX-Request": "true"})
    assert running.status_code == 200
    body = running.content.decode()
    assert "<html" not in body  # a fragment, not a page
    assert 'hx-trigger="every 500ms"' in body
    assert "Images stored" in body

    run_jobs()
    done = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done
    assert 'data-status="succeeded"' in done
    assert 'id="credit-balance" hx-swap-oob="true"' in done


def test_a_poll_that_finds_nothing_new_is_answered_204_until_something_changes(
        alice_client, alice, run_jobs):
    """The page's poll carries the version it shows; the same version costs no rendering."""
    alice_client.post(reverse("generate"), GOOD)
    generation = Generation.objects.get(user=alice)
    url = reverse("generation_status", args=[generation.pk])
    first = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    polled = re.search(r'hx-get="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "?v=" in polled
    unchanged = alice_client.get(polled, headers={"HX-Request": "true"})
    assert unchanged.status_code == 204 and unchanged.content == b""
    run_jobs()
    done = alice_client.get(polled, headers={"HX-Request": "true"})
    assert done.status_code == 200 and 'data-status="succeeded"' in done.content.decode()
    # The recent list on the generate page does the same.
    recent = reverse("generate") + "?part=recent"
    alice_client.post(reverse("generate"), GOOD)
    busy = alice_client.get(recent, headers={"HX-Request": "true"}).content.decode()
    polled = re.search(r'hx-get="([^"]+)"', busy).group(1).replace("&amp;", "&")
    assert alice_client.get(polled, headers={"HX-Request": "true"}).status_code == 204
    run_jobs()
    assert alice_client.get(polled, headers={"HX-Request": "true"}).status_code == 200


def test_status_shows_failures_and_refunds(alice_client, alice, run_jobs):
    from generation.results import fail_remaining

    alice_client.post(reverse("generate"), GOOD)
    generation = Generation.objects.get(user=alice)
    fail_remaining(generation, "provider_down", "The provider is not answering.")
    body = alice_client.get(reverse("generation_status", args=[generation.pk])).content.decode()
    assert 'data-status="failed"' in body
    assert "The provider is not answering." in body
    assert "Refunded" in body
    assert get_balance(alice) == 5


def test_recent_generations_refresh_while_busy(alice_client, alice, run_jobs):
    alice_client.post(reverse("generate"), GOOD)
    url = reverse("generate") + "?part=recent"
    busy = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'id="recent-generations"' in busy and "hx-trigger" in busy
    assert "<form" not in busy
    run_jobs()
    idle = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in idle
    assert GOOD["prompt"] in idle
