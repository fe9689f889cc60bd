"""Instant mode end to end in demo mode, with a real face (scikit-image's astronaut, Eileen
Collins): a model's photos, no training, 1-4 images each drawn from one photo in turn and
scored for likeness against the others; consent, pets, the operator's switch, private mode
and every refusal charge nothing; a failed image is refunded once."""

import re

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from credits.actions import get_balance, grant, ledger_is_consistent
from credits.models import CreditEntry
from generation import instant
from generation.catalogue import INSTANT_MODEL
from generation.instant_tasks import run_instant
from generation.models import Generation
from jobs.reaper import task_abandoned
from likeness.errors import ConsentRequired, InsufficientCredits, InvalidInput, Suspended
from providers.demo import faces as demo_faces
from studio import actions
from studio.models import PersonalModel
from tests.factories import consent_for, key_client
from tests.studio.photos import cat, encode, person_jpeg

PRICE = INSTANT_MODEL.credits_per_image


@pytest.fixture(autouse=True)
def demo(settings):
    settings.GENERATION_PROVIDERS = ["demo"]
    settings.GENERATION_ROUTES = {}
    settings.GENERATION_PROVIDER_ATTEMPTS = 1
    settings.INSTANT_MODE = True


def eileen(user, *, photos=5, consent=True, subject_class="woman") -> PersonalModel:
    """A draft model of the astronaut with `photos` photos (not trained), with consent."""
    model = actions.create_model(user, name="Eileen", subject_class=subject_class)
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(photos)])
    if consent:
        consent_for(model)
    return model


@pytest.fixture
def model(alice):
    grant(alice, 50, reason="test", reference="test:instant")
    return eileen(alice)


def nothing_recorded(user, balance):
    assert get_balance(user) == balance
    assert not Generation.objects.filter(operation="instant").exists()
    assert not DBTaskResult.objects.filter(task_path__endswith="run_instant").exists()


def test_instant_images_show_the_person_of_the_photos_before_any_training(model, run_jobs):
    before = get_balance(model.user)
    # A seed whose three pictures the demo does not draw as a miss (a face too small to
    # recognise, one picture in ten, as real models miss): the score is then the face's.
    seed = next(s for s in range(1000) if not any(demo_faces.misses(s + i, 1) for i in range(3)))
    generation = instant.create_instant(model.user, model.pk, prompt="a portrait in a garden",
                                        num_images=3, seed=seed)
    assert generation.credits_reserved == 3 * PRICE and get_balance(model.user) == before - 6
    assert model.status == PersonalModel.Status.DRAFT  # nothing was trained
    run_jobs()
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED and generation.credits_charged == 6
    images = list(generation.images.order_by("index"))
    assert len(images) == 3
    references = [image.metadata["instant"]["reference_photo"] for image in images]
    # Four photos chosen by default (the best faces), used in turn: three different ones.
    assert len(generation.references) == 4 and references == generation.references[:3]
    for image in images:
        assert image.operation == "instant" and image.personal_model_id == model.pk
        assert (image.width, image.height) == (1024, 1024)
        # Scored against the model's other photos: the demo draws the reference's real face.
        assert image.likeness is not None and image.likeness >= 50, image.likeness
    assert [image.seed for image in images] == [generation.seed + i for i in range(3)]
    assert "a photo of a woman" in generation.prompt_sent
    assert ledger_is_consistent(model.user)


def test_the_customer_chooses_the_photos(model, run_jobs):
    chosen = [str(p.pk) for p in model.photos.order_by("filename")[:2]]
    generation = instant.create_instant(model.user, model.pk, prompt="on a beach",
                                        num_images=4, photo_ids=chosen)
    run_jobs()
    used = [i.metadata["instant"]["reference_photo"]
            for i in generation.images.order_by("index")]
    assert used == chosen + chosen


@pytest.mark.parametrize("photo_ids", [["not-a-photo"], ["a", "b", "c", "d", "e"], "text"])
def test_photos_not_of_this_model_are_refused(model, photo_ids):
    before = get_balance(model.user)
    with pytest.raises(InvalidInput) as caught:
        instant.create_instant(model.user, model.pk, prompt="x", photo_ids=photo_ids)
    assert caught.value.field == "photo_ids"
    nothing_recorded(model.user, before)


def test_another_accounts_photos_are_refused(model, bob):
    theirs = eileen(bob)
    with pytest.raises(InvalidInput):
        instant.create_instant(model.user, model.pk, prompt="x",
                               photo_ids=[str(theirs.photos.first().pk)])


def test_a_person_without_consent_is_refused(alice):
    grant(alice, 20, reason="test", reference="test:instant")
    model = eileen(alice, consent=False)
    before = get_balance(alice)
    with pytest.raises(ConsentRequired):
        instant.create_instant(alice, model.pk, prompt="a portrait")
    nothing_recorded(alice, before)


def test_pets_and_models_without_a_face_are_refused(alice, charlie):
    grant(alice, 20, reason="test", reference="test:instant")
    pet = actions.create_model(alice, name="Tom", subject_class="cat")
    actions.add_photos(pet, [("cat.jpg", encode(cat()))])
    before = get_balance(alice)
    with pytest.raises(InvalidInput, match="pet"):
        instant.create_instant(alice, pet.pk, prompt="a cat on a sofa")
    empty = actions.create_model(charlie, name="Nobody", subject_class="man")
    with pytest.raises(InvalidInput, match="photo"):
        instant.create_instant(charlie, empty.pk, prompt="a portrait")
    nothing_recorded(alice, before)


def test_the_operator_switches_it_off(model, settings, alice_client):
    settings.INSTANT_MODE = False
    before = get_balance(model.user)
    with pytest.raises(InvalidInput, match="switched instant mode off"):
        instant.create_instant(model.user, model.pk, prompt="a portrait")
    nothing_recorded(model.user, before)
    page = alice_client.get(reverse("model_detail", args=[model.pk])).content.decode()
    assert "data-instant-link" not in page


def test_no_provider_offering_it_is_refused(model, settings):
    settings.GENERATION_ROUTES = {"instant": ["together"]}  # Together has no PuLID
    before = get_balance(model.user)
    with pytest.raises(InvalidInput, match="No configured image provider"):
        instant.create_instant(model.user, model.pk, prompt="a portrait")
    nothing_recorded(model.user, before)


def test_private_mode_refuses_an_outside_route(model, settings):
    settings.PRIVATE_MODE = True
    settings.GENERATION_ROUTES = {"instant": ["fal"]}
    settings.FAL_KEY = "test-key"
    before = get_balance(model.user)
    with pytest.raises(LookupError, match="Private mode"):
        instant.create_instant(model.user, model.pk, prompt="a portrait")
    nothing_recorded(model.user, before)


def test_bad_input_and_missing_credits_charge_nothing(model, bob):
    before = get_balance(model.user)
    for params in ({"prompt": " "}, {"prompt": "x", "num_images": 5},
                   {"prompt": "x", "aspect_ratio": "7:3"}, {"prompt": "x", "style": "nope"}):
        with pytest.raises(InvalidInput):
            instant.create_instant(model.user, model.pk, **params)
    with pytest.raises(instant.ModelNotFound):
        instant.create_instant(bob, model.pk, prompt="x")
    nothing_recorded(model.user, before)
    poor = eileen(bob)
    with pytest.raises(InsufficientCredits):
        instant.create_instant(bob, poor.pk, prompt="x", num_images=4)
    nothing_recorded(bob, get_balance(bob))


def test_a_suspended_model_is_refused(model):
    PersonalModel.objects.filter(pk=model.pk).update(suspended_at="2026-01-01T00:00:00Z")
    with pytest.raises(Suspended):
        instant.create_instant(model.user, model.pk, prompt="x")


def test_a_failed_image_is_refunded_once(model, run_jobs):
    before = get_balance(model.user)
    generation = instant.create_instant(model.user, model.pk, prompt="[fail] a portrait",
                                        num_images=2)
    run_jobs()
    run_instant.call(str(generation.id))  # a rerun changes nothing
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED and generation.credits_charged == 0
    assert CreditEntry.objects.filter(
        reference__startswith=f"gen:{generation.id}:refund:").count() == 2
    assert get_balance(model.user) == before and ledger_is_consistent(model.user)


def test_photos_deleted_before_the_job_refund_it(model, run_jobs):
    before = get_balance(model.user)
    generation = instant.create_instant(model.user, model.pk, prompt="a portrait")
    model.photos.all().delete()
    run_jobs()
    generation.refresh_from_db()
    assert generation.failures[0]["code"] == "photos_deleted"
    assert get_balance(model.user) == before


def test_a_job_the_reaper_gave_up_is_refunded(model):
    before = get_balance(model.user)
    generation = instant.create_instant(model.user, model.pk, prompt="a portrait")
    task_abandoned.send(sender=None, task_path=run_instant.module_path,
                        args=[str(generation.id)], kwargs={})
    generation.refresh_from_db()
    assert generation.failures[0]["code"] == "worker_lost"
    assert get_balance(model.user) == before


def test_a_childs_instant_images_cannot_be_shared(alice, run_jobs, alice_client):
    grant(alice, 20, reason="test", reference="test:instant")
    child = eileen(alice, subject_class="child")
    generation = instant.create_instant(alice, child.pk, prompt="at the beach")
    run_jobs()
    image = generation.images.get()
    response = alice_client.post(reverse("image_share", args=[image.pk]))
    image.refresh_from_db()
    assert image.share_token is None and response.status_code in (302, 403, 409, 422)


def test_the_page_shows_the_photos_price_and_licence_and_makes_a_preview(model, alice_client,
                                                                          run_jobs):
    detail = alice_client.get(reverse("model_detail", args=[model.pk])).content.decode()
    assert "data-instant-link" in detail
    url = reverse("instant", args=[model.pk])
    page = alice_client.get(url).content.decode()
    assert page.count('name="photo_ids"') == 5
    assert len(re.findall(r'name="photo_ids" value="[^"]+" checked', page)) == 4
    assert f"{PRICE} credits per image" in page and "non-commercial" in page
    before = get_balance(model.user)
    refused = alice_client.post(url, {"prompt": " ", "num_images": "2", "aspect_ratio": "1:1"})
    assert refused.status_code == 422 and "Write a prompt" in refused.content.decode()
    nothing_recorded(model.user, before)
    made = alice_client.post(url, {"prompt": "a portrait", "num_images": "1",
                                   "aspect_ratio": "4:5", "style": ""})
    generation = Generation.objects.get(operation="instant")
    assert made.status_code == 302 and made["Location"] == reverse("generation_detail",
                                                                   args=[generation.pk])
    run_jobs()
    follow = alice_client.get(made["Location"]).content.decode()
    assert "data-instant" in follow and "Instant preview" in follow
    assert generation.images.get().height == 1120


def test_the_api_makes_an_instant_preview(model, run_jobs, bob):
    client = key_client(model.user)
    url = f"/api/v1/models/{model.pk}/instant"
    response = client.post(url, {"prompt": "a portrait", "num_images": 2},
                           content_type="application/json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["operation"] == "instant" and body["credits_reserved"] == 2 * PRICE
    assert len(body["photo_ids"]) == 4
    run_jobs()
    done = client.get(f"/api/v1/generations/{body['id']}").json()
    assert done["status"] == "succeeded" and done["operation"] == "instant"
    assert all(image["likeness"] is not None for image in done["images"])
    before = get_balance(model.user)
    extra = client.post(url, {"prompt": "x", "lora_scale": 1}, content_type="application/json")
    assert extra.status_code == 422
    theirs = key_client(bob).post(url, {"prompt": "x"}, content_type="application/json")
    assert theirs.status_code == 404
    assert get_balance(model.user) == before


def test_vary_seed_and_use_these_settings_stay_in_instant_mode(model, alice_client, run_jobs):
    generation = instant.create_instant(model.user, model.pk, prompt="by a lighthouse",
                                        aspect_ratio="4:5")
    run_jobs()
    image = generation.images.get()
    photo = image.metadata["instant"]["reference_photo"]
    page = alice_client.get(reverse("generation_detail", args=[generation.pk])).content.decode()
    settings_url = f'{reverse("instant", args=[model.pk])}?image={image.pk}'
    assert f'href="{settings_url}"' in page
    prefilled = alice_client.get(settings_url).content.decode()
    assert "by a lighthouse</textarea>" in prefilled
    assert re.search(rf'value="{photo}" checked', prefilled)
    assert re.search(r'<option value="4:5" selected', prefilled)
    before = get_balance(model.user)
    response = alice_client.post(reverse("image_vary", args=[image.pk]))
    again = Generation.objects.exclude(pk=generation.pk).get()
    assert response.status_code == 302 and again.operation == "instant"
    assert again.references == [photo]  # the same photo, a new seed
    assert again.prompt == "by a lighthouse" and again.aspect_ratio == "4:5"
    assert get_balance(model.user) == before - PRICE
