"""Every model page renders for its owner, sends strangers to sign in, and shows another
account's model or photo as a 404, never a 403."""

import pytest
from django.urls import reverse

from studio.models import PersonalModel, TrainingPhoto

LIST_PAGES = ["models", "model_new"]
MODEL_PAGES = ["model_detail", "model_delete", "model_photos", "model_review"]
PHOTO_URLS = ["model_photo_delete", "model_photo_thumbnail", "model_photo_file"]


def object_urls(photo):
    model = photo.model
    return [reverse(name, args=[model.pk]) for name in MODEL_PAGES] + [
        reverse(name, args=[model.pk, photo.pk]) for name in PHOTO_URLS]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_pages_render_for_alice(alice_client, name):
    response = alice_client.get(reverse(name))
    assert response.status_code == 200
    assert 'id="credit-balance"' in response.content.decode()


@pytest.mark.parametrize("name", MODEL_PAGES)
def test_model_pages_render_for_the_owner(alice_client, model_with_photos, name):
    response = alice_client.get(reverse(name, args=[model_with_photos.pk]))
    assert response.status_code == 200
    assert model_with_photos.name in response.content.decode()


def test_photo_files_are_served_to_the_owner(alice_client, photo):
    thumbnail = alice_client.get(reverse("model_photo_thumbnail", args=[photo.model_id, photo.pk]))
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/webp"
    assert b"".join(thumbnail.streaming_content)[8:12] == b"WEBP"
    file = alice_client.get(reverse("model_photo_file", args=[photo.model_id, photo.pk]))
    assert file.status_code == 200
    assert file["Content-Type"] == "image/jpeg"
    assert b"".join(file.streaming_content).startswith(b"\xff\xd8\xff")


def test_anonymous_visitors_are_sent_to_sign_in(client, photo):
    for url in [reverse(name) for name in LIST_PAGES] + object_urls(photo):
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("account_login")), url
    assert TrainingPhoto.objects.filter(pk=photo.pk).exists()


def test_every_object_url_is_a_404_for_bob(client, bob, photo):
    client.force_login(bob)
    for url in object_urls(photo):
        assert client.post(url).status_code == 404, url
        # The photo delete URL takes only POST: a GET is refused (405) before any lookup.
        expected = 405 if url.endswith("/delete") and "/photos/" in url else 404
        assert client.get(url).status_code == expected, url
    assert PersonalModel.objects.filter(pk=photo.model_id).exists()
    assert TrainingPhoto.objects.filter(pk=photo.pk).exists()


def test_a_photo_must_belong_to_the_model_in_its_url(alice_client, alice, photo):
    from studio import actions

    alice.plan = "pro"
    alice.save()
    other = actions.create_model(alice, name="Other", subject_class="man")
    url = reverse("model_photo_file", args=[other.pk, photo.pk])
    assert alice_client.get(url).status_code == 404


def test_models_list_shows_only_alices_models(alice_client, bob, model):
    from studio import actions

    actions.create_model(bob, name="Bobby", subject_class="man")
    body = alice_client.get(reverse("models")).content.decode()
    assert "Alice" in body and "Bobby" not in body
