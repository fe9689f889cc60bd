"""Completion callbacks: signed with the account's secret, retried with backoff, and never sent
to private or internal addresses unless the deployment allows it."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api.callbacks import deliver_callback, signing_secret
from api.models import Callback
from credits.actions import get_balance, grant
from generation.models import Generation
from likeness.errors import InvalidInput
from likeness.http import check_public_url as check_url
from studio import actions
from studio.models import TrainingRun
from tests.api.conftest import assert_error
from tests.factories import consent_for
from tests.studio.photos import person_jpeg


@pytest.fixture
def receiver():
    """A callback endpoint on 127.0.0.1 that answers with the queued statuses, then 200."""
    box = {"received": [], "statuses": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            box["received"].append((dict(self.headers), body))
            self.send_response(box["statuses"].pop(0) if box["statuses"] else 200)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box["url"] = f"http://127.0.0.1:{server.server_port}/hook"
    yield box
    server.shutdown()


@pytest.fixture
def model(alice, settings):
    settings.TRAINING_DEMO_SECONDS = 0.001
    grant(alice, 100, reason="test", reference="test:callbacks")
    model = actions.create_model(alice, name="Alice", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    consent_for(model)  # the consent selfie matched (tests/studio/test_consent.py)
    return model


def test_a_finished_training_is_posted_signed(alice_api, model, run_jobs, receiver, settings,
                                              alice):
    settings.CALLBACKS_ALLOW_PRIVATE = True
    receiver["statuses"] = [500]  # the first delivery fails and is retried
    response = alice_api.post(f"/api/v1/models/{model.id}/train",
                              {"callback_url": receiver["url"]}, content_type="application/json")
    assert response.status_code == 202 and response.json()["callback_url"] == receiver["url"]
    settings.JOB_RETRY_BASE_SECONDS = 0
    run_jobs()
    assert len(receiver["received"]) == 2
    headers, body = receiver["received"][-1]
    event = json.loads(body)
    assert event["type"] == "training.succeeded" and event["data"]["id"] == response.json()["id"]
    stamp, signature = (part.split("=", 1)[1] for part in headers["Likeness-Signature"].split(","))
    expected = hmac.new(signing_secret(alice).encode(), f"{stamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    callback = Callback.objects.get()
    assert callback.delivered_at and callback.attempts == 2
    deliver_callback.call(callback.pk)  # a late duplicate job sends nothing more
    assert len(receiver["received"]) == 2


# The addresses an attacker had accepted, and their kin: carrier-grade NAT and a cloud metadata
# address, 6to4 wrapping 127.0.0.1 and 169.254.169.254, IPv4-compatible and NAT64 forms, and a
# malformed IPv6 literal.
ISSUE_16 = ("http://100.64.0.1/", "http://100.100.100.200/", "http://[2002:7f00:1::]/",
            "http://[2002:a9fe:a9fe::]/", "http://[::10.0.0.1]/", "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "http://[::1/", "http://[::1]:x/")


def test_such_callbacks_change_nothing_for_generations(alice_api, alice, settings):
    settings.CALLBACKS_ALLOW_PRIVATE = False
    balance = get_balance(alice)
    for url in ISSUE_16:
        response = alice_api.post("/api/v1/generations", {"prompt": "a cat", "callback_url": url},
                                  content_type="application/json")
        details = assert_error(response, 422, "validation_error")
        assert details["field"] == "callback_url", url
    assert not Generation.objects.exists() and get_balance(alice) == balance


def test_private_addresses_are_refused_unless_allowed(alice_api, model, settings):
    settings.CALLBACKS_ALLOW_PRIVATE = False
    settings.RATE_LIMIT_TRAININGS = ""  # more refusals in a row than the hourly limit
    for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x",
                "http://169.254.169.254/latest", "http://[::1]/x", "ftp://example.com/x",
                "http://user:pw@example.com/x", *ISSUE_16):
        response = alice_api.post(f"/api/v1/models/{model.id}/train", {"callback_url": url},
                                  content_type="application/json")
        assert_error(response, 422, "validation_error")
    assert not TrainingRun.objects.exists()
    with pytest.raises(InvalidInput):
        check_url("http://0.0.0.0/")


def test_the_signing_secret_is_shown_on_the_api_page(alice_client, alice):
    body = alice_client.get("/dashboard/api-keys/").content.decode()
    assert signing_secret(alice) in body and signing_secret(alice).startswith("lksig_")
