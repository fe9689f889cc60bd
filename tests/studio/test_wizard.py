"""The creation wizard through the test client, as a browser without JavaScript uses it:
details → photos → review → queued."""

import re

import pytest
from django.urls import reverse

from credits.actions import get_balance, grant
from studio import actions, catalogue
from studio.models import PersonalModel, TrainingPhoto
from tests.factories import consent_for
from tests.storage import stored_names as stored_files
from tests.studio.conftest import upload
from tests.studio.photos import blurred_jpeg, person_jpeg, selfie_jpeg


def text(response):
    return " ".join(response.content.decode().split())


def test_the_wizard_end_to_end(alice_client, alice):
    grant(alice, 100, reason="test", reference="test:wizard")
    page = alice_client.get(reverse("model_new"))
    assert page.status_code == 200
    suggested = re.search(r'name="trigger_word" value="([a-z]+)"', page.content.decode()).group(1)
    for value in ("man", "woman", "person", "child", "dog", "cat"):
        assert f'name="subject_class" value="{value}"' in page.content.decode()

    response = alice_client.post(reverse("model_new"), {
        "name": "Alice", "subject_class": "woman", "trigger_word": suggested})
    model = PersonalModel.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("model_photos", args=[model.pk])
    assert (model.name, model.subject_class, model.trigger_word) == ("Alice", "woman", suggested)
    assert model.status == PersonalModel.Status.DRAFT

    photos_url = reverse("model_photos", args=[model.pk])
    response = alice_client.post(photos_url, {"files": [
        upload("one.jpg", person_jpeg(1)), upload("two.jpg", person_jpeg(2)),
        upload("three.jpg", person_jpeg(3)), upload("blurry.jpg", blurred_jpeg(4)),
        upload("again.jpg", person_jpeg(1)), upload("notes.jpg", b"just some text\n"),
    ]})
    assert response.status_code == 200
    body = text(response)
    assert "Added 3 photos" in body
    refused = re.findall(r'data-refused data-code="([a-z_]+)"', body)
    assert refused == ["blurry", "duplicate", "unsupported_format"]
    for name, reason in [("blurry.jpg", "The photo is too blurry"),
                         ("again.jpg", "This exact photo is already in the model."),
                         ("notes.jpg", "This is not a JPEG, PNG, WebP or HEIC photo.")]:
        assert name in body and reason in body
    stored = set(model.photos.values_list("filename", flat=True))
    assert stored == {"one.jpg", "two.jpg", "three.jpg"}
    assert len(stored_files()) == 6  # a JPEG and a thumbnail each; nothing of the refused ones
    assert "Add 2 more to reach the minimum of 5" in body

    response = alice_client.post(photos_url, {"files": [
        upload("four.png", person_jpeg(5)), upload("five.jpg", person_jpeg(6))]})
    assert "Added 2 photos" in text(response)
    assert model.photos.count() == 5

    review = alice_client.get(reverse("model_review", args=[model.pk]))
    assert review.status_code == 200
    assert "5 photos · recommended 10–20" in text(review)
    assert text(review).count('data-verdict="passed"') == 5
    assert 'name="steps" value="1000"' in review.content.decode()
    assert 'data-consent="missing"' in review.content.decode()

    # No training without consent: refused on the form, nothing charged or queued.
    queue = {"steps": "1200", "learning_rate": "0.0004", "lora_rank": "16", "action": "queue"}
    response = alice_client.post(reverse("model_review", args=[model.pk]), queue)
    assert response.status_code == 200 and "only with their consent" in text(response)
    assert not model.runs.exists() and get_balance(alice) == 105

    # The consent step: the statement and a selfie of the person in the photos.
    consent_url = reverse("model_consent", args=[model.pk])
    assert alice_client.get(consent_url).status_code == 200
    response = alice_client.post(consent_url, {
        "rights_confirmed": "on", "selfie": upload("selfie.jpg", selfie_jpeg())})
    assert response.status_code == 302 and response["Location"] == reverse(
        "model_review", args=[model.pk])
    assert 'data-consent="verified"' in text(alice_client.get(response["Location"]))

    response = alice_client.post(reverse("model_review", args=[model.pk]), queue)
    assert response.status_code == 302
    run = model.runs.get()
    assert response["Location"] == reverse("training_detail", args=[run.pk])
    model.refresh_from_db()
    assert model.status == PersonalModel.Status.QUEUED
    assert model.queued_at is not None and model.steps == 1200 == run.steps

    following = alice_client.get(response["Location"])
    assert "has started" in text(following)
    detail = alice_client.get(reverse("model_detail", args=[model.pk]))
    assert 'data-status="queued"' in detail.content.decode()
    assert suggested in detail.content.decode()


def test_the_json_upload_answer(alice_client, model):
    response = alice_client.post(
        reverse("model_photos", args=[model.pk]),
        {"files": [upload("good.jpg", person_jpeg(1)), upload("soft.jpg", blurred_jpeg(2))]},
        HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    data = response.json()
    photo = model.photos.get()
    assert data["accepted"] == [{
        "id": str(photo.pk), "filename": "good.jpg",
        "thumbnail_url": reverse("model_photo_thumbnail", args=[model.pk, photo.pk]),
        "delete_url": reverse("model_photo_delete", args=[model.pk, photo.pk]),
    }]
    assert data["rejected"] == [{"filename": "soft.jpg", "code": "blurry",
                                 "reason": "The photo is too blurry; use a sharp, well-lit photo."}]
    assert data["photo_count"] == 1
    assert alice_client.get(data["accepted"][0]["thumbnail_url"]).status_code == 200


def test_a_file_over_the_size_limit_is_refused(alice_client, model, settings):
    settings.PHOTO_MAX_BYTES = 50_000
    response = alice_client.post(reverse("model_photos", args=[model.pk]),
                                 {"files": [upload("huge.jpg", person_jpeg(1))]},
                                 HTTP_ACCEPT="application/json")
    [refused] = response.json()["rejected"]
    assert (refused["filename"], refused["code"]) == ("huge.jpg", "file_too_large")
    assert not model.photos.exists()


def test_a_full_model_refuses_more_photos(alice_client, model_with_photos, settings, monkeypatch):
    monkeypatch.setattr(catalogue, "MODEL_MAX_PHOTOS", 5)
    response = alice_client.post(reverse("model_photos", args=[model_with_photos.pk]),
                                 {"files": [upload("six.jpg", person_jpeg(6))]})
    body = text(response)
    assert 'data-code="too_many_photos"' in body and "six.jpg" in body
    assert "The model already has 5 photos" in body
    assert model_with_photos.photos.count() == 5


def test_submitting_no_files_says_so(alice_client, model):
    response = alice_client.post(reverse("model_photos", args=[model.pk]), {}, follow=True)
    assert "Choose one or more photos to upload." in text(response)


def test_the_upload_form_works_without_javascript(alice_client, model):
    body = alice_client.get(reverse("model_photos", args=[model.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert ('<input type="file" id="id_files" name="files" multiple' in body
            and 'accept="image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"'
            in body)
    assert "js/upload.js" in body
    assert "<script>" not in body  # no inline scripts: a strict CSP comes later


def test_bad_details_show_the_error_by_the_field_and_keep_the_input(alice_client, bob, alice):
    actions.create_model(bob, name="Bob", subject_class="man", trigger_word="zorvek")
    for word, error in (("1abc", "must be 3–24 letters"), ("zorvek", "is taken")):
        response = alice_client.post(reverse("model_new"), {
            "name": "My dog", "subject_class": "dog", "trigger_word": word})
        assert response.status_code == 200
        body = response.content.decode()
        assert re.search(r'data-field-error="trigger_word">[^<]*' + error, body)
        assert 'value="My dog"' in body
        assert re.search(r'value="dog"[^>]*checked', body)
    response = alice_client.post(reverse("model_new"), {"name": "", "subject_class": "robot",
                                                        "trigger_word": "abcdef"})
    assert 'data-field-error="name"' in response.content.decode()
    assert 'data-field-error="subject_class"' in response.content.decode()
    assert not PersonalModel.objects.filter(user=alice).exists()


@pytest.mark.parametrize(("name", "message"), [
    ("Al\x1bice", "Remove the control character"),
    ("\u200b\u200b", "Give the model a name"),
])
def test_a_name_that_is_not_text_creates_nothing(alice_client, alice, name, message):
    response = alice_client.post(reverse("model_new"), {
        "name": name, "subject_class": "woman", "trigger_word": "zorvek"})
    assert response.status_code == 200
    assert message in text(response)
    assert not PersonalModel.objects.exists()


def test_an_upload_s_file_name_is_kept_without_control_characters(alice_client, model):
    response = alice_client.post(reverse("model_photos", args=[model.pk]), {
        "files": [upload("me\x1b[2J\x07.jpg", person_jpeg(0))]})
    assert response.status_code == 200
    actions.add_photos(model, [("you\x00\ud800.jpg", person_jpeg(1))])
    assert sorted(TrainingPhoto.objects.values_list("filename", flat=True)) == [
        "me[2J.jpg", "you\ufffd.jpg"]


def test_full_slots_list_the_models_instead_of_the_form(alice_client, alice, model):
    url = reverse("model_new")
    response = alice_client.get(url)
    body = text(response)
    assert 'name="name"' not in body
    assert "data-slots-full" in body
    assert "Your Free plan holds 1 personal model, and you have 1." in body
    assert f'data-model="{model.pk}"' in body and "Alice" in body and "0 photos" in body
    assert f'{reverse("model_delete", args=[model.pk])}?next={url}' in body
    assert reverse("model_photos", args=[model.pk]) in body  # finish the draft instead

    response = alice_client.post(url, {"name": "Two", "subject_class": "man",
                                       "trigger_word": "abcdef"})
    assert "data-slots-full" in text(response)
    assert PersonalModel.objects.filter(user=alice).count() == 1

    # Deleting from there comes back to the wizard, which now shows the form.
    response = alice_client.post(reverse("model_delete", args=[model.pk]), {"next": url})
    assert response["Location"] == url
    assert 'name="name"' in alice_client.get(url).content.decode()


def test_queueing_with_too_few_photos_shows_the_error_and_keeps_a_draft(alice_client, model):
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(3)])
    consent_for(model)
    response = alice_client.post(reverse("model_review", args=[model.pk]), {
        "steps": "2000", "learning_rate": "0.0004", "lora_rank": "16", "action": "queue"})
    assert response.status_code == 200
    assert "The model has 3 photo(s); it needs at least 5" in text(response)
    assert "data-form-error" in response.content.decode()
    model.refresh_from_db()
    assert model.status == PersonalModel.Status.DRAFT
    assert model.queued_at is None and model.steps == 1000


def test_save_as_draft_keeps_the_parameters(alice_client, model):
    url = reverse("model_review", args=[model.pk])
    response = alice_client.post(url, {"steps": "9999", "learning_rate": "0.0004",
                                       "lora_rank": "16", "action": "draft"})
    assert re.search(r'data-field-error="steps">Steps must be between 100 and 6000',
                     response.content.decode())
    response = alice_client.post(url, {"steps": "2500", "learning_rate": "0.0002",
                                       "lora_rank": "32", "action": "draft"})
    assert response.status_code == 302
    model.refresh_from_db()
    assert (model.steps, model.learning_rate, model.lora_rank) == (2500, 0.0002, 32)
    assert model.status == PersonalModel.Status.DRAFT
    page = alice_client.get(url).content.decode()
    assert "allowed 100–6000" in page and "allowed 0.00001–0.01" in page


def test_delete_asks_then_removes_the_model_and_its_files(alice_client, model_with_photos):
    model = model_with_photos
    assert len(stored_files()) == 10
    url = reverse("model_delete", args=[model.pk])
    page = text(alice_client.get(url))
    assert "Delete “Alice”?" in page and "5 training photos" in page
    assert PersonalModel.objects.filter(pk=model.pk).exists()

    response = alice_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("models")
    assert "“Alice” and its photos are deleted." in text(response)
    assert not PersonalModel.objects.filter(pk=model.pk).exists()
    assert not TrainingPhoto.objects.exists()
    assert stored_files() == []


def test_delete_ignores_a_next_url_on_another_site(alice_client, model):
    response = alice_client.post(reverse("model_delete", args=[model.pk]),
                                 {"next": "https://evil.example/"})
    assert response["Location"] == reverse("models")


def test_a_draft_photo_can_be_removed(alice_client, photo):
    url = reverse("model_photo_delete", args=[photo.model_id, photo.pk])
    response = alice_client.post(url)
    assert response["Location"] == reverse("model_photos", args=[photo.model_id])
    assert not TrainingPhoto.objects.filter(pk=photo.pk).exists()
    assert len(stored_files()) == 8

    other = TrainingPhoto.objects.filter(model_id=photo.model_id).first()
    response = alice_client.post(reverse("model_photo_delete", args=[other.model_id, other.pk]),
                                 HTTP_ACCEPT="application/json")
    assert response.json() == {"deleted": str(other.pk), "photo_count": 3}


def test_photos_cannot_change_after_queueing(alice_client, model_with_photos):
    model = actions.queue_model(model_with_photos)
    photo = model.photos.first()
    photos_url = reverse("model_photos", args=[model.pk])

    response = alice_client.post(photos_url, {"files": [upload("six.jpg", person_jpeg(6))]},
                                 follow=True)
    assert response.redirect_chain[-1][0] == reverse("model_detail", args=[model.pk])
    assert "its photos can only change while it is a draft" in text(response)
    json = alice_client.post(photos_url, {"files": [upload("six.jpg", person_jpeg(6))]},
                             HTTP_ACCEPT="application/json")
    assert json.status_code == 409 and json.json()["error"] == "conflict"

    response = alice_client.post(reverse("model_photo_delete", args=[model.pk, photo.pk]))
    assert response["Location"] == reverse("model_detail", args=[model.pk])
    assert model.photos.count() == 5 and len(stored_files()) == 10

    for name in ("model_photos", "model_review"):  # the wizard steps send you to the model
        response = alice_client.get(reverse(name, args=[model.pk]))
        assert response["Location"] == reverse("model_detail", args=[model.pk])


@pytest.mark.parametrize("name", ["model_new", "model_photos", "model_review"])
def test_every_step_shows_the_step_indicator(alice_client, model, alice, name):
    alice.plan = "pro"
    alice.save()
    args = [] if name == "model_new" else [model.pk]
    body = text(alice_client.get(reverse(name, args=args)))
    assert "data-steps" in body
    assert re.search(r'aria-current="step">.*?' + ["Details", "Photos", "Review"][
        ["model_new", "model_photos", "model_review"].index(name)], body)
    for label in ("Details", "Photos", "Review"):
        assert label in body


def test_starting_training_needs_the_credits(client, bob):
    from studio.models import TrainingRun

    model = actions.create_model(bob, name="Bob", subject_class="man")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)
    client.force_login(bob)
    response = client.post(reverse("model_review", args=[model.pk]), {
        "steps": "1000", "learning_rate": "0.0004", "lora_rank": "16", "action": "queue"})
    assert response.status_code == 200
    assert "Training costs 20 credits and your balance is 5" in text(response)
    model.refresh_from_db()
    assert model.status == PersonalModel.Status.DRAFT and not TrainingRun.objects.exists()
