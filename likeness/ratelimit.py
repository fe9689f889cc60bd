"""The one rate limiter: every costly action of the site and the API, one table of windows.

Sign-in, sign-up and password reset are limited by allauth (ACCOUNT_RATE_LIMITS). Everything
here costs money, provider time or a large download: generating, training, uploading photos,
archives and exports, Stripe sessions, shares, API keys. Each route of COSTLY has a bucket;
each bucket is counted per account (per client address for anonymous calls) in the windows of
its setting, and the API's generation and training routes also per API key and account in
their own settings (API_WINDOWS). A window is a fixed period counted with the cache's atomic
incr: with Redis (production) every web process shares the count. Each window counts a request
once; past any limit the answer is 429 with Retry-After (the JSON error shape under /api/).
RATE_LIMITS_ENABLED turns all of it off."""

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.dispatch import Signal
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from likeness.errors import error_body

PERIODS = {"s": 1, "second": 1, "m": 60, "minute": 60, "h": 3600, "hour": 3600,
           "d": 86400, "day": 86400}

# Sent for every refused request (the metrics count them); kwargs: action.
rate_limited = Signal()

# (method, route as in the URLconf) -> bucket. A test checks that each route still exists.
COSTLY: dict[tuple[str, str], str] = {
    ("POST", "dashboard/generate/"): "generate",
    ("POST", "dashboard/generations/images/<uuid:pk>/vary"): "generate",
    ("POST", "dashboard/images/<uuid:pk>/vary"): "generate",
    ("POST", "api/v1/generations"): "generate",
    ("POST", "dashboard/models/new/"): "model",
    ("POST", "api/v1/models"): "model",
    ("POST", "dashboard/models/<uuid:pk>/photos/"): "upload",
    ("POST", "api/v1/models/<model_id>/photos"): "upload",
    ("POST", "dashboard/models/<uuid:pk>/train"): "train",
    ("POST", "dashboard/training/<uuid:pk>/retry"): "train",
    ("POST", "api/v1/models/<model_id>/train"): "train",
    ("POST", "dashboard/gallery/archive"): "archive",
    ("POST", "api/v1/images/archive"): "archive",
    ("POST", "dashboard/images/<uuid:pk>/share"): "share",
    ("POST", "api/v1/images/<image_id>/share"): "share",
    ("POST", "dashboard/billing/checkout"): "stripe",
    ("POST", "dashboard/billing/portal"): "stripe",
    ("POST", "api/v1/billing/checkout"): "stripe",
    ("POST", "api/v1/billing/portal"): "stripe",
    ("POST", "dashboard/api-keys/"): "api_key",
    ("GET", "dashboard/usage/ledger.csv"): "archive",
    ("GET", "dashboard/account/export"): "export",
    ("POST", "dashboard/account/export"): "export",
    ("POST", "dashboard/account/delete"): "export",
    ("POST", "s/<str:token>/report"): "report",
    ("POST", "report/removal/"): "report",
    ("POST", "dashboard/models/<uuid:pk>/consent/"): "consent",
    ("POST", "api/v1/models/<model_id>/consent"): "consent",
}
# The setting whose windows count a bucket per account (RATE_LIMIT_COSTLY unless named here).
BUCKET_SETTINGS = {"export": "RATE_LIMIT_EXPORT", "report": "RATE_LIMIT_REPORTS"}
# The API's own windows on top: (who, setting), who being "key" or "account".
API_WINDOWS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("POST", "api/v1/generations"): (("key", "RATE_LIMIT_GENERATIONS"),
                                     ("account", "RATE_LIMIT_GENERATIONS")),
    ("POST", "api/v1/models/<model_id>/train"): (("key", "RATE_LIMIT_TRAININGS"),
                                                 ("account", "RATE_LIMIT_TRAININGS")),
}


def parse_rates(text: str) -> list[tuple[int, int]]:
    """'60/minute,600/hour' -> [(60, 60), (600, 3600)]; '' (or a count of 0) turns it off."""
    rates = []
    for part in (text or "").split(","):
        count, _, period = part.strip().partition("/")
        period = period.strip() or "minute"
        seconds = PERIODS.get(period) or PERIODS.get(period.rstrip("s"))
        if count.strip().isdigit() and int(count) > 0 and seconds:
            rates.append((int(count), seconds))
    return rates


def hit(key: str, rates: list[tuple[int, int]], now: float | None = None) -> float | None:
    """Count one use in each window; the seconds to wait when one is already full, else None."""
    now = time.time() if now is None else now
    wait = None
    for limit, period in rates:
        name = f"rate:{key}:{period}:{int(now // period)}"
        cache.add(name, 0, timeout=period + 1)
        try:
            count = cache.incr(name)
        except ValueError:  # expired between add and incr: the first use in a new window
            cache.add(name, 1, timeout=period + 1)
            count = 1
        if count > limit:
            wait = max(wait or 0, period - (now % period))
    return wait


def _who(request, kind: str) -> str | None:
    """Who a window counts. The public id, not the pk: a deleted account's pk can come back for
    someone else. The API key is found by api.middleware.ApiKeyMiddleware before we run."""
    key = getattr(request, "api_key", None)
    if kind == "key":
        return f"key:{key.pk}" if key is not None else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.public_id}"
    if key is not None:
        return f"user:{key.user.public_id}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def windows(method: str, route: str) -> list[tuple[str, str, str]]:
    """(scope, who, setting) for each window that counts this route."""
    bucket = COSTLY.get((method, route))
    if bucket is None:
        return []
    rows = [(bucket, "account", BUCKET_SETTINGS.get(bucket, "RATE_LIMIT_COSTLY"))]
    rows += [(f"api-{bucket}", who, name) for who, name in API_WINDOWS.get((method, route), ())]
    return rows


def too_many(request, action: str, wait: float) -> HttpResponse:
    """The one 429: JSON for the API, the 429 page for the site, both with Retry-After."""
    seconds = max(1, math.ceil(wait))
    message = (f"Too many requests of this kind ({action}); try again in {seconds} "
               f"second{'s' if seconds != 1 else ''}.")
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body("rate_limited", message,
                                           {"retry_after": seconds, "action": action}),
                                status=429)
    else:
        response = HttpResponse(render_to_string(
            "429.html", {"message": message, "retry_after": seconds}, request), status=429)
    response["Retry-After"] = str(seconds)
    rate_limited.send(sender=None, action=action)
    return response


class CostlyActionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.RATE_LIMITS_ENABLED or request.resolver_match is None:
            return None
        route = request.resolver_match.route
        longest, action = None, ""
        for scope, kind, setting in windows(request.method, route):
            who = _who(request, kind)
            if who is None:
                continue
            wait = hit(f"{scope}:{who}", parse_rates(getattr(settings, setting)))
            if wait is not None and (longest is None or wait > longest):
                longest, action = wait, scope.removeprefix("api-")
        return too_many(request, action, longest) if longest is not None else None
