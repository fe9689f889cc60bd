"""The operator's GPU through the whole product, on this CPU with the tiny FLUX.1 in the
operator's layout: photos uploaded → trained by the local trainer (a real training process, a
few steps) → generated with the trained LoRA (different from the same seed without it) → in the
gallery; nothing leaves the machine."""

import time

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from credits.actions import grant
from generation.actions import create_generation
from generation.catalogue import MODEL_SIZES, PERSONAL_BASE_MODEL
from studio import actions
from studio.models import PersonalModel, TrainingRun
from tests.factories import consent_for
from tests.studio.photos import person_jpeg


@pytest.fixture
def local_engine(settings, tiny_dir, tmp_path, monkeypatch):
    # The tiny model draws 64 px pictures: a 1024² one costs minutes of CPU in its VAE.
    for model in ("flux-schnell", PERSONAL_BASE_MODEL):
        monkeypatch.setitem(MODEL_SIZES, model, {"1:1": (64, 64)})
    settings.LOCAL_MODELS_DIR = str(tiny_dir.parent)  # holds flux-schnell/
    settings.LOCAL_TRAINING_DIR = str(tmp_path / "training")
    settings.LOCAL_CACHE_DIR = str(tmp_path / "cache")
    settings.LOCAL_MEMORY_PROFILE = "cpu-fp32"
    settings.LOCAL_TRAINING_RESOLUTION = 32
    settings.TRAINING_PROVIDER = "local"
    settings.GENERATION_PROVIDERS = ["local"]
    settings.LIKENESS_VALIDATION = False  # nine more pictures on the CPU: tested elsewhere


def wait_for(run, run_jobs, seconds=240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_jobs()
        run.refresh_from_db()
        if run.is_finished:
            return run
        time.sleep(0.5)
    raise AssertionError(f"training still {run.status} at {run.stage}")


def test_train_and_generate_on_the_local_engine(alice, local_engine, run_jobs, client,
                                                no_network):
    grant(alice, 100, reason="test", reference="test:local")
    model = actions.create_model(alice, name="Alice", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)  # the selfie step (issue 18) is tested on its own
    run = actions.start_training(model)
    TrainingRun.objects.filter(pk=run.pk).update(steps=6, learning_rate=1e-2, lora_rank=4)
    run = wait_for(run, run_jobs)
    model.refresh_from_db()
    assert (run.status, model.status) == ("succeeded", PersonalModel.Status.READY), run.error
    assert run.provider == "local" and not model.weights_is_demo and model.weights

    with_lora = create_generation(alice, prompt="a portrait", model_id=str(model.pk), seed=7,
                                  aspect_ratio="1:1", likeness_guarantee=False)
    without = create_generation(alice, prompt=with_lora.prompt_sent, base_model="flux-schnell",
                                seed=7, aspect_ratio="1:1")
    run_jobs()
    with_lora.refresh_from_db()
    without.refresh_from_db()
    assert (with_lora.status, without.status) == ("succeeded", "succeeded"), (
        with_lora.error, without.error)
    assert with_lora.provider == without.provider == "local"
    first, second = with_lora.images.get(), without.images.get()
    assert (first.width, first.height) == (second.width, second.height)
    with first.file.open("rb") as a, second.file.open("rb") as b:
        assert a.read() != b.read()  # the LoRA changed the picture
    client.force_login(alice)
    page = client.get("/dashboard/gallery/").content.decode()
    assert str(first.pk) in page and str(second.pk) in page


def test_a_missing_model_directory_is_a_system_check_error(settings, tmp_path):
    settings.GENERATION_PROVIDERS = ["local"]
    settings.LOCAL_MODELS_DIR = str(tmp_path / "nothing-here")
    with pytest.raises(SystemCheckError, match="likeness.E010"):
        call_command("check")
    (tmp_path / "nothing-here" / "flux-schnell").mkdir(parents=True)
    with pytest.raises(SystemCheckError, match="likeness.E011"):
        call_command("check")
