"""Private mode (PRIVATE_MODE, providers.private): no photo or prompt leaves the installation.
A configuration that would send them out fails `manage.py check`; a request or a job that would
reach an outside service anyway is refused before a byte is sent; the account's data page says
which outside services see a customer's photos, or that none does."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from credits.actions import get_balance, spend
from generation.actions import create_generation
from generation.models import Generation
from jobs.queue import enqueue
from likeness.errors import PrivateModeRefused
from providers.checks import private_mode
from providers.huggingface.publisher import HubPublisher
from providers.registry import image_provider, trainer
from studio import actions as studio
from studio.catalogue import TRAINING_DEFAULTS
from studio.models import PersonalModel, TrainingRun
from studio.tasks import advance_training
from tests.api.conftest import assert_error
from tests.factories import key_client, make_personal_model

BODY = {"prompt": "a red bicycle", "base_model": "flux-schnell", "num_images": 1}


@pytest.fixture
def private(settings):
    settings.PRIVATE_MODE = True
    settings.GENERATION_PROVIDERS = ["demo"]
    settings.GENERATION_ROUTES = {}
    settings.TRAINING_PROVIDER = "demo"
    settings.HF_TOKEN = settings.HF_NAMESPACE = ""
    settings.CLOUDFLARE_ACCOUNT_ID = settings.CLOUDFLARE_API_TOKEN = ""
    return settings


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_an_in_house_configuration_passes_the_check(private):
    assert private_mode(None) == []
    private.GENERATION_ROUTES = {"personal": ["local"]}
    assert private_mode(None) == []


def test_every_outside_service_in_the_configuration_fails_the_check(private):
    private.TRAINING_PROVIDER = "replicate"
    private.GENERATION_ROUTES = {"flux-schnell": ["local", "together"]}
    private.HF_TOKEN, private.HF_NAMESPACE = "hf_x", "studio"
    private.CLOUDFLARE_ACCOUNT_ID, private.CLOUDFLARE_API_TOKEN = "acc", "token"
    errors = private_mode(None)
    assert ids(errors) == ["likeness.E020", "likeness.E020", "likeness.E021", "likeness.E021"]
    text = " ".join(error.msg for error in errors)
    for named in ("TRAINING_PROVIDER=replicate", "together", "Hugging Face", "Cloudflare"):
        assert named in text
    with pytest.raises(SystemCheckError, match="likeness.E020"):
        call_command("check")
    private.TRAINING_PROVIDER = "demo"
    private.HF_TOKEN = private.CLOUDFLARE_API_TOKEN = ""
    private.GENERATION_ROUTES = {"upscale": ["replicate"]}  # a new version of an image
    assert [e.id for e in private_mode(None)] == ["likeness.E020"]


def test_off_nothing_is_refused_and_a_bucket_is_a_warning(private):
    private.AWS_STORAGE_BUCKET_NAME = "likeness-files"
    assert ids(private_mode(None)) == ["likeness.W020"]
    private.PRIVATE_MODE = False
    private.GENERATION_PROVIDERS = ["together"]
    assert private_mode(None) == []
    assert image_provider("together").name == "together"


def test_a_generation_for_an_outside_provider_is_refused_and_charges_nothing(
        private, rich_alice, no_network):
    private.GENERATION_PROVIDERS = ["together"]
    before = get_balance(rich_alice)
    details = assert_error(key_client(rich_alice).post(
        "/api/v1/generations", BODY, content_type="application/json"), 503, "private_mode")
    assert details == {"service": "together"}
    with pytest.raises(PrivateModeRefused, match="Private mode is on"):
        create_generation(rich_alice, prompt="a red bicycle")
    assert Generation.objects.count() == 0 and get_balance(rich_alice) == before


def test_a_queued_job_that_would_go_out_fails_and_is_refunded(settings, private, rich_alice,
                                                              run_jobs, no_network):
    private.PRIVATE_MODE = False
    private.GENERATION_PROVIDERS = ["together"]
    before = get_balance(rich_alice)
    generation = create_generation(rich_alice, prompt="a red bicycle")
    assert get_balance(rich_alice) < before
    private.PRIVATE_MODE = True  # switched on while the job waited
    run_jobs()
    generation.refresh_from_db()
    assert generation.status == "failed" and "Private mode is on" in generation.error
    assert get_balance(rich_alice) == before, "refunded"


def test_registry_and_publisher_refuse_outside_services(private, alice, no_network):
    with pytest.raises(PrivateModeRefused):
        image_provider("fal")
    with pytest.raises(PrivateModeRefused):
        trainer("replicate")
    assert trainer("demo").name == "demo" and image_provider("demo").name == "demo"
    # Deleting what a former provider holds sends no photo, and the data must still go.
    assert trainer("replicate", deleting=True).name == "replicate"
    model = make_personal_model(alice)
    private.HF_TOKEN, private.HF_NAMESPACE = "hf_x", "studio"
    with pytest.raises(PrivateModeRefused, match="huggingface"):
        HubPublisher().publish(model, b"weights", private=True)


def test_a_training_at_an_outside_trainer_is_refused_before_any_charge(private, rich_alice,
                                                                      no_network):
    model = make_personal_model(rich_alice, status=PersonalModel.Status.DRAFT)
    before = get_balance(rich_alice)
    with pytest.raises(PrivateModeRefused, match="'replicate'"):
        studio.start_training(model, provider="replicate")
    private.TRAINING_PROVIDER = "fal"
    details = assert_error(key_client(rich_alice).post(
        f"/api/v1/models/{model.pk}/train", {}, content_type="application/json"),
        503, "private_mode")
    assert details == {"service": "fal"}
    assert TrainingRun.objects.count() == 0 and get_balance(rich_alice) == before


def processors_card(client) -> str:
    page = client.get("/dashboard/account/data/").content.decode()
    start = page.index("data-processors")
    return page[start:page.index("</section>", start)]


def test_the_data_page_says_private_mode(private, alice_client):
    card = processors_card(alice_client)
    assert "Private mode: your photos and prompts never leave this installation" in card
    assert "receives" not in card


def test_the_data_page_lists_the_outside_processors(private, alice_client):
    private.PRIVATE_MODE = False
    card = processors_card(alice_client)
    assert "No outside service receives your photos or prompts" in card
    private.TRAINING_PROVIDER = "replicate"
    private.GENERATION_PROVIDERS = ["together", "demo"]
    private.GENERATION_ROUTES = {"personal": ["fal", "together"]}
    private.HF_TOKEN, private.HF_NAMESPACE = "hf_x", "studio"
    card = processors_card(alice_client)
    assert "Private mode" not in card
    listed = [line.split("</span>")[0].rsplit(">", 1)[1] for line in card.split("<li>")[1:]]
    assert listed == ["Replicate", "Together AI", "fal.ai", "Hugging Face Hub"]
    assert "receives your training photos" in card


def test_a_training_queued_before_private_mode_fails_and_is_refunded(private, rich_alice,
                                                                     run_jobs, no_network):
    model = make_personal_model(rich_alice, status=PersonalModel.Status.QUEUED)
    run = TrainingRun.objects.create(user=rich_alice, model=model, provider="replicate",
                                     credits=20, **TRAINING_DEFAULTS)
    spend(rich_alice, 20, reason="Training", reference=f"train:{run.id}")
    before = get_balance(rich_alice)
    enqueue(advance_training, str(run.id))
    run_jobs()
    run.refresh_from_db()
    assert (run.status, run.error_code) == ("failed", "private_mode"), run.error
    assert "Private mode is on" in run.error and get_balance(rich_alice) == before + 20
