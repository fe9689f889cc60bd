"""Rate limits for the costly endpoints, per API key and per account.

A fixed window counted with the cache's atomic incr: with Redis (production) the count is shared
by every web process; the answer past the limit is 429 rate_limited with Retry-After."""

import time

from django.conf import settings
from django.core.cache import cache
from ninja.throttling import BaseThrottle

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int] | None:
    """'30/minute' → (30, 60); '' or '0/…' turns the limit off."""
    if not rate:
        return None
    count, _, period = rate.partition("/")
    limit = int(count)
    return (limit, PERIODS[period.strip().rstrip("s")]) if limit > 0 else None


class WindowThrottle(BaseThrottle):
    def __init__(self, scope: str, setting: str, per: str):
        self.scope, self.setting, self.per = scope, setting, per
        self._wait: float | None = None

    def ident(self, request) -> str | None:
        if self.per == "key":
            return getattr(request, "api_key_id", None)  # session calls have no key
        user = getattr(request, "auth", None)
        return str(user.pk) if user is not None else None

    def allow_request(self, request) -> bool:
        rate = parse_rate(getattr(settings, self.setting))
        ident = self.ident(request)
        if rate is None or ident is None:
            return True
        limit, period = rate
        now = time.time()
        window = int(now // period)
        key = f"ratelimit:{self.scope}:{self.per}:{ident}:{window}"
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this is the first in a new window
            cache.add(key, 1, timeout=period + 1)
            count = 1
        self._wait = period - (now % period)
        return count <= limit

    def wait(self) -> float | None:
        return self._wait


def limits(scope: str, setting: str) -> list[WindowThrottle]:
    return [WindowThrottle(scope, setting, "key"), WindowThrottle(scope, setting, "account")]
