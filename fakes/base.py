"""The shared machinery of the fake providers: a real HTTP server on 127.0.0.1, routing, request
recording, auth, fault injection and a clock; the HTTP plumbing is in fakes.http, the file host in
fakes.files and the webhook sender with faults in fakes.webhooks.

Standard library only (plus Pillow for images and, for fal, `cryptography` when present), so that
the fakes run anywhere the project runs.
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The fakes import the plumbing from here; it lives in fakes.http, .files and .webhooks.
from fakes.files import FileHost
from fakes.http import (  # noqa: F401
    HttpError,
    Request,
    Response,
    _Handler,
    _Server,
    b64,
    first,
    json_response,
    random_id,
    route,
    utcnow_iso,
)
from fakes.webhooks import WebhookDelivery, WebhookSender  # noqa: F401

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

class FakeServer(FileHost):
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
