"""Upscaling and face restore against the fakes of Replicate (driven through the official
`replicate` SDK) and fal.ai (its queue API), which speak the real protocols and refuse inputs
the real models do not take: each version really is the size asked for, is charged its price
once, fails over to the next provider of the route, and is refunded once when none can make
it."""

import base64
import io

import httpx
import pytest
import replicate
from django.conf import settings as django_settings
from PIL import Image as PILImage
from replicate.exceptions import ReplicateError

from credits.actions import get_balance
from generation import versions
from generation.catalogue import OPERATIONS
from generation.models import Generation
from tests.factories import make_image
from tests.generation.test_versions import assert_refunded_once

ESRGAN = "f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa"
CODEFORMER = "7de2ea26c616d5bf2245ad0d5e24f0ff9a6204578a5c876db53142edd9d2cd56"


@pytest.fixture
def original(rich_alice):
    return make_image(rich_alice)  # 64 × 48


def made(generation, run_jobs):
    run_jobs()
    generation.refresh_from_db()
    return generation


def size_of(image):
    with image.file.open("rb") as handle, PILImage.open(io.BytesIO(handle.read())) as picture:
        return picture.size


def sent_image(uri: str) -> tuple[int, int]:
    header, payload = uri.split(",", 1)
    assert header == "data:image/jpeg;base64"
    with PILImage.open(io.BytesIO(base64.b64decode(payload))) as picture:
        return picture.size


def test_replicate_upscales_with_real_esrgan(fakes, settings, original, run_jobs):
    settings.GENERATION_PROVIDERS = ["replicate"]
    before = get_balance(original.user)
    generation = made(versions.upscale(original.user, original.pk, 4), run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED
    (version,) = generation.images.all()
    assert size_of(version) == (256, 192) and version.provider == "replicate"
    (call,) = fakes.replicate.calls("POST", r"^/v1/predictions$")
    body = call.json()
    assert body["version"] == ESRGAN
    assert set(body["input"]) == {"image", "scale", "face_enhance"}
    assert body["input"]["scale"] == 4 and body["input"]["face_enhance"] is False
    assert sent_image(body["input"]["image"]) == (64, 48)
    assert version.metadata["provider_model"] == django_settings.REPLICATE_UPSCALE_MODEL
    assert get_balance(original.user) == before - OPERATIONS["upscale_4x"].credits


def test_replicate_restores_faces_with_codeformer(fakes, settings, original, run_jobs):
    settings.GENERATION_PROVIDERS = ["replicate"]
    generation = made(versions.restore_face(original.user, original.pk), run_jobs)
    (version,) = generation.images.all()
    assert size_of(version) == (64, 48)  # upscale 1: the same size
    (call,) = fakes.replicate.calls("POST", r"^/v1/predictions$")
    body = call.json()
    assert body["version"] == CODEFORMER
    assert body["input"]["upscale"] == 1
    assert set(body["input"]) == {"image", "codeformer_fidelity", "upscale", "face_upsample",
                                  "background_enhance"}


def test_fal_upscales_and_restores(fakes, settings, original, run_jobs):
    settings.GENERATION_PROVIDERS = ["fal"]
    upscaled = made(versions.upscale(original.user, original.pk, 2), run_jobs)
    restored = made(versions.restore_face(original.user, original.pk), run_jobs)
    assert size_of(upscaled.images.get()) == (128, 96)
    assert size_of(restored.images.get()) == (64, 48)
    esrgan = fakes.fal.calls("POST", r"^/fal-ai/esrgan$")[0].json()
    assert set(esrgan) == {"image_url", "scale", "model", "face"} and esrgan["scale"] == 2
    codeformer = fakes.fal.calls("POST", r"^/fal-ai/codeformer$")[0].json()
    assert codeformer["upscale_factor"] == 1 and sent_image(codeformer["image_url"]) == (64, 48)
    assert upscaled.images.get().provider == restored.images.get().provider == "fal"


def test_the_fakes_refuse_inputs_the_models_do_not_take(fakes):
    """Strict like the real schemas: a misnamed input fails loudly instead of being ignored."""
    client = replicate.Client(api_token=fakes.replicate.token, base_url=fakes.replicate.url)
    with pytest.raises(ReplicateError) as refused:
        client.predictions.create(version=ESRGAN, input={"image": "data:,", "upscale": 2})
    assert refused.value.status == 422
    with pytest.raises(ReplicateError):
        client.predictions.create(version=CODEFORMER, input={"scale": 2})  # no image
    submitted = httpx.post(f"{fakes.fal.url}/fal-ai/esrgan",
                           headers={"Authorization": f"Key {fakes.fal.token}"},
                           json={"image_url": "data:,", "upscale_factor": 2}).json()
    fakes.fal.finish(submitted["request_id"])
    result = httpx.get(submitted["response_url"],
                       headers={"Authorization": f"Key {fakes.fal.token}"})
    assert result.status_code == 422
    assert result.json()["detail"][0]["type"] == "extra_forbidden"


def test_a_version_fails_over_to_the_next_provider(fakes, settings, original, run_jobs):
    settings.GENERATION_PROVIDERS = ["replicate", "fal"]
    settings.GENERATION_PROVIDER_ATTEMPTS = 1
    fakes.replicate.fail(503, path=r"^/v1/predictions$", times=5)
    before = get_balance(original.user)
    generation = made(versions.upscale(original.user, original.pk, 2), run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED
    version = generation.images.get()
    assert version.provider == "fal" and size_of(version) == (128, 96)
    assert version.metadata["retries"][0]["provider"] == "replicate"
    assert get_balance(original.user) == before - OPERATIONS["upscale_2x"].credits


def test_a_version_no_provider_can_make_is_refunded_once(fakes, settings, original, run_jobs):
    settings.GENERATION_PROVIDERS = ["replicate", "fal"]
    settings.GENERATION_PROVIDER_ATTEMPTS = 1
    settings.JOB_MAX_ATTEMPTS = 2
    fakes.replicate.fail(503, path=r"^/v1/predictions$", times=50)
    fakes.fal.fail(503, path=r"^/fal-ai/", times=50)
    before = get_balance(original.user)
    generation = versions.restore_face(original.user, original.pk)
    for _ in range(3):  # the job's own retries, then its end
        made(generation, run_jobs)
    assert generation.attempts == 2
    assert_refunded_once(generation, original, before)
