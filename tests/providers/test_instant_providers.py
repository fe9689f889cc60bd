"""Instant mode (a person from one reference photo, no training: PuLID on FLUX.1 [dev]) at fal.ai
(`fal-ai/flux-pulid`, its queue API) and Replicate (`zsxkib/flux-pulid` by version, through the
official SDK), against fakes that take exactly the models' published inputs and really draw the
reference photo into the pictures they make."""

import base64
import io
from dataclasses import replace

import httpx
import pytest
import replicate
from django.conf import settings as django_settings
from PIL import Image as PILImage
from replicate.exceptions import ReplicateError

from likeness.errors import ProviderError
from providers import registry
from providers.interfaces import INSTANT, ImageRequest, Reference

PULID = "8baa7ef2255075b46f4d91cd238c21d31181b3e6a864463f967960bb0112525b"
COLOUR = (200, 120, 40)
FAL_KEYS = {"prompt", "reference_image_url", "image_size", "num_inference_steps", "seed",
            "id_weight", "enable_safety_checker", "max_sequence_length", "guidance_scale"}
REPLICATE_KEYS = {"main_face_image", "prompt", "width", "height", "num_steps", "seed",
                  "id_weight", "max_sequence_length", "output_format", "num_outputs",
                  "guidance_scale"}


def photo(colour=COLOUR, size=(60, 80)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, format="JPEG", quality=95)
    return out.getvalue()


REQUEST = ImageRequest(prompt="a portrait in a sunlit garden", width=512, height=384, seed=40,
                       base_model="flux-dev", num_images=3, steps=28, guidance=3.5,
                       reference=Reference(photo(), "image/jpeg", id_weight=1.4))


def decoded(uri: str) -> bytes:
    header, payload = uri.split(",", 1)
    assert header == "data:image/jpeg;base64"
    return base64.b64decode(payload)


def assert_drawn_from_the_reference(images, request=REQUEST):
    """The requested size and seeds, and the reference photo in the middle of each picture."""
    assert [image.seed for image in images] == [request.seed + i
                                                for i in range(request.num_images)]
    for image in images:
        assert (image.width, image.height) == (request.width, request.height)
        with PILImage.open(io.BytesIO(image.data)) as picture:
            assert picture.size == (request.width, request.height)
            centre = picture.convert("RGB").getpixel((request.width // 2, request.height // 2))
        assert all(abs(got - want) <= 12 for got, want in zip(centre, COLOUR, strict=True))
    assert len({image.data for image in images}) == len(images)  # each seed its own picture


def test_fal_sends_one_request_per_image_with_the_photo_inline(fakes):
    images = registry.image_provider("fal").instant(REQUEST)
    calls = fakes.fal.calls("POST", r"^/fal-ai/flux-pulid$")
    assert len(calls) == 3
    bodies = [call.json() for call in calls]
    assert [body["seed"] for body in bodies] == [40, 41, 42]
    for body in bodies:
        assert set(body) == FAL_KEYS
        assert body["enable_safety_checker"] is True and body["id_weight"] == 1.4
        assert body["image_size"] == {"width": 512, "height": 384}
        assert body["num_inference_steps"] == 20  # PuLID's ceiling: 28 is clamped
        assert body["guidance_scale"] == 3.5 and body["max_sequence_length"] == "512"
        assert decoded(body["reference_image_url"]) == REQUEST.reference.data
    assert_drawn_from_the_reference(images)
    assert images[0].metadata["provider_model"] == "fal-ai/flux-pulid"
    assert images[0].metadata["id_weight"] == 1.4


def test_replicate_makes_all_images_in_one_prediction(fakes):
    images = registry.image_provider("replicate").instant(REQUEST)
    (call,) = fakes.replicate.calls("POST", r"^/v1/predictions$")
    body = call.json()
    assert body["version"] == PULID
    inputs = body["input"]
    assert set(inputs) == REPLICATE_KEYS
    assert inputs["num_outputs"] == 3 and inputs["seed"] == 40
    assert (inputs["width"], inputs["height"]) == (512, 384)
    assert inputs["num_steps"] == 20 and inputs["id_weight"] == 1.4
    assert inputs["guidance_scale"] == 3.5 and inputs["output_format"] == "jpg"
    assert decoded(inputs["main_face_image"]) == REQUEST.reference.data
    assert_drawn_from_the_reference(images)
    assert images[0].metadata["provider_model"] == django_settings.REPLICATE_INSTANT_MODEL


def test_the_models_defaults_are_left_to_them(fakes):
    """No guidance asked: none sent (PuLID's default, 4); id_weight clamped to its range."""
    asked = replace(REQUEST, num_images=1, guidance=None, steps=None,
                    reference=Reference(photo(), "image/jpeg", id_weight=7))
    registry.image_provider("fal").instant(asked)
    registry.image_provider("replicate").instant(asked)
    (fal,) = [call.json() for call in fakes.fal.calls("POST", r"^/fal-ai/flux-pulid$")]
    (rep,) = [call.json()["input"] for call in fakes.replicate.calls("POST", r"^/v1/predictions$")]
    assert set(fal) == FAL_KEYS - {"guidance_scale"} and fal["id_weight"] == 3
    assert set(rep) == REPLICATE_KEYS - {"guidance_scale"} and rep["id_weight"] == 3
    assert fal["num_inference_steps"] == rep["num_steps"] == 20


def fal_run(fakes, body: dict) -> httpx.Response:
    headers = {"Authorization": f"Key {fakes.fal.token}"}
    submitted = httpx.post(f"{fakes.fal.url}/fal-ai/flux-pulid", headers=headers,
                           json=body).json()
    fakes.fal.finish(submitted["request_id"])
    return httpx.get(submitted["response_url"], headers=headers)


def test_the_fakes_refuse_inputs_pulid_does_not_take(fakes):
    client = replicate.Client(api_token=fakes.replicate.token, base_url=fakes.replicate.url)
    face = "data:image/jpeg;base64," + base64.b64encode(photo()).decode()
    for refused in ({"main_face_image": face, "num_inference_steps": 20},  # not its name
                    {"main_face_image": face, "id_weight": 4},  # 0-3
                    {"main_face_image": face, "num_outputs": 5},  # 1-4
                    {"main_face_image": face, "disable_safety_checker": True},  # no checker
                    {"prompt": "no face"}):
        with pytest.raises(ReplicateError) as caught:
            client.predictions.create(version=PULID, input=refused)
        assert caught.value.status == 422, refused
    for body, kind in (({"prompt": "p", "reference_image_url": face, "num_images": 2},
                        "extra_forbidden"),
                       ({"prompt": "p"}, "missing"),
                       ({"reference_image_url": face}, "missing"),
                       ({"prompt": "p", "reference_image_url": face, "id_weight": 4},
                        "less_than_equal"),
                       ({"prompt": "p", "reference_image_url": face,
                         "max_sequence_length": 512}, "enum")):
        result = fal_run(fakes, body)
        assert result.status_code == 422, body
        assert [error["type"] for error in result.json()["detail"]] == [kind], body
    assert fal_run(fakes, {"prompt": "p", "reference_image_url": face}).status_code == 200


@pytest.mark.parametrize(("name", "model"), [("fal", "fal-ai/flux-pulid"),
                                             ("replicate", "zsxkib/flux-pulid")])
def test_a_model_no_longer_served_is_unavailable(fakes, name, model):
    """So the routing's failover skips to the next provider instead of retrying."""
    getattr(fakes, name).retire(model)
    with pytest.raises(ProviderError) as caught:
        registry.image_provider(name).instant(REQUEST)
    assert caught.value.code == "model_unavailable" and not caught.value.transient


@pytest.mark.parametrize("name", ["fal", "replicate"])
def test_a_photo_the_model_cannot_read_fails_the_run(fakes, name):
    asked = replace(REQUEST, num_images=1, reference=Reference(b"not a photo", "image/jpeg"))
    with pytest.raises(ProviderError) as caught:
        registry.image_provider(name).instant(asked)
    assert caught.value.code == {"fal": "run_failed", "replicate": "prediction_failed"}[name]


@pytest.mark.parametrize("name", ["fal", "replicate"])
def test_instant_mode_needs_the_photo(fakes, name):
    with pytest.raises(ProviderError) as caught:
        registry.image_provider(name).instant(replace(REQUEST, reference=None))
    assert caught.value.code == "invalid_request" and not caught.value.transient
    assert not fakes.fal.calls("POST") and not fakes.replicate.calls("POST")


def test_a_flagged_fal_image_is_blocked_like_a_generated_one(fakes):
    fakes.fal.flag_nsfw_next(1)
    first, second = registry.image_provider("fal").instant(replace(REQUEST, num_images=2))
    assert first.metadata["blocked"] == "content_flagged" and first.data == b""
    assert first.seed == 40  # never downloaded: its slot is refunded
    assert "blocked" not in second.metadata and second.seed == 41
    with PILImage.open(io.BytesIO(second.data)) as picture:
        assert picture.size == (512, 384)


def test_replicates_pulid_has_no_safety_checker_to_flag(fakes):
    fakes.replicate.flag_nsfw_next(1)
    (image,) = registry.image_provider("replicate").instant(replace(REQUEST, num_images=1))
    assert image.data and "blocked" not in image.metadata


@pytest.mark.parametrize(("name", "model", "retired"), [
    ("fal", "fal-ai/flux-pulid", "fal-ai/flux-pulid"),
    ("replicate", "zsxkib/flux-pulid", "zsxkib/flux-pulid")])
def test_the_live_catalogue_knows_instant_mode(fakes, name, model, retired):
    provider = registry.image_provider(name)
    checks = {c.model: c for c in provider.check_models([INSTANT, "flux-dev"])}
    assert checks[INSTANT].provider_model == model and checks[INSTANT].served
    assert checks["flux-dev"].served and checks["flux-dev"].provider_model != model
    getattr(fakes, name).retire(retired)
    checks = {c.model: c for c in provider.check_models([INSTANT, "flux-dev"])}
    assert not checks[INSTANT].served and checks[INSTANT].detail == "not found"
    assert checks["flux-dev"].served
