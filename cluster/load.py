"""HTTP clients for the cluster: API clients that generate and train, and a bounded load
generator (wrk when installed, else keep-alive Python threads) for the throughput figures.
Every request goes to 127.0.0.1 only."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class ApiError(RuntimeError):
    pass


class Api:
    """A tiny keep-alive JSON client for one API key against one web process."""

    def __init__(self, base_url: str, key: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.key = key
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body=None, headers=None, raw: bytes | None = None,
                expect=(200, 201, 202)) -> tuple[int, dict]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        headers = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, f"/api/v1{path}", body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.2)
        if response.status not in expect:
            raise ApiError(f"{method} {path} -> {response.status}: {payload[:300]!r}")
        return response.status, json.loads(payload) if payload else {}

    def close(self):
        if self.conn is not None:
            self.conn.close()


FINAL = {"succeeded", "failed", "canceled", "partial"}


@dataclass
class ClientStats:
    posted: list[tuple[float, float]] = field(default_factory=list)  # (sent, accepted)
    finished: dict[str, float] = field(default_factory=dict)  # generation id -> seen final
    errors: list[str] = field(default_factory=list)


def generation_client(urls: list[str], key: str, number: int, count: int, stats: ClientStats,
                      deadline: float, lock: threading.Lock):
    """One API client: queue `count` generations back to back (alternating web processes, as
    a load balancer would), then poll each until it is final."""
    apis = [Api(url, key) for url in urls]
    pending = []
    try:
        for n in range(count):
            api = apis[(number + n) % len(apis)]
            sent = time.monotonic()
            _, body = api.request("POST", "/generations", {
                "prompt": f"client {number} picture {n}: a lighthouse at dusk",
                "num_images": 2 if (number + n) % 4 == 0 else 1,
                "seed": number * 1000 + n,
            }, headers={"Idempotency-Key": str(uuid.uuid4())})
            with lock:
                stats.posted.append((sent, time.monotonic()))
            pending.append(body["id"])
        # Like the web page, poll the oldest unfinished generation twice a second (polling
        # every one of them would make the clients, not the product, the load).
        while pending and time.monotonic() < deadline:
            generation_id = pending[0]
            api = apis[len(pending) % len(apis)]
            _, body = api.request("GET", f"/generations/{generation_id}")
            if body["status"] in FINAL:
                pending.pop(0)
                with lock:
                    stats.finished[generation_id] = time.monotonic()
                continue
            time.sleep(0.5)
        if pending:
            stats.errors.append(f"client {number}: {len(pending)} generations not final in time")
    except Exception as exc:  # noqa: BLE001 - reported by the driver
        with lock:
            stats.errors.append(f"client {number}: {exc}")
    finally:
        for api in apis:
            api.close()


def multipart(files: list[tuple[str, bytes]], *, field: str = "files",
              fields: dict | None = None) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (fields or {}).items():
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n"
                     f"\r\n{value}\r\n".encode())
    for name, data in files:
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                     f"filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n".encode())
        parts.append(data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def training_client(url: str, key: str, number: int, photos: list[bytes], results: dict,
                    deadline: float, lock: threading.Lock, selfie: bytes = b""):
    """Create a personal model, upload its photos, give consent with the person's selfie,
    train it and wait until it is final."""
    api = Api(url, key)
    try:
        _, model = api.request("POST", "/models", {"name": f"Subject {number}",
                                                   "subject_class": "person"})
        body, content_type = multipart([(f"{i}.jpg", p) for i, p in enumerate(photos)])
        _, upload = api.request("POST", f"/models/{model['id']}/photos", raw=body,
                                headers={"Content-Type": content_type})
        if upload["rejected"]:
            raise ApiError(f"photos rejected: {upload['rejected']}")
        body, content_type = multipart([("selfie.jpg", selfie)], field="selfie",
                                       fields={"rights_confirmed": "true"})
        api.request("POST", f"/models/{model['id']}/consent", raw=body,
                    headers={"Content-Type": content_type})
        _, run = api.request("POST", f"/models/{model['id']}/train", {"steps": 500})
        while time.monotonic() < deadline:
            _, run = api.request("GET", f"/trainings/{run['id']}")
            if run["status"] in FINAL:
                break
            time.sleep(1)
        with lock:
            results[run["id"]] = run["status"]
    except Exception as exc:  # noqa: BLE001
        with lock:
            results[f"error-{number}"] = str(exc)
    finally:
        api.close()


# ----- throughput


def load(urls: list[str], path: str, headers: dict, seconds: float, connections: int,
         tool: str = "") -> dict:
    """Requests per second for `path` on every web process at once, for `seconds`. `tool`
    "threads" takes the Python threads even where wrk is installed (they report p95 too)."""
    if tool != "threads" and shutil.which("wrk"):
        return _wrk(urls, path, headers, seconds, connections)
    return _threads(urls, path, headers, seconds, connections)


def _wrk(urls, path, headers, seconds, connections) -> dict:
    per_url = max(1, connections // len(urls))
    procs = []
    for url in urls:
        args = ["wrk", "-t", "1", "-c", str(per_url), "-d", f"{seconds:.0f}s", "--latency"]
        for name, value in headers.items():
            args += ["-H", f"{name}: {value}"]
        procs.append(subprocess.Popen([*args, url + path], stdout=subprocess.PIPE, text=True))
    total, p50s, errors = 0.0, [], 0
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 30)
        total += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        match = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            p50s.append(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value)
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors += int(bad.group(1)) if bad else 0
    return {"rps": round(total, 1), "p50_ms": round(max(p50s), 1) if p50s else None,
            "errors": errors, "tool": "wrk"}


def _threads(urls, path, headers, seconds, connections) -> dict:
    stop_at = time.monotonic() + seconds
    counts, latencies, errors = [0] * connections, [[] for _ in range(connections)], [0]

    def run(n):
        parts = urlsplit(urls[n % len(urls)])
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < stop_at:
            started = time.monotonic()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except (ConnectionError, http.client.HTTPException):
                errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                continue
            counts[n] += 1
            latencies[n].append(time.monotonic() - started)
        conn.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    flat = sorted(x for xs in latencies for x in xs)
    return {"rps": round(sum(counts) / elapsed, 1),
            "p50_ms": round(flat[len(flat) // 2] * 1000, 1) if flat else None,
            "p95_ms": round(flat[min(len(flat) - 1, int(len(flat) * 0.95))] * 1000, 1)
            if flat else None,
            "errors": errors[0], "tool": "python threads"}
