"""The prompt helper's optional LLM (PROMPT_HELPER_MODEL with a Together key): its prompt is
used when it keeps the customer's words and the trigger word, and any failure gives the rules'
prompt; driven through the official `together` SDK against the Together fake."""

import logging

import pytest

from fakes import FakeTogether
from generation.prompt_helper import by_rules, expand
from tests.factories import key_client, make_personal_model

CHAT_MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
WOMAN = {"subject_class": "woman", "trigger_word": "zorvek"}


@pytest.fixture
def together(fake_servers, settings):
    fake = fake_servers.get(FakeTogether)
    settings.TOGETHER_API_KEY = fake.token
    settings.TOGETHER_BASE_URL = fake.url
    settings.PROVIDER_TIMEOUT_SECONDS = 5
    settings.PROMPT_HELPER_MODEL = CHAT_MODEL
    yield fake
    fake.clear_faults()


def test_the_llms_prompt_keeps_the_words_and_the_trigger_word(together):
    prompt = expand("beach sunset, red kite", style="headshot", **WOMAN)
    assert prompt == ("a photo of zorvek woman, beach sunset red kite, soft golden light, "
                      "shallow depth of field, 85mm photo")  # the fake's echo, subject first
    assert prompt != by_rules("beach sunset, red kite", style="headshot", **WOMAN)
    (chat,) = together.chats
    sent = chat["request"]
    assert set(sent) == {"model", "messages", "max_tokens", "temperature"}
    assert (sent["model"], sent["max_tokens"], sent["temperature"]) == (CHAT_MODEL, 160, 0.7)
    system, user = sent["messages"]
    assert (system["role"], user) == ("system", {"role": "user",
                                                 "content": "beach sunset red kite"})
    assert "\n" not in system["content"] and '"a photo of zorvek woman"' in system["content"]
    assert "real person" in system["content"] and "sexual" in system["content"]
    assert together.calls("POST", "/v1/chat/completions")[-1].headers["authorization"] == (
        f"Bearer {together.token}")


def test_an_answer_with_the_trigger_word_is_tidied_not_prefixed(together):
    together.reply_next('"Prompt: zorvek woman on a beach at sunset, flying a red kite, '
                        'golden light"\nThis prompt keeps your words.')
    assert expand("beach sunset red kite", **WOMAN) == (
        "zorvek woman on a beach at sunset, flying a red kite, golden light")
    together.reply_next("A photo of a beach " + "at sunset " * 40)
    prompt = expand("beach sunset", **WOMAN)
    assert prompt.startswith("a photo of zorvek woman, a beach at sunset at sunset")
    assert len(prompt.split()) == 60  # the subject first, then capped


def test_without_a_model_or_a_key_no_request_is_made(together, settings):
    settings.PROMPT_HELPER_MODEL = ""
    assert expand("beach sunset", **WOMAN) == by_rules("beach sunset", **WOMAN)
    settings.PROMPT_HELPER_MODEL, settings.TOGETHER_API_KEY = CHAT_MODEL, ""
    assert expand("beach sunset", **WOMAN) == by_rules("beach sunset", **WOMAN)
    assert not together.calls("POST")
    with pytest.raises(ValueError):  # no words: the rules' error, the LLM is not asked
        settings.TOGETHER_API_KEY = together.token
        expand(" ,, ")
    assert not together.calls("POST")
    settings.PRIVATE_MODE = True  # the customer's words stay inside the installation
    assert expand("beach sunset", **WOMAN) == by_rules("beach sunset", **WOMAN)
    assert not together.calls("POST")


@pytest.mark.parametrize("fault", ["5xx", "timeout", "empty", "refusal", "lost words",
                                   "unknown model"])
def test_any_failure_falls_back_to_the_rules(together, settings, caplog, fault):
    if fault == "5xx":
        together.fail(503, path="/chat/completions")
    elif fault == "timeout":
        settings.PROVIDER_TIMEOUT_SECONDS = 0.3
        together.timeout(1.0, path="/chat/completions")
    elif fault == "empty":
        together.reply_next("  \n ")
    elif fault == "refusal":
        together.reply_next("I'm sorry, but I can't help with zorvek beach sunset.")
    elif fault == "lost words":
        together.reply_next("a photo of zorvek woman on a beach")
    else:
        settings.PROMPT_HELPER_MODEL = "nope/not-a-model"
    with caplog.at_level(logging.WARNING, logger="generation.prompt_helper"):
        assert expand("beach sunset", style="headshot", **WOMAN) == by_rules(
            "beach sunset", style="headshot", **WOMAN)
    assert together.calls("POST", "/v1/chat/completions")  # it was asked
    assert "the rules wrote the prompt" in caplog.text


def test_the_generate_page_and_the_api_use_it(together, alice, client):
    model = make_personal_model(alice, trigger_word="zorvek", subject_class="man", demo=True)
    client.force_login(alice)
    body = client.get("/dashboard/generate/expand", {
        "words": "office confident", "base_model": f"personal:{model.pk}"}).json()
    assert body["prompt"] == ("a photo of zorvek man, office confident, soft golden light, "
                              "shallow depth of field, 85mm photo")
    answer = key_client(alice).post("/api/v1/prompts/expand", {
        "words": "forest morning", "model_id": str(model.pk)}, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json()["prompt"].startswith("a photo of zorvek man, forest morning, soft golden")
    assert [c["request"]["messages"][1]["content"] for c in together.chats] == [
        "office confident", "forest morning"]
