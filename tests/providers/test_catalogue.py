"""The live catalogue: each provider is asked which of our models it serves (Together and
Nebius list them, Replicate and fal answer per model), the answers are kept, and the routing
skips a provider that does not serve a model -- also when it only learns so from a refused
request. Against the fakes, through the same code paths as with real keys."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from credits.actions import get_balance
from generation.actions import create_generation
from generation.models import Generation
from likeness.errors import InvalidInput
from providers import catalogue
from providers.models import ServedModel
from providers.registry import image_provider
from tests.factories import enable_totp, make_user
from tests.providers.test_image_providers import assert_exact_credits, finished, use

pytestmark = pytest.mark.django_db

ALL = ["flux-schnell", "flux-dev", "flux-pro", "flux-2-dev", "flux-2-pro", "personal", "instant"]

# provider -> {catalogue key: the provider's model id} for what each adapter offers.
OFFERED = {
    "together": {"flux-schnell": "black-forest-labs/FLUX.1-schnell",
                 "flux-dev": "black-forest-labs/FLUX.1-dev",
                 "flux-pro": "black-forest-labs/FLUX.1.1-pro",
                 "flux-2-dev": "black-forest-labs/FLUX.2-dev",
                 "flux-2-pro": "black-forest-labs/FLUX.2-pro",
                 "personal": "black-forest-labs/FLUX.1-dev-lora"},
    "nebius": {"flux-schnell": "black-forest-labs/flux-schnell",
               "flux-dev": "black-forest-labs/flux-dev",
               "personal": "black-forest-labs/flux-dev"},
    "replicate": {"flux-schnell": "black-forest-labs/flux-schnell",
                  "flux-dev": "black-forest-labs/flux-dev",
                  "flux-pro": "black-forest-labs/flux-1.1-pro",
                  "flux-2-dev": "black-forest-labs/flux-2-dev",
                  "flux-2-pro": "black-forest-labs/flux-2-pro",
                  "personal": "black-forest-labs/flux-dev-lora",
                  "instant": "zsxkib/flux-pulid"},
    "fal": {"flux-dev": "fal-ai/flux-lora", "flux-2-dev": "fal-ai/flux-2",
            "flux-2-pro": "fal-ai/flux-2-pro", "personal": "fal-ai/flux-lora",
            "instant": "fal-ai/flux-pulid"},
}
# One model each fake stops serving, and how.
RETIRE = {
    "together": ("flux-dev", lambda f: f.together.retire("black-forest-labs/FLUX.1-dev")),
    "nebius": ("flux-dev", lambda f: f.nebius.retire("black-forest-labs/flux-dev")),
    "replicate": ("flux-dev", lambda f: f.replicate.retire("black-forest-labs/flux-dev")),
    "fal": ("flux-2-pro", lambda f: f.fal.retire("fal-ai/flux-2-pro")),
}


@pytest.mark.parametrize("provider", list(OFFERED))
def test_each_provider_says_which_of_our_models_it_serves(fakes, provider):
    checks = {c.model: c for c in image_provider(provider).check_models(ALL)}
    assert set(checks) == set(ALL)
    for model, check in checks.items():
        assert check.provider_model == OFFERED[provider].get(model, "")
        assert check.served == (model in OFFERED[provider]), check

    gone, retire = RETIRE[provider]
    retire(fakes)
    checks = {c.model: c for c in image_provider(provider).check_models(ALL)}
    assert not checks[gone].served and checks[gone].detail
    assert all(checks[m].served for m in OFFERED[provider] if m != gone
               and OFFERED[provider][m] != OFFERED[provider][gone])


def test_the_demo_provider_serves_everything():
    assert all(c.served for c in image_provider("demo").check_models(ALL))


def test_check_providers_prints_what_each_provider_serves(fakes, settings):
    use(settings, "together", "nebius", "replicate", "fal")
    fakes.together.retire("black-forest-labs/FLUX.2-pro")
    out = io.StringIO()
    call_command("check_providers", stdout=out, no_color=True)
    text = out.getvalue()
    for provider in ("together", "nebius", "replicate", "fal"):
        assert provider in text
    lines = text.splitlines()
    together = lines[lines.index("together") + 1:lines.index("nebius")]
    assert any("serves" in ln and "FLUX.1 schnell" in ln and "Apache-2.0" in ln
               for ln in together), together
    assert any("missing" in ln and "FLUX.2 pro" in ln and "black-forest-labs/FLUX.2-pro" in ln
               for ln in together), together
    fal = lines[lines.index("fal") + 1:]
    assert any("serves" in ln and "FLUX.1 dev + personal LoRA" in ln and "Non-Commercial" in ln
               for ln in fal), fal
    rows = {(r.provider, r.model): r for r in ServedModel.objects.all()}
    assert len(rows) == 4 * len(ALL)
    assert rows["together", "flux-2-pro"].served is False
    assert rows["replicate", "flux-2-pro"].served is True
    # Instant mode (PuLID): asked like a model; fal and Replicate serve it, Together does not.
    assert rows["fal", "instant"].served and rows["replicate", "instant"].served
    assert not rows["together", "instant"].served and not rows["nebius", "instant"].served
    assert any("Instant (PuLID" in ln and "non-commercial" in ln.lower() for ln in fal), fal

    out = io.StringIO()
    call_command("check_providers", "fal", "--json", stdout=out)
    (answer,) = json.loads(out.getvalue())
    models = {m["model"]: m for m in answer["models"]}
    assert answer["provider"] == "fal" and answer["error"] is None
    assert models["flux-2-dev"]["served"] and models["flux-2-dev"]["licence"].startswith("FLUX")
    assert not models["flux-schnell"]["served"]


def test_a_provider_that_cannot_be_asked_keeps_its_last_answers(fakes, settings):
    use(settings, "together")
    call_command("check_providers", stdout=io.StringIO())
    before = {(r.model, r.served, r.checked_at) for r in ServedModel.objects.all()}
    fakes.together.fail(503, times=10, path="/v1/models")
    with pytest.raises(CommandError, match="could not be asked"):
        call_command("check_providers", stdout=io.StringIO())
    assert {(r.model, r.served, r.checked_at) for r in ServedModel.objects.all()} == before


def test_the_routing_skips_a_provider_that_does_not_serve_the_model(rich_alice, fakes,
                                                                    settings, run_jobs):
    use(settings, "together", "nebius")
    fakes.together.retire("black-forest-labs/FLUX.1-dev")
    call_command("check_providers", stdout=io.StringIO())
    generation = finished(create_generation(rich_alice, prompt="x", base_model="flux-dev"),
                          run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.images.get().provider == "nebius"
    assert not fakes.together.calls("POST")  # not even tried


@pytest.mark.parametrize(("first", "retire", "model"), [
    ("together", lambda f: f.together.retire("black-forest-labs/FLUX.1-dev"), "flux-dev"),
    ("replicate", lambda f: f.replicate.retire("black-forest-labs/flux-dev"), "flux-dev"),
    ("fal", lambda f: f.fal.retire("fal-ai/flux-lora"), "flux-dev"),
    ("nebius", lambda f: f.nebius.retire("black-forest-labs/flux-dev"), "flux-dev"),
])
def test_a_retired_model_fails_over_and_is_remembered(rich_alice, fakes, settings, run_jobs,
                                                      first, retire, model):
    second = "fal" if first != "fal" else "together"
    use(settings, first, second)
    retire(fakes)
    generation = create_generation(rich_alice, prompt="x", base_model=model, num_images=2)
    before = get_balance(rich_alice) + generation.credits_reserved
    generation = finished(generation, run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED, generation.failures
    for image in generation.images.all():
        assert image.provider == second
        assert [t["code"] for t in image.metadata["retries"]] == ["model_unavailable"]
    assert_exact_credits(generation, before)
    row = ServedModel.objects.get(provider=first, model=model)
    assert (row.served, row.source) == (False, ServedModel.Source.REQUEST)

    asked = len(getattr(fakes, first).calls("POST"))
    again = finished(create_generation(rich_alice, prompt="y", base_model=model), run_jobs)
    assert again.images.get().provider == second
    assert len(getattr(fakes, first).calls("POST")) == asked  # skipped at once now


def test_a_model_no_configured_provider_serves_is_refused_before_charging(rich_alice, fakes,
                                                                          settings):
    use(settings, "together", "fal")
    fakes.together.retire("black-forest-labs/FLUX.2-pro")
    fakes.fal.retire("fal-ai/flux-2-pro")
    call_command("check_providers", stdout=io.StringIO())
    balance = get_balance(rich_alice)
    with pytest.raises(InvalidInput, match="flux-2-pro"):
        create_generation(rich_alice, prompt="x", base_model="flux-2-pro")
    assert get_balance(rich_alice) == balance and not Generation.objects.exists()


def test_every_provider_refusing_the_model_fails_with_a_clear_message(rich_alice, fakes,
                                                                      settings, run_jobs):
    use(settings, "together", "replicate")
    fakes.together.retire("black-forest-labs/FLUX.2-pro")
    fakes.replicate.retire("black-forest-labs/flux-2-pro")
    generation = create_generation(rich_alice, prompt="x", base_model="flux-2-pro")
    before = get_balance(rich_alice) + generation.credits_reserved
    generation = finished(generation, run_jobs)
    assert generation.status == Generation.Status.FAILED
    assert generation.failures[0]["code"] == "model_unavailable"
    assert "serves this model" in generation.error
    assert_exact_credits(generation, before)


def test_an_old_answer_is_asked_again(rich_alice, fakes, settings, run_jobs):
    use(settings, "together", "nebius")
    catalogue.learn_unavailable("together", "flux-dev", "black-forest-labs/FLUX.1-dev", "gone")
    ServedModel.objects.update(checked_at=timezone.now() - timedelta(
        seconds=settings.CATALOGUE_MAX_AGE_SECONDS + 1))
    generation = finished(create_generation(rich_alice, prompt="x", base_model="flux-dev"),
                          run_jobs)
    assert generation.images.get().provider == "together"  # it serves again


def test_the_hourly_refresh_asks_every_configured_provider(fakes, settings):
    from generation.tasks import refresh_catalogue

    use(settings, "nebius")
    settings.GENERATION_ROUTES = {"flux-pro": ["together"]}
    refresh_catalogue.call()
    assert {r.provider for r in ServedModel.objects.all()} == {"nebius", "together"}
    assert "providers.catalogue" in settings.RECURRING_TASKS


@pytest.fixture
def staff_client(db):
    staff = make_user("staff@example.com", is_staff=True)
    enable_totp(staff)
    staff_client = Client()
    staff_client.force_login(staff)
    return staff_client


def test_staff_see_what_is_served_and_each_models_licence(fakes, settings, staff_client,
                                                         client, alice):
    use(settings, "together", "fal")
    fakes.fal.retire("fal-ai/flux-2-pro")
    call_command("check_providers", stdout=io.StringIO())

    page = staff_client.get("/staff/providers/").content.decode()
    assert 'id="served-models"' in page
    row = page[page.index('data-model="flux-2-pro"'):]
    row = row[:row.index("</tr>")]
    assert row.count('data-served="yes"') == 1 and row.count('data-served="no"') == 1
    schnell = page[page.index('data-model="flux-schnell"'):]
    schnell = schnell[:schnell.index("</tr>")]
    assert "Apache-2.0" in schnell and "data-licence-flag" not in schnell
    dev = page[page.index('data-model="flux-dev"'):]
    dev = dev[:dev.index("</tr>")]
    assert "FLUX.1 [dev] Non-Commercial License" in dev and "data-licence-flag" in dev

    detail = staff_client.get("/readyz").json()["providers"]
    assert "flux-2-pro" in detail["fal"]["does_not_serve"]
    assert "flux-2-pro" in detail["together"]["serves"] and detail["fal"]["checked_at"]
    assert "providers" not in client.get("/readyz").json()  # not for anyone else
    client.force_login(alice)
    assert "providers" not in client.get("/readyz").json()
