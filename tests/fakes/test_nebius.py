"""The Nebius fake, driven through the official `openai` SDK (base URL with /v1)."""

import base64
import io

import httpx
import openai
import pytest
from PIL import Image


def client(fake, **kwargs):
    return openai.OpenAI(base_url=fake.url + "/v1", api_key=fake.token, **kwargs)


def test_generate_b64_with_nebius_fields(nebius_fake):
    result = client(nebius_fake).images.generate(
        model="black-forest-labs/flux-dev", prompt="TOK in Paris", response_format="b64_json",
        extra_body={"width": 640, "height": 512, "num_inference_steps": 28, "seed": 9,
                    "response_extension": "png", "negative_prompt": "blurry",
                    "loras": [{"url": "https://example.com/lora.safetensors", "scale": 0.8}]})
    assert result.data[0].url is None
    image = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert (image.format, image.size) == ("PNG", (640, 512))
    raw = nebius_fake.calls("POST", "/v1/images/generations")[-1].json()
    assert raw["loras"] == [{"url": "https://example.com/lora.safetensors", "scale": 0.8}]
    assert raw["response_extension"] == "png" and raw["seed"] == 9
    assert nebius_fake.generations[-1]["response"]["id"].startswith("text2img-")


def test_generate_url_webp(nebius_fake):
    result = client(nebius_fake).images.generate(
        model="black-forest-labs/flux-schnell", prompt="x", response_format="url",
        extra_body={"width": 256, "height": 256})
    image = Image.open(io.BytesIO(httpx.get(result.data[0].url).content))
    assert (image.format, image.size) == ("WEBP", (256, 256))


def test_validation_errors_are_422_with_detail(nebius_fake):
    with pytest.raises(openai.UnprocessableEntityError) as err:
        client(nebius_fake).images.generate(
            model="black-forest-labs/flux-dev", prompt="x",
            extra_body={"width": 4096, "num_inference_steps": 0, "loras": []})
    detail = err.value.body["detail"] if "detail" in err.value.body else err.value.body
    locs = [tuple(d["loc"]) for d in detail]
    assert ("body", "width") in locs and ("body", "num_inference_steps") in locs
    assert ("body", "loras") in locs
    assert all({"loc", "msg", "type"} <= set(d) for d in detail)


def test_auth_and_faults(nebius_fake):
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=nebius_fake.url + "/v1", api_key="wrong").images.generate(
            model="black-forest-labs/flux-dev", prompt="x")
    nebius_fake.fail(503, retry_after=0, times=1)
    assert client(nebius_fake, max_retries=1).images.generate(
        model="black-forest-labs/flux-dev", prompt="x").data
    nebius_fake.fail(429, retry_after=2)
    with pytest.raises(openai.RateLimitError) as err:
        client(nebius_fake, max_retries=0).images.generate(
            model="black-forest-labs/flux-dev", prompt="x")
    assert err.value.response.headers["retry-after"] == "2"
    nebius_fake.timeout(1.0)
    with pytest.raises(openai.APITimeoutError):
        client(nebius_fake, max_retries=0, timeout=0.3).images.generate(
            model="black-forest-labs/flux-dev", prompt="x")
    nebius_fake.malformed()
    with pytest.raises((openai.APIResponseValidationError, ValueError)):
        client(nebius_fake, max_retries=0).images.generate(
            model="black-forest-labs/flux-dev", prompt="x")
