"""Plans mean what the pricing page says: model slots after a downgrade (extra models viewable,
not usable until chosen) and Hugging Face repositories that follow the plan."""

import pytest
from huggingface_hub import HfApi

from billing.models import Subscription
from credits.actions import grant
from fakes import FakeHuggingFace
from likeness.errors import LimitReached
from studio import actions as studio
from studio import slots as enforcement
from studio.actions import start_training
from studio.models import PersonalModel
from tests.billing.conftest import PRICES
from tests.factories import consent_for
from tests.studio.photos import person_jpeg


def make_models(user, names, status="ready"):
    return [PersonalModel.objects.create(user=user, name=name, subject_class="woman",
                                         trigger_word=f"tw{name.lower()}{user.pk}",
                                         status=status)
            for name in names]


def test_downgrade_locks_extra_models_until_the_customer_chooses(
        alice, stripe_fake, deliver, checkout, client, bob):
    events = checkout(alice, plan="pro")
    deliver.all(events)
    alice.refresh_from_db()
    assert alice.plan == "pro"
    first, second, third = make_models(alice, ["One", "Two", "Three"])
    assert enforcement.usable_model_ids(alice) == {first.pk, second.pk, third.pk}
    with pytest.raises(LimitReached):  # the slots hold: no fourth model on Pro
        studio.create_model(alice, name="Four", subject_class="man")

    # Downgrade to Creator (1 slot).
    sub = Subscription.objects.get(user=alice)
    deliver.all(stripe_fake.change_price(sub.stripe_id, PRICES["creator"]))
    alice.refresh_from_db()
    assert alice.plan == "creator"
    assert enforcement.needs_choice(alice)
    # Until a choice, the oldest ready model stays usable; the others are locked, not deleted.
    assert enforcement.usable_model_ids(alice) == {first.pk}
    assert set(enforcement.locked_models(alice)) == {second, third}
    assert PersonalModel.objects.filter(user=alice).count() == 3
    with pytest.raises(LimitReached) as err:
        start_training(third)
    assert "Choose which models to keep" in err.value.message
    third.refresh_from_db()
    assert third.status == "ready" and not third.runs.exists()

    # Viewable, and the API says why it cannot be trained.
    client.force_login(alice)
    assert client.get(f"/api/v1/models/{third.pk}").json()["name"] == "Three"
    answer = client.post(f"/api/v1/models/{third.pk}/train", {}, content_type="application/json")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "limit_reached"
    page = client.get("/dashboard/billing/").content.decode()
    assert "data-needs-choice" in page and 'data-banner="choose_models"' in page

    # The customer keeps "Three": it becomes usable, "One" is locked.
    assert client.get("/dashboard/billing/models").status_code == 200
    response = client.post("/dashboard/billing/models", {"keep": [str(third.pk)]})
    assert response.status_code == 302
    assert enforcement.usable_model_ids(alice) == {third.pk}
    assert not enforcement.needs_choice(alice)
    with pytest.raises(LimitReached):
        start_training(first)
    # Choosing more than the plan holds, or another customer's model, is refused.
    with pytest.raises(LimitReached):
        enforcement.keep_models(alice, [first.pk, second.pk])
    bobs = make_models(bob, ["Bob"])[0]
    with pytest.raises(LimitReached):
        enforcement.keep_models(alice, [bobs.pk])

    # Deleting the kept model frees its slot for the next in line.
    third.delete()
    assert enforcement.usable_model_ids(alice) == {first.pk}

    # Upgrading again unlocks everything.
    deliver.all(stripe_fake.change_price(sub.stripe_id, PRICES["enterprise"]))
    alice.refresh_from_db()
    assert enforcement.usable_model_ids(alice) == {first.pk, second.pk}
    assert not enforcement.needs_choice(alice)


def test_a_usable_model_still_trains_after_a_downgrade(alice, stripe_fake, deliver, checkout,
                                                      settings):
    settings.TRAINING_DEMO_SECONDS = 0.001
    deliver.all(checkout(alice, plan="pro"))
    alice.refresh_from_db()
    grant(alice, 100, reason="test", reference="test:alice")
    keep = studio.create_model(alice, name="Keep", subject_class="woman")
    studio.add_photos(keep, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(keep)
    extra = studio.create_model(alice, name="Extra", subject_class="woman")
    deliver.all(stripe_fake.change_price(Subscription.objects.get(user=alice).stripe_id,
                                         PRICES["creator"]))
    alice.refresh_from_db()
    keep.refresh_from_db()
    assert not enforcement.is_usable(extra)
    run = start_training(keep)
    assert run.credits and keep.runs.count() == 1


@pytest.fixture
def hub(settings, fake_servers):
    fake = fake_servers.get(FakeHuggingFace, username="likeness")
    settings.HF_TOKEN = fake.token
    settings.HF_NAMESPACE = "likeness"
    settings.HF_ENDPOINT = fake.url
    return fake


def test_repositories_follow_the_plan(alice, stripe_fake, deliver, checkout, hub, run_jobs):
    deliver.all(checkout(alice, plan="pro"))
    alice.refresh_from_db()
    model = make_models(alice, ["Published"])[0]
    repo_id = f"likeness/likeness-{model.trigger_word}"
    HfApi(endpoint=hub.url, token=hub.token).create_repo(repo_id, private=True)
    PersonalModel.objects.filter(pk=model.pk).update(hf_repo_id=repo_id, hf_private=True)
    run_jobs()

    sub = Subscription.objects.get(user=alice)
    deliver.all(stripe_fake.change_price(sub.stripe_id, PRICES["creator"]))  # no private models
    run_jobs()
    model.refresh_from_db()
    assert hub.repo(repo_id).private is False and model.hf_private is False
    assert hub.calls("PUT", rf"/api/models/{repo_id}/settings")

    deliver.all(stripe_fake.change_price(sub.stripe_id, PRICES["enterprise"]))  # private again
    run_jobs()
    model.refresh_from_db()
    assert hub.repo(repo_id).private is True and model.hf_private is True
