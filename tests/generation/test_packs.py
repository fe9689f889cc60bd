"""Packs: the shipped ones are valid; a run makes one image per prompt with the subject's
variant, reserved together and charged exactly; refusals change nothing; the web page, the
gallery filter and the API."""

import pytest
from django.core.exceptions import ValidationError

from credits.actions import get_balance, grant, ledger_is_consistent
from generation.catalogue import PERSONAL_MODEL_CREDITS
from generation.models import Generation, Pack, PackRun
from generation.pack_catalogue import SHIPPED
from generation.packs import PackNotFound, run_pack
from likeness.errors import InsufficientCredits, InvalidInput
from tests.factories import key_client, make_personal_model


@pytest.fixture
def model(alice):
    grant(alice, 100, reason="test", reference="test:packs")
    return make_personal_model(alice, name="Alice", trigger_word="zorvek", subject_class="woman",
                               demo=True)


def test_at_least_eight_shipped_packs_and_every_one_is_valid(db):
    packs = list(Pack.objects.all())
    assert len(packs) >= 8 and {p.slug for p in packs} >= {s["slug"] for s in SHIPPED}
    for pack in packs:
        pack.full_clean()  # the admin's checks: shapes, styles, a variant per subject class
        assert pack.cover and pack.description


def test_a_pack_that_misses_a_variant_is_refused(db):
    pack = Pack(slug="broken", name="Broken", description="x", subjects=["man", "dog"],
                prompts=[{"title": "One", "style": "", "aspect_ratio": "1:1",
                          "prompts": {"man": "{subject} smiling"}}])
    with pytest.raises(ValidationError, match="dog variant"):
        pack.full_clean()
    pack.prompts[0]["aspect_ratio"] = "5:1"
    with pytest.raises(ValidationError, match="aspect_ratio"):
        pack.full_clean()


def test_a_run_makes_one_image_per_prompt_charged_exactly(alice, model, run_jobs):
    pack = Pack.objects.get(slug="corporate-headshots")
    balance = get_balance(alice)
    run = run_pack(alice, model.pk, pack.slug, likeness_guarantee=False)
    expected = len(pack.prompts) * PERSONAL_MODEL_CREDITS
    assert run.credits_reserved == expected and get_balance(alice) == balance - expected
    run_jobs()
    generations = list(run.generations.order_by("created_at"))
    assert [g.pack_item for g in generations] == [p["title"] for p in pack.prompts]
    for generation, item in zip(generations, pack.prompts, strict=True):
        assert generation.status == Generation.Status.SUCCEEDED
        assert generation.personal_model == model
        assert generation.aspect_ratio == item["aspect_ratio"]
        assert generation.style == item["style"]
        assert item["prompts"]["woman"].replace("{subject}", "zorvek woman") in \
            generation.prompt_sent
        assert generation.images.count() == 1
    assert get_balance(alice) == balance - expected
    assert ledger_is_consistent(alice)


def test_a_child_model_gets_the_person_variant_and_no_dating_pack(alice, run_jobs):
    grant(alice, 100, reason="test", reference="test:packs")
    child = make_personal_model(alice, name="Sam", trigger_word="sambo", subject_class="child",
                                demo=True)
    run = run_pack(alice, child.pk, "holiday-card")
    pack = Pack.objects.get(slug="holiday-card")
    assert run.generations.order_by("created_at").first().prompt.startswith(
        pack.prompts[0]["prompts"]["person"].replace("{subject}", "sambo child"))
    balance = get_balance(alice)
    with pytest.raises(InvalidInput, match="not made for a child"):
        run_pack(alice, child.pk, "dating-profile")
    assert get_balance(alice) == balance and PackRun.objects.count() == 1


def test_refusals_change_nothing(alice, bob, model):
    balance = get_balance(alice)
    with pytest.raises(PackNotFound):
        run_pack(alice, model.pk, "no-such-pack")
    with pytest.raises(InvalidInput):
        run_pack(alice, model.pk, "pet-portraits")  # a woman's model
    his = make_personal_model(bob, name="Bob", trigger_word="bobbo", subject_class="man",
                              demo=True)
    with pytest.raises(Exception, match="No personal model"):
        run_pack(alice, his.pk, "corporate-headshots")
    Pack.objects.filter(slug="dating-profile").update(active=False)
    with pytest.raises(PackNotFound):
        run_pack(alice, model.pk, "dating-profile")
    assert get_balance(alice) == balance
    assert not PackRun.objects.exists() and not Generation.objects.exists()


def test_not_enough_credits_for_the_whole_pack_records_nothing(bob):
    balance = get_balance(bob)
    assert balance < 8  # 4 prompts × 2 credits
    model = make_personal_model(bob, name="Bob", trigger_word="bobbo", subject_class="man",
                                demo=True)
    with pytest.raises(InsufficientCredits) as info:
        run_pack(bob, model.pk, "corporate-headshots")
    assert info.value.needed == 8
    assert get_balance(bob) == balance
    assert not PackRun.objects.exists() and not Generation.objects.exists()


def test_the_packs_page_runs_a_pack_and_shows_it(alice, model, client, run_jobs):
    client.force_login(alice)
    page = client.get("/dashboard/packs/").content.decode()
    assert page.count("data-pack=") >= 8
    assert "Run pack · 8 credits" in page  # corporate headshots: 4 pictures
    response = client.post("/dashboard/packs/corporate-headshots/run",
                           {"model_id": str(model.pk)})
    run = PackRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/dashboard/packs/runs/{run.pk}/")
    run_jobs()
    page = client.get(response["Location"]).content.decode()
    assert page.count("data-pack-item=") == 4 and 'data-finished="yes"' in page
    gallery = client.get("/dashboard/gallery/?pack=corporate-headshots").content.decode()
    assert gallery.count('data-card') == 4
    assert client.get("/dashboard/gallery/?pack=dating-profile").content.decode().count(
        'data-card') == 0


def test_the_packs_page_explains_a_refusal(alice, model, client):
    client.force_login(alice)
    response = client.post("/dashboard/packs/pet-portraits/run", {"model_id": str(model.pk)},
                           follow=True)
    assert "not made for a woman model" in response.content.decode()
    assert not PackRun.objects.exists()


def test_the_api(alice, bob, model, run_jobs):
    api = key_client(alice)
    listed = api.get("/api/v1/packs").json()
    headshots = next(p for p in listed if p["id"] == "corporate-headshots")
    assert headshots["images"] == 4 and headshots["credits"] == 8
    assert headshots["subjects"] == ["man", "woman", "person"]
    response = api.post(f"/api/v1/models/{model.pk}/packs/corporate-headshots", {},
                        content_type="application/json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["credits_reserved"] == 8 and len(body["generations"]) == 4
    run_jobs()
    done = api.get(f"/api/v1/pack-runs/{body['id']}").json()
    assert done["finished"] and done["credits_charged"] == 8
    assert all(g["status"] == "succeeded" for g in done["generations"])
    images = api.get("/api/v1/images?pack=corporate-headshots").json()["items"]
    assert len(images) == 4
    assert key_client(bob).get(f"/api/v1/pack-runs/{body['id']}").status_code == 404
    assert api.post(f"/api/v1/models/{model.pk}/packs/pet-portraits", {},
                    content_type="application/json").status_code == 422
    assert api.post(f"/api/v1/models/{model.pk}/packs/nope", {},
                    content_type="application/json").status_code == 404
