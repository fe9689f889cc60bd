"""Fakes of the image providers (real HTTP servers on 127.0.0.1, fakes/), started once per module
and reset per test, with the official SDKs pointed at them through the settings an operator
sets."""

import hashlib
from types import SimpleNamespace

import pytest

from fakes import FakeFal, FakeNebius, FakeReplicate, FakeTogether

LORA_MODEL = ("black-forest-labs", "flux-dev-lora")


def add_replicate_model(fake, owner, name, version=None):
    version = version or hashlib.sha256(f"{owner}/{name}".encode()).hexdigest()
    with fake.lock:
        fake._add_model(owner, name, "private", version)
    return f"{owner}/{name}:{version}"


@pytest.fixture
def fakes(fake_servers, settings):
    _servers = SimpleNamespace(
        together=fake_servers.get(FakeTogether),
        nebius=fake_servers.get(FakeNebius),
        fal=fake_servers.get(FakeFal, generation_seconds=0.02, queue_seconds=0.01),
        replicate=fake_servers.get(FakeReplicate, prediction_seconds=0.03,
                                   starting_seconds=0.01),
    )
    # Replicate's FLUX-dev LoRA model (for personal models trained elsewhere) is not one the
    # fake knows by default.
    add_replicate_model(_servers.replicate, *LORA_MODEL)
    settings.TOGETHER_API_KEY = _servers.together.token
    settings.TOGETHER_BASE_URL = _servers.together.url
    settings.NEBIUS_API_KEY = _servers.nebius.token
    settings.NEBIUS_BASE_URL = _servers.nebius.url + "/v1"
    settings.FAL_KEY = _servers.fal.token
    settings.FAL_QUEUE_URL = settings.FAL_API_URL = _servers.fal.url
    settings.FAL_JWKS_URL = _servers.fal.url + "/.well-known/jwks.json"
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


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """A tiny FLUX.1 [schnell] in the operator's layout (providers.local.tiny), built once:
    `LOCAL_MODELS_DIR` is its parent."""
    from providers.local.tiny import build_tiny_model_dir  # torch: only for the tests that ask
    return build_tiny_model_dir(tmp_path_factory.mktemp("models") / "flux-schnell", seed=0)


@pytest.fixture
def local_models(settings, tiny_dir, tmp_path):
    """The local engine pointed at the tiny model, on the CPU."""
    settings.LOCAL_MODELS_DIR = str(tiny_dir.parent)
    settings.LOCAL_MEMORY_PROFILE = "cpu-fp32"
    settings.LOCAL_TRAINING_DIR = str(tmp_path / "local-training")
    settings.LOCAL_CACHE_DIR = str(tmp_path / "local-cache")
    settings.LOCAL_TRAINING_RESOLUTION = 32
    return tiny_dir
