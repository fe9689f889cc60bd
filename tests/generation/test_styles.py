"""Styles: a prompt template and parameters each, applied at submit; the customer's own
parameters win. Trigger words of personal models are inserted once."""

import pytest

from generation.actions import InvalidInput, create_generation, prompt_as_sent, with_trigger_word
from generation.styles import STYLES, subject_suggestions
from tests.factories import make_personal_model


def test_the_catalogue_has_at_least_eight_complete_styles():
    assert len(STYLES) >= 8
    for style in STYLES.values():
        assert style.name and style.description and "{prompt}" in style.template
        assert style.suggestions
    assert {"headshot", "linkedin", "cinematic", "editorial", "fantasy", "watercolour",
            "vintage", "outdoor"} <= set(STYLES)


@pytest.mark.parametrize("style_id", list(STYLES))
def test_a_style_rewrites_the_prompt_and_fills_its_parameters(alice, style_id):
    style = STYLES[style_id]
    generation = create_generation(alice, prompt="a woman with red hair", style=style_id)
    assert generation.style == style_id
    assert generation.prompt == "a woman with red hair"
    assert generation.prompt_sent == style.template.replace("{prompt}", "a woman with red hair")
    assert generation.guidance == style.guidance
    assert generation.negative_prompt == style.negative_prompt


def test_the_customers_parameters_win_over_the_styles(alice):
    generation = create_generation(alice, prompt="x", style="cinematic", guidance=7.5,
                                   negative_prompt="rain")
    assert (generation.guidance, generation.negative_prompt) == (7.5, "rain")


def test_an_unknown_style_is_refused(alice):
    with pytest.raises(InvalidInput) as caught:
        create_generation(alice, prompt="x", style="noir")
    assert caught.value.field == "style"


def test_a_model_without_negative_prompts_gets_none(alice):
    from credits.actions import grant

    grant(alice, 10, reason="t", reference="t")
    generation = create_generation(alice, prompt="x", base_model="flux-pro", style="headshot",
                                   negative_prompt="blur")
    assert generation.negative_prompt == ""


@pytest.mark.parametrize(("prompt", "sent"), [
    ("on a beach", "a photo of zorvek woman, on a beach"),
    ("Zorvek on a beach", "Zorvek on a beach"),
    ("portrait of zorvek, smiling", "portrait of zorvek, smiling"),
    ("zorveks on a beach", "a photo of zorvek woman, zorveks on a beach"),
])
def test_the_trigger_word_is_inserted_once(prompt, sent):
    assert with_trigger_word(prompt, "zorvek", "woman") == sent


def test_trigger_word_then_style(alice):
    model = make_personal_model(alice)
    assert prompt_as_sent("on a boat", style="vintage", model=model) == (
        STYLES["vintage"].template.replace("{prompt}", "a photo of zorvek woman, on a boat"))
    assert subject_suggestions("dog", "rexo")[0].startswith("a photo of rexo dog")
