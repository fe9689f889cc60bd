"""The prompt policy as generations apply it (generation.policy): the labelled prompt set sent
through create_generation at each level (a child's model, an adult's model, a base model), with
its false-refusal rate reported; every refusal records, charges and queues nothing; the API's
422 prompt_refused and the form's error; the base models' setting."""

import csv
import json
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from credits.actions import get_balance, grant
from generation.actions import create_generation
from generation.models import Generation
from generation.styles import STYLES
from likeness.errors import PromptRefused
from tests.factories import key_client, make_personal_model

ROWS = list(csv.DictReader((Path(__file__).parents[1] / "providers" / "data" / "prompts.csv")
                           .open(encoding="utf-8")))
# Rows whose verdict changes when the prompt is the one a generation sends: none so far. A row
# listed here is one the policy refuses only because of what generation adds (or drops).
KNOWN_DIFFERENCES: set[int] = set()
MAX_FALSE_REFUSALS = 0.01


@pytest.fixture
def models(rich_alice):
    rich_alice.plan = "pro"  # room for both models
    rich_alice.save()
    grant(rich_alice, 100_000, reason="test", reference="test:policy")
    return {"standard": make_personal_model(rich_alice, trigger_word="zorvek",
                                            subject_class="person"),
            "strict": make_personal_model(rich_alice, name="Kid", trigger_word="mibalo",
                                          subject_class="child")}


def _request(row, models):
    model = models.get(row["level"])
    prompt = row["prompt"].replace("TOK", model.trigger_word) if model else row["prompt"]
    params = {"prompt": prompt, "negative_prompt": row["negative_prompt"]}
    if model:
        params["model_id"] = str(model.pk)
    else:
        params["base_model"] = "flux-dev"  # takes a negative prompt
    return params


def test_the_labelled_set_as_applied_to_generations(rich_alice, models, settings, capsys):
    settings.PROMPT_POLICY_BASE = "base"
    outcome = {"allow": [0, 0], "refuse": [0, 0]}  # expected -> [wrong, total]
    wrong = []
    for number, row in enumerate(ROWS, start=2):
        try:
            create_generation(rich_alice, **_request(row, models))
            refused = False
        except PromptRefused as exc:
            refused = True
            assert exc.code == "prompt_refused" and exc.status == 422
            assert exc.categories and exc.message
        counts = outcome[row["expected"]]
        counts[1] += 1
        if refused != (row["expected"] == "refuse"):
            counts[0] += 1
            wrong.append((number, row["level"], row["expected"], row["prompt"]))
    false_refusals, allowed = outcome["allow"]
    misses, to_refuse = outcome["refuse"]
    with capsys.disabled():
        print(f"\nprompt policy as applied to generations, {len(ROWS)} rows: false refusals "
              f"{false_refusals}/{allowed} ({false_refusals / allowed:.1%}), misses "
              f"{misses}/{to_refuse} ({misses / to_refuse:.1%})")
    assert {n for n, *_ in wrong} <= KNOWN_DIFFERENCES, wrong
    assert false_refusals / allowed <= MAX_FALSE_REFUSALS
    # Everything allowed was queued, once each.
    assert Generation.objects.filter(user=rich_alice).count() == allowed - false_refusals + misses


def _nothing_changed(user, balance):
    assert get_balance(user) == balance
    assert not Generation.objects.filter(user=user).exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.parametrize(("level", "prompt", "negative", "field", "category"), [
    ("standard", "zorvek person posing nude on a beach", "", "prompt", "sexual"),
    ("standard", "zorvek person, portrait", "clothes, shirt", "negative_prompt", "undress"),
    ("strict", "mibalo child in a bikini at the pool", "", "prompt", "sexual_minors"),
    ("strict", "mibalo child at a birthday party", "ugly clothes", "negative_prompt",
     "sexual_minors"),
])
def test_a_refusal_changes_nothing(rich_alice, models, level, prompt, negative, field,
                                   category):
    balance = get_balance(rich_alice)
    with pytest.raises(PromptRefused) as refused:
        create_generation(rich_alice, prompt=prompt, negative_prompt=negative,
                          model_id=str(models[level].pk))
    assert refused.value.field == field
    assert category in refused.value.categories
    assert prompt not in refused.value.message and "bikini" not in refused.value.message
    _nothing_changed(rich_alice, balance)


def test_every_style_and_the_trigger_word_pass(rich_alice, models):
    """The styles' own templates and negative prompts pass even the strictest level."""
    for model in models.values():
        for style in [*STYLES, ""]:
            create_generation(rich_alice, prompt="reading a book in a sunny park",
                              model_id=str(model.pk), style=style or None)


@pytest.mark.parametrize(("setting", "refused"), [
    ("off", set()), ("base", {"a school photo of a 12 year old girl, naked"}),
    ("standard", {"a school photo of a 12 year old girl, naked", "a nude figure study"}),
])
def test_base_models_follow_the_setting(rich_alice, settings, setting, refused):
    settings.PROMPT_POLICY_BASE = setting
    grant(rich_alice, 100, reason="test", reference="test:base")
    for prompt in ("a nude figure study", "a school photo of a 12 year old girl, naked",
                   "a lighthouse at dusk"):
        try:
            create_generation(rich_alice, prompt=prompt)
        except PromptRefused:
            assert prompt in refused
        else:
            assert prompt not in refused


def test_the_api_answers_422_prompt_refused_and_charges_nothing(rich_alice, models):
    balance = get_balance(rich_alice)
    response = key_client(rich_alice).post(
        "/api/v1/generations", json.dumps({"prompt": "zorvek person, topless",
                                           "model_id": str(models["standard"].pk)}),
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="policy-1")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "prompt_refused"
    assert error["details"]["field"] == "prompt" and "sexual" in error["details"]["categories"]
    assert "topless" not in error["message"]
    _nothing_changed(rich_alice, balance)


def test_the_form_shows_the_refusal_on_the_prompt(rich_alice, models, client):
    client.force_login(rich_alice)
    balance = get_balance(rich_alice)
    response = client.post("/dashboard/generate/", {
        "prompt": "mibalo child, sexy pose", "base_model": f"personal:{models['strict'].pk}",
        "aspect_ratio": "1:1", "num_images": "1"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "prompt" in errors and "child" in errors["prompt"][0]
    _nothing_changed(rich_alice, balance)


def test_every_shipped_pack_passes_for_the_subjects_it_is_for(db):
    """Packs go through the same policy: none of their prompts may be refused for a subject the
    pack is for (a child's model is held to the strict level)."""
    from types import SimpleNamespace

    from generation import policy
    from generation.actions import prompt_as_sent
    from generation.packs import active_packs

    checked, refused = 0, []
    for pack in active_packs():
        for subject in pack.subjects:
            model = SimpleNamespace(trigger_word="zorvek", subject_class=subject, pk="x")
            for item in pack.prompts_for(subject):
                prompt = item["prompt"].replace("{subject}", f"zorvek {subject}")
                style = item["style"] or ""
                try:
                    policy.enforce(prompt_as_sent(prompt, style=style, model=model),
                                   STYLES[style].negative_prompt if style else "", model=model)
                except PromptRefused as exc:
                    refused.append((pack.slug, subject, prompt, exc.categories))
                checked += 1
    assert checked and not refused, refused
