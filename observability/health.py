"""Liveness and readiness for load balancers and orchestrators."""

import time
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from jobs.queue import queue_depth
from providers.catalogue import configured_providers
from providers.models import ServedModel


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


def _provider_detail() -> dict:
    """Staff only: what each configured provider last said it serves (the live catalogue)."""
    detail = {name: {"serves": [], "does_not_serve": [], "checked_at": None}
              for name in configured_providers()}
    for row in ServedModel.objects.filter(provider__in=list(detail)):
        entry = detail[row.provider]
        entry["serves" if row.served else "does_not_serve"].append(row.model)
        if entry["checked_at"] is None or row.checked_at.isoformat() > entry["checked_at"]:
            entry["checked_at"] = row.checked_at.isoformat()
    return detail


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
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    user = getattr(request, "user", None)
    if ready and user is not None and user.is_active and user.is_staff:
        body["providers"] = _provider_detail()  # informative: never makes readiness fail
    return JsonResponse(body, status=200 if ready else 503)
