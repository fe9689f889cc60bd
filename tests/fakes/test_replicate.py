"""The Replicate fake, driven through the official `replicate` SDK."""

import base64
import hashlib
import hmac
import io
import json
import tarfile
import time

import httpx
import pytest
import replicate
from PIL import Image
from replicate.exceptions import ModelError, ReplicateError

from fakes.replicate import NSFW_ERROR, TRAINER, TRAINER_VERSION


def client(fake, **kwargs):
    return replicate.Client(api_token=fake.token, base_url=fake.url, **kwargs)


def make_destination(c, name="lora-1"):
    return c.models.create(owner="likeness", name=name, visibility="private", hardware="gpu-t4")


def start_training(c, destination="likeness/lora-1", **params):
    return c.trainings.create(
        model=TRAINER, version=TRAINER_VERSION, destination=destination,
        input={"input_images": "https://example.com/photos.zip", "trigger_word": "TOK",
               "steps": 20, "lora_rank": 16}, **params)


def wait_status(training, statuses=("succeeded", "failed", "canceled"), timeout=5.0):
    deadline = time.monotonic() + timeout
    while training.status not in statuses and time.monotonic() < deadline:
        time.sleep(0.05)
        training.reload()
    return training


def expected_signature(secret, headers, body):
    key = base64.b64decode(secret.split("_", 1)[1])
    message = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def test_train_then_generate_with_the_trained_version(replicate_fake):
    c = client(replicate_fake)
    trainer = c.models.get(TRAINER)
    assert trainer.latest_version.id == TRAINER_VERSION
    destination = make_destination(c)
    assert (destination.owner, destination.name, destination.visibility) == (
        "likeness", "lora-1", "private")

    training = start_training(c)
    assert training.status == "starting"
    assert training.urls["get"].endswith(f"/v1/trainings/{training.id}")
    wait_status(training, ("processing",))
    assert training.started_at and training.logs.startswith("Loading")
    wait_status(training)
    assert training.status == "succeeded"
    assert replicate_fake.training(training.id)["metrics"]["predict_time"] > 0
    owner_name, version_id = training.output["version"].split(":")
    assert owner_name == "likeness/lora-1" and len(version_id) == 64
    assert c.models.get("likeness/lora-1").latest_version.id == version_id

    tar_bytes = httpx.get(training.output["weights"]).content
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        names = tar.getnames()
        lora = tar.extractfile("output/flux_train_replicate/lora.safetensors").read()
    assert any(name.endswith("lora.safetensors") for name in names)
    header_len = int.from_bytes(lora[:8], "little")
    assert "lora_A" in json.loads(lora[8:8 + header_len]).keys().__str__()

    prediction = c.predictions.create(
        version=version_id, wait=5,
        input={"prompt": "TOK in a forest", "width": 512, "height": 768, "num_outputs": 2,
               "lora_scale": 0.9, "output_format": "png", "seed": 7})
    assert prediction.status == "succeeded"
    assert len(prediction.output) == 2
    image = Image.open(io.BytesIO(httpx.get(prediction.output[0]).content))
    assert (image.format, image.size) == ("PNG", (512, 768))
    sent = replicate_fake.calls("POST", "/v1/predictions$")[-1].json()
    assert sent["input"]["lora_scale"] == 0.9 and sent["version"] == version_id

    outputs = c.run(training.output["version"], input={"prompt": "TOK", "aspect_ratio": "16:9"})
    image = Image.open(io.BytesIO(httpx.get(str(outputs[0])).content))
    assert (image.format, image.size) == ("WEBP", (1344, 768))


def test_same_seed_gives_the_same_image(replicate_fake):
    c = client(replicate_fake)
    urls = [c.models.predictions.create("black-forest-labs/flux-dev", wait=5,
                                        input={"prompt": "p", "seed": 3, "output_format": "jpg"}
                                        ).output[0] for _ in range(2)]
    assert httpx.get(urls[0]).content == httpx.get(urls[1]).content


def test_destination_must_exist_and_models_are_unique(replicate_fake):
    c = client(replicate_fake)
    with pytest.raises(ReplicateError) as err:
        start_training(c, destination="likeness/missing")
    assert err.value.status == 404
    assert err.value.detail == "The specified training destination does not exist"
    make_destination(c)
    with pytest.raises(ReplicateError) as err:
        make_destination(c)
    assert err.value.status == 409
    with pytest.raises(ReplicateError) as err:
        c.trainings.create(model=TRAINER, version=TRAINER_VERSION,
                           destination="likeness/lora-1", input={"steps": 10})
    assert err.value.status == 422 and "input_images" in err.value.detail


def test_delete_model_needs_its_versions_deleted_first(replicate_fake):
    c = client(replicate_fake)
    make_destination(c)
    wait_status(start_training(c))
    with pytest.raises(ReplicateError) as err:
        c.models.delete("likeness/lora-1")
    assert err.value.status == 409
    model = c.models.get("likeness/lora-1")
    assert model.versions.delete(model.latest_version.id)
    assert c.models.delete("likeness/lora-1")
    with pytest.raises(ReplicateError) as err:
        c.models.get("likeness/lora-1")
    assert err.value.status == 404


def test_failed_and_canceled_trainings(replicate_fake):
    c = client(replicate_fake)
    make_destination(c)
    replicate_fake.fail_next_training("CUDA out of memory")
    failed = wait_status(start_training(c))
    assert (failed.status, failed.error, failed.output) == ("failed", "CUDA out of memory", None)

    replicate_fake.training_seconds = 30
    training = start_training(c)
    canceled = c.trainings.cancel(training.id)
    assert canceled.status == "canceled"
    assert c.trainings.get(training.id).status == "canceled"
    listed = c.trainings.list()
    assert [t.id for t in listed.results] == [training.id, failed.id]


def test_clock_advance_finishes_a_long_training(replicate_fake):
    c = client(replicate_fake)
    make_destination(c)
    replicate_fake.training_seconds = 3600
    training = start_training(c)
    replicate_fake.advance(3600)
    assert c.trainings.get(training.id).status == "succeeded"


def test_list_is_paginated(replicate_fake):
    c = client(replicate_fake)
    make_destination(c)
    replicate_fake.page_size = 2
    try:
        ids = [start_training(c).id for _ in range(3)]
        first = c.trainings.list()
        assert len(first.results) == 2 and first.next
        second = c.trainings.list(first.next)
        assert [t.id for t in [*first.results, *second.results]] == ids[::-1]
        assert second.next is None
    finally:
        replicate_fake.page_size = 100


def test_training_webhooks_are_signed(replicate_fake, receiver):
    c = client(replicate_fake)
    secret = c.webhooks.default.secret()
    assert secret.key == replicate_fake.webhook_secret and secret.key.startswith("whsec_")
    make_destination(c)
    training = start_training(c, webhook=receiver.url)
    wait_status(training)
    assert replicate_fake.wait_webhooks()
    received = receiver.received
    statuses = [json.loads(r.body)["status"] for r in received]
    assert statuses[0] == "starting" and statuses[-1] == "succeeded"
    assert "processing" in statuses  # logs events
    for hook in received:
        headers = {k.lower(): v for k, v in hook.headers.items()}
        assert headers["webhook-signature"] == expected_signature(secret.key, headers, hook.body)
        replicate.webhooks.validate(headers=headers, body=hook.body.decode(), secret=secret)
    final = json.loads(received[-1].body)
    assert final["id"] == training.id and final["output"]["version"].startswith("likeness/")


def test_webhook_filter_completed_only(replicate_fake, receiver):
    c = client(replicate_fake)
    make_destination(c)
    wait_status(start_training(c, webhook=receiver.url, webhook_events_filter=["completed"]))
    assert replicate_fake.wait_webhooks()
    assert [json.loads(r.body)["status"] for r in receiver.received] == ["succeeded"]


def test_lost_duplicated_delayed_and_retried_webhooks(replicate_fake, receiver):
    c = client(replicate_fake)
    make_destination(c)
    replicate_fake.lose_webhooks(1, event="completed")
    lost = wait_status(start_training(c, webhook=receiver.url,
                                      webhook_events_filter=["completed"]))
    assert lost.status == "succeeded"  # polling still sees it
    assert replicate_fake.wait_webhooks()
    assert receiver.received == []
    assert replicate_fake.webhook_deliveries[0].dropped

    replicate_fake.duplicate_webhooks(1)
    wait_status(start_training(c, webhook=receiver.url, webhook_events_filter=["completed"]))
    hooks = receiver.wait(2)
    assert len(hooks) == 2
    assert hooks[0].headers["webhook-id"] == hooks[1].headers["webhook-id"]

    receiver.received.clear()
    receiver.statuses = [500, 503]
    wait_status(start_training(c, webhook=receiver.url, webhook_events_filter=["completed"]))
    hooks = receiver.wait(3)
    assert replicate_fake.wait_webhooks()
    assert len(hooks) == 3 and replicate_fake.webhook_deliveries[-1].delivered
    assert [a[0] for a in replicate_fake.webhook_deliveries[-1].attempts] == [500, 503, 200]

    receiver.received.clear()
    replicate_fake.delay_webhooks(0.5)
    training = wait_status(start_training(c, webhook=receiver.url,
                                          webhook_events_filter=["completed"]))
    assert training.status == "succeeded" and receiver.received == []
    assert len(receiver.wait(1)) == 1


def test_nsfw_prediction_fails_with_replicates_text(replicate_fake):
    c = client(replicate_fake)
    replicate_fake.flag_nsfw_next()
    with pytest.raises(ModelError) as err:
        c.run("black-forest-labs/flux-dev", input={"prompt": "p"})
    assert err.value.prediction.error == NSFW_ERROR
    assert c.run("black-forest-labs/flux-dev", input={"prompt": "p"})


def test_prediction_webhook_and_unknown_version(replicate_fake, receiver):
    c = client(replicate_fake)
    prediction = c.models.predictions.create("black-forest-labs/flux-schnell",
                                             input={"prompt": "x"}, webhook=receiver.url,
                                             webhook_events_filter=["completed"])
    assert prediction.status == "starting"
    body = json.loads(receiver.wait(1)[0].body)
    assert body["status"] == "succeeded" and len(body["output"]) == 1
    with pytest.raises(ReplicateError) as err:
        c.predictions.create(version="0" * 64, input={"prompt": "x"})
    assert err.value.status == 422


def test_auth_failure(replicate_fake):
    with pytest.raises(ReplicateError) as err:
        replicate.Client(api_token="r8_wrong", base_url=replicate_fake.url).models.get(TRAINER)
    assert (err.value.status, err.value.title) == (401, "Unauthenticated")
    assert httpx.get(replicate_fake.url + "/v1/trainings").status_code == 401


def test_get_is_retried_on_503_and_429_with_retry_after(replicate_fake):
    c = client(replicate_fake)
    replicate_fake.fail(503, retry_after=0, times=2, path="/v1/models/")
    assert c.models.get(TRAINER).name == "flux-dev-lora-trainer"
    assert len(replicate_fake.calls("GET", "/v1/models/")) == 3

    replicate_fake.fail(429, retry_after=1, times=1, path="/v1/models/")
    started = time.monotonic()
    c.models.get(TRAINER)
    assert time.monotonic() - started >= 0.9
    assert replicate_fake.calls("GET", "/v1/models/")[-2].status == 429


def test_post_is_not_retried(replicate_fake):
    c = client(replicate_fake)
    replicate_fake.fail(500, times=1, path="/v1/models$")
    with pytest.raises(ReplicateError) as err:
        make_destination(c)
    assert err.value.status == 500 and err.value.title
    replicate_fake.fail(429, retry_after=5, path="/v1/models$", method="POST")
    with pytest.raises(ReplicateError) as err:
        make_destination(c)
    assert err.value.status == 429
    assert make_destination(c).name == "lora-1"


def test_timeout_malformed_and_expired(replicate_fake):
    c = client(replicate_fake, timeout=httpx.Timeout(0.3))
    replicate_fake.timeout(1.0, path="/v1/models/")
    with pytest.raises(httpx.ReadTimeout):
        c.models.get(TRAINER)
    replicate_fake.malformed(path="/v1/models/")
    with pytest.raises(ValueError):
        c.models.get(TRAINER)
    prediction = c.models.predictions.create("black-forest-labs/flux-dev", wait=5,
                                             input={"prompt": "x"})
    url = prediction.output[0]
    assert httpx.get(url).status_code == 200
    replicate_fake.expire(url)
    assert httpx.get(url).status_code == 404
