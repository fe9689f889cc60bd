"""The Together AI fake, driven through the official `together` SDK (host-only base URL)."""

import base64
import io

import httpx
import pytest
import together
from PIL import Image

LORA_MODEL = "black-forest-labs/FLUX.1-dev-lora"


def client(fake, **kwargs):
    return together.Together(api_key=fake.token, base_url=fake.url, **kwargs)


def test_generate_url_and_base64_with_loras(together_fake):
    c = client(together_fake)
    result = c.images.generate(
        model=LORA_MODEL, prompt="TOK on a beach", width=768, height=512, steps=28, n=2, seed=5,
        image_loras=[{"path": "https://huggingface.co/likeness/alice-lora", "scale": 0.9}],
        negative_prompt="blurry", response_format="url", output_format="png")
    assert result.object == "list" and result.model == LORA_MODEL and result.id
    assert [d.index for d in result.data] == [0, 1] and result.data[0].type == "url"
    image = Image.open(io.BytesIO(httpx.get(result.data[0].url).content))
    assert (image.format, image.size) == ("PNG", (768, 512))
    sent = together_fake.calls("POST", "/v1/images/generations")[-1].json()
    assert sent["image_loras"] == [{"path": "https://huggingface.co/likeness/alice-lora",
                                    "scale": 0.9}]
    assert sent["negative_prompt"] == "blurry"

    b64 = c.images.generate(model="black-forest-labs/FLUX.1-schnell", prompt="x",
                            response_format="base64", seed=5, width=256, height=256)
    assert b64.data[0].type == "b64_json"
    image = Image.open(io.BytesIO(base64.b64decode(b64.data[0].b64_json)))
    assert (image.format, image.size) == ("JPEG", (256, 256))


def test_base_url_is_host_only(together_fake):
    with pytest.raises(together.NotFoundError):
        together.Together(api_key=together_fake.token, base_url=together_fake.url + "/v1",
                          max_retries=0).images.generate(model=LORA_MODEL, prompt="x")
    assert together_fake.calls(path="/v1/v1/images/generations")


def test_errors(together_fake):
    c = client(together_fake, max_retries=0)
    with pytest.raises(together.AuthenticationError) as err:
        together.Together(api_key="wrong", base_url=together_fake.url).images.generate(
            model=LORA_MODEL, prompt="x")
    assert err.value.body["error"]["code"] == "invalid_api_key"
    with pytest.raises(together.BadRequestError):
        c.images.generate(model=LORA_MODEL, prompt="")
    with pytest.raises(together.UnprocessableEntityError) as err:
        c.images.generate(model=LORA_MODEL, prompt="x", width=5000)
    assert err.value.body["error"]["param"] == "width"
    with pytest.raises(together.NotFoundError):
        c.images.generate(model="nope/model", prompt="x")
    with pytest.raises(together.BadRequestError):
        c.images.generate(model="black-forest-labs/FLUX.1-schnell", prompt="x",
                          image_loras=[{"path": "a", "scale": 1.0}])
    together_fake.flag_nsfw_next()
    with pytest.raises(together.UnprocessableEntityError):
        c.images.generate(model=LORA_MODEL, prompt="x")


def test_rate_limit_and_server_errors_are_retried_by_the_sdk(together_fake):
    together_fake.fail(429, retry_after=1, path="/images/generations")
    with pytest.raises(together.RateLimitError) as err:
        client(together_fake, max_retries=0).images.generate(model=LORA_MODEL, prompt="x")
    assert err.value.response.headers["retry-after"] == "1"
    assert err.value.body["error"]["type"] == "rate_limit_exceeded"

    together_fake.fail(503, retry_after=0, times=2)
    assert client(together_fake, max_retries=2).images.generate(model=LORA_MODEL, prompt="x").data
    assert [r.status for r in together_fake.calls("POST")][-3:] == [503, 503, 200]
    together_fake.fail(500)
    with pytest.raises(together.InternalServerError):
        client(together_fake, max_retries=0).images.generate(model=LORA_MODEL, prompt="x")


def test_timeout_malformed_and_expired(together_fake):
    together_fake.timeout(1.0)
    with pytest.raises(together.APITimeoutError):
        client(together_fake, max_retries=0, timeout=0.3).images.generate(model=LORA_MODEL,
                                                                          prompt="x")
    together_fake.malformed()
    with pytest.raises((together.APIResponseValidationError, ValueError)):
        client(together_fake, max_retries=0).images.generate(model=LORA_MODEL, prompt="x")
    url = client(together_fake).images.generate(model=LORA_MODEL, prompt="x").data[0].url
    together_fake.expire(url)
    assert httpx.get(url).status_code == 404


CHAT_MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
MESSAGES = [{"role": "system", "content": "Write a photo prompt."},
            {"role": "user", "content": "beach sunset"}]


def test_chat_completions_echo_the_words(together_fake):
    c = client(together_fake, max_retries=0)
    answer = c.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=160,
                                       temperature=0.7, top_p=0.9, seed=3)
    assert answer.object == "chat.completion" and answer.model == CHAT_MODEL and answer.id
    choice = answer.choices[0]
    assert (choice.index, choice.message.role, choice.finish_reason) == (0, "assistant", "stop")
    assert choice.message.content.startswith("beach sunset, ")
    usage = answer.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0
    assert together_fake.chats[-1]["request"]["max_tokens"] == 160
    listed = {m["id"]: m["type"] for m in httpx.get(together_fake.url + "/v1/models", headers={
        "Authorization": f"Bearer {together_fake.token}"}).json()}
    assert listed[CHAT_MODEL] == "chat" and listed[LORA_MODEL] == "image"

    together_fake.reply_next("")
    assert c.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES).choices[0] \
        .message.content == ""


def test_chat_completions_are_strict(together_fake):
    c = client(together_fake, max_retries=0)
    with pytest.raises(together.BadRequestError) as err:
        c.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES,
                                  extra_body={"temprature": 0.5})
    assert err.value.body["error"]["param"] == "temprature"
    with pytest.raises(together.UnprocessableEntityError):
        c.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "robot", "content": "x"}])
    with pytest.raises(together.BadRequestError):
        c.chat.completions.create(model=CHAT_MODEL, messages=[])
    with pytest.raises(together.NotFoundError) as err:
        c.chat.completions.create(model="nope/llm", messages=MESSAGES)
    assert err.value.body["error"]["code"] == "model_not_available"
    with pytest.raises(together.NotFoundError):  # an image model is no chat model
        c.chat.completions.create(model=LORA_MODEL, messages=MESSAGES)
    together_fake.fail(503, path="/chat/completions")
    with pytest.raises(together.InternalServerError):
        c.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES)
    assert not together_fake.chats


def test_the_fake_reports_its_own_service_time(together_fake):
    """Its time on a request (here its 0.05 s of "generating") is sent as the standard
    Server-Timing header, which the SDK ignores, and kept with the request, so a benchmark can
    take it out of the time our code spends around the call."""
    together_fake.generation_seconds = 0.05
    try:
        raw = client(together_fake).images.with_raw_response.generate(
            model="black-forest-labs/FLUX.1-schnell", prompt="x", seed=5, width=256, height=256)
    finally:
        together_fake.generation_seconds = 0.0
    name, _, duration = raw.headers["server-timing"].partition(";dur=")
    assert name == "fake" and float(duration) >= 50
    assert raw.parse().data[0].url  # the SDK reads the answer as usual
    (call,) = together_fake.calls("POST", "/v1/images/generations")
    assert call.service_ms >= 50 and float(duration) == round(call.service_ms, 1)
