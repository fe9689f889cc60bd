"""One person per model (studio.identity), with real photos of real people (tests.faces_data):
a stranger among a person's photos is refused and named, a borderline face is flagged on the
review step, training refuses a stranger already stored, and two photos are held out of
training when there are enough."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ImageOps

from credits.actions import get_balance, grant
from likeness.errors import InvalidInput
from studio import actions, catalogue, identity, pipeline
from studio.models import TrainingPhoto
from tests import faces_data
from tests.factories import consent_for, key_client
from tests.storage import stored_names
from tests.studio.photos import encode, scene

pytestmark = pytest.mark.skipif(not faces_data.have_dlib_examples(),
                                reason="Debian's libdlib examples are not installed")


@pytest.fixture(autouse=True)
def small_real_photos(settings):
    # dlib's Johns are 150 px face crops: enlarged onto a scene they pass the size check, and
    # their enlargement is soft, so the blur check (not what these tests are about) is eased.
    settings.PHOTO_BLUR_THRESHOLD = 0


def photos_of(person: str, count: int, first_variant=0) -> list[tuple[str, bytes]]:
    shots = [p for p in faces_data.originals() if p.person == person][:count]
    assert len(shots) == count, f"only {len(shots)} photos of {person}"
    return [(f"{person.split()[-1].lower()}-{i}.jpg",
             encode(scene(first_variant + i, subject=shot.image)))
            for i, shot in enumerate(shots)]


@pytest.fixture
def model(alice):
    grant(alice, 100, reason="test", reference="test:identity")
    return actions.create_model(alice, name="John", subject_class="man")


def test_one_stranger_among_ten_photos_is_refused_and_named(model):
    uploads = photos_of("John Simm", 9) + photos_of("John Salley", 1, first_variant=50)
    accepted, rejected = actions.add_photos(model, uploads)
    assert [r["filename"] for r in rejected] == ["salley-0.jpg"]
    assert rejected[0]["code"] == "different_person"
    assert "different person" in rejected[0]["reason"]
    assert len(accepted) == 9
    assert {p.identity for p in model.photos.all()} <= {identity.SAME, identity.BORDERLINE}
    assert all(len(p.embedding) == 128 for p in model.photos.all())
    # Nothing of the refused photo is kept.
    assert len(stored_names()) == 2 * 9


def test_a_stranger_added_later_is_refused_against_the_stored_set(model):
    actions.add_photos(model, photos_of("John Simm", 5))
    accepted, rejected = actions.add_photos(model, photos_of("Bruce Willis", 1, first_variant=70))
    assert not accepted
    assert [r["code"] for r in rejected] == ["different_person"]
    assert model.photos.count() == 5


def test_too_few_faces_to_compare_judge_nothing_until_there_are_enough(model):
    actions.add_photos(model, photos_of("John Simm", 2))
    assert [p.identity for p in model.photos.all()] == ["", ""]
    actions.add_photos(model, photos_of("John Simm", 3)[2:])
    assert {p.identity for p in model.photos.all()} <= {identity.SAME, identity.BORDERLINE}
    assert all(p.identity_distance is not None for p in model.photos.all())


def test_training_refuses_a_stored_stranger_until_it_is_removed(model, alice):
    # Two people's photos stored before there were enough faces to tell (e.g. a pair of
    # uploads): the stranger is marked different when the set grows, and blocks training.
    actions.add_photos(model, photos_of("John Salley", 1, first_variant=40))
    actions.add_photos(model, photos_of("John Simm", 6))
    stranger = model.photos.get(filename="salley-0.jpg")
    assert stranger.identity == identity.DIFFERENT
    balance = get_balance(alice)
    consent_for(model)  # the consent selfie matched
    with pytest.raises(InvalidInput) as info:
        actions.start_training(model)
    assert "salley-0.jpg looks like a different person" in info.value.message
    model.refresh_from_db()
    assert model.status == model.Status.DRAFT and not model.runs.exists()
    assert get_balance(alice) == balance
    actions.delete_photo(stranger)
    consent_for(model)  # the consent selfie matched
    assert actions.start_training(model)


def test_the_review_step_flags_who_is_not_clearly_the_person(model, client, alice):
    actions.add_photos(model, photos_of("John Salley", 1, first_variant=40))
    actions.add_photos(model, photos_of("John Simm", 4))
    TrainingPhoto.objects.filter(filename="simm-3.jpg").update(identity=identity.BORDERLINE)
    client.force_login(alice)
    page = client.get(f"/dashboard/models/{model.pk}/review/").content.decode()
    assert page.count('data-verdict="different"') == 1
    assert page.count('data-verdict="borderline"') == 1
    assert identity.DIFFERENT_REASON in page and identity.BORDERLINE_NOTE in page


def twelve_photos() -> list[tuple[str, bytes]]:
    """John Simm's eleven photos and a mirrored copy of one of them in another scene."""
    first = next(p for p in faces_data.originals() if p.person == "John Simm")
    return photos_of("John Simm", 11) + [
        ("simm-mirrored.jpg", encode(scene(30, subject=ImageOps.mirror(first.image))))]


def test_with_enough_photos_two_are_held_out_of_training_the_same_each_time(model, alice):
    accepted, rejected = actions.add_photos(model, twelve_photos())
    assert len(accepted) == catalogue.HOLDOUT_MIN_PHOTOS and not rejected
    consent_for(model)  # the consent selfie matched
    run = actions.start_training(model)
    model.refresh_from_db()
    held_out = set(model.photos.filter(held_out=True).values_list("pk", flat=True))
    assert len(held_out) == catalogue.HOLDOUT_PHOTOS
    assert len(model.face_references) == 12 and len(model.holdout_references) == 2
    assert "12 photos (2 held out to measure likeness)" in run.events.first().message
    # The training ZIP holds the other ten.
    pipeline.package(run)
    with zipfile.ZipFile(io.BytesIO(run.zip_file.read())) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".jpg")]) == 10
    # The same choice when the model is trained again.
    model.photos.update(held_out=False)
    assert actions._hold_out(model, list(model.photos.all())) == 2
    assert set(model.photos.filter(held_out=True).values_list("pk", flat=True)) == held_out


def test_a_small_set_holds_nothing_out(model):
    actions.add_photos(model, photos_of("John Simm", 11))
    consent_for(model)  # the consent selfie matched
    run = actions.start_training(model)
    model.refresh_from_db()
    assert not model.photos.filter(held_out=True).exists()
    assert len(model.face_references) == 11 and model.holdout_references == []
    assert "held out" not in run.events.first().message


def test_the_api_and_the_web_form_name_the_stranger(model, alice, client):
    files = photos_of("John Simm", 9) + photos_of("John Salley", 1, first_variant=50)
    response = key_client(alice).post(
        f"/api/v1/models/{model.pk}/photos",
        {"files": [SimpleUploadedFile(name, data) for name, data in files[:5] + files[9:]]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(r["filename"], r["code"]) for r in body["rejected"]] == [
        ("salley-0.jpg", "different_person")]
    assert {p["identity"] for p in body["accepted"]} <= {"same", "borderline"}
    client.force_login(alice)
    page = client.post(f"/dashboard/models/{model.pk}/photos/", {
        "files": [SimpleUploadedFile("salley-again.jpg", files[9][1], "image/jpeg")]})
    text = page.content.decode() if page.status_code == 200 else client.get(
        page["Location"]).content.decode()
    assert "salley-again.jpg" in text and identity.DIFFERENT_REASON in text
    assert model.photos.count() == 5
