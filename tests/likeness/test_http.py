"""The outbound HTTP seam as completion callbacks use it: the address checked is the address
connected to (a DNS answer that changes after the check cannot reach a private network), and
PROVIDER_TIMEOUT_SECONDS bounds every call."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api.callbacks import deliver_callback
from api.models import Callback
from likeness import http
from likeness.errors import InvalidInput, ProviderError

PUBLIC = "93.184.215.14"  # a global unicast address (never connected to here)


class Recorder(BaseHTTPRequestHandler):
    hits: list = []
    delay = 0.0

    def log_message(self, *args):
        pass

    def do_POST(self):
        type(self).hits.append(self.path)
        time.sleep(type(self).delay)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()


@pytest.fixture
def local_server():
    handler = type("Handler", (Recorder,), {"hits": [], "delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()


@pytest.fixture
def rebinding_dns(monkeypatch):
    """`rebind.example` resolves to a public address the first time it is asked, and to
    127.0.0.1 afterwards (a DNS rebinding attack)."""
    real, asked = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = PUBLIC if len(asked) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 80))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


NOT_GLOBAL = [
    "100.64.0.1", "100.100.100.200", "100.127.255.254",  # carrier-grade NAT, cloud metadata
    "169.254.169.254", "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "0.0.0.0",
    "192.0.0.8", "198.18.0.1", "224.0.0.251", "240.0.0.1", "255.255.255.255",
    "::", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1",
    "2001:db8::1",
    "2002:7f00:1::", "2002:a9fe:a9fe::", "2002:6440:1::", "2002:0a00:0001::",  # 6to4
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::1",  # Teredo, whatever it wraps
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::6464:64c8",  # NAT64 of private ones
    "64:ff9b:1::a00:1", "64:ff9b:1:808:808::", "64:ff9b:1::808:808",  # NAT64, local use
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:100.100.100.200",  # IPv4-mapped
    "::127.0.0.1", "::10.0.0.1", "::169.254.169.254",  # IPv4-compatible
    "100::1", "3fff::1", "not an address", "",
]
GLOBAL = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::1",
          "2002:5db8:d70e::1", "64:ff9b::808:808", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_every_address_that_is_not_global_is_refused(address):
    assert not http.is_public_address(address)


@pytest.mark.parametrize("address", GLOBAL)
def test_global_addresses_and_what_wraps_them_pass(address):
    assert http.is_public_address(address)


@pytest.mark.parametrize("url", ["http://100.64.0.1/", "http://100.100.100.200/latest",
                                 "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::]/",
                                 "http://[::ffff:a9fe:a9fe]/", "http://[::10.0.0.1]/",
                                 "http://[64:ff9b::a9fe:a9fe]/", "http://2130706433/",
                                 "http://0x7f.1/"])
def test_the_callback_check_refuses_them(settings, url):
    settings.CALLBACKS_ALLOW_PRIVATE = False
    with pytest.raises(InvalidInput, match="private or internal"):
        http.check_public_url(url)


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["100.100.100.200", "2002:a9fe:a9fe::", "::10.0.0.1"])
def test_the_guard_refuses_them_at_connection_time(settings, monkeypatch, answer):
    """A name that resolves to one of them is refused by the connection itself, whatever the
    check before said."""
    settings.CALLBACKS_ALLOW_PRIVATE = False
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "meta.example":
            family = socket.AF_INET6 if ":" in answer else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answer, port or 80))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(ProviderError, match="private or internal address"):
        http.send("POST", "http://meta.example/hook", service="a callback", content=b"{}",
                  http=http.client(public_only=True, follow_redirects=False))


@pytest.mark.django_db
def test_a_dns_answer_that_changes_after_the_check_reaches_nothing(settings, local_server,
                                                                   rebinding_dns, alice):
    settings.CALLBACKS_ALLOW_PRIVATE = False
    server, handler = local_server
    url = f"http://rebind.example:{server.server_port}/hook"
    http.check_public_url(url)  # what the API checks when the callback URL is given
    callback = Callback.objects.create(user=alice, kind="generation",
                                       object_id="00000000-0000-0000-0000-000000000000",
                                       url=url)

    deliver_callback.call(callback.pk)

    callback.refresh_from_db()
    assert callback.delivered_at is None
    assert "private or internal address" in callback.last_error
    assert handler.hits == []  # nothing reached the private address
    assert len(rebinding_dns) == 2  # checked, then resolved once more by the guard itself


@pytest.mark.django_db
def test_the_guard_connects_to_the_address_it_checked(settings, local_server, monkeypatch):
    """The guard resolves once and connects to that address, so there is no second answer
    for an attacker to change."""
    settings.CALLBACKS_ALLOW_PRIVATE = False
    server, handler = local_server
    real, asked = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "once.example":
            asked.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(http, "is_public_address", lambda text: text == "127.0.0.1")
    response = http.send("POST", f"http://once.example:{server.server_port}/hook",
                         service="a callback", content=b"{}",
                         http=http.client(public_only=True, follow_redirects=False))
    assert response.status_code == 200 and handler.hits == ["/hook"]
    assert asked == ["once.example"]  # one resolution, used for the connection


@pytest.mark.django_db
def test_callbacks_give_up_after_the_provider_timeout(settings, local_server, alice):
    settings.CALLBACKS_ALLOW_PRIVATE = True
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5
    server, handler = local_server
    handler.delay = 30  # a callback endpoint that never answers
    callback = Callback.objects.create(
        user=alice, kind="generation", object_id="00000000-0000-0000-0000-000000000000",
        url=f"http://127.0.0.1:{server.server_port}/slow")
    started = time.monotonic()
    deliver_callback.call(callback.pk)
    elapsed = time.monotonic() - started
    callback.refresh_from_db()
    assert callback.delivered_at is None and "did not answer" in callback.last_error
    assert elapsed < 15, elapsed  # bounded by the 0.5 s timeout, not by the endpoint's 30 s


def test_the_timeout_follows_the_setting(settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 7
    client = http.client(public_only=True)
    assert client.timeout.read == 7 and client.timeout.connect == 7
    with pytest.raises(ProviderError):
        http.send("GET", "http://127.0.0.1:9/", service="nothing", http=http.client())
