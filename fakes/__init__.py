"""Fake external services for tests and the local cluster: real HTTP servers on 127.0.0.1 that
speak each provider's protocol (see docs/providers.md). Run some from a shell with
`python -m fakes --replicate 8501 --fal 8502 ...`.

How each official client is pointed at its fake (`fake = FakeX().start()` or `with FakeX()`):
    replicate.Client(api_token=fake.token, base_url=fake.url)          # REPLICATE_BASE_URL, no /v1
    together.Together(api_key=fake.token, base_url=fake.url)           # TOGETHER_BASE_URL, no /v1
    openai.OpenAI(api_key=fake.token, base_url=fake.url + "/v1")       # NEBIUS_BASE_URL, with /v1
    huggingface_hub.HfApi(endpoint=fake.url, token=fake.token)         # HF_ENDPOINT
    httpx.Client(base_url=fake.url, headers={"Authorization": f"Key {fake.token}"})  # FAL_QUEUE_URL

Every fake: `.requests` / `.calls(method, path_regex)`, `.fail()`, `.timeout()`, `.malformed()`,
`.serve_bytes()` / `.expire(url)`, `.advance(seconds)`, `.reset()`; the ones with webhooks:
`.lose_webhooks()`, `.duplicate_webhooks()`, `.delay_webhooks()`, `.webhook_deliveries`,
`.wait_webhooks()`.
"""

from fakes.base import FakeServer, Request, Response, WebhookDelivery
from fakes.fal import FakeFal
from fakes.huggingface import FakeHuggingFace
from fakes.nebius import FakeNebius
from fakes.replicate import FakeReplicate
from fakes.together import FakeTogether

__all__ = [
    "FakeFal",
    "FakeHuggingFace",
    "FakeNebius",
    "FakeReplicate",
    "FakeServer",
    "FakeTogether",
    "Request",
    "Response",
    "WebhookDelivery",
]
