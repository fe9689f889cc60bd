"""The fal.ai queue fake, driven with httpx as Likeness does (fal_client has no base URL)."""

import base64
import hashlib
import io
import json
import time

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image

TRAINING = "fal-ai/flux-lora-fast-training"
GENERATION = "fal-ai/flux-lora"


def http(fake, key=None):
    return httpx.Client(base_url=fake.url, timeout=5,
                        headers={"Authorization": f"Key {key or fake.token}"})


def submit(c, app, payload, webhook=None):
    resp = c.post(f"/{app}", json=payload, params={"fal_webhook": webhook} if webhook else None)
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_completed(c, handle, timeout=5.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        status = c.get(handle["status_url"], params={"logs": 1})
        body = status.json()
        seen.append(body["status"])
        if body["status"] == "COMPLETED":
            assert status.status_code == 200
            return body, seen
        assert status.status_code == 202
        time.sleep(0.03)
    raise AssertionError(f"not completed: {seen}")


def verify(public_key_raw, headers, body):
    """What a receiver does: recompute the message and check the Ed25519 signature."""
    message = "\n".join([headers["x-fal-webhook-request-id"], headers["x-fal-webhook-user-id"],
                         headers["x-fal-webhook-timestamp"],
                         hashlib.sha256(body).hexdigest()]).encode()
    Ed25519PublicKey.from_public_bytes(public_key_raw).verify(
        bytes.fromhex(headers["x-fal-webhook-signature"]), message)


def jwks_key(fake):
    key = httpx.get(fake.url + "/.well-known/jwks.json").json()["keys"][0]
    assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
    return base64.urlsafe_b64decode(key["x"] + "=" * (-len(key["x"]) % 4))


def test_training_through_the_queue_with_a_signed_webhook(fal_fake, receiver):
    c = http(fal_fake)
    handle = submit(c, TRAINING, {"images_data_url": "https://example.com/p.zip",
                                  "trigger_word": "TOK", "steps": 500}, webhook=receiver.url)
    rid = handle["request_id"]
    base = f"{fal_fake.url}/{TRAINING}/requests/{rid}"
    assert handle == {"request_id": rid, "response_url": base, "status_url": base + "/status",
                      "cancel_url": base + "/cancel"}
    early = c.get(handle["response_url"])
    assert early.status_code == 400 and "in progress" in early.json()["detail"]

    status, seen = wait_completed(c, handle)
    assert "IN_PROGRESS" in seen
    assert any("Training step" in log["message"] for log in status["logs"])
    output = c.get(handle["response_url"]).json()
    lora = output["diffusers_lora_file"]
    assert lora["file_name"].endswith(".safetensors")
    data = httpx.get(lora["url"]).content
    assert len(data) == lora["file_size"]
    assert output["config_file"]["url"]

    hook = receiver.wait(1)[0]
    body = json.loads(hook.body)
    assert body["request_id"] == rid and body["status"] == "OK" and body["error"] is None
    assert body["payload"] == output
    verify(jwks_key(fal_fake), hook.headers, hook.body)
    assert jwks_key(fal_fake) == fal_fake.public_key_bytes
    tampered = hook.body.replace(b"OK", b"ER")
    with pytest.raises(InvalidSignature):
        verify(fal_fake.public_key_bytes, hook.headers, tampered)


def test_generation_with_loras_and_sizes(fal_fake):
    c = http(fal_fake)
    handle = submit(c, GENERATION, {
        "prompt": "TOK portrait", "image_size": {"width": 512, "height": 640},
        "num_inference_steps": 28, "guidance_scale": 3.5, "num_images": 2, "seed": 42,
        "loras": [{"path": "https://example.com/lora.safetensors", "scale": 1.0}],
        "enable_safety_checker": True, "output_format": "png"})
    wait_completed(c, handle)
    output = c.get(handle["response_url"]).json()
    assert output["seed"] == 42 and output["has_nsfw_concepts"] == [False, False]
    first = output["images"][0]
    assert (first["width"], first["height"], first["content_type"]) == (512, 640, "image/png")
    assert Image.open(io.BytesIO(httpx.get(first["url"]).content)).size == (512, 640)
    sent = fal_fake.calls("POST", GENERATION)[-1].json()
    assert sent["loras"][0]["scale"] == 1.0

    handle = submit(c, GENERATION, {"prompt": "x", "image_size": "landscape_16_9"})
    wait_completed(c, handle)
    image = c.get(handle["response_url"]).json()["images"][0]
    assert (image["width"], image["height"], image["content_type"]) == (1024, 576, "image/jpeg")


def test_nsfw_gives_black_images_flagged(fal_fake):
    c = http(fal_fake)
    fal_fake.flag_nsfw_next()
    handle = submit(c, GENERATION, {"prompt": "x", "image_size": "square"})
    wait_completed(c, handle)
    output = c.get(handle["response_url"]).json()
    assert output["has_nsfw_concepts"] == [True]
    image = Image.open(io.BytesIO(httpx.get(output["images"][0]["url"]).content))
    assert image.getextrema() == ((0, 0), (0, 0), (0, 0))


def test_validation_error_and_failure_reach_result_and_webhook(fal_fake, receiver):
    c = http(fal_fake)
    handle = submit(c, GENERATION, {"image_size": "square"}, webhook=receiver.url)
    status, _ = wait_completed(c, handle)
    assert status["error"]
    result = c.get(handle["response_url"])
    assert result.status_code == 422 and result.json()["detail"][0]["loc"] == ["body", "prompt"]
    hook = json.loads(receiver.wait(1)[0].body)
    assert hook["status"] == "ERROR" and hook["payload"]["detail"][0]["type"] == "missing"

    fal_fake.fail_next(TRAINING, detail="GPU crashed")
    handle = submit(c, TRAINING, {"images_data_url": "https://example.com/p.zip"},
                    webhook=receiver.url)
    wait_completed(c, handle)
    result = c.get(handle["response_url"])
    assert result.status_code == 500 and result.json() == {"detail": "GPU crashed"}
    hook = json.loads(receiver.wait(2)[1].body)
    assert (hook["status"], hook["error"]) == ("ERROR", "Invalid status code: 500")


def test_cancel_removes_a_queued_request(fal_fake):
    c = http(fal_fake)
    fal_fake.queue_seconds, fal_fake.training_seconds = 3600, 3600
    try:
        handle = submit(c, TRAINING, {"images_data_url": "https://example.com/p.zip"})
        resp = c.put(handle["cancel_url"])
        assert (resp.status_code, resp.json()) == (202, {"status": "CANCELLATION_REQUESTED"})
        again = c.put(handle["cancel_url"])
        assert (again.status_code, again.json()) == (400, {"status": "ALREADY_COMPLETED"})
        assert c.get(handle["status_url"]).json()["status"] == "COMPLETED"
        result = c.get(handle["response_url"])
        assert result.status_code == 499
        assert result.headers["X-Fal-Error-Type"] == "client_cancelled"
    finally:
        fal_fake.queue_seconds, fal_fake.training_seconds = 0.05, 0.3
    missing = c.put(f"/{TRAINING}/requests/00000000-0000-0000-0000-000000000000/cancel")
    assert missing.status_code == 404


def test_cancel_only_asks_a_running_request(fal_fake):
    c = http(fal_fake)
    fal_fake.queue_seconds, fal_fake.training_seconds = 0, 3600
    try:
        handle = submit(c, TRAINING, {"images_data_url": "https://example.com/p.zip"})
        fal_fake.tick_now()
        assert c.get(handle["status_url"]).json()["status"] == "IN_PROGRESS"
        resp = c.put(handle["cancel_url"])
        assert (resp.status_code, resp.json()) == (202, {"status": "CANCELLATION_REQUESTED"})
        assert c.get(handle["status_url"]).json()["status"] == "IN_PROGRESS"
        fal_fake.advance(3600)
        assert c.get(handle["status_url"]).json()["status"] == "COMPLETED"
        result = c.get(handle["response_url"])
        assert result.status_code == 200 and result.json()["diffusers_lora_file"]["url"]
    finally:
        fal_fake.queue_seconds, fal_fake.training_seconds = 0.05, 0.3


def test_auth(fal_fake):
    resp = http(fal_fake, key="wrong:key").post(f"/{GENERATION}", json={"prompt": "x"})
    assert resp.status_code == 401 and resp.json()["detail"]
    assert httpx.post(f"{fal_fake.url}/{GENERATION}", json={}).status_code == 401
    bearer = httpx.post(f"{fal_fake.url}/{GENERATION}", json={"prompt": "x"},
                        headers={"Authorization": f"Bearer {fal_fake.token}"})
    assert bearer.status_code == 401


def test_faults(fal_fake):
    c = http(fal_fake)
    fal_fake.fail(503, retry_after=2, path=GENERATION)
    resp = c.post(f"/{GENERATION}", json={"prompt": "x"})
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "2"
    fal_fake.fail(429, retry_after=1)
    assert c.post(f"/{GENERATION}", json={"prompt": "x"}).status_code == 429
    fal_fake.malformed(path="/status$")
    handle = submit(c, GENERATION, {"prompt": "x"})
    with pytest.raises(json.JSONDecodeError):
        c.get(handle["status_url"]).json()
    fal_fake.timeout(1.0, path="/status$")
    with pytest.raises(httpx.ReadTimeout):
        c.get(handle["status_url"], timeout=0.3)
    wait_completed(c, handle)
    url = c.get(handle["response_url"]).json()["images"][0]["url"]
    fal_fake.expire(url)
    assert httpx.get(url).status_code == 404


def test_lost_duplicate_and_retried_webhooks(fal_fake, receiver):
    c = http(fal_fake)
    fal_fake.lose_webhooks(1)
    handle = submit(c, GENERATION, {"prompt": "x"}, webhook=receiver.url)
    wait_completed(c, handle)
    assert fal_fake.wait_webhooks() and receiver.received == []
    assert c.get(handle["response_url"]).status_code == 200  # polling covers it

    fal_fake.duplicate_webhooks(1)
    submit(c, GENERATION, {"prompt": "x"}, webhook=receiver.url)
    first, second = receiver.wait(2)
    assert first.body == second.body

    receiver.received.clear()
    receiver.statuses = [502]
    submit(c, GENERATION, {"prompt": "x"}, webhook=receiver.url)
    assert len(receiver.wait(2)) == 2
    assert fal_fake.wait_webhooks()
    assert [a[0] for a in fal_fake.webhook_deliveries[-1].attempts] == [502, 200]
