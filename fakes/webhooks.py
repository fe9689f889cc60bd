"""The fakes' webhook sender: deliveries in the background with the provider's signature, and the
faults a test asks for (lost, duplicated, delayed), retried as the provider retries."""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
