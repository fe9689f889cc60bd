"""The shared machinery of the fake providers: a real HTTP server on 127.0.0.1, routing, request
recording, auth, fault injection, a tiny file host, a clock, and a webhook sender with faults.

Standard library only (plus Pillow for images and, for fal, `cryptography` when present), so that
the fakes run anywhere the project runs.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import re
import secrets
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


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
# Faults


@dataclass
class Fault:
    kind: str  # "fail" | "timeout" | "malformed"
    remaining: int
    path: re.Pattern | None = None
    method: str | None = None
    status: int = 500
    body: Any = None
    retry_after: float | str | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str, is_file: bool) -> bool:
        if self.method and self.method != method:
            return False
        if self.path is None:
            return not is_file  # unfiltered faults hit the API, never the file host
        return bool(self.path.search(path))


# --------------------------------------------------------------------------------------------
# Webhooks


@dataclass
class WebhookDelivery:
    """One webhook the fake sent (or dropped). `attempts` lists (status or None, error)."""

    id: str
    url: str
    event: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    dropped: bool = False
    duplicate: bool = False
    retry: bool = False
    attempts: list = field(default_factory=list)
    delivered: bool = False

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def status(self) -> int | None:
        return self.attempts[-1][0] if self.attempts else None


class WebhookSender:
    """Sends webhooks from a background thread, with faults: lost, duplicated, delayed, and
    retries of failed deliveries (the fake decides per delivery whether it is retried)."""

    def __init__(self, sign: Callable[[WebhookDelivery], dict[str, str]]) -> None:
        self._sign = sign
        self._lock = threading.Condition()
        self._heap: list = []
        self._seq = itertools.count()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._in_flight = 0
        self.deliveries: list[WebhookDelivery] = []
        self.lose = 0
        self.lose_event: str | None = None
        self.duplicate = 0
        self.delay = 0.0
        self.max_attempts = 4
        self.retry_delay = 0.2
        self.timeout = 5.0

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="fake-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self._lock.notify_all()
        if self._thread:
            self._thread.join(timeout=2)

    def reset(self) -> None:
        with self._lock:
            self._heap.clear()
            self.deliveries.clear()
            self.lose = self.duplicate = 0
            self.lose_event = None
            self.delay = 0.0

    def send(self, url: str, event: str, body: bytes, *, retry: bool = False) -> WebhookDelivery:
        delivery = WebhookDelivery(id="msg_" + uuid.uuid4().hex, url=url, event=event, body=body,
                                   retry=retry)
        with self._lock:
            self.deliveries.append(delivery)
            if self.lose and (self.lose_event is None or self.lose_event == event):
                self.lose -= 1
                delivery.dropped = True
                return delivery
            copies = 1
            if self.duplicate:
                self.duplicate -= 1
                delivery.duplicate = True
                copies = 2
            due = time.monotonic() + self.delay
            for _ in range(copies):
                heapq.heappush(self._heap, (due, next(self._seq), delivery, 1))
            self._lock.notify_all()
        return delivery

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is queued or being sent (delayed/retried deliveries included)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._heap or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
        return True

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stop and (not self._heap or self._heap[0][0] > time.monotonic()):
                    wait = (self._heap[0][0] - time.monotonic()) if self._heap else None
                    self._lock.wait(wait if wait is None else max(wait, 0.001))
                if self._stop:
                    return
                _due, _seq, delivery, attempt = heapq.heappop(self._heap)
                self._in_flight += 1
            try:
                self._deliver(delivery, attempt)
            finally:
                with self._lock:
                    self._in_flight -= 1
                    self._lock.notify_all()

    def _deliver(self, delivery: WebhookDelivery, attempt: int) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "fake-provider-webhooks/1"}
        headers.update(self._sign(delivery))
        delivery.headers = headers
        status, error = None, None
        try:
            req = urllib.request.Request(delivery.url, data=delivery.body,  # noqa: S310
                                         headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                status = resp.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, str(exc)
        except Exception as exc:  # connection refused, timeout, ...
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            delivery.attempts.append((status, error))
            ok = status is not None and 200 <= status < 300
            delivery.delivered = delivery.delivered or ok
            if not ok and delivery.retry and attempt < self.max_attempts and not self._stop:
                due = time.monotonic() + self.retry_delay * (2 ** (attempt - 1))
                heapq.heappush(self._heap, (due, next(self._seq), delivery, attempt + 1))


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
            resp = self.fake._dispatch(req)
            req.status = resp.status
            payload = b"" if self.command == "HEAD" else resp.body
            self.send_response(resp.status)
            if resp.content_type:
                self.send_header("Content-Type", resp.content_type)
            for key, value in resp.headers.items():
                self.send_header(key, value)
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


class FakeServer:
    """Base of every fake. Subclasses declare routes with `@route` and override `check_auth`,
    `auth_error`, `error_response` and `tick` as their provider does."""

    name = "fake"
    default_token = "test-token"
    tick_interval = 0.02
    image_max_pixels = 1_200_000

    def __init__(self, token: str | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 public_url: str | None = None) -> None:
        self.token = token or self.default_token
        self.host = host
        self.port = port
        self._public_url = public_url.rstrip("/") if public_url else None
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified after every state change
        self._requests: list[Request] = []
        self._faults: list[Fault] = []
        self._files: dict[str, tuple[bytes, str]] = {}
        self._expired: set[str] = set()
        self._clock_offset = 0.0
        self.retired: set[str] = set()  # models (endpoints) no longer served, see retire()
        self._epoch = 0  # moves on at every reset
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._running = False
        self.webhooks = WebhookSender(self.sign_webhook)
        self._routes = self._collect_routes()

    # ----- lifecycle

    @property
    def url(self) -> str:
        if self._public_url:
            return self._public_url
        if not self._server:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self):
        if self._server:
            return self
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server((self.host, self.port), handler)
        self._running = True
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                 name=f"{self.name}-http", daemon=True)
        ticker = threading.Thread(target=self._tick_loop, name=f"{self.name}-tick", daemon=True)
        self._threads = [serve, ticker]
        for thread in self._threads:
            thread.start()
        self.webhooks.start()
        return self

    def stop(self) -> None:
        if not self._server:
            return
        self._running = False
        self.webhooks.stop()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self) -> None:
        """Forget every request, fault, file, webhook and job; back to the initial state."""
        with self.lock:
            self._epoch += 1
            self._requests.clear()
            self._faults.clear()
            self._files.clear()
            self._expired.clear()
            self._clock_offset = 0.0
            self.retired = set()
            self.webhooks.reset()
            self.reset_state()
            self.changed.notify_all()

    def reset_state(self) -> None:
        """Subclasses clear their own in-memory state here."""

    def retire(self, model: str) -> None:
        """The model (or endpoint) is no longer served: the fake answers for it as its
        service does for a model it does not serve, and leaves it out of its listings."""
        with self.lock:
            self.retired.add(model)

    # ----- clock

    def now(self) -> float:
        """The fake's clock (monotonic seconds), which `advance()` can move forward."""
        return time.monotonic() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (jobs finish sooner) and run one tick at once."""
        with self.lock:
            self._clock_offset += seconds
        self.tick_now()

    def tick_now(self) -> None:
        with self.lock:
            self.tick(self.now())
            self.changed.notify_all()

    def tick(self, now: float) -> None:
        """Advance jobs to `now`. Called under `self.lock` every `tick_interval` seconds."""

    def _tick_loop(self) -> None:
        while self._running:
            try:
                self.tick_now()
            except Exception:
                traceback.print_exc()
            time.sleep(self.tick_interval)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait (up to `timeout`) until `predicate()` is true; it is evaluated under the lock."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.05))
        return True

    # ----- recording

    @property
    def requests(self) -> list[Request]:
        with self.lock:
            return list(self._requests)

    def calls(self, method: str | None = None, path: str | None = None) -> list[Request]:
        """Recorded requests, filtered by method and a regex searched in the path."""
        pattern = re.compile(path) if path else None
        return [r for r in self.requests
                if (method is None or r.method == method.upper())
                and (pattern is None or pattern.search(r.path))]

    # ----- faults

    def _add_fault(self, fault: Fault) -> None:
        with self.lock:
            self._faults.append(fault)

    def fail(self, status: int = 500, body: Any = None, retry_after: float | str | None = None,
             times: int = 1, path: str | None = None, method: str | None = None) -> None:
        """Answer the next `times` matching requests with `status` and the provider's own error
        body (or `body`: a dict/list is sent as JSON, str/bytes as is), with Retry-After if
        given. `path` is a regex searched in the request path; None means every API request."""
        self._add_fault(Fault("fail", times, re.compile(path) if path else None,
                              method.upper() if method else None, status=status, body=body,
                              retry_after=retry_after))

    def timeout(self, seconds: float = 10.0, times: int = 1, path: str | None = None,
                method: str | None = None) -> None:
        """Sleep `seconds` before handling the next `times` matching requests (which are then
        handled normally: a POST that the client gave up on still takes effect)."""
        self._add_fault(Fault("timeout", times, re.compile(path) if path else None,
                              method.upper() if method else None, seconds=seconds))

    def malformed(self, times: int = 1, path: str | None = None, method: str | None = None) -> None:
        """Answer the next `times` matching requests with 200 and a body that is not JSON."""
        self._add_fault(Fault("malformed", times, re.compile(path) if path else None,
                              method.upper() if method else None))

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def _take_fault(self, req: Request) -> Fault | None:
        is_file = req.path.startswith("/files/")
        with self.lock:
            for fault in self._faults:
                if fault.matches(req.method, req.path, is_file):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ----- webhooks

    def sign_webhook(self, delivery: WebhookDelivery) -> dict[str, str]:
        """Headers that sign `delivery`; computed at each attempt."""
        return {}

    def lose_webhooks(self, n: int = 1, event: str | None = None) -> None:
        """Drop the next `n` webhooks (only those of `event`, if given) without sending them."""
        with self.webhooks._lock:
            self.webhooks.lose = n
            self.webhooks.lose_event = event

    def duplicate_webhooks(self, n: int = 1) -> None:
        """Send each of the next `n` webhooks twice (same id, as a provider redelivery does)."""
        with self.webhooks._lock:
            self.webhooks.duplicate = n

    def delay_webhooks(self, seconds: float) -> None:
        """Hold every following webhook for `seconds` before sending it (0 to stop)."""
        with self.webhooks._lock:
            self.webhooks.delay = seconds

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self.webhooks._lock:
            return list(self.webhooks.deliveries)

    def wait_webhooks(self, timeout: float = 5.0) -> bool:
        return self.webhooks.wait_idle(timeout)

    # ----- file host

    def serve_bytes(self, name: str, data: bytes, content_type: str = "application/octet-stream"
                    ) -> str:
        """Host `data` on this server (no auth, like a provider's CDN) and return its URL."""
        path = f"/files/{uuid.uuid4().hex}/{name}"
        with self.lock:
            self._files[path] = (data, content_type)
        return self.url + path

    def expire(self, url: str) -> None:
        """Make a hosted file answer 404 from now on (provider result URLs expire)."""
        path = urlsplit(url).path
        with self.lock:
            self._expired.add(path)

    def expire_all(self) -> None:
        with self.lock:
            self._expired.update(self._files)

    def file_bytes(self, url: str) -> bytes:
        with self.lock:
            return self._files[urlsplit(url).path][0]

    @route("GET", r"/files/(?P<key>[0-9a-f]{32})/(?P<name>.+)", auth=False)
    @route("HEAD", r"/files/(?P<key>[0-9a-f]{32})/(?P<name>.+)", auth=False)
    def _get_file(self, req: Request, key: str, name: str) -> Response:
        with self.lock:
            entry = None if req.path in self._expired else self._files.get(req.path)
        if entry is None:
            return self.file_not_found()
        data, content_type = entry
        return Response(200, data, content_type)

    def file_not_found(self) -> Response:
        return Response(404, b"Not Found", "text/plain")

    # ----- auth and errors (override per provider)

    def check_auth(self, req: Request) -> bool:
        return req.header("authorization") == f"Bearer {self.token}"

    def auth_error(self, req: Request) -> Response:
        return self.error_response(401, "Unauthorized")

    def error_response(self, status: int, message: str, **extra: Any) -> Response:
        return json_response({"error": message, **extra}, status)

    def not_found(self, req: Request) -> Response:
        return self.error_response(404, "Not found")

    # ----- dispatch

    def _collect_routes(self):
        routes = []
        seen = set()
        for klass in type(self).__mro__:
            for attr, fn in vars(klass).items():
                if attr in seen or not callable(fn):
                    continue
                for method, pattern, auth in getattr(fn, "_fake_routes", ()):
                    routes.append((method, re.compile(pattern), auth, attr))
                if hasattr(fn, "_fake_routes"):
                    seen.add(attr)
        return routes

    def _dispatch(self, req: Request) -> Response:
        with self.lock:
            self._requests.append(req)
        fault = self._take_fault(req)
        if fault and fault.kind == "fail":
            return self._fault_response(fault)
        if fault and fault.kind == "timeout":
            epoch = self._epoch
            time.sleep(fault.seconds)
            if epoch != self._epoch:
                # The fake was reset while this request waited (the test that asked for the
                # delay is over): a late request must not change the next test's state.
                return Response(503, b'{"detail": "the fake was reset"}', "application/json")
        if fault and fault.kind == "malformed":
            return Response(200, b'{"this is": not json', "application/json")
        allowed = False
        for method, pattern, auth, attr in self._routes:
            match = pattern.fullmatch(req.path)
            if not match:
                continue
            allowed = True
            if method != req.method:
                continue
            if auth and not self.check_auth(req):
                return self.auth_error(req)
            try:
                resp = getattr(self, attr)(req, **match.groupdict())
            except HttpError as exc:
                resp = self.error_response(exc.status, exc.message, **exc.extra)
            except Exception:
                traceback.print_exc()
                resp = self.error_response(500, "Internal server error")
            with self.changed:
                self.changed.notify_all()
            return resp
        if allowed:
            return self.error_response(405, "Method not allowed")
        return self.not_found(req)

    def _fault_response(self, fault: Fault) -> Response:
        if fault.body is None:
            resp = self.error_response(fault.status, _REASONS.get(fault.status, "Error"))
        elif isinstance(fault.body, (dict, list)):
            resp = json_response(fault.body, fault.status)
        else:
            data = fault.body.encode() if isinstance(fault.body, str) else fault.body
            resp = Response(fault.status, data, "text/plain")
        if fault.retry_after is not None:
            ra = fault.retry_after
            resp.headers["Retry-After"] = str(int(ra) if isinstance(ra, float) and ra.is_integer()
                                              else ra)
        return resp

    # ----- helpers for subclasses

    def body_json(self, req: Request) -> Any:
        try:
            return json.loads(req.body or b"{}")
        except ValueError as exc:
            raise HttpError(400, f"Invalid JSON body: {exc}") from None

    def make_image(self, width: int, height: int, seed: int, fmt: str = "png",
                   index: int = 0) -> tuple[bytes, int, int, str]:
        from fakes.images import make_image

        return make_image(width, height, seed, fmt, index=index, max_pixels=self.image_max_pixels)

    def host_image(self, width: int, height: int, seed: int, fmt: str = "png", index: int = 0,
                   prefix: str = "out") -> dict:
        data, w, h, content_type = self.make_image(width, height, seed, fmt, index)
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[content_type]
        url = self.serve_bytes(f"{prefix}-{index}.{ext}", data, content_type)
        return {"url": url, "width": w, "height": h, "content_type": content_type, "data": data}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def first(values: Iterable, default=None):
    return next(iter(values), default)


_REASONS = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    408: "Request timeout",
    409: "Conflict",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
