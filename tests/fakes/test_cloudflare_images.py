"""The Cloudflare Images fake speaks the wire contract of docs/providers.md: multipart upload with
file, id, metadata and requireSignedURLs; success and failure envelopes; signed delivery."""

import hashlib
import hmac
import json
import time

import httpx
import pytest

from fakes.cloudflare_images import FakeCloudflareImages


@pytest.fixture
def fake(fake_servers):
    return fake_servers.get(FakeCloudflareImages)


@pytest.fixture
def api(fake):
    with httpx.Client(base_url=f"{fake.url}/client/v4/accounts/{fake.account_id}",
                      headers={"Authorization": f"Bearer {fake.token}"}, timeout=5) as client:
        yield client


def upload(api, data=b"\x89PNG fake", **fields):
    return api.post("/images/v1", files={"file": ("a.png", data, "image/png")}, data=fields)


def test_upload_answers_the_success_envelope(api, fake):
    response = upload(api, id="my-id", metadata=json.dumps({"k": "v"}),
                      requireSignedURLs="false")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    result = body["result"]
    assert result["id"] == "my-id" and result["filename"] == "a.png"
    assert result["meta"] == {"k": "v"} and result["requireSignedURLs"] is False
    assert result["uploaded"].endswith("Z")
    assert result["variants"] == [f"{fake.url}/cdn/{fake.account_hash}/my-id/public",
                                  f"{fake.url}/cdn/{fake.account_hash}/my-id/thumbnail"]
    assert httpx.get(result["variants"][0]).content == b"\x89PNG fake"


def test_failure_envelopes(api, fake):
    upload(api, id="taken")
    cases = [
        (upload(api, id="taken"), 409, 5409),
        (api.post("/images/v1", data={"id": "x"}), 400, 5400),  # no file
        (upload(api, metadata="{not json"), 400, 5400),
        (upload(api, metadata=json.dumps({"k": "v" * 1100})), 400, 5400),
        (upload(api, id="custom", requireSignedURLs="true"), 400, 5400),
        (api.get("/images/v1/nope"), 404, 5404),
        (api.delete("/images/v1/nope"), 404, 5404),
        (httpx.post(f"{fake.url}/client/v4/accounts/{fake.account_id}/images/v1",
                    files={"file": ("a", b"x")}, headers={"Authorization": "Bearer bad"}),
         401, 10000),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["success"] is False and body["result"] is None
        assert body["errors"][0]["code"] == code and body["errors"][0]["message"]


def test_get_and_delete(api, fake):
    image_id = upload(api).json()["result"]["id"]
    assert api.get(f"/images/v1/{image_id}").json()["result"]["id"] == image_id
    assert api.delete(f"/images/v1/{image_id}").json()["success"] is True
    assert fake.images == {}
    assert httpx.get(f"{fake.url}/cdn/{fake.account_hash}/{image_id}/public").status_code == 404


def test_signed_delivery(api, fake):
    result = upload(api, requireSignedURLs="true").json()["result"]
    url = result["variants"][0]
    path = url.removeprefix(fake.url)
    assert httpx.get(url).status_code == 403
    exp = int(time.time()) + 60
    sig = hmac.new(fake.signing_key.encode(), f"{path}?exp={exp}".encode(),
                   hashlib.sha256).hexdigest()
    assert httpx.get(f"{url}?exp={exp}&sig={sig}").status_code == 200
    old = int(time.time()) - 1
    old_sig = hmac.new(fake.signing_key.encode(), f"{path}?exp={old}".encode(),
                       hashlib.sha256).hexdigest()
    assert httpx.get(f"{url}?exp={old}&sig={old_sig}").status_code == 403


def test_fault_injection_uses_the_envelope(api, fake):
    fake.fail(500, times=1)
    response = upload(api)
    assert response.status_code == 500
    assert response.json()["success"] is False
    assert upload(api).status_code == 200
