"""The providers' own safety checkers are on for every request Likeness sends, and personal
models above all: each adapter says so explicitly on the wire (the fakes record what arrived),
and nothing a customer sends through the API can turn a checker off."""

import json

import pytest

from generation.actions import create_generation
from tests.factories import key_client
from tests.providers.conftest import add_replicate_model
from tests.providers.test_image_providers import finished, requests_of, use

# Where a provider takes a switch for its checker: the input, and the value that keeps it on.
SWITCHES = {"together": ("disable_safety_checker", False),
            "replicate": ("disable_safety_checker", False),
            "fal": ("enable_safety_checker", True)}


@pytest.mark.parametrize("provider", ["together", "replicate", "fal", "nebius"])
def test_a_personal_model_is_sent_with_the_checker_on(rich_alice, personal_model, fakes,
                                                       settings, run_jobs, provider):
    use(settings, provider)
    if provider == "replicate":
        personal_model.provider_version = add_replicate_model(fakes.replicate, "likeness",
                                                              "likeness-zorvek-2")
        personal_model.save()
    generation = finished(create_generation(rich_alice, prompt="hiking in the alps",
                                            model_id=str(personal_model.pk)), run_jobs)
    assert generation.status == "succeeded", generation.failures
    (body,) = requests_of(fakes, provider)
    if provider == "nebius":
        # Nebius takes no such input (docs/providers.md): nothing could turn one off.
        assert not any("safety" in key for key in body)
    else:
        name, on = SWITCHES[provider]
        assert body[name] is on


@pytest.mark.parametrize("provider", ["together", "replicate", "fal"])
def test_base_models_keep_the_checker_on_too(rich_alice, fakes, settings, run_jobs, provider):
    use(settings, provider)
    base = "flux-dev" if provider == "fal" else "flux-schnell"
    finished(create_generation(rich_alice, prompt="a lighthouse", base_model=base), run_jobs)
    name, on = SWITCHES[provider]
    assert all(body[name] is on for body in requests_of(fakes, provider))


@pytest.mark.parametrize("field", ["disable_safety_checker", "enable_safety_checker",
                                   "safety_tolerance"])
def test_the_api_cannot_turn_a_checker_off(rich_alice, personal_model, field):
    client = key_client(rich_alice)
    body = {"prompt": "hiking", "model_id": str(personal_model.pk),
            field: 6 if field == "safety_tolerance" else field.startswith("disable")}
    response = client.post("/api/v1/generations", json.dumps(body),
                           content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == field  # an unknown field
    assert not rich_alice.generations.exists()
