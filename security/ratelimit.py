"""Rate limits on every costly action of the site and the API, per account.

Sign-in, sign-up and password reset are limited by allauth (ACCOUNT_RATE_LIMITS). Everything
here costs money, provider time or a large download: generating, training, uploading photos,
archives and exports, Stripe sessions, shares, API keys. Each route below has a bucket counted
per account (per client address for anonymous calls) in fixed windows in the cache; past the
limit the answer is 429 with Retry-After (the API's JSON error shape under /api/)."""

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string

PERIODS = {"s": 1, "second": 1, "m": 60, "minute": 60, "h": 3600, "hour": 3600,
           "d": 86400, "day": 86400}

# (method, route as in the URLconf) -> bucket. tests/security/test_rate_limits.py checks that
# each route still exists.
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
}


def rates_for(bucket: str) -> list[tuple[int, int]]:
    text = settings.RATE_LIMIT_EXPORT if bucket == "export" else settings.RATE_LIMIT_COSTLY
    rates = []
    for part in (text or "").split(","):
        count, _, period = part.strip().partition("/")
        period = period.strip() or "minute"
        seconds = PERIODS.get(period) or PERIODS.get(period.rstrip("s"))
        if count.strip().isdigit() and int(count) > 0 and seconds:
            rates.append((int(count), seconds))
    return rates


def hit(key: str, rates: list[tuple[int, int]], now: float | None = None) -> float | None:
    """Count one use; the seconds to wait when a window is already full, else None."""
    now = time.time() if now is None else now
    wait = None
    for limit, period in rates:
        window = int(now // period)
        name = f"costly:{key}:{period}:{window}"
        cache.add(name, 0, timeout=period + 1)
        try:
            count = cache.incr(name)
        except ValueError:
            cache.add(name, 1, timeout=period + 1)
            count = 1
        if count > limit:
            wait = max(wait or 0, period - (now % period))
    return wait


def who(request) -> str:
    # The public id, not the pk: a deleted account's pk can come back for someone else.
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.public_id}"
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        from api.keys import authenticate_key

        key_user = authenticate_key(token.strip())
        if key_user is not None:
            return f"user:{key_user.public_id}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def too_many(request, bucket: str, wait: float) -> HttpResponse:
    seconds = max(1, math.ceil(wait))
    message = (f"Too many requests of this kind ({bucket}); try again in {seconds} "
               f"second{'s' if seconds != 1 else ''}.")
    if request.path.startswith("/api/"):
        from api.errors import error_response

        response = error_response(429, "rate_limited", message,
                                  {"retry_after": seconds, "action": bucket})
    else:
        response = HttpResponse(
            render_to_string("security/rate_limited.html", {"message": message}, request),
            status=429)
    response["Retry-After"] = str(seconds)
    return response


class CostlyActionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.RATE_LIMITS_ENABLED or request.resolver_match is None:
            return None
        bucket = COSTLY.get((request.method, request.resolver_match.route))
        if bucket is None:
            return None
        wait = hit(f"{bucket}:{who(request)}", rates_for(bucket))
        if wait is not None:
            from observability.metrics import RATE_LIMITED

            RATE_LIMITED.labels(bucket).inc()
            return too_many(request, bucket, wait)
        return None
