"""The API against its own OpenAPI schema, fuzzed by schemathesis: the bounded run, for CI.

Every operation of /api/v1/openapi.json gets generated requests, valid and invalid (schemathesis'
positive and negative modes), through the WSGI app in this process, with the API key of a Pro
account that has plenty of credits, a draft model with photos, a trained model, a generation with
an image and a finished training. Path parameters are either those real ids, so the code past the
lookup runs, or generated strings, which must be 404 not_found. Every answer must:

- not be a 5xx (not_a_server_error);
- have a status, a content type and a body that the operation documents
  (status_code_conformance, content_type_conformance, response_schema_conformance);
- refuse an invalid request with a 4xx (negative_data_rejection);
- be in the error shape {"error": {"code", "message", "details"}} when it is a 4xx/5xx, and
  never blame a path parameter with a 422 (an unknown id is a 404): error_shape below.

The rate limits are off, the demo providers answer at once, and billing runs against the fake
Stripe (fakes/stripe.py); unconfigured, the billing operations answer 503
billing_not_configured by design.

Exclusions, none of them an operation: the bytes of /file and /thumbnail and the ZIP of
/images/archive have no schema to match, so only their status and content type are checked;
POST /models/{model_id}/photos gets the multipart bodies schemathesis can build (arbitrary bytes
as `files`: refused per file in `rejected`, or a 4xx), never a real face photo, so the photo
checks' acceptance path is left to tests/api/test_photos.py.

    python -m pytest tests/api/test_schemathesis.py -q
    SCHEMATHESIS_MAX_EXAMPLES=100 python -m pytest tests/api/test_schemathesis.py -q   # longer

The long run (1,000 cases or more, against a live runserver) is bench/schemathesis_run.py; it
shares the seeding, the case strategies and the checks defined here.
"""

import io
import json
import os
import uuid
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, Verbosity, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image as PILImage
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

# Per operation, valid and invalid requests together; the ~33 operations keep the bounded run
# well under two minutes. SCHEMATHESIS_MAX_EXAMPLES raises it for a longer local run.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))

# Which seeded ids fit a path parameter.
REAL_ID_KEYS = {
    "model_id": ("draft_model", "ready_model"),
    "photo_id": ("photo",),
    "generation_id": ("generation",),
    "image_id": ("image",),
    "training_id": ("training",),
}

# The settings (and environment of the long run's server) for a run that is not flaky.
FUZZ_SETTINGS = {
    "RATE_LIMIT_GENERATIONS": "",  # '' turns the API's rate limits off
    "RATE_LIMIT_TRAININGS": "",
    "RATE_LIMITS_ENABLED": False,
    "TRAINING_PROVIDER": "demo",
    "TRAINING_DEMO_SECONDS": 0.5,
    "DEMO_PROVIDER_DELAY": 0,
}
STRIPE_PRICES = {
    "creator": "price_creator_fuzz", "pro": "price_pro_fuzz", "enterprise": "price_ent_fuzz",
    "pack_100": "price_pack100_fuzz", "pack_500": "price_pack500_fuzz",
}


# --- Checks ----------------------------------------------------------------------------------

@schemathesis.check
def error_shape(ctx, response, case):
    """A 4xx/5xx is {"error": {"code", "message", "details"}}, and a 422 never names a path
    parameter (an id that is not found is a 404, whatever it looks like)."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"A {response.status_code} answer that is not JSON")
    error = body.get("error") if isinstance(body, dict) else None
    if (not isinstance(error, dict) or set(body) != {"error"}
            or set(error) != {"code", "message", "details"}
            or not isinstance(error["code"], str) or not error["code"]
            or not isinstance(error["message"], str) or not error["message"]
            or not isinstance(error["details"], dict)):
        raise AssertionError(f"A {response.status_code} answer not in the error shape: {body}")
    if response.status_code == 422:
        path_names = {p.name for p in case.operation.path_parameters}
        blamed = {e.get("field") for e in error["details"].get("errors", [])}
        blamed.add(error["details"].get("field"))
        if path_names & blamed:
            raise AssertionError(f"422 for a path parameter ({path_names & blamed}): {body}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    error_shape,
]


# --- Data for the path parameters ------------------------------------------------------------

def _jpeg(seed: int, size=(96, 128)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (seed * 37 % 256, seed * 91 % 256, 120)).save(out, format="JPEG")
    return out.getvalue()


def _webp(size=(48, 64)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (10, 200, 30)).save(out, format="WEBP")
    return out.getvalue()


def seed_account(user, *, credits: int = 1_000_000) -> dict:
    """Give `user` what the path parameters point at; returns the ids by kind, as strings.

    A draft model with enough photos to train, a trained (ready) model, a finished generation
    with one image, and a finished training. Files are written directly, without the photo
    checks or a provider, so seeding takes milliseconds."""
    from credits.actions import grant
    from generation.models import Generation, Image
    from studio.models import PersonalModel, TrainingPhoto, TrainingRun

    grant(user, credits, reason="schemathesis", reference=f"schemathesis:{uuid.uuid4()}")
    suffix = uuid.uuid4().hex[:8]
    draft = PersonalModel.objects.create(user=user, name="Fuzz draft", subject_class="woman",
                                         trigger_word=f"fuzzd{suffix}")
    photos = []
    for n in range(6):
        photo = TrainingPhoto(user=user, model=draft, filename=f"{n}.jpg", width=96, height=128,
                              source_format="JPEG", sha256=uuid.uuid4().hex * 2,
                              phash=uuid.uuid4().hex[:16], sharpness=100.0)
        photo.file.save(f"{photo.id}.jpg", ContentFile(_jpeg(n)), save=False)
        photo.thumbnail.save(f"{photo.id}-thumb.webp", ContentFile(_webp()), save=False)
        photo.save()
        photos.append(photo)
    ready = PersonalModel.objects.create(user=user, name="Fuzz ready", subject_class="man",
                                         trigger_word=f"fuzzr{suffix}",
                                         status=PersonalModel.Status.READY, weights_is_demo=True)
    ready.weights.save(f"{user.public_id}/{ready.id}/lora.safetensors",
                       ContentFile(b"demo weights"), save=True)
    training = TrainingRun.objects.create(
        user=user, model=ready, provider="demo", status=TrainingRun.Status.SUCCEEDED,
        stage=TrainingRun.Stage.DONE, progress=1.0, steps=1000, learning_rate=0.0004,
        lora_rank=16, credits=20)
    generation = Generation.objects.create(
        user=user, prompt="a lighthouse at dusk", base_model="flux-schnell",
        aspect_ratio="1:1", width=96, height=96, num_images=1, seed=7, status="succeeded",
        credits_reserved=1)
    image = Image(user=user, generation=generation, index=0, content_type="image/jpeg",
                  width=96, height=96, prompt=generation.prompt, base_model="flux-schnell",
                  aspect_ratio="1:1", seed=7, provider="demo", is_demo=True,
                  metadata={"seed": 7})
    image.file.save(f"0-{image.id}.jpg", ContentFile(_jpeg(9, (96, 96))), save=False)
    image.thumbnail.save(f"0-{image.id}-thumb.webp", ContentFile(_webp()), save=False)
    image.save()
    return {
        "draft_model": str(draft.id), "ready_model": str(ready.id),
        "photo": str(photos[0].id), "generation": str(generation.id),
        "image": str(image.id), "training": str(training.id),
    }


def start_stripe_fake():
    """The fake Stripe with a price for every plan and pack, so the billing operations run as on
    a configured installation. The caller stops it."""
    from accounts.plans import PACKS, PLANS
    from fakes.stripe import FakeStripe

    fake = FakeStripe().start()
    for plan in PLANS.values():
        if plan.price_cents:
            fake.add_price(STRIPE_PRICES[plan.id], plan.price_cents, product=plan.name)
    for pack in PACKS.values():
        fake.add_price(STRIPE_PRICES[pack.id], pack.price_cents, interval=None,
                       product=pack.name)
    return fake


# --- Cases -----------------------------------------------------------------------------------

def real_path_parameters(operation, ids: dict) -> list[dict]:
    """The sets of seeded ids that fit the operation's path parameters (a photo with its
    model); empty when it has none."""
    names = {p.name for p in operation.path_parameters}
    if not names:
        return []
    if "photo_id" in names:
        return [{"model_id": ids["draft_model"], "photo_id": ids["photo"]}]
    combos: list[dict] = [{}]
    for name in sorted(names):
        keys = REAL_ID_KEYS.get(name)
        if not keys:
            return []
        combos = [{**combo, name: ids[key]} for combo in combos for key in keys]
    return combos


def _with_real_body_ids(case, ids: dict):
    """A valid body that names objects by id (`ids` of images, a generation's `model_id`)
    names real ones half the time; generated ids alone never find anything."""
    body = case.body
    if not isinstance(body, dict) or not ({"ids", "model_id"} & set(body)):
        return st.just(case)

    def realise(use_real):
        if use_real:
            case.body = {**body, **({"ids": [ids["image"], *body["ids"]]} if "ids" in body
                                    else {"model_id": ids["ready_model"]})}
        return case

    return st.booleans().map(realise)


def case_strategy(operation, ids: dict):
    """Valid and invalid requests for `operation`, with generated path parameters (which must
    be 404) or with real ids."""
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for path_parameters in [None, *real_path_parameters(operation, ids)]:
            strategy = operation.as_strategy(generation_mode=mode,
                                             path_parameters=path_parameters)
            if mode == GenerationMode.POSITIVE:
                strategy = strategy.flatmap(lambda case: _with_real_body_ids(case, ids))
            strategies.append(strategy)
    return st.one_of(strategies)


def operation_settings(max_examples: int, *, derandomize: bool):
    return hypothesis_settings(
        max_examples=max_examples, deadline=None, derandomize=derandomize, database=None,
        phases=[Phase.explicit, Phase.generate], verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )


def run_operation(operation, ids: dict, headers: dict, max_examples: int, *,
                  derandomize: bool = True, on_response=None, **call_kwargs) -> None:
    """Draw up to `max_examples` cases for `operation`, send each and check its answer. The
    first failure raises, with a curl command that reproduces it."""

    @given(case=case_strategy(operation, ids))
    @operation_settings(max_examples, derandomize=derandomize)
    def check(case):
        response = case.call(headers=headers, **call_kwargs)
        if on_response is not None:
            on_response(case, response)
        case.validate_response(response, checks=CHECKS, headers=headers,
                               transport_kwargs=call_kwargs or None)

    check()


# --- The bounded run -------------------------------------------------------------------------

@contextmanager
def _connections_kept():
    """As Django's test client does: the WSGI handler would otherwise close the test's database
    connection (and with it the test's transaction) after every request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _load_schema():
    from likeness.wsgi import application

    with _connections_kept():
        return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def pytest_generate_tests(metafunc):
    # One test per operation, read from the live schema (at collection, not at import: the
    # long run imports this module without Django).
    if "operation_label" in metafunc.fixturenames:
        labels = [result.ok().label for result in _load_schema().get_all_operations()]
        metafunc.parametrize("operation_label", labels)


@pytest.fixture(scope="module")
def stripe_fake():
    fake = start_stripe_fake()
    yield fake
    fake.stop()


@pytest.fixture
def fuzz_account(db, settings, stripe_fake):
    """A Pro account with an API key and everything seeded; returns (ids, auth headers)."""
    from api.keys import create_api_key
    from tests.factories import make_user

    for name, value in FUZZ_SETTINGS.items():
        setattr(settings, name, value)
    settings.STRIPE_SECRET_KEY = stripe_fake.token
    settings.STRIPE_API_BASE = stripe_fake.url
    settings.STRIPE_WEBHOOK_SECRET = stripe_fake.webhook_secret
    settings.STRIPE_PRICES = dict(STRIPE_PRICES)
    user = make_user("fuzz@example.com", name="Fuzz", plan="pro")
    _, raw = create_api_key(user, "schemathesis")
    return seed_account(user), {"Authorization": f"Bearer {raw}"}


def test_operation_honours_its_schema(operation_label, fuzz_account):
    ids, headers = fuzz_account
    schema = _load_schema()
    method, path = operation_label.split(" ", 1)
    operation = schema[path][method]
    with _connections_kept():
        run_operation(operation, ids, headers, MAX_EXAMPLES)
