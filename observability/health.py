"""Liveness and readiness for load balancers and orchestrators."""

import time
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from jobs.queue import queue_depth


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_storage():
    name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            assert handle.read() == b"ok"
    finally:
        default_storage.delete(name)


def _check_queue():
    return {"depth": queue_depth()}


@never_cache
def readyz(request):
    checks, ready = {}, True
    for name, check in (("database", _check_database), ("storage", _check_storage),
                        ("queue", _check_queue)):
        started = time.perf_counter()
        try:
            extra = check() or {}
            checks[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1),
                            **extra}
        except Exception as exc:
            ready = False
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status=200 if ready else 503)
