"""Every registered implementation of providers.interfaces, held to its interface: each image
provider and trainer of the registry (the demo ones too), the publisher and the delivery
backend, driven against the fakes that speak their services' protocols (fakes/)."""

import io
import time
import zipfile
from dataclasses import replace

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image as PILImage

from fakes import FakeFal, FakeHuggingFace, FakeReplicate
from fakes.cloudflare_images import FakeCloudflareImages
from fakes.replicate import TRAINER_VERSION
from likeness.errors import ProviderError
from providers import registry
from providers.interfaces import (
    FACE_RESTORE,
    UPSCALE,
    Delivery,
    EnhanceRequest,
    ImageProvider,
    ImageRequest,
    ProviderImage,
    Publisher,
    Reference,
    Trainer,
    TrainingState,
)
from studio.models import TrainingRun
from tests.factories import make_image, make_personal_model
from tests.studio.photos import person_jpeg

# The size for the aspect ratio, as generation asks (some providers take only the ratio).
REQUEST = ImageRequest(prompt="a lighthouse at dusk", width=1024, height=1024, seed=11,
                       base_model="flux-dev", num_images=1, steps=4, aspect_ratio="1:1")


def implements(obj, interface, *methods):
    """The object is the interface's and overrides each of its methods."""
    assert isinstance(obj, interface)
    missing = [m for m in methods if getattr(type(obj), m) is getattr(interface, m)]
    assert not missing, f"{type(obj).__name__} does not implement {missing}"


# The local engine runs the tiny FLUX.1 [schnell] on the CPU: a small picture of that model.
LOCAL_REQUEST = replace(REQUEST, base_model="flux-schnell", width=64, height=64)


@pytest.mark.parametrize("name", list(registry.IMAGE_PROVIDERS))
def test_every_image_provider_makes_images(name, fakes, request):
    provider = registry.image_provider(name)
    asked = REQUEST
    if name == "local":
        request.getfixturevalue("local_models")
        asked = LOCAL_REQUEST
    implements(provider, ImageProvider, "supports", "generate")
    assert provider.name == name and provider.label
    assert provider.supports(asked)
    if not provider.is_demo:
        assert not provider.supports(replace(asked, base_model="no-such-model"))
    (image,) = provider.generate(asked)
    assert isinstance(image, ProviderImage) and image.seed == asked.seed
    assert image.content_type in ("image/png", "image/jpeg", "image/webp")
    with PILImage.open(io.BytesIO(image.data)) as picture:
        assert picture.size == (image.width, image.height)
    assert isinstance(image.metadata, dict)


def _photo(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (200, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize("name", [n for n in registry.IMAGE_PROVIDERS
                                  if registry.image_provider(n).operations])
@pytest.mark.parametrize(("operation", "scale"), [(UPSCALE, 2), (UPSCALE, 4), (FACE_RESTORE, 1)])
def test_every_image_provider_that_offers_versions_makes_them(name, operation, scale, fakes):
    """Upscaling and face restore: the image it is given, that many times larger."""
    provider = registry.image_provider(name)
    implements(provider, ImageProvider, "enhance")
    asked = EnhanceRequest(operation=operation, data=_photo(), content_type="image/jpeg",
                           width=40, height=30, scale=scale, seed=5)
    image = provider.enhance(asked)
    assert isinstance(image, ProviderImage) and image.seed == 5
    with PILImage.open(io.BytesIO(image.data)) as picture:
        assert picture.size == (40 * scale, 30 * scale) == (image.width, image.height)


@pytest.mark.parametrize("name", [n for n in registry.IMAGE_PROVIDERS
                                  if registry.image_provider(n).offers_instant])
def test_every_image_provider_that_offers_instant_mode_draws_from_the_photo(name, fakes):
    """Instant mode: N images of the size asked, drawn with seeds seed..seed+N-1."""
    provider = registry.image_provider(name)
    implements(provider, ImageProvider, "instant")
    asked = replace(REQUEST, width=512, height=384, num_images=2,
                    reference=Reference(_photo(), "image/jpeg"))
    images = provider.instant(asked)
    assert [image.seed for image in images] == [asked.seed, asked.seed + 1]
    for image in images:
        assert isinstance(image, ProviderImage) and "blocked" not in image.metadata
        assert image.content_type in ("image/png", "image/jpeg", "image/webp")
        with PILImage.open(io.BytesIO(image.data)) as picture:
            assert picture.size == (512, 384) == (image.width, image.height)


# The ones behind a remote service (the local engine's transient errors are its own tests').
@pytest.mark.parametrize("name", [n for n in registry.IMAGE_PROVIDERS
                                  if n not in ("demo", "local")])
def test_every_image_provider_says_when_to_try_again(name, fakes):
    getattr(fakes, name).fail(503, times=20)
    with pytest.raises(ProviderError) as caught:
        registry.image_provider(name).generate(REQUEST)
    assert caught.value.transient and caught.value.code


@pytest.fixture
def trainer_fakes(settings, fake_servers):
    replicate = fake_servers.get(FakeReplicate, training_seconds=0.05, starting_seconds=0.01)
    fal = fake_servers.get(FakeFal, training_seconds=0.05, queue_seconds=0.01)
    settings.REPLICATE_API_TOKEN, settings.REPLICATE_BASE_URL = replicate.token, replicate.url
    settings.REPLICATE_TRAINER_VERSION = TRAINER_VERSION
    settings.REPLICATE_OWNER = "likeness"
    settings.FAL_KEY, settings.FAL_QUEUE_URL = fal.token, fal.url
    settings.FAL_API_URL, settings.FAL_JWKS_URL = fal.url, fal.url + "/.well-known/jwks.json"
    settings.TRAINING_DEMO_SECONDS = 0.05
    settings.PROVIDER_TIMEOUT_SECONDS = 5


def _run(user, provider):
    model = make_personal_model(user, status="queued", trigger_word=f"conform{provider}")
    run = TrainingRun.objects.create(
        user=user, model=model, provider=provider, steps=4 if provider == "local" else 100,
        learning_rate=0.01 if provider == "local" else 0.0004, lora_rank=4,
        status=TrainingRun.Status.RUNNING)
    if provider == "local":  # it reads the photos the pipeline packed, not a URL
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for number in range(1, 3):
                archive.writestr(f"{number:02d}.jpg", person_jpeg(number))
                archive.writestr(f"{number:02d}.txt", "a photo of tok person")
        run.zip_file.save("photos.zip", ContentFile(buffer.getvalue()), save=True)
    return run


def _until_done(trainer, run, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        state = trainer.state(run)
        assert isinstance(state, TrainingState)
        if state.state in ("succeeded", "failed", "canceled") or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


@pytest.mark.parametrize("name", list(registry.TRAINERS))
def test_every_trainer_trains_and_hands_over_the_weights(name, trainer_fakes, alice, request):
    if name == "local":
        request.getfixturevalue("local_models")
    trainer = registry.trainer(name)
    implements(trainer, Trainer, "start", "state", "cancel", "fetch_weights")
    assert trainer.name == name and trainer.label and trainer.poll_seconds > 0
    run = _run(alice, name)
    run.provider_ref = trainer.prepare(run)
    run.provider_id = trainer.start(run, zip_url="https://files.example/photos.zip",
                                    webhook_url="")
    run.started_at = timezone.now()  # as the pipeline records it
    run.save()
    assert run.provider_id
    state = _until_done(trainer, run, timeout=180 if name == "local" else 10)
    assert state.state == "succeeded", state
    weights = trainer.fetch_weights(run, state)
    assert len(weights) > 8 and int.from_bytes(weights[:8], "little") < len(weights)
    if run.provider_ref:
        trainer.delete_ref(run.provider_ref)
        trainer.delete_ref(run.provider_ref)  # idempotent: gone is gone


def test_the_publisher_publishes_changes_visibility_and_deletes(alice, settings, fake_servers):
    hub = fake_servers.get(FakeHuggingFace, username="likeness")
    publisher = registry.publisher()
    implements(publisher, Publisher, "configured", "publish", "set_visibility", "delete_repo",
               "repo_url", "weights_url")
    assert not publisher.configured()
    settings.HF_TOKEN, settings.HF_NAMESPACE, settings.HF_ENDPOINT = (
        hub.token, "likeness", hub.url)
    assert publisher.configured()
    model = make_personal_model(alice)
    repo_id = publisher.publish(model, b"weights", private=True)
    assert publisher.repo_url(repo_id).endswith(repo_id)
    assert publisher.weights_url(repo_id).endswith("lora.safetensors")
    publisher.set_visibility(repo_id, private=False)
    publisher.delete_repo(repo_id)
    publisher.delete_repo(repo_id)  # idempotent


def test_the_delivery_backend_copies_serves_and_deletes(alice, settings, fake_servers):
    cloudflare = fake_servers.get(FakeCloudflareImages)
    delivery = registry.delivery()
    implements(delivery, Delivery, "enabled", "publish", "delete", "delivery_url")
    image = make_image(alice)
    assert not delivery.enabled() and delivery.delivery_url(image) is None
    settings.CLOUDFLARE_ACCOUNT_ID, settings.CLOUDFLARE_API_TOKEN = (
        cloudflare.account_id, cloudflare.token)
    settings.CLOUDFLARE_BASE_URL = cloudflare.url + "/client/v4"
    assert delivery.enabled() and delivery.publish(image)
    image.refresh_from_db()
    assert image.cf_image_id and delivery.delivery_url(image)
    delivery.delete(image.cf_image_id)
    delivery.delete(image.cf_image_id)  # idempotent
    assert not cloudflare.images
