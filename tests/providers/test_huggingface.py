"""Publishing to the Hub the way real LoRA weights travel: about 170 MB, through the Hub's LFS
protocol (batch, multipart parts, completion, verify, then an `lfsFile` commit line), with a
model card whose metadata the Hub accepts. Driven through huggingface_hub against the fake."""

import hashlib
import random

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from fakes import FakeHuggingFace
from providers.huggingface.publisher import HubPublisher, model_card
from tests.factories import make_personal_model

pytestmark = pytest.mark.django_db

SIZE = 170 * 1024 * 1024


@pytest.fixture
def hub(fake_servers, settings):
    fake = fake_servers.get(FakeHuggingFace, username="likeness")
    settings.HF_TOKEN, settings.HF_NAMESPACE, settings.HF_ENDPOINT = fake.token, "likeness", \
        fake.url
    settings.PROVIDER_TIMEOUT_SECONDS = 60
    return fake


def weights_of(size: int) -> bytes:
    """Bytes shaped like a safetensors file (a header, then tensors that do not compress)."""
    header = b'{"__metadata__":{"format":"pt"}}'
    body = random.Random(size).randbytes(size - 8 - len(header))
    return len(header).to_bytes(8, "little") + header + body


def steps(fake, oid):
    return [step for step, logged in fake.lfs_log if logged == oid]


def test_170_mb_of_weights_go_through_the_lfs_multipart_path(hub, alice):
    model = make_personal_model(alice)
    weights = weights_of(SIZE)
    oid = hashlib.sha256(weights).hexdigest()

    repo_id = HubPublisher().publish(model, weights, private=True)

    repo = hub.repo(repo_id)
    assert repo.private
    assert repo.files["lora.safetensors"] == weights
    parts = -(-SIZE // hub.lfs_chunk_size)
    assert parts >= 3
    assert steps(hub, oid) == ["batch", *["part"] * parts, "complete", "verify"]
    (commit,) = hub.calls("POST", r"/commit/main$")
    assert b'"lfsFile"' in commit.body and oid.encode() in commit.body
    assert len(commit.body) < 64 * 1024  # the weights are not inline
    assert hub.calls("POST", r"/api/validate-yaml$")  # the card was checked, and accepted

    # Publishing the same weights again (a retry after a crash) uploads nothing new.
    HubPublisher().publish(model, weights, private=True)
    assert steps(hub, oid)[-1] == "batch"
    assert repo.files["lora.safetensors"] == weights


def test_small_weights_still_go_through_lfs_in_one_put(hub, alice):
    """.gitattributes sends *.safetensors to LFS whatever its size."""
    weights = weights_of(2 * 1024 * 1024)
    oid = hashlib.sha256(weights).hexdigest()
    repo_id = HubPublisher().publish(make_personal_model(alice), weights, private=False)
    assert steps(hub, oid) == ["batch", "put", "verify"]
    assert hub.repo(repo_id).files["lora.safetensors"] == weights


def test_the_model_card_passes_the_hubs_metadata_rules(hub, alice):
    model = make_personal_model(alice)
    card = model_card(model)
    assert "license_name: flux-1-dev-non-commercial-license" in card
    assert "license_link: https://huggingface.co/black-forest-labs/FLUX.1-dev" in card
    api = HfApi(endpoint=hub.url, token=hub.token)
    api.create_repo("likeness/card-check")
    bare = card.replace("license_name: flux-1-dev-non-commercial-license\n", "")
    with pytest.raises(ValueError, match="license_name"):
        api.create_commit("likeness/card-check", commit_message="card",
                          operations=[CommitOperationAdd("README.md", bare.encode())])
    api.create_commit("likeness/card-check", commit_message="card",
                      operations=[CommitOperationAdd("README.md", card.encode())])
    assert hub.repo("likeness/card-check").files["README.md"] == card.encode()


def test_the_fake_refuses_what_the_hub_refuses(hub):
    api = HfApi(endpoint=hub.url, token=hub.token)
    api.create_repo("likeness/strict")
    # An LFS pointer to content never uploaded.
    line = ('{"key": "header", "value": {"summary": "x"}}\n'
            '{"key": "lfsFile", "value": {"path": "lora.safetensors", "algo": "sha256", '
            f'"oid": "{"0" * 64}", "size": 10}}}}\n')
    answer = httpx.post(f"{hub.url}/api/models/likeness/strict/commit/main", content=line,
                        headers={"Authorization": f"Bearer {hub.token}",
                                 "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 422 and "does not exist" in answer.json()["error"]
    # A file the Hub keeps in LFS, sent inline instead.
    import base64
    import json

    inline = json.dumps({"key": "file", "value": {
        "path": "lora.safetensors", "encoding": "base64",
        "content": base64.b64encode(weights_of(4096)).decode()}})
    answer = httpx.post(f"{hub.url}/api/models/likeness/strict/commit/main",
                        content='{"key": "header", "value": {"summary": "x"}}\n' + inline,
                        headers={"Authorization": f"Bearer {hub.token}",
                                 "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 400 and "LFS" in answer.json()["error"]
    assert "lora.safetensors" not in hub.repo("likeness/strict").files
    # The SDK asks first (preupload) and so takes the LFS path for a large file of any name.
    big = weights_of(11 * 1024 * 1024)
    api.create_commit("likeness/strict", commit_message="x",
                      operations=[CommitOperationAdd("big.bin", big)])
    assert steps(hub, hashlib.sha256(big).hexdigest())[0] == "batch"
    assert hub.repo("likeness/strict").files["big.bin"] == big
