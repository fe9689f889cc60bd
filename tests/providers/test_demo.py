"""The offline demo provider: deterministic, seed-dependent, and labelled as not an AI image."""

import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from likeness.errors import ProviderError
from providers.demo.faces import CROP_SIDE, crops_from_zip
from providers.demo.images import DEMO_LABEL, DemoProvider
from providers.interfaces import ImageProvider as GenerationProvider
from providers.interfaces import ImageRequest as GenerationRequest
from providers.registry import image_provider as generation_provider
from tests.studio.photos import person_jpeg

ROOT = Path(__file__).resolve().parents[2]


def request(prompt="a lighthouse at dusk", seed=7, width=320, height=192, num_images=1):
    return GenerationRequest(prompt=prompt, width=width, height=height, seed=seed,
                             base_model="flux-schnell", num_images=num_images)


def make(**kwargs):
    return DemoProvider().generate(request(**kwargs))


def test_same_prompt_seed_and_size_give_identical_bytes():
    first, second = make()[0], make()[0]
    assert first.data == second.data
    assert first.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_picture_is_the_same_in_another_process():
    # A retry runs in another worker process, with another hash seed.
    code = (
        "import hashlib, django; django.setup();"
        "from providers.demo.images import DemoProvider;"
        "from providers.interfaces import ImageRequest;"
        "r = ImageRequest(prompt='a lighthouse at dusk', width=320, height=192, seed=7,"
        " base_model='flux-schnell');"
        "print(hashlib.sha256(DemoProvider().generate(r)[0].data).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "DEMO_PROVIDER_DELAY": "0",
           "DJANGO_SETTINGS_MODULE": "likeness.settings"}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1] == hashlib.sha256(make()[0].data).hexdigest()


@pytest.mark.parametrize("change", [{"seed": 8}, {"prompt": "a lighthouse at dawn"},
                                    {"width": 192, "height": 320}])
def test_a_different_seed_prompt_or_size_gives_a_different_picture(change):
    base = make()[0]
    other = make(**change)[0]
    assert other.data != base.data
    with Image.open(io.BytesIO(base.data)) as a, Image.open(io.BytesIO(other.data)) as b:
        if a.size == b.size:
            assert a.tobytes() != b.tobytes()  # the pixels differ, not only the metadata


def test_the_png_is_labelled_as_not_an_ai_image():
    result = make(seed=99)[0]
    assert (result.content_type, result.width, result.height, result.seed) == (
        "image/png", 320, 192, 99)
    assert result.metadata == {"demo": True, "label": DEMO_LABEL}
    with Image.open(io.BytesIO(result.data)) as picture:
        assert picture.format == "PNG"
        assert picture.size == (320, 192)
        assert "not an AI image" in picture.text["Comment"]
        assert picture.text["Comment"] == DEMO_LABEL
        assert "seed=99" in picture.text["Description"]


def test_several_images_get_consecutive_seeds():
    results = make(seed=10, num_images=3)
    assert [r.seed for r in results] == [10, 11, 12]
    assert len({r.data for r in results}) == 3


def test_the_fail_word_raises_a_permanent_error():
    with pytest.raises(ProviderError) as caught:
        make(prompt="[fail] a cat")
    assert caught.value.transient is False
    assert caught.value.code == "demo_failure"


def test_the_registry_builds_the_configured_provider(settings):
    settings.GENERATION_PROVIDERS = ["demo"]
    provider = generation_provider()
    assert isinstance(provider, DemoProvider)
    assert isinstance(provider, GenerationProvider)
    assert provider.is_demo
    with pytest.raises(LookupError):
        generation_provider("no-such-provider")


def test_the_demo_trainer_keeps_faces_and_skips_what_is_no_photo():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("01.jpg", b"not a jpeg")
        archive.writestr("02.jpg", person_jpeg(2))
        archive.writestr("02.txt", "a photo of zorvek woman")
    (crop,) = crops_from_zip(buffer.getvalue())
    with Image.open(io.BytesIO(crop)) as face:
        assert face.size == (CROP_SIDE, CROP_SIDE)
