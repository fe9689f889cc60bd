"""Consent for a person's face (studio.consent): a selfie of the person in the training photos
(real photos: the astronaut of scikit-image, and Grace Hopper as someone else), a guardian's
statement for a child, nothing for a pet; training refused without it, through the web and the
API, with nothing charged, stored or queued; a consent covers the photos it was given for."""

import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from credits.actions import get_balance, grant
from likeness import faces
from likeness.errors import Conflict, ConsentMismatch, ConsentRequired, InvalidInput
from studio import actions, consent
from studio.models import Consent, PersonalModel, TrainingRun
from tests.faces_data import grace_hopper
from tests.factories import key_client
from tests.storage import stored_names
from tests.studio.conftest import upload
from tests.studio.photos import cat, person_jpeg, selfie_jpeg


@pytest.fixture
def model(alice):
    grant(alice, 100, reason="test", reference="test:consent")
    model = actions.create_model(alice, name="Eileen", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    return model


def _nothing_started(model, balance):
    assert get_balance(model.user) == balance
    assert not TrainingRun.objects.filter(model=model).exists()
    assert not DBTaskResult.objects.filter(task_path__contains="advance_training").exists()
    model.refresh_from_db()
    assert model.status == PersonalModel.Status.DRAFT


def test_a_person_model_does_not_train_without_consent(model):
    balance = get_balance(model.user)
    with pytest.raises(ConsentRequired) as refused:
        actions.start_training(model)
    assert refused.value.status == 409 and refused.value.code == "consent_required"
    assert refused.value.details == {"consent_status": "missing", "method": "selfie"}
    _nothing_started(model, balance)


def test_the_persons_selfie_matches_and_lets_it_train(model, settings):
    record = consent.give_selfie(model, model.user, selfie=selfie_jpeg(), rights_confirmed=True)
    assert record.status == Consent.Status.VERIFIED and record.is_valid
    assert record.method == Consent.Method.SELFIE and record.user == model.user
    assert record.match_distance <= faces.MATCH_THRESHOLD == record.threshold
    assert record.photo_count == 5 and consent.RIGHTS_STATEMENT in record.statement
    assert not record.selfie  # not kept: CONSENT_KEEP_SELFIES is off
    assert not [n for n in stored_names() if n.startswith("consents/")]
    assert consent.status(model) == "verified"
    run = actions.start_training(model)
    assert run.status == TrainingRun.Status.QUEUED


def test_someone_elses_selfie_is_refused_with_the_reason_and_kept_for_review(model):
    balance = get_balance(model.user)
    with pytest.raises(ConsentMismatch) as refused:
        consent.give_selfie(model, model.user, selfie=selfie_jpeg(grace_hopper()),
                            rights_confirmed=True)
    error = refused.value
    assert error.code == "consent_mismatch" and error.status == 422
    assert error.details["match_distance"] > faces.MATCH_THRESHOLD
    assert "does not match the face in the training photos" in error.message
    assert f"{error.details['match_distance']:.2f}" in error.message
    attempt = Consent.objects.get(pk=error.details["consent_id"])
    assert attempt.status == Consent.Status.MISMATCH and not attempt.is_valid
    assert consent.status(model) == "mismatch"
    with pytest.raises(ConsentRequired) as blocked:
        actions.start_training(model)
    assert "did not match" in blocked.value.message
    _nothing_started(model, balance)


@pytest.mark.parametrize(("image", "message"), [
    (lambda: cat(), "No face was found"),
    (lambda: None, "could not be read"),
])
def test_a_selfie_without_a_face_says_what_to_change(model, image, message):
    from tests.studio.photos import encode

    data = encode(image()) if image() is not None else b"not an image"
    with pytest.raises(InvalidInput) as refused:
        consent.give_selfie(model, model.user, selfie=data, rights_confirmed=True)
    assert refused.value.field == "selfie" and message in refused.value.message
    assert not Consent.objects.exists()


def test_the_statement_must_be_confirmed(model):
    with pytest.raises(InvalidInput) as refused:
        consent.give_selfie(model, model.user, selfie=selfie_jpeg(), rights_confirmed=False)
    assert refused.value.field == "rights_confirmed"
    assert not Consent.objects.exists()


def test_a_consent_covers_the_photos_it_was_given_for(model):
    consent.give_selfie(model, model.user, selfie=selfie_jpeg(), rights_confirmed=True)
    actions.add_photos(model, [("6.jpg", person_jpeg(6))])
    assert consent.status(model) == "outdated"
    with pytest.raises(ConsentRequired) as refused:
        actions.start_training(model)
    assert "photos changed" in refused.value.message
    actions.delete_photo(model.photos.get(filename="6.jpg"))
    assert consent.status(model) == "verified"  # the same photos again


def test_a_childs_model_needs_the_guardians_statement(alice):
    grant(alice, 100, reason="test", reference="test:child")
    model = actions.create_model(alice, name="Kid", subject_class="child")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    with pytest.raises(ConsentRequired) as refused:
        actions.start_training(model)
    assert refused.value.details["method"] == "guardian"
    with pytest.raises(InvalidInput):
        consent.give_selfie(model, alice, selfie=selfie_jpeg(), rights_confirmed=True)
    with pytest.raises(InvalidInput) as unconfirmed:
        consent.give_guardian_statement(model, alice, rights_confirmed=True,
                                        guardian_confirmed=False)
    assert unconfirmed.value.field == "guardian_confirmed"
    record = consent.give_guardian_statement(model, alice, rights_confirmed=True,
                                             guardian_confirmed=True)
    assert record.method == Consent.Method.GUARDIAN and record.match_distance is None
    assert consent.GUARDIAN_STATEMENT in record.statement
    actions.start_training(model)


def test_pets_need_no_consent(alice):
    grant(alice, 100, reason="test", reference="test:pet")
    model = actions.create_model(alice, name="Chelsea", subject_class="cat")
    from tests.studio.photos import encode, scene

    actions.add_photos(model, [(f"{i}.jpg", encode(scene(i, subject=cat()))) for i in range(5)])
    assert consent.status(model) == "not_required"
    with pytest.raises(Conflict):
        consent.give_selfie(model, alice, selfie=selfie_jpeg(), rights_confirmed=True)
    actions.start_training(model)


def test_kept_selfies_are_private_and_go_with_the_model(model, settings):
    settings.CONSENT_KEEP_SELFIES = True
    record = consent.give_selfie(model, model.user, selfie=selfie_jpeg(), rights_confirmed=True)
    assert record.selfie.name.startswith(f"consents/{model.user.public_id}/{model.pk}/")
    with default_storage.open(record.selfie.name) as handle:
        assert handle.read(2) == b"\xff\xd8"
    actions.delete_model(model)
    assert not [n for n in stored_names() if n.startswith("consents/")]


# --- The web step --------------------------------------------------------------------------
def test_the_web_consent_step(model, alice_client):
    url = reverse("model_consent", args=[model.pk])
    page = alice_client.get(url).content.decode()
    assert "data-camera" in page and 'name="selfie"' in page and 'capture="user"' in page
    assert reverse("terms", args=["acceptable-use"]) in page
    refused = alice_client.post(url, {"rights_confirmed": "on",
                                      "selfie": upload("me.jpg", selfie_jpeg(grace_hopper()))})
    assert refused.status_code == 200
    assert "does not match the face in the training photos" in refused.content.decode()
    review = alice_client.post(reverse("model_review", args=[model.pk]), {
        "steps": "1000", "learning_rate": "0.0004", "lora_rank": "16", "action": "queue"})
    assert review.status_code == 200 and "did not match" in review.content.decode()
    ok = alice_client.post(url, {"rights_confirmed": "on",
                                 "selfie": upload("me.jpg", selfie_jpeg())})
    assert ok.status_code == 302


# --- The API ---------------------------------------------------------------------------------
def test_the_api_consent_and_train(model, alice):
    api = key_client(alice)
    state = api.get(f"/api/v1/models/{model.pk}/consent").json()
    assert state["required"] and state["method"] == "selfie" and state["status"] == "missing"
    assert state["statements"] == [consent.RIGHTS_STATEMENT, consent.SELFIE_STATEMENT]
    balance = get_balance(alice)
    refused = api.post(f"/api/v1/models/{model.pk}/train", "{}",
                       content_type="application/json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "consent_required"
    _nothing_started(model, balance)

    url = f"/api/v1/models/{model.pk}/consent"
    assert api.post(url, json.dumps({"rights_confirmed": True}),
                    content_type="application/json").status_code == 415
    mismatch = api.post(url, {"rights_confirmed": "true",
                              "selfie": upload("me.jpg", selfie_jpeg(grace_hopper()))})
    assert mismatch.status_code == 422, mismatch.content
    error = mismatch.json()["error"]
    assert error["code"] == "consent_mismatch" and error["details"]["threshold"] == 0.6
    assert api.get(f"/api/v1/models/{model.pk}").json()["consent_status"] == "mismatch"

    given = api.post(url, {"rights_confirmed": "true", "selfie": upload("me.jpg", selfie_jpeg())})
    assert given.status_code == 201, given.content
    body = given.json()
    assert body["status"] == "verified" and body["valid"] and body["match_distance"] < 0.6
    trained = api.post(f"/api/v1/models/{model.pk}/train", "{}", content_type="application/json")
    assert trained.status_code == 202
