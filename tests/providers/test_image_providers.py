"""Generation against fakes of Together AI, Nebius, fal.ai and Replicate that speak their real
protocols, driven through the official SDKs pointed at them by settings. Every generation must
end succeeded, partial or failed with exact charging and refunds, whatever the provider does."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image as PILImage

from credits.actions import get_balance, ledger_is_consistent
from credits.models import CreditEntry
from generation import provenance
from generation.actions import create_generation
from generation.catalogue import BASE_MODELS
from generation.models import Generation
from tests.factories import make_personal_model
from tests.providers.conftest import add_replicate_model

BASE_CASES = [
    ("together", "flux-schnell", "black-forest-labs/FLUX.1-schnell"),
    ("together", "flux-pro", "black-forest-labs/FLUX.1.1-pro"),
    ("nebius", "flux-dev", "black-forest-labs/flux-dev"),
    ("fal", "flux-dev", "fal-ai/flux-lora"),
    ("replicate", "flux-schnell", "black-forest-labs/flux-schnell"),
]


def use(settings, *names):
    settings.GENERATION_PROVIDERS = list(names)


def finished(generation, run_jobs):
    run_jobs()
    generation.refresh_from_db()
    return generation


def assert_exact_credits(generation, balance_before):
    """Charged = reserved - refunded; one refund row per failed slot; the balance agrees."""
    assert generation.status in Generation.FINAL
    per_image = generation.credits_per_image
    failed = len(generation.failures)
    made = generation.images.count()
    assert made + failed == generation.num_images
    assert generation.credits_refunded == failed * per_image
    assert generation.credits_charged == made * per_image
    refunds = CreditEntry.objects.filter(reference__startswith=f"gen:{generation.id}:refund:")
    assert sorted(r.reference for r in refunds) == sorted(
        f"gen:{generation.id}:refund:{f['index']}" for f in generation.failures)
    assert get_balance(generation.user) == balance_before - made * per_image
    assert ledger_is_consistent(generation.user)
    expected = {0: Generation.Status.FAILED, generation.num_images: Generation.Status.SUCCEEDED}
    assert generation.status == expected.get(made, Generation.Status.PARTIAL)


def sent(fake, path):
    return [r.json() for r in fake.calls("POST", path)]


def requests_of(fakes, name):
    fake = getattr(fakes, name)
    if name == "fal":
        return sent(fake, r"^/fal-ai/flux-lora$")
    if name == "replicate":
        return [body["input"] | {"_path": r.path, "_version": body.get("version")}
                for r in fake.calls("POST", r"predictions$") for body in [r.json()]]
    return sent(fake, r"/v1/images/generations$")


@pytest.mark.parametrize(("provider", "base_model", "provider_model"), BASE_CASES)
def test_each_provider_makes_stored_images_with_full_metadata(
        rich_alice, fakes, settings, run_jobs, provider, base_model, provider_model):
    use(settings, provider)
    generation = create_generation(rich_alice, prompt="a lighthouse at dusk", num_images=2,
                                   base_model=base_model, aspect_ratio="4:5", seed=4242,
                                   steps=None if base_model == "flux-pro" else 8,
                                   guidance=3.0)
    before = get_balance(rich_alice) + generation.credits_reserved

    generation = finished(generation, run_jobs)

    assert generation.status == Generation.Status.SUCCEEDED, generation.failures
    assert generation.provider == provider
    assert_exact_credits(generation, before)
    bodies = requests_of(fakes, provider)
    assert len(bodies) == 2  # one request per image, made concurrently
    for image in generation.images.order_by("index"):
        assert image.provider == provider and not image.is_demo
        assert image.seed == 4242 + image.index
        meta = image.metadata
        assert meta["provider"] == provider and meta["provider_model"] == provider_model
        assert meta["prompt"] == meta["prompt_sent"] == "a lighthouse at dusk"
        assert (meta["seed"], meta["guidance"], meta["aspect_ratio"]) == (
            4242 + image.index, 3.0, "4:5")
        assert meta["credits"] == generation.credits_per_image
        assert meta["provider_ms"] > 0 and meta["slot_ms"] >= meta["provider_ms"]
        assert meta["lora"] is None
        with default_storage.open(image.file.name) as handle, PILImage.open(handle) as picture:
            assert picture.size == (image.width, image.height)
            assert image.content_type == f"image/{picture.format.lower()}"
        with default_storage.open(image.thumbnail.name) as handle, PILImage.open(handle) as thumb:
            assert thumb.format == "WEBP" and max(thumb.size) == 512
    seeds = sorted(b.get("seed") for b in bodies)
    assert seeds == [4242, 4243]


def test_the_stored_original_is_the_providers_bytes(rich_alice, fakes, settings, run_jobs):
    use(settings, "together")
    generation = finished(create_generation(rich_alice, prompt="a red kite", seed=9), run_jobs)
    image = generation.images.get()
    url = fakes.together.generations[-1]["response"]["data"][0]["url"]
    with default_storage.open(image.file.name) as handle:
        # The provider's bytes, with only our provenance metadata inserted (not re-encoded).
        assert handle.read() == provenance.stamp(fakes.together.file_bytes(url),
                                                 system=BASE_MODELS["flux-schnell"].name)
    # Provider URLs expire: ours does not depend on them.
    fakes.together.expire_all()
    with default_storage.open(image.file.name) as handle:
        assert PILImage.open(io.BytesIO(handle.read())).size == (1024, 1024)


# --- Faults ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [
    "500", "503_twice", "429_retry_after", "timeout", "malformed", "result_url_404_briefly",
])
def test_transient_faults_are_retried_and_charged_once(rich_alice, fakes, settings, run_jobs,
                                                       fault):
    use(settings, "together")
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5
    settings.GENERATION_CONCURRENCY = 1  # one slot at a time, so the faults hit one slot
    fake = fakes.together
    api = r"/v1/images/generations"
    {
        "500": lambda: fake.fail(500, path=api),
        "503_twice": lambda: fake.fail(503, times=2, path=api),
        "429_retry_after": lambda: fake.fail(429, retry_after=1, path=api),
        "timeout": lambda: fake.timeout(seconds=1.5, path=api),
        "malformed": lambda: fake.malformed(path=api),
        "result_url_404_briefly": lambda: fake.fail(404, path=r"^/files/"),
    }[fault]()
    generation = create_generation(rich_alice, prompt="a quiet harbour", num_images=2)
    before = get_balance(rich_alice) + generation.credits_reserved

    generation = finished(generation, run_jobs)

    assert generation.status == Generation.Status.SUCCEEDED, generation.failures
    assert generation.attempts == 1  # retried within the job, not re-queued
    assert_exact_credits(generation, before)
    # One call per image, plus the calls the fault spoiled.
    spoiled = {"503_twice": 2, "result_url_404_briefly": 0}.get(fault, 1)
    assert len(fake.calls("POST", api)) == 2 + spoiled
    retried = [i.metadata["retries"] for i in generation.images.all() if i.metadata["retries"]]
    if fault == "result_url_404_briefly":
        assert [r.status for r in fake.calls("GET", "^/files/")].count(404) == 1
        assert not retried  # the download was tried again; the provider was not asked again
    else:
        assert len(retried) == 1 and retried[0][0]["transient"] is True
    if fault == "429_retry_after":
        assert retried[0][0]["code"] == "rate_limited"


def test_a_result_url_that_stays_gone_is_asked_again(rich_alice, fakes, settings, run_jobs):
    use(settings, "together")
    settings.GENERATION_CONCURRENCY = 1
    fakes.together.fail(404, path=r"^/files/", times=3)  # every download try of the first answer
    generation = create_generation(rich_alice, prompt="a quiet harbour", num_images=1)
    before = get_balance(rich_alice) + generation.credits_reserved

    generation = finished(generation, run_jobs)

    assert generation.status == Generation.Status.SUCCEEDED
    assert len(fakes.together.generations) == 2
    assert generation.images.get().metadata["retries"][0]["code"] == "result_unavailable"
    assert_exact_credits(generation, before)


def test_safety_flagged_images_are_hidden_and_refunded(rich_alice, fakes, settings, run_jobs):
    use(settings, "together")
    # Only this test's prompt: a request an earlier test left hanging must not take the flag.
    fakes.together.flag_nsfw_next(1, prompt="two portraits")
    generation = create_generation(rich_alice, prompt="two portraits", num_images=2,
                                   base_model="flux-dev")
    before = get_balance(rich_alice) + generation.credits_reserved

    generation = finished(generation, run_jobs)

    assert generation.status == Generation.Status.PARTIAL
    assert generation.images.count() == 1
    (failure,) = generation.failures
    assert failure["code"] == "content_flagged"
    assert "safety checker flagged" in failure["message"]
    assert generation.error == failure["message"]
    # Not asked again: flagged is final. (Counted by prompt: a request of an earlier test that
    # was left hanging by an injected timeout may still land in the fake's log.)
    mine = [g for g in fakes.together.generations if g["request"]["prompt"] == "two portraits"]
    assert len(mine) == 1
    assert_exact_credits(generation, before)


@pytest.mark.parametrize("provider", ["fal", "replicate"])
def test_flagged_outputs_of_queue_providers_are_refunded(rich_alice, fakes, settings, run_jobs,
                                                         provider):
    use(settings, provider)
    getattr(fakes, provider).flag_nsfw_next(2)
    generation = create_generation(rich_alice, prompt="x", num_images=2, base_model="flux-dev")
    before = get_balance(rich_alice) + generation.credits_reserved

    generation = finished(generation, run_jobs)

    assert generation.status == Generation.Status.FAILED
    assert {f["code"] for f in generation.failures} == {"content_flagged"}
    assert not generation.images.exists()
    assert_exact_credits(generation, before)
    if provider == "fal":  # fal answers with black pictures: none was downloaded
        assert not fakes.fal.calls("GET", r"^/files/")


def test_an_invalid_request_is_not_retried_and_is_explained(rich_alice, fakes, settings,
                                                            run_jobs):
    use(settings, "together", "nebius")
    fakes.together.fail(400, body={"error": {"message": "prompt contains a banned word",
                                             "type": "invalid_request_error"}}, times=5)
    generation = create_generation(rich_alice, prompt="x", num_images=2)
    before = get_balance(rich_alice) + generation.credits_reserved

    generation = finished(generation, run_jobs)

    assert generation.status == Generation.Status.FAILED
    assert len(fakes.together.calls("POST")) == 2  # once per image, no retry
    assert not fakes.nebius.calls("POST")  # and no failover: the request itself is refused
    assert {f["code"] for f in generation.failures} == {"invalid_request"}
    assert "prompt contains a banned word" in generation.error
    assert_exact_credits(generation, before)


def test_a_refused_key_fails_over_and_alone_is_explained(rich_alice, fakes, settings,
                                                         run_jobs):
    use(settings, "together", "nebius")
    settings.TOGETHER_API_KEY = "wrong"
    generation = finished(create_generation(rich_alice, prompt="x"), run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.images.get().provider == "nebius"

    use(settings, "together")
    generation = create_generation(rich_alice, prompt="x")
    before = get_balance(rich_alice) + generation.credits_reserved
    generation = finished(generation, run_jobs)
    assert generation.status == Generation.Status.FAILED
    assert generation.failures[0]["code"] == "provider_auth"
    assert "misconfigured" in generation.error
    assert_exact_credits(generation, before)


def test_a_provider_that_stays_down_is_refunded_after_the_last_attempt(
        rich_alice, fakes, settings, run_jobs):
    use(settings, "together")
    settings.JOB_MAX_ATTEMPTS = 2
    settings.GENERATION_PROVIDER_ATTEMPTS = 2
    fakes.together.fail(503, times=1000)
    generation = create_generation(rich_alice, prompt="never works", num_images=3)
    before = get_balance(rich_alice) + generation.credits_reserved

    generation = finished(generation, run_jobs)  # the retry is due at once in tests

    assert generation.status == Generation.Status.FAILED
    assert generation.attempts == 2
    assert len(fakes.together.calls("POST")) == 2 * 2 * 3  # attempts x tries x images
    assert "did not deliver after 2 attempts" in generation.error
    assert_exact_credits(generation, before)


def test_partial_faults_give_a_partial_result_with_exact_credits(rich_alice, fakes, settings,
                                                                 run_jobs):
    use(settings, "nebius")
    settings.GENERATION_CONCURRENCY = 1
    fakes.nebius.fail(422, body={"detail": [{"loc": ["body", "prompt"], "msg": "refused",
                                             "type": "value_error"}]}, times=1)
    generation = create_generation(rich_alice, prompt="x", num_images=4, base_model="flux-dev")
    before = get_balance(rich_alice) + generation.credits_reserved

    generation = finished(generation, run_jobs)

    assert generation.status == Generation.Status.PARTIAL
    assert generation.images.count() == 3
    assert generation.failures[0]["code"] == "invalid_request"
    assert_exact_credits(generation, before)


# --- Failover -------------------------------------------------------------------------------
def test_a_dead_primary_fails_over_to_the_second_provider(rich_alice, fakes, settings,
                                                          run_jobs):
    use(settings, "together", "nebius")
    fakes.together.fail(503, times=1000)
    generation = create_generation(rich_alice, prompt="failover", num_images=2,
                                   base_model="flux-dev")
    before = get_balance(rich_alice) + generation.credits_reserved

    generation = finished(generation, run_jobs)

    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.provider == "nebius"
    for image in generation.images.all():
        assert image.provider == "nebius" and image.metadata["provider"] == "nebius"
        tries = image.metadata["retries"]
        assert [t["provider"] for t in tries] == ["together"] * 3
        assert {t["code"] for t in tries} == {"provider_503"}
    assert len(fakes.together.calls("POST")) == 3 * 2
    assert len(fakes.nebius.calls("POST")) == 2
    assert_exact_credits(generation, before)


def test_an_unreachable_primary_fails_over(rich_alice, fakes, settings, run_jobs):
    use(settings, "together", "fal")
    settings.TOGETHER_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    generation = finished(create_generation(rich_alice, prompt="x", base_model="flux-dev"),
                          run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED
    image = generation.images.get()
    assert image.provider == "fal"
    assert image.metadata["retries"][0]["code"] == "provider_unavailable"


def test_a_long_retry_after_moves_to_the_next_provider_at_once(rich_alice, fakes, settings,
                                                               run_jobs):
    use(settings, "together", "nebius")
    fakes.together.fail(429, retry_after=120, path="/images/")
    generation = finished(create_generation(rich_alice, prompt="x"), run_jobs)
    assert generation.images.get().provider == "nebius"
    assert len(fakes.together.calls("POST")) == 1


def test_the_routing_table_picks_providers_per_model(rich_alice, fakes, settings, run_jobs):
    use(settings, "nebius", "together")
    settings.GENERATION_ROUTES = {"flux-dev": ["fal", "together"]}
    dev = finished(create_generation(rich_alice, prompt="x", base_model="flux-dev"), run_jobs)
    schnell = finished(create_generation(rich_alice, prompt="x"), run_jobs)
    pro = finished(create_generation(rich_alice, prompt="x", base_model="flux-pro"), run_jobs)
    assert dev.images.get().provider == "fal"
    assert schnell.images.get().provider == "nebius"
    assert pro.images.get().provider == "together"  # Nebius has no FLUX1.1 pro: skipped


# --- Personal models ------------------------------------------------------------------------
def test_together_gets_the_lora_as_a_signed_link_to_our_weights(
        rich_alice, personal_model, fakes, settings, run_jobs, client):
    use(settings, "together")
    generation = create_generation(rich_alice, prompt="on a beach at sunset",
                                   model_id=str(personal_model.pk), lora_scale=0.8, seed=5,
                                   num_images=2)
    assert generation.credits_reserved == 4  # personal model: 2 credits per image
    generation = finished(generation, run_jobs)

    assert generation.status == Generation.Status.SUCCEEDED
    bodies = requests_of(fakes, "together")
    for body in bodies:
        assert body["model"] == "black-forest-labs/FLUX.1-dev-lora"
        assert body["prompt"] == "a photo of zorvek woman, on a beach at sunset"
        (lora,) = body["image_loras"]
        assert lora["scale"] == 0.8
        assert lora["path"].startswith("http://testserver/lora-weights/")
    # The link serves exactly our copy of the weights, to anyone holding it, for a while.
    path = bodies[0]["image_loras"][0]["path"].removeprefix("http://testserver")
    response = client.get(path)
    assert response.status_code == 200
    with personal_model.weights.open("rb") as handle:
        assert b"".join(response.streaming_content) == handle.read()
    assert client.get(path.replace("/lora.safetensors", "x/lora.safetensors")).status_code == 404
    image = generation.images.order_by("index").first()
    assert image.personal_model == personal_model
    meta = image.metadata
    assert meta["prompt"] == "on a beach at sunset"
    assert meta["prompt_sent"] == "a photo of zorvek woman, on a beach at sunset"
    assert meta["lora"]["model_id"] == str(personal_model.pk)
    assert (meta["lora"]["scale"], meta["lora"]["source"]) == (0.8, "signed")
    assert meta["lora"]["url"] == ""  # the signed link is not kept


def test_a_public_hub_repository_is_sent_as_its_resolve_url(rich_alice, fakes, settings,
                                                            run_jobs):
    model = make_personal_model(rich_alice, hf_repo_id="likeness/zorvek-lora")
    use(settings, "nebius")
    settings.HF_ENDPOINT = "https://huggingface.co"
    finished(create_generation(rich_alice, prompt="zorvek woman reading", model_id=str(model.pk)),
             run_jobs)
    (body,) = requests_of(fakes, "nebius")
    assert body["model"] == "black-forest-labs/flux-dev"
    assert body["loras"] == [{"url": "https://huggingface.co/likeness/zorvek-lora/resolve/main/"
                                     "lora.safetensors", "scale": 1.0}]
    assert body["prompt"] == "zorvek woman reading"  # already has the trigger word


def test_fal_gets_the_lora_path(rich_alice, personal_model, fakes, settings, run_jobs):
    use(settings, "fal")
    generation = finished(create_generation(rich_alice, prompt="hiking",
                                            model_id=str(personal_model.pk)), run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED
    (body,) = requests_of(fakes, "fal")
    assert body["loras"][0]["path"].startswith("http://testserver/lora-weights/")
    assert body["loras"][0]["scale"] == 1.0
    assert "zorvek" in body["prompt"]


def test_replicate_runs_the_trained_version(rich_alice, fakes, settings, run_jobs):
    version = add_replicate_model(fakes.replicate, "likeness", "likeness-zorvek-1")
    model = make_personal_model(rich_alice, provider_version=version)
    use(settings, "replicate")
    generation = finished(create_generation(rich_alice, prompt="as an astronaut",
                                            model_id=str(model.pk), aspect_ratio="9:16"),
                          run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED, generation.failures
    (body,) = requests_of(fakes, "replicate")
    assert body["_path"] == "/v1/predictions"
    assert body["_version"] == version.split(":")[1]
    assert body["lora_scale"] == 1.0 and "lora_weights" not in body
    assert body["aspect_ratio"] == "9:16"
    assert body["prompt"] == "a photo of zorvek woman, as an astronaut"
    image = generation.images.get()
    assert (image.width, image.height) == (768, 1344)
    assert image.metadata["lora"]["replicate_version"] == version


def test_replicate_runs_the_lora_model_for_weights_trained_elsewhere(
        rich_alice, personal_model, fakes, settings, run_jobs):
    use(settings, "replicate")
    finished(create_generation(rich_alice, prompt="x", model_id=str(personal_model.pk)),
             run_jobs)
    (body,) = requests_of(fakes, "replicate")
    assert body["_path"] == "/v1/models/black-forest-labs/flux-dev-lora/predictions"
    assert body["lora_weights"].startswith("http://testserver/lora-weights/")


def test_a_demo_trained_model_is_drawn_by_the_demo_provider(rich_alice, fakes, settings,
                                                            run_jobs):
    model = make_personal_model(rich_alice, demo=True)
    use(settings, "together")  # real providers configured, but demo weights mean nothing there
    generation = finished(create_generation(rich_alice, prompt="x", model_id=str(model.pk)),
                          run_jobs)
    image = generation.images.get()
    assert image.provider == "demo" and image.is_demo
    assert not fakes.together.calls("POST")
    assert image.metadata["lora"]["source"] == "demo"


# --- What each model takes (the fakes refuse what the real schemas refuse) --------------------
@pytest.mark.parametrize(("base_model", "personal", "path"), [
    ("flux-dev", False, "/v1/models/black-forest-labs/flux-dev/predictions"),
    ("flux-dev", True, "/v1/models/black-forest-labs/flux-dev-lora/predictions"),
])
def test_replicates_official_flux_models_get_guidance_by_its_name(
        rich_alice, personal_model, fakes, settings, run_jobs, base_model, personal, path):
    use(settings, "replicate")
    generation = finished(create_generation(
        rich_alice, prompt="x", base_model=base_model, guidance=4.5, steps=20,
        model_id=str(personal_model.pk) if personal else None), run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED, generation.failures
    (body,) = requests_of(fakes, "replicate")
    assert body["_path"] == path
    assert body["guidance"] == 4.5 and "guidance_scale" not in body
    assert body["num_inference_steps"] == 20


def test_replicates_trained_versions_keep_guidance_scale(rich_alice, fakes, settings,
                                                         run_jobs):
    version = add_replicate_model(fakes.replicate, "likeness", "likeness-zorvek-2")
    model = make_personal_model(rich_alice, provider_version=version)
    use(settings, "replicate")
    generation = finished(create_generation(rich_alice, prompt="x", model_id=str(model.pk),
                                            guidance=2.5), run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED, generation.failures
    (body,) = requests_of(fakes, "replicate")
    assert body["guidance_scale"] == 2.5 and "guidance" not in body


def test_schnell_on_replicate_is_clamped_to_its_four_steps(rich_alice, fakes, settings,
                                                           run_jobs):
    use(settings, "replicate")
    generation = finished(create_generation(rich_alice, prompt="x", base_model="flux-schnell",
                                            steps=10), run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED, generation.failures
    (body,) = requests_of(fakes, "replicate")
    assert body["num_inference_steps"] == 4
    image = generation.images.get()
    assert (image.metadata["steps"], image.metadata["steps_sent"]) == (10, 4)


@pytest.mark.parametrize(("provider", "base_model"), [
    ("replicate", "flux-2-dev"), ("replicate", "flux-2-pro"), ("replicate", "flux-pro"),
    ("together", "flux-2-dev"), ("together", "flux-2-pro"),
    ("fal", "flux-2-dev"), ("fal", "flux-2-pro"),
])
def test_flux_2_runs_where_it_is_served(rich_alice, fakes, settings, run_jobs, provider,
                                        base_model):
    use(settings, provider)
    generation = finished(create_generation(rich_alice, prompt="a neon sign", num_images=2,
                                            base_model=base_model, steps=20, guidance=4.0),
                          run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED, generation.failures
    assert generation.images.count() == 2


def test_the_fakes_refuse_inputs_their_models_do_not_take(fakes):
    import replicate
    import together

    api = replicate.Client(api_token=fakes.replicate.token, base_url=fakes.replicate.url)
    with pytest.raises(replicate.exceptions.ReplicateError) as caught:
        api.models.predictions.create(model="black-forest-labs/flux-dev",
                                      input={"prompt": "x", "guidance_scale": 3})
    assert caught.value.status == 422 and "guidance_scale" in caught.value.detail
    with pytest.raises(replicate.exceptions.ReplicateError) as caught:
        api.models.predictions.create(model="black-forest-labs/flux-schnell",
                                      input={"prompt": "x", "num_inference_steps": 8})
    assert caught.value.status == 422 and "num_inference_steps" in caught.value.detail
    client = together.Together(api_key=fakes.together.token, base_url=fakes.together.url)
    with pytest.raises(together.BadRequestError, match="steps"):
        client.images.generate(model="black-forest-labs/FLUX.2-pro", prompt="x", steps=20)



def test_a_fal_run_completed_with_an_error_is_that_error(rich_alice, fakes, settings,
                                                         run_jobs):
    use(settings, "fal")
    fakes.fal.fail_next("fal-ai/flux-lora", detail="Prompt could not be parsed", status=400,
                        error_type="bad_request")
    generation = create_generation(rich_alice, prompt="x", base_model="flux-dev")
    before = get_balance(rich_alice) + generation.credits_reserved
    generation = finished(generation, run_jobs)
    assert generation.status == Generation.Status.FAILED
    assert "Prompt could not be parsed" in generation.error
    assert not fakes.fal.calls("GET", r"/requests/[^/]+$")  # no result to fetch
    assert len(fakes.fal.calls("POST", r"^/fal-ai/flux-lora$")) == 1  # not retried
    assert_exact_credits(generation, before)

    fakes.fal.fail_next("fal-ai/flux-lora", detail="Runner disconnected", status=503,
                        error_type="runner_disconnected")
    generation = finished(create_generation(rich_alice, prompt="x", base_model="flux-dev"),
                          run_jobs)
    assert generation.status == Generation.Status.SUCCEEDED  # fal says another try may work
    assert [t["code"] for t in generation.images.get().metadata["retries"]] == ["run_failed"]
