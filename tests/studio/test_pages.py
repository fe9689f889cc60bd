"""The models list, the model page, the dashboard figure and the navigation."""

from django.urls import reverse

from studio import actions
from tests.factories import consent_for
from tests.studio.photos import person_jpeg


def test_an_empty_list_says_what_to_do(alice_client):
    body = alice_client.get(reverse("models")).content.decode()
    assert "No models yet" in body
    assert reverse("model_new") in body
    assert "0 / 1" in body


def test_the_list_shows_each_model(alice_client, alice, model_with_photos):
    alice.plan = "pro"
    alice.save()
    empty = actions.create_model(alice, name="Biscuit", subject_class="dog")
    body = alice_client.get(reverse("models")).content.decode()
    cover = model_with_photos.cover
    assert reverse("model_photo_thumbnail", args=[model_with_photos.pk, cover.pk]) in body
    assert reverse("model_detail", args=[empty.pk]) in body
    assert "Biscuit" in body and "No photos yet" in body
    assert "5 photos" in body and "0 photos" in body
    assert body.count('data-status="draft"') == 2
    assert "2 / 3" in body
    assert "New model" in body


def test_status_badges_keep_their_colours(alice_client, model_with_photos):
    actions.queue_model(model_with_photos)
    body = alice_client.get(reverse("models")).content.decode()
    assert 'data-status="queued"' in body and "bg-amber-50" in body


def test_the_model_page(alice_client, model_with_photos):
    model = model_with_photos
    body = alice_client.get(reverse("model_detail", args=[model.pk])).content.decode()
    assert 'id="trigger-word"' in body and 'data-copy="#trigger-word"' in body
    assert model.trigger_word in body
    assert "Woman" in body and "0.0004" in body and "LoRA rank" in body
    assert 'id="model-training"' in body and "Not trained yet" in body
    assert reverse("model_review", args=[model.pk]) in body  # continue the wizard
    assert reverse("model_delete", args=[model.pk]) in body
    for photo in model.photos.all():
        assert reverse("model_photo_thumbnail", args=[model.pk, photo.pk]) in body


def test_a_queued_model_has_no_wizard_links(alice_client, model_with_photos):
    model = actions.queue_model(model_with_photos)
    body = alice_client.get(reverse("model_detail", args=[model.pk])).content.decode()
    assert reverse("model_review", args=[model.pk]) not in body
    assert f'href="{reverse("model_photos", args=[model.pk])}"' not in body
    assert "Queued since" in body


def test_the_dashboard_counts_models_against_the_slots(alice_client, alice):
    body = alice_client.get(reverse("dashboard")).content.decode()
    assert 'data-figure="models">0 <' in body and reverse("model_new") in body
    model = actions.create_model(alice, name="Me", subject_class="man")
    actions.add_photos(model, [("a.jpg", person_jpeg(1))])
    consent_for(model)
    body = alice_client.get(reverse("dashboard")).content.decode()
    assert 'data-figure="models">1 <span' in body and ">of 1</span>" in body


def test_models_is_in_the_navigation(alice_client, model):
    body = alice_client.get(reverse("model_detail", args=[model.pk])).content.decode()
    assert f'<a href="{reverse("models")}" aria-current="page"' in body
