"""The routing table's defaults, its system check, and the demo provider's personal models."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from providers.demo.images import DemoProvider, encode_png, render
from providers.interfaces import ImageRequest, Lora
from providers.routing import RoutingFailed, generate, route_names

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("env", "expected"), [
    ({}, ["demo"]),
    ({"TOGETHER_API_KEY": "k"}, ["together"]),
    ({"FAL_KEY": "k", "NEBIUS_API_KEY": "k", "REPLICATE_API_TOKEN": "r"},
     ["nebius", "fal", "replicate"]),
    ({"FAL_KEY": "k", "GENERATION_PROVIDERS": "replicate, demo"}, ["replicate", "demo"]),
])
def test_providers_default_to_those_with_keys(env, expected):
    base = {k: v for k, v in os.environ.items()
            if k not in ("TOGETHER_API_KEY", "NEBIUS_API_KEY", "FAL_KEY", "REPLICATE_API_TOKEN",
                         "GENERATION_PROVIDERS", "DATABASE_URL")}
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(','.join(settings.GENERATION_PROVIDERS))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**base, **env, "DJANGO_SETTINGS_MODULE": "likeness.settings"},
                         timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1].split(",") == expected


def test_routes_per_model_and_for_personal_models(settings):
    settings.GENERATION_PROVIDERS = ["together", "nebius"]
    settings.GENERATION_ROUTES = {"personal": ["replicate", "fal"], "flux-pro": ["together"]}
    lora = Lora(model_id="m", name="A", trigger_word="tok", subject_class="man", url="u")
    assert route_names("flux-dev") == ["together", "nebius"]
    assert route_names("flux-pro") == ["together"]
    assert route_names("flux-dev", lora) == ["replicate", "fal"]
    lora.is_demo = True
    assert route_names("flux-dev", lora) == ["demo"]


def test_the_system_check_names_unknown_providers_in_routes(settings):
    settings.GENERATION_ROUTES = {"flux-dev": ["demo", "midjourney"]}
    assert "likeness.E003" in {message.id for message in run_checks()}


def test_no_provider_for_a_model_is_a_permanent_routing_error():
    request = ImageRequest(prompt="x", width=64, height=64, seed=1, base_model="flux-dev")
    with pytest.raises(RoutingFailed) as caught:
        generate(request, [])
    assert caught.value.code == "no_provider" and not caught.value.transient


def test_the_demo_provider_marks_a_personal_models_subject():
    lora = Lora(model_id="m", name="Rex", trigger_word="rexo", subject_class="dog",
                is_demo=True)
    request = ImageRequest(prompt="a dog on a beach", width=320, height=256, seed=4,
                           base_model="flux-dev", lora=lora)
    (marked,) = DemoProvider().generate(request)
    plain = encode_png(render("a dog on a beach", 4, 320, 256), "a dog on a beach", 4)
    assert marked.data != plain
    assert (marked.width, marked.height, marked.seed) == (320, 256, 4)
    (again,) = DemoProvider().generate(request)
    assert again.data == marked.data  # still deterministic
