"""The shared machinery: recording, faults, the file host, reset, and the CLI."""

import signal
import subprocess
import sys
import time

import httpx

from fakes import FakeTogether


def test_recording_faults_files_and_reset():
    with FakeTogether() as fake:
        auth = {"Authorization": f"Bearer {fake.token}"}
        url = fake.serve_bytes("a.txt", b"hello", "text/plain")
        fake.fail(500, times=2, method="POST")
        assert httpx.get(url).text == "hello"  # files need no auth; API faults skip them
        assert httpx.post(fake.url + "/v1/images/generations", json={}, headers=auth
                          ).status_code == 500
        fake.fail(418, body={"custom": True}, path="^/files/")
        response = httpx.get(url)
        assert (response.status_code, response.json()) == (418, {"custom": True})
        assert httpx.post(fake.url + "/v1/images/generations", json={}, headers=auth
                          ).status_code == 500
        assert httpx.post(fake.url + "/v1/images/generations", json={}, headers=auth
                          ).status_code == 400
        assert [r.status for r in fake.calls("POST")] == [500, 500, 400]
        assert fake.calls(path="^/files/")[0].method == "GET"
        assert httpx.get(fake.url + "/nowhere", headers=auth).status_code == 404
        fake.reset()
        assert fake.requests == [] and httpx.get(url).status_code == 404


def test_cli_runs_until_terminated():
    proc = subprocess.Popen([sys.executable, "-m", "fakes", "--replicate", "0", "--fal", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert lines[0].startswith("replicate: http://127.0.0.1:")
        assert "webhook_secret=whsec_" in lines[0] and "public_key_hex=" in lines[1]
        replicate_url = lines[0].split()[1]
        token = lines[0].split("token=")[1].split()[0]
        resp = httpx.get(replicate_url + "/v1/webhooks/default/secret",
                         headers={"Authorization": f"Bearer {token}"})
        assert resp.json()["key"].startswith("whsec_")
    finally:
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0


def test_a_delayed_request_cannot_change_the_state_after_a_reset():
    # The root cause of a flaky gallery test: a request the client gave up on (a timeout
    # fault) finished after the next test had reset the shared fake, and left an image in it.
    from fakes.cloudflare_images import FakeCloudflareImages

    with FakeCloudflareImages() as fake:
        fake.timeout(0.6, path=r"/images/v1$")
        url = f"{fake.url}/client/v4/accounts/{fake.account_id}/images/v1"
        try:
            httpx.post(url, headers={"Authorization": f"Bearer {fake.token}"},
                       files={"file": ("a.png", b"\x89PNG fake", "image/png")}, timeout=0.1)
        except httpx.TimeoutException:
            pass
        fake.reset()  # the next test begins
        time.sleep(1.0)  # the delayed request has ended by now
        assert fake.images == {}
