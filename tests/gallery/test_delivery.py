"""Cloudflare Images as a delivery backend, against the fake (real HTTP through httpx, pointed
at it by the settings an operator sets)."""

import httpx
import pytest
from django.urls import reverse

from gallery.tasks import publish_to_cloudflare
from generation.models import Image
from providers.cloudflare import images as delivery
from tests.factories import make_image


def test_off_without_credentials(settings, alice_client, alice):
    settings.CLOUDFLARE_ACCOUNT_ID = settings.CLOUDFLARE_API_TOKEN = ""
    image = make_image(alice)
    image.cf_url = "https://imagedelivery.example/x/y/public"
    image.save()
    assert not delivery.enabled()
    response = alice_client.get(reverse("image_file", args=[image.pk]))
    assert response.status_code == 200  # from our storage, the copy is ignored
    assert b"".join(response.streaming_content)[:4] == b"\x89PNG"


def test_new_image_is_uploaded_by_a_task_and_delivered_from_cloudflare(
        cloudflare, alice, alice_client, run_jobs):
    image = make_image(alice)  # saving it queues the upload
    run_jobs()

    image.refresh_from_db()
    assert image.cf_image_id == str(image.pk)
    assert image.cf_url == f"{cloudflare.url}/cdn/{cloudflare.account_hash}/{image.pk}/public"
    (upload,) = cloudflare.calls("POST", r"/images/v1$")
    assert upload.path == f"/client/v4/accounts/{cloudflare.account_id}/images/v1"
    assert upload.header("authorization") == f"Bearer {cloudflare.token}"
    assert upload.header("content-type").startswith("multipart/form-data")
    stored = cloudflare.images[str(image.pk)]
    with image.file.open("rb") as source:
        assert stored["data"] == source.read()
    assert stored["requireSignedURLs"] is False
    assert stored["meta"] == {"source": "likeness", "generation": str(image.generation_id)}

    response = alice_client.get(reverse("image_file", args=[image.pk]))
    assert response.status_code == 302 and response["Location"] == image.cf_url
    assert httpx.get(response["Location"]).content == stored["data"]
    # A download still comes from our storage, with its meaningful name.
    download = alice_client.get(reverse("image_file", args=[image.pk]) + "?download=1")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    # And so does the API's file, redirected the same way.


def test_signed_delivery(cloudflare, settings, alice, alice_client, run_jobs):
    settings.CLOUDFLARE_IMAGES_SIGNING_KEY = cloudflare.signing_key
    image = make_image(alice)
    run_jobs()
    image.refresh_from_db()
    assert image.cf_image_id and image.cf_image_id != str(image.pk)  # no custom id when signed
    assert cloudflare.images[image.cf_image_id]["requireSignedURLs"] is True
    assert httpx.get(image.cf_url).status_code == 403  # the bare variant URL is closed

    location = alice_client.get(reverse("image_file", args=[image.pk]))["Location"]
    assert "exp=" in location and "sig=" in location
    assert httpx.get(location).status_code == 200
    assert httpx.get(location.replace("sig=", "sig=0")).status_code == 403


def test_failure_envelope_falls_back_to_our_storage(cloudflare, alice, alice_client, run_jobs):
    cloudflare.fail(400, body={"success": False, "errors": [
        {"code": 5400, "message": "Bad request: image too large"}], "messages": [],
        "result": None}, path=r"/images/v1$")
    image = make_image(alice)
    run_jobs()

    image.refresh_from_db()
    assert image.cf_image_id == "" and image.cf_url == ""
    response = alice_client.get(reverse("image_file", args=[image.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x89PNG"


def test_failure_envelope_is_read(cloudflare, alice):
    image = make_image(alice)
    cloudflare.fail(400, body={"success": False, "errors": [
        {"code": 5400, "message": "Bad request: image too large"}], "result": None})
    with pytest.raises(delivery.CloudflareImagesError) as caught:
        delivery.publish(image)
    assert caught.value.code == 5400 and not caught.value.transient
    assert "image too large" in str(caught.value)


def test_bad_token_is_a_permanent_error(cloudflare, settings, alice):
    settings.CLOUDFLARE_API_TOKEN = "wrong"
    with pytest.raises(delivery.CloudflareImagesError) as caught:
        delivery.publish(make_image(alice))
    assert caught.value.code == 10000 and not caught.value.transient


def test_outage_is_retried_then_succeeds(cloudflare, settings, alice, run_jobs):
    settings.JOB_RETRY_BASE_SECONDS = 0
    cloudflare.fail(503, times=1, path=r"/images/v1$")
    image = make_image(alice)
    run_jobs()  # the first try fails and queues a retry, which the same batch runs
    run_jobs()
    image.refresh_from_db()
    assert image.cf_image_id == str(image.pk)
    assert len(cloudflare.calls("POST", r"/images/v1$")) == 2


def test_timeout_is_transient(cloudflare, settings, alice):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.2
    cloudflare.timeout(1.0, path=r"/images/v1$")
    with pytest.raises(delivery.CloudflareImagesError) as caught:
        delivery.publish(make_image(alice))
    assert caught.value.transient


def test_a_lost_answer_finds_the_first_copy(cloudflare, alice):
    image = make_image(alice)
    assert delivery.publish(image)
    Image.objects.filter(pk=image.pk).update(cf_image_id="", cf_url="")
    image.refresh_from_db()
    publish_to_cloudflare.call(str(image.pk))  # a twin run: 5409, then GET the existing one
    image.refresh_from_db()
    assert image.cf_image_id == str(image.pk)
    assert len(cloudflare.images) == 1


def test_deleting_an_image_deletes_the_copy(cloudflare, alice, alice_client, run_jobs,
                                            django_capture_on_commit_callbacks):
    image = make_image(alice)
    run_jobs()
    image.refresh_from_db()
    assert str(image.pk) in cloudflare.images
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("image_delete", args=[image.pk]))
    run_jobs()
    assert str(image.pk) not in cloudflare.images
    assert cloudflare.calls("DELETE", rf"/images/v1/{image.pk}$")
