import pytest

from credits.actions import grant
from likeness.errors import Conflict, InvalidInput, LimitReached
from studio import actions, catalogue
from studio.models import PersonalModel, TrainingPhoto
from tests.factories import consent_for
from tests.storage import stored_names
from tests.studio.photos import blurred_jpeg, person_jpeg


@pytest.fixture
def model(alice):
    return actions.create_model(alice, name="Alice", subject_class="woman")


def test_a_new_model_is_a_draft_with_a_unique_trigger_word(alice, bob):
    first = actions.create_model(alice, name="Me", subject_class="woman")
    second = actions.create_model(bob, name="Me", subject_class="man")
    assert first.status == PersonalModel.Status.DRAFT
    assert first.trigger_word != second.trigger_word
    assert (first.steps, first.learning_rate, first.lora_rank) == (1000, 0.0004, 16)


def test_bad_input_creates_nothing(alice, bob):
    actions.create_model(bob, name="Taken", subject_class="man", trigger_word="zorvek")
    for kwargs in ({"name": "", "subject_class": "man"},
                   {"name": "x" * 81, "subject_class": "man"},
                   {"name": "A", "subject_class": "robot"},
                   {"name": "A", "subject_class": "man", "trigger_word": "1abc"},
                   {"name": "A", "subject_class": "man", "trigger_word": "zorvek"}):
        with pytest.raises(InvalidInput):
            actions.create_model(alice, **kwargs)
    assert not PersonalModel.objects.filter(user=alice).exists()


def test_plan_slots_hold(alice):
    actions.create_model(alice, name="One", subject_class="man")  # Free: 1 slot
    with pytest.raises(LimitReached) as info:
        actions.create_model(alice, name="Two", subject_class="man")
    assert info.value.details == {"used": 1, "limit": 1}
    alice.plan = "pro"
    alice.save()
    actions.create_model(alice, name="Two", subject_class="man")
    actions.create_model(alice, name="Three", subject_class="man")
    with pytest.raises(LimitReached):
        actions.create_model(alice, name="Four", subject_class="man")
    assert actions.slots(alice) == {"used": 3, "limit": 3}


def test_good_photos_are_stored_and_bad_ones_leave_nothing(model):
    accepted, rejected = actions.add_photos(model, [
        ("a.jpg", person_jpeg(1)), ("b.heic", person_jpeg(2)),
        ("blurry.jpg", blurred_jpeg(3)), ("again.jpg", person_jpeg(1)),
        ("notes.txt", b"hello"),
    ])
    assert [p.filename for p in accepted] == ["a.jpg", "b.heic"]
    assert [(r["filename"], r["code"]) for r in rejected] == [
        ("blurry.jpg", "blurry"), ("again.jpg", "duplicate"), ("notes.txt", "unsupported_format")]
    assert sorted(stored_names()) == sorted(
        [p.file.name for p in accepted] + [p.thumbnail.name for p in accepted])


def test_a_model_holds_at_most_30_photos(model, settings, monkeypatch):
    monkeypatch.setattr(catalogue, "MODEL_MAX_PHOTOS", 3)
    accepted, rejected = actions.add_photos(
        model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    assert len(accepted) == 3
    assert {r["code"] for r in rejected} == {"too_many_photos"}
    with pytest.raises(LimitReached):
        actions.add_photos(model, [("6.jpg", person_jpeg(6))])
        consent_for(model)


def test_queueing_needs_five_photos_and_valid_parameters(model, alice):
    grant(alice, 100, reason="test", reference="test:queue")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(4)])
    consent_for(model)
    with pytest.raises(InvalidInput):
        actions.queue_model(model)
    actions.add_photos(model, [("4.jpg", person_jpeg(4))])
    consent_for(model)
    for bad in ({"steps": 50}, {"learning_rate": 1}, {"lora_rank": 0}, {"steps": "many"}):
        with pytest.raises(InvalidInput):
            actions.queue_model(model, **bad)
    model.refresh_from_db()
    assert model.status == PersonalModel.Status.DRAFT
    queued = actions.queue_model(model, steps=1500, lora_rank=32)
    assert (queued.status, queued.steps, queued.lora_rank) == ("queued", 1500, 32)
    assert queued.queued_at is not None and queued.runs.count() == 1
    with pytest.raises(Conflict):
        actions.add_photos(queued, [("5.jpg", person_jpeg(5))])
        consent_for(queued)
    with pytest.raises(Conflict):
        actions.delete_photo(queued.photos.first())


def test_deleting_photos_and_models_removes_every_file(model):
    accepted, _ = actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(3)])
    actions.delete_photo(accepted[0])
    assert len(stored_names()) == 4
    actions.delete_model(model)
    assert stored_names() == []
    assert not TrainingPhoto.objects.exists()
