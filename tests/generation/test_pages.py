"""The generate page with personal models, styles, advanced parameters and batch mode; the
generation page's live slots; "use these settings" and "vary seed"."""

import html

from django.urls import reverse

from credits.actions import get_balance
from generation.actions import create_generation
from generation.models import Generation
from tests.factories import make_personal_model

GOOD = {"prompt": "on a beach at sunset", "aspect_ratio": "1:1", "num_images": "2"}


def page(client, **query):
    return html.unescape(client.get(reverse("generate"), query).content.decode())


def test_the_page_offers_ready_personal_models_with_their_trigger_word_and_price(
        alice_client, alice, bob):
    model = make_personal_model(alice)
    make_personal_model(alice, name="Draft", trigger_word="qwyx", status="draft")
    make_personal_model(bob, name="Bob", trigger_word="bobzy")
    body = page(alice_client)
    assert f'value="personal:{model.pk}" data-credits="2" data-trigger="zorvek"' in body
    assert 'data-subject="woman"' in body
    assert "qwyx" not in body and "bobzy" not in body  # drafts and other accounts: not offered
    assert "2 credits per image · FLUX.1 dev" in body
    assert 'id="generate-suggestions" type="application/json"' in body
    assert "a photo of zorvek woman" in body  # prompt ideas for its subject class
    assert "<script>" not in body.split("</head>", 1)[1]  # no inline script (strict CSP)
    for style in ("Professional headshot", "Watercolour", "Vintage film"):
        assert style in body


def test_generating_with_a_personal_model_inserts_the_trigger_word(alice_client, alice):
    model = make_personal_model(alice)
    response = alice_client.post(reverse("generate"), {
        **GOOD, "base_model": f"personal:{model.pk}", "style": "cinematic", "lora_scale": "0.9",
        "seed": "77", "steps": "20", "guidance": "4.5"})
    generation = Generation.objects.get(user=alice)
    assert response.status_code == 302
    assert generation.personal_model == model
    assert generation.base_model == "flux-dev"
    assert generation.prompt == "on a beach at sunset"
    assert "a photo of zorvek woman, on a beach at sunset" in generation.prompt_sent
    assert generation.prompt_sent.startswith("cinematic film still of")
    assert (generation.seed, generation.steps, generation.guidance, generation.lora_scale) == (
        77, 20, 4.5, 0.9)
    assert generation.credits_reserved == 4 and get_balance(alice) == 1


def test_input_is_kept_on_errors(alice_client, alice):
    model = make_personal_model(alice)
    data = {**GOOD, "num_images": "4", "base_model": f"personal:{model.pk}",
            "style": "fantasy", "seed": "12", "negative_prompt": "fog"}  # 8 credits, has 5
    body = html.unescape(alice_client.post(reverse("generate"), data).content.decode())
    assert "This needs 8 credits and your balance is 5" in body
    assert GOOD["prompt"] in body
    assert f'value="personal:{model.pk}" data-credits="2"' in body
    checked = body.split(f'value="personal:{model.pk}"', 1)[1].split(">", 1)[0]
    assert "checked" in checked
    assert 'value="fantasy" class="sr-only" data-aspect="2:3" checked' in body
    assert 'value="12"' in body and 'value="fog"' in body
    assert 'data-cost data-balance="5">8 credits<' in body
    assert not Generation.objects.exists()

    body = html.unescape(alice_client.post(reverse("generate"), {
        **GOOD, "base_model": "flux-schnell", "steps": "99"}).content.decode())
    assert 'data-field-error="steps"' in body


def test_a_strangers_model_cannot_be_chosen(alice_client, alice, bob):
    model = make_personal_model(bob, trigger_word="bobzy")
    body = html.unescape(alice_client.post(reverse("generate"), {
        **GOOD, "base_model": f"personal:{model.pk}"}).content.decode())
    assert 'data-field-error="base_model"' in body
    assert not Generation.objects.exists() and get_balance(alice) == 5


def test_batch_mode_queues_one_generation_per_line(alice_client, alice):
    response = alice_client.post(reverse("generate"), {
        **GOOD, "num_images": "1", "batch": "on", "base_model": "flux-schnell",
        "prompt": "a red fox\n\n a grey wolf \na brown bear"})
    assert response.status_code == 302 and response["Location"] == reverse("generate")
    generations = Generation.objects.filter(user=alice).order_by("prompt")
    assert [g.prompt for g in generations] == ["a brown bear", "a grey wolf", "a red fox"]
    assert len({g.batch_id for g in generations}) == 1 and generations[0].batch_id
    assert get_balance(alice) == 2


def test_a_batch_beyond_the_balance_records_nothing(alice_client, alice):
    body = alice_client.post(reverse("generate"), {
        **GOOD, "num_images": "2", "batch": "on", "base_model": "flux-schnell",
        "prompt": "one\ntwo\nthree"}).content.decode()
    assert "This needs 6 credits" in body
    assert 'data-cost data-balance="5">6 credits<' in body
    assert not Generation.objects.exists() and get_balance(alice) == 5


def test_the_generation_page_shows_each_slot_live(alice_client, alice, run_jobs):
    generation = create_generation(alice, prompt="two owls", num_images=2)
    url = reverse("generation_status", args=[generation.pk])
    queued = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-stage="queued"' in queued and queued.count('data-slot-state="queued"') == 2
    Generation.objects.filter(pk=generation.pk).update(status="running",
                                                       slots=["saving", "generating"])
    busy = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-stage="saving"' in busy and "Saving…" in busy and "Generating…" in busy
    assert 'hx-trigger="every 500ms"' in busy
    run_jobs()
    done = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-stage="done"' in done and done.count('data-slot-state="done"') == 2
    assert 'data-provider="demo"' in done and "Use these settings" in done


def test_use_these_settings_and_vary_seed(alice_client, alice, run_jobs):
    model = make_personal_model(alice)
    from credits.actions import grant

    grant(alice, 20, reason="t", reference="t")
    generation = create_generation(alice, prompt="reading", model_id=str(model.pk),
                                   style="watercolour", seed=31, guidance=5.0)
    run_jobs()
    image = generation.images.get()

    body = page(alice_client, image=str(image.pk))
    assert f'value="personal:{model.pk}"' in body
    assert "reading</textarea>" in body
    assert 'value="watercolour" class="sr-only" data-aspect="3:4" checked' in body
    assert 'value="31"' in body and 'value="5.0"' in body

    response = alice_client.post(reverse("generation_image_vary", args=[image.pk]))
    varied = Generation.objects.exclude(pk=generation.pk).get()
    assert response["Location"] == reverse("generation_detail", args=[varied.pk])
    assert (varied.personal_model, varied.style, varied.prompt) == (model, "watercolour",
                                                                    "reading")
    assert varied.prompt_sent == generation.prompt_sent and varied.num_images == 1
    assert varied.guidance == 5.0
    # Another account's image: 404.
    from tests.factories import make_user

    other = make_user("mallory@example.com")
    alice_client.force_login(other)
    assert alice_client.post(reverse("generation_image_vary", args=[image.pk])).status_code == 404
    assert page(alice_client, image=str(image.pk)).count("reading</textarea>") == 0
