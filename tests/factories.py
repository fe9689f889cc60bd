"""Test data, made by the tests: customers, images with real files, personal models, and API
clients. Factories only create rows and files; they never call a provider."""

import io
import time

from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image as PILImage

from accounts.models import User
from api.keys import create_api_key
from fakes.images import safetensors_bytes
from generation.models import Generation, Image
from studio import consent
from studio.models import Consent, PersonalModel

PASSWORD = "correct-horse-battery-9"


def make_user(email, *, password=PASSWORD, verified=True, **extra):
    user = User.objects.create_user(email, password, **extra)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def key_client(user, **client_kwargs) -> Client:
    """A test client that calls the API with a new key of `user`."""
    _, raw = create_api_key(user, "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", **client_kwargs)


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


def make_personal_model(user, *, name="Alice", trigger_word="zorvek", subject_class="woman",
                        provider_version="", hf_repo_id="", hf_private=False, demo=False,
                        status=PersonalModel.Status.READY):
    """A personal model in `status`; a ready one has (fake) weights in storage."""
    model = PersonalModel.objects.create(
        user=user, name=name, subject_class=subject_class, trigger_word=trigger_word,
        status=status, provider_version=provider_version, hf_repo_id=hf_repo_id,
        hf_private=hf_private, weights_is_demo=demo)
    if status == PersonalModel.Status.READY:
        model.weights.save(f"{user.public_id}/{model.id}/lora.safetensors",
                           ContentFile(safetensors_bytes(rank=4, seed=3)), save=True)
    return model


def enable_totp(user) -> str:
    """Turn TOTP on for `user` as the setup page would; returns the secret (staff pages open
    only with two-factor authentication)."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    return f"{hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD):06d}"


def consent_for(model, *, user=None, distance=0.3):
    """A verified consent for the model's photos as they are now, as studio.consent records one
    after a matching selfie (or, for a child, the guardian's statement). The selfie check itself
    is tested in tests/studio/test_consent.py and the browser test of the camera."""
    method = Consent.Method.GUARDIAN if model.is_child else Consent.Method.SELFIE
    return Consent.objects.create(
        model=model, user=user or model.user, method=method, status=Consent.Status.VERIFIED,
        statement=consent.RIGHTS_STATEMENT, photos_digest=consent.photos_digest(model),
        photo_count=model.photos.count(),
        match_distance=None if model.is_child else distance,
        threshold=None if model.is_child else 0.6)
