"""/metrics for Prometheus, and the staff page of provider health and the models they serve."""

import hmac
import ipaddress
import statistics
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_tasks_db.models import DBTaskResult
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from accounts.staff import staff_required
from generation.catalogue import catalogue_keys, describe
from observability import likeness
from observability.metrics import REGISTRY, _job_kinds
from providers.catalogue import configured_providers
from providers.models import ServedModel


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False)
               for net in settings.METRICS_ALLOWED_NETWORKS)


@never_cache
def metrics(request):
    if not (settings.METRICS_TOKEN or settings.METRICS_ALLOWED_NETWORKS):
        raise Http404("Metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS.")
    if not _allowed(request):
        response = HttpResponse("Send 'Authorization: Bearer <METRICS_TOKEN>'.\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def _percentile(values, fraction):
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def provider_health(now=None, hours: float = 1) -> list[dict]:
    """Per kind and provider, the jobs that finished in the last hour: how many, the share
    that succeeded, and the latency (start to end) at the median and the 95th percentile."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    rows = []
    for kind, model, final in _job_kinds():
        by_provider: dict[str, dict] = {}
        for provider, status, started, finished in model.objects.filter(
                status__in=final, finished_at__gte=since).values_list(
                "provider", "status", "started_at", "finished_at"):
            entry = by_provider.setdefault(provider or "none", {"ok": 0, "total": 0, "took": []})
            entry["total"] += 1
            entry["ok"] += status == "succeeded"
            if started:
                entry["took"].append((finished - started).total_seconds())
        for provider, entry in sorted(by_provider.items()):
            took = sorted(entry["took"])
            rows.append({
                "kind": kind, "provider": provider, "total": entry["total"],
                "succeeded": entry["ok"], "success_rate": entry["ok"] / entry["total"],
                "p50": _percentile(took, 0.5), "p95": _percentile(took, 0.95),
            })
    return rows


def served_models() -> dict:
    """The live catalogue for staff: per model of ours, its weights' licence and what each
    configured provider last said about it (providers.catalogue; `manage.py check_providers`)."""
    providers = configured_providers()
    known = {(r.provider, r.model): r for r in ServedModel.objects.all()}
    rows = []
    for key in catalogue_keys():
        name, base = describe(key)
        rows.append({"key": key, "name": name, "licence": base.licence_name,
                     "licence_url": base.licence_url, "commercial": base.commercial_weights,
                     "providers": [known.get((p, key)) for p in providers]})
    return {"providers": providers, "rows": rows}


@staff_required
def provider_health_page(request):
    return render(request, "observability/provider_health.html", {
        "rows": provider_health(), "catalogue": served_models(),
        "likeness": likeness.distribution(),
        "queue_depth": DBTaskResult.objects.ready().count(),
        "running": DBTaskResult.objects.running().count(),
    })
