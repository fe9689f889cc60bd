"""The prompt helper: a few words become a full prompt for the subject and style, offline, and
nothing the customer wrote is lost; the generate page's endpoint and the API."""

import pytest

from generation.prompt_helper import CAMERA, DEFAULTS, expand
from tests.factories import key_client, make_personal_model


def test_known_words_bring_their_phrases_and_unknown_ones_stay():
    prompt = expand("beach sunset, happy, red kite", subject_class="woman", trigger_word="zorvek")
    assert prompt.startswith("a photo of zorvek woman, on a sandy beach, waves behind, at sunset")
    assert "red kite" in prompt and "genuine smile" in prompt
    assert "warm golden-hour light" in prompt and DEFAULTS["woman"] in prompt
    assert prompt.endswith(CAMERA)  # no style: the camera words


def test_a_style_brings_its_own_camera_and_pets_their_pose():
    prompt = expand("garden", subject_class="dog", trigger_word="rexo", style="pet-portrait")
    assert prompt == ("a photo of rexo dog, in a flower garden, sitting attentively, looking at "
                      "the camera, soft natural light")


def test_without_a_personal_model_and_without_words():
    assert expand("lighthouse night").startswith("a photo, at night, lighthouse")
    with pytest.raises(ValueError):
        expand("  ,,, !! ")


def test_the_generate_page_and_the_api(alice, client):
    model = make_personal_model(alice, trigger_word="zorvek", subject_class="man", demo=True)
    client.force_login(alice)
    body = client.get("/dashboard/generate/expand", {
        "words": "office confident", "base_model": f"personal:{model.pk}",
        "style": "headshot"}).json()
    assert body["prompt"].startswith("a photo of zorvek man, in a bright modern office")
    assert client.get("/dashboard/generate/expand", {"words": ""}).status_code == 400
    assert "Write it for me" in client.get("/dashboard/generate/").content.decode()
    api = key_client(alice)
    answer = api.post("/api/v1/prompts/expand", {"words": "forest morning",
                                                 "model_id": str(model.pk)},
                      content_type="application/json")
    assert answer.status_code == 200
    assert answer.json()["prompt"].startswith("a photo of zorvek man, in a green forest")
    assert api.post("/api/v1/prompts/expand", {"words": ""},
                    content_type="application/json").status_code == 422
