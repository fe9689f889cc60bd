"""The fakes' HTTP plumbing: the request and response records, the `@route` marker, the error a
handler raises, and the standard-library server and handler every fake runs on."""

from __future__ import annotations

import base64
import json
import secrets
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:  # the server dispatches through its fake; the fake imports this module
    from fakes.base import FakeServer


def utcnow_iso() -> str:
    """An RFC 3339 timestamp with microseconds and a Z, as most provider APIs write them."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def random_id(length: int = 26, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


# --------------------------------------------------------------------------------------------
# Requests and responses


@dataclass
class Request:
    """One request as the fake received it. Kept in `FakeServer.requests` for assertions."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # header names lower-cased
    body: bytes
    at: float = field(default_factory=time.time)
    status: int | None = None  # the status the fake answered with (None until answered)
    # The fake's own time on it (a provider's service time: its waits, its image making), in
    # ms, also sent as the standard `Server-Timing` response header; None until answered.
    service_ms: float | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path} -> {self.status}>"


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200, headers: dict | None = None,
                  content_type: str = "application/json") -> Response:
    return Response(status, json.dumps(obj).encode(), content_type, dict(headers or {}))


class HttpError(Exception):
    """Raise from a handler to answer with the fake's own error shape."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def route(method: str, pattern: str, *, auth: bool = True):
    """Mark a method of a FakeServer subclass as the handler of `method` + full-match `pattern`.
    Named groups become keyword arguments. `auth=False` skips the auth check."""

    def decorate(fn):
        fn.__dict__.setdefault("_fake_routes", []).append((method.upper(), pattern, auth))
        return fn

    return decorate


# --------------------------------------------------------------------------------------------
# The server


class _Handler(BaseHTTPRequestHandler):
    # Answer at once: without this, Nagle's algorithm adds ~40 ms to every small answer.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "FakeProvider/1.0"
    fake: FakeServer  # set on a per-server subclass

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _any(self):
        try:
            body = self._read_body()
            parts = urlsplit(self.path)
            req = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            started = time.perf_counter()
            resp = self.fake._dispatch(req)
            req.service_ms = (time.perf_counter() - started) * 1000
            req.status = resp.status
            payload = b"" if self.command == "HEAD" else resp.body
            self.send_response(resp.status)
            if resp.content_type:
                self.send_header("Content-Type", resp.content_type)
            for key, value in resp.headers.items():
                self.send_header(key, value)
            # W3C Server Timing: clients that do not read it ignore it (every SDK here does).
            self.send_header("Server-Timing", f"fake;dur={req.service_ms:.1f}")
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):  # quiet on client disconnects
        exc = sys.exc_info()[1]
        if not isinstance(exc, (BrokenPipeError, ConnectionResetError, TimeoutError)):
            super().handle_error(request, client_address)



def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def first(values: Iterable, default=None):
    return next(iter(values), default)
