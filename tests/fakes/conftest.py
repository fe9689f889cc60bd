"""Fixtures for the fakes' own tests: each fake runs once per module and is reset per test; a
webhook receiver records what the fakes post."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fakes import FakeFal, FakeHuggingFace, FakeNebius, FakeReplicate, FakeTogether


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    """A webhook endpoint: records every POST; answers with the queued statuses, then 200."""

    url: str = ""
    received: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def wait(self, count: int, timeout: float = 5.0) -> list:
        with self.lock:
            self.lock.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@pytest.fixture
def receiver():
    box = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with box.lock:
                status = box.statuses.pop(0) if box.statuses else 200
                headers = {k.lower(): v for k, v in self.headers.items()}
                box.received.append(Received(self.path, headers, body))
                box.lock.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def replicate_fake(fake_servers):
    fake = fake_servers.get(FakeReplicate, training_seconds=0.3, prediction_seconds=0.1)
    fake.training_seconds, fake.prediction_seconds = 0.3, 0.1  # a test may have changed them
    return fake


@pytest.fixture
def fal_fake(fake_servers):
    return fake_servers.get(FakeFal, training_seconds=0.3, generation_seconds=0.1,
                            queue_seconds=0.05)


@pytest.fixture
def hf_fake(fake_servers):
    return fake_servers.get(FakeHuggingFace)


@pytest.fixture
def together_fake(fake_servers):
    return fake_servers.get(FakeTogether)


@pytest.fixture
def nebius_fake(fake_servers):
    return fake_servers.get(FakeNebius)
