"""Gallery test helpers: images with chosen times (so orders are certain), and the fake
Cloudflare Images server."""

from datetime import UTC, datetime, timedelta

import pytest

from fakes.cloudflare_images import FakeCloudflareImages
from generation.models import Image
from tests.factories import make_generation, make_image  # noqa: F401  (re-exported)

EPOCH = datetime(2026, 6, 1, 12, tzinfo=UTC)


def at(image, minutes: int):
    """Pin an image's creation time to EPOCH + minutes."""
    when = EPOCH + timedelta(minutes=minutes)
    Image.objects.filter(pk=image.pk).update(created_at=when)
    image.created_at = when
    return image


def series(user, count: int, **kwargs) -> list:
    """`count` images, the first the oldest."""
    return [at(make_image(user, **kwargs), n) for n in range(count)]


@pytest.fixture
def cloudflare(fake_servers, settings):
    """The fake, reset, with Likeness pointed at it by the settings an operator would set."""
    fake = fake_servers.get(FakeCloudflareImages)
    settings.CLOUDFLARE_ACCOUNT_ID = fake.account_id
    settings.CLOUDFLARE_API_TOKEN = fake.token
    settings.CLOUDFLARE_BASE_URL = fake.url + "/client/v4"
    settings.CLOUDFLARE_IMAGES_SIGNING_KEY = ""
    settings.PROVIDER_TIMEOUT_SECONDS = 2
    return fake
