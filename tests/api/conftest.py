"""API test helpers: a Bearer-key client per customer, and images made without a provider."""

import io

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image as PILImage

from api.keys import create_api_key
from generation.models import Generation, Image


def key_client(user, **client_kwargs) -> Client:
    _, raw = create_api_key(user, "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", **client_kwargs)


@pytest.fixture
def alice_api(alice):
    return key_client(alice)


@pytest.fixture
def bob_api(bob):
    return key_client(bob)


def png_bytes(color=(120, 40, 200), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def webp_bytes(size=(32, 24)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (10, 200, 30)).save(out, format="WEBP")
    return out.getvalue()


def make_generation(user, *, prompt="a lighthouse at dusk", base_model="flux-schnell",
                    aspect_ratio="1:1", num_images=1, status="succeeded") -> Generation:
    return Generation.objects.create(
        user=user, prompt=prompt, base_model=base_model, aspect_ratio=aspect_ratio,
        width=64, height=48, num_images=num_images, seed=7, status=status,
        credits_reserved=num_images,
    )


def make_image(user, generation=None, *, index=0, favorite=False, **gen_kwargs) -> Image:
    """An Image row with real files in storage, without running a provider."""
    generation = generation or make_generation(user, **gen_kwargs)
    image = Image(
        user=user, generation=generation, index=index, content_type="image/png",
        width=64, height=48, prompt=generation.prompt, base_model=generation.base_model,
        aspect_ratio=generation.aspect_ratio, seed=generation.seed + index, provider="demo",
        is_demo=True, favorite=favorite, metadata={"seed": generation.seed + index},
    )
    image.file.save(f"{index}-{image.id}.png", ContentFile(png_bytes()), save=False)
    image.thumbnail.save(f"{index}-{image.id}-thumb.webp", ContentFile(webp_bytes()),
                         save=False)
    image.save()
    return image


def assert_error(response, status: int, code: str) -> dict:
    """The response is the API's error shape with this status and code; returns details."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]["details"]
