"""Fakes of the image providers (real HTTP servers on 127.0.0.1, fakes/), started once per module
and reset per test, with the official SDKs pointed at them through the settings an operator
sets; and personal models of alice's to generate with."""

import hashlib
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile

from credits.actions import grant
from fakes import FakeFal, FakeNebius, FakeReplicate, FakeTogether
from fakes.images import safetensors_bytes
from studio.models import PersonalModel

LORA_MODEL = ("black-forest-labs", "flux-dev-lora")


@pytest.fixture(scope="module")
def _servers():
    servers = SimpleNamespace(
        together=FakeTogether().start(),
        nebius=FakeNebius().start(),
        fal=FakeFal(generation_seconds=0.02, queue_seconds=0.01).start(),
        replicate=FakeReplicate(prediction_seconds=0.03, starting_seconds=0.01).start(),
    )
    yield servers
    for fake in vars(servers).values():
        fake.stop()


def add_replicate_model(fake, owner, name, version=None):
    version = version or hashlib.sha256(f"{owner}/{name}".encode()).hexdigest()
    with fake.lock:
        fake._add_model(owner, name, "private", version)
    return f"{owner}/{name}:{version}"


@pytest.fixture
def fakes(_servers, settings):
    for fake in vars(_servers).values():
        fake.reset()
    # Replicate's FLUX-dev LoRA model (for personal models trained elsewhere) is not one the
    # fake knows by default.
    add_replicate_model(_servers.replicate, *LORA_MODEL)
    settings.TOGETHER_API_KEY = _servers.together.token
    settings.TOGETHER_BASE_URL = _servers.together.url
    settings.NEBIUS_API_KEY = _servers.nebius.token
    settings.NEBIUS_BASE_URL = _servers.nebius.url + "/v1"
    settings.FAL_KEY = _servers.fal.token
    settings.FAL_QUEUE_URL = _servers.fal.url
    settings.REPLICATE_API_TOKEN = _servers.replicate.token
    settings.REPLICATE_BASE_URL = _servers.replicate.url
    settings.REPLICATE_LORA_MODEL = "/".join(LORA_MODEL)
    settings.GENERATION_ROUTES = {}
    settings.GENERATION_RETRY_BASE_SECONDS = 0.01
    settings.GENERATION_POLL_SECONDS = 0.02
    settings.GENERATION_TIMEOUT_SECONDS = 20
    settings.PROVIDER_TIMEOUT_SECONDS = 5
    settings.PUBLIC_BASE_URL = "http://testserver"
    yield _servers
    for fake in vars(_servers).values():
        fake.clear_faults()


@pytest.fixture
def rich_alice(alice):
    grant(alice, 95, reason="test", reference="test:generation")  # 100 credits in all
    return alice


def make_personal_model(user, *, name="Alice", trigger_word="zorvek", subject_class="woman",
                        provider_version="", hf_repo_id="", hf_private=False, demo=False,
                        status=PersonalModel.Status.READY):
    model = PersonalModel.objects.create(
        user=user, name=name, subject_class=subject_class, trigger_word=trigger_word,
        status=status, provider_version=provider_version, hf_repo_id=hf_repo_id,
        hf_private=hf_private, weights_is_demo=demo)
    if status == PersonalModel.Status.READY:
        model.weights.save(f"{user.public_id}/{model.id}/lora.safetensors",
                           ContentFile(safetensors_bytes(rank=4, seed=3)), save=True)
    return model


@pytest.fixture
def personal_model(rich_alice):
    return make_personal_model(rich_alice)
