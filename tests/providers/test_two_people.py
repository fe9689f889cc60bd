"""Two people in one picture: two ready personal models in one request, sent as two LoRAs to
the providers that take several (Together, fal, Nebius and the demo; Replicate and the local
engine take one), with both trigger words in the prompt, priced like one personal-model image,
and every refusal changing nothing."""

import json

import pytest
from django.urls import reverse

from credits.actions import get_balance, ledger_is_consistent
from credits.models import CreditEntry
from gallery import sharing
from generation.actions import create_generation, settings_of
from generation.models import Generation
from likeness.errors import Conflict, InvalidInput, NotFound
from studio.models import PersonalModel
from tests.factories import key_client, make_personal_model, make_user
from tests.providers.test_image_providers import finished, requests_of, use


@pytest.fixture
def pair(rich_alice):
    rich_alice.plan = "pro"  # room for three models (the child's below too)
    rich_alice.save(update_fields=["plan"])
    first = make_personal_model(rich_alice, name="Alice", trigger_word="zorvek")
    second = make_personal_model(rich_alice, name="Bram", trigger_word="quillon",
                                 subject_class="man")
    return first, second


def nothing_recorded(user, balance):
    assert not Generation.objects.filter(user=user).exists()
    assert get_balance(user) == balance
    assert not CreditEntry.objects.filter(reference__startswith="gen:").exists()


@pytest.mark.parametrize(("provider", "field", "url_key"), [
    ("together", "image_loras", "path"), ("fal", "loras", "path"), ("nebius", "loras", "url"),
])
def test_both_loras_go_to_a_provider_that_takes_several(rich_alice, pair, fakes, settings,
                                                        run_jobs, provider, field, url_key):
    first, second = pair
    use(settings, provider)
    balance = get_balance(rich_alice)
    generation = create_generation(rich_alice, prompt="two friends hiking", seed=3,
                                   model_id=str(first.pk), second_model_id=str(second.pk),
                                   lora_scale=0.9)
    assert generation.credits_reserved == 2  # like one personal-model image
    assert generation.prompt_sent == ("a photo of zorvek woman and quillon man together, "
                                      "two friends hiking")
    assert not generation.likeness_guarantee
    generation = finished(generation, run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED
    (body,) = requests_of(fakes, provider)
    loras = body[field] if field in body else body["extra_body"][field]
    assert [lora["scale"] for lora in loras] == [0.9, 1.0]
    assert str(first.pk) in loras[0][url_key] and str(second.pk) in loras[1][url_key]
    image = generation.images.get()
    assert image.personal_model == first
    assert image.metadata["lora"]["model_id"] == str(first.pk)
    assert image.metadata["second_lora"]["model_id"] == str(second.pk)
    assert image.likeness is None  # which face is whose is not measured
    assert get_balance(rich_alice) == balance - 2 and ledger_is_consistent(rich_alice)
    again = settings_of(image)
    assert (again["model_id"], again["second_model_id"]) == (str(first.pk), str(second.pk))


def test_the_trigger_words_written_in_the_prompt_are_kept(rich_alice, pair, settings):
    first, second = pair
    use(settings, "demo")
    generation = create_generation(rich_alice, prompt="zorvek on the left, quillon on the right",
                                   model_id=str(first.pk), second_model_id=str(second.pk))
    assert generation.prompt_sent == "zorvek on the left, quillon on the right"
    one = create_generation(rich_alice, prompt="quillon laughing", model_id=str(first.pk),
                            second_model_id=str(second.pk))
    assert one.prompt_sent == "a photo of zorvek woman, quillon laughing"


def test_providers_that_take_one_lora_are_skipped_and_alone_refuse(rich_alice, pair, fakes,
                                                                   settings, run_jobs):
    first, second = pair
    use(settings, "replicate", "together")
    generation = finished(create_generation(rich_alice, prompt="x", model_id=str(first.pk),
                                            second_model_id=str(second.pk)), run_jobs)
    assert generation.images.get().provider == "together"
    assert not fakes.replicate.calls("POST")
    use(settings, "replicate")
    balance = get_balance(rich_alice)
    with pytest.raises(InvalidInput) as refused:
        create_generation(rich_alice, prompt="x", model_id=str(first.pk),
                          second_model_id=str(second.pk))
    assert refused.value.field == "second_model_id"
    assert Generation.objects.filter(user=rich_alice).count() == 1
    assert get_balance(rich_alice) == balance


def test_demo_models_are_drawn_together_offline(rich_alice, settings, run_jobs):
    rich_alice.plan = "pro"
    rich_alice.save(update_fields=["plan"])
    first = make_personal_model(rich_alice, demo=True)
    second = make_personal_model(rich_alice, name="Rex", trigger_word="brindle",
                                 subject_class="dog", demo=True)
    use(settings, "together")  # demo weights mean nothing to a real provider
    generation = finished(create_generation(rich_alice, prompt="x", model_id=str(first.pk),
                                            second_model_id=str(second.pk)), run_jobs)
    image = generation.images.get()
    assert image.provider == "demo"
    assert image.metadata["second_lora"]["source"] == "demo"


def test_bad_pairs_are_refused_and_change_nothing(rich_alice, pair, bob, settings):
    first, second = pair
    use(settings, "demo")
    balance = get_balance(rich_alice)
    bobs = make_personal_model(bob, trigger_word="bobword")
    training = make_personal_model(rich_alice, trigger_word="notyet",
                                   status=PersonalModel.Status.TRAINING)
    cases = [
        ({"second_model_id": str(second.pk)}, InvalidInput, "model_id"),  # no first one
        ({"model_id": str(first.pk), "second_model_id": str(first.pk)}, InvalidInput,
         "second_model_id"),
        ({"model_id": str(first.pk), "second_model_id": str(bobs.pk)}, NotFound, None),
        ({"model_id": str(first.pk), "second_model_id": "not-a-uuid"}, NotFound, None),
        ({"model_id": str(first.pk), "second_model_id": str(training.pk)}, Conflict, None),
    ]
    for params, error, field in cases:
        with pytest.raises(error) as refused:
            create_generation(rich_alice, prompt="x", **params)
        if field:
            assert refused.value.field == field
    nothing_recorded(rich_alice, balance)


def test_a_child_in_the_pair_sets_the_strict_policy_and_stops_sharing(rich_alice, pair,
                                                                      settings, run_jobs):
    first, _ = pair
    child = make_personal_model(rich_alice, name="Kid", trigger_word="pipkin",
                                subject_class="child")
    use(settings, "demo")
    balance = get_balance(rich_alice)
    with pytest.raises(InvalidInput) as refused:
        create_generation(rich_alice, prompt="zorvek and pipkin in swimwear",
                          model_id=str(first.pk), second_model_id=str(child.pk))
    assert refused.value.code == "prompt_refused"
    nothing_recorded(rich_alice, balance)
    generation = finished(create_generation(rich_alice, prompt="at the zoo",
                                            model_id=str(first.pk),
                                            second_model_id=str(child.pk)), run_jobs)
    image = generation.images.get()
    with pytest.raises(sharing.SharingNotAllowed):
        sharing.share(image)


def test_a_second_model_deleted_before_the_job_runs_is_refunded(rich_alice, pair, settings,
                                                                run_jobs):
    first, second = pair
    use(settings, "demo")
    balance = get_balance(rich_alice)
    generation = create_generation(rich_alice, prompt="x", model_id=str(first.pk),
                                   second_model_id=str(second.pk))
    second.delete()
    generation = finished(generation, run_jobs)
    assert generation.status == Generation.Status.FAILED
    assert generation.failures[0]["code"] == "personal_model_deleted"
    assert get_balance(rich_alice) == balance and ledger_is_consistent(rich_alice)


def test_the_api_takes_and_shows_the_second_model(rich_alice, pair, settings, run_jobs):
    first, second = pair
    use(settings, "demo")
    api = key_client(rich_alice)
    created = api.post("/api/v1/generations", json.dumps(
        {"prompt": "x", "model_id": str(first.pk), "second_model_id": str(second.pk)}),
        content_type="application/json")
    assert created.status_code == 202, created.content
    run_jobs()
    shown = api.get(f"/api/v1/generations/{created.json()['id']}").json()
    assert (shown["model_id"], shown["second_model_id"]) == (str(first.pk), str(second.pk))
    assert shown["status"] == "succeeded"
    same = api.post("/api/v1/generations", json.dumps(
        {"prompt": "x", "model_id": str(first.pk), "second_model_id": str(first.pk)}),
        content_type="application/json")
    assert same.status_code == 422
    assert same.json()["error"]["details"]["field"] == "second_model_id"
    other = make_personal_model(make_user("carol@example.com"), trigger_word="carolword")
    foreign = api.post("/api/v1/generations", json.dumps(
        {"prompt": "x", "model_id": str(first.pk), "second_model_id": str(other.pk)}),
        content_type="application/json")
    assert foreign.status_code == 404
    assert Generation.objects.filter(user=rich_alice).count() == 1


def test_the_generate_page_offers_a_second_person(rich_alice, pair, settings, client,
                                                  run_jobs):
    first, second = pair
    use(settings, "demo")
    client.force_login(rich_alice)
    page = client.get(reverse("generate"))
    assert b'name="second_model"' in page.content and b"Faces can blend" in page.content
    answer = client.post(reverse("generate"), {
        "prompt": "two friends", "base_model": f"personal:{first.pk}", "style": "",
        "aspect_ratio": "1:1", "num_images": "1", "second_model": str(second.pk)})
    assert answer.status_code == 302
    generation = Generation.objects.get(user=rich_alice)
    assert generation.second_model == second
    refused = client.post(reverse("generate"), {
        "prompt": "two friends", "base_model": "flux-schnell", "style": "",
        "aspect_ratio": "1:1", "num_images": "1", "second_model": str(second.pk)})
    assert refused.status_code == 200
    assert b"Two people need two personal models" in refused.content
    assert Generation.objects.filter(user=rich_alice).count() == 1


def test_a_version_of_a_pair_stays_a_pair(rich_alice, pair, settings, run_jobs):
    """An upscale of a picture with a child in it can't be shared either, and is not scored
    against one of the two."""
    from generation import versions

    first, _ = pair
    child = make_personal_model(rich_alice, name="Kid", trigger_word="pipkin",
                                subject_class="child")
    use(settings, "demo")
    generation = finished(create_generation(rich_alice, prompt="at the zoo",
                                            model_id=str(first.pk),
                                            second_model_id=str(child.pk)), run_jobs)
    version = finished(versions.upscale(rich_alice, generation.images.get().pk, 2), run_jobs)
    assert version.status == Generation.Status.SUCCEEDED
    assert version.second_model == child and version.reference_faces() == []
    upscaled = version.images.get()
    assert upscaled.original == generation.images.get() and upscaled.likeness is None
    with pytest.raises(sharing.SharingNotAllowed):
        sharing.share(upscaled)
