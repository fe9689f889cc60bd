"""Product events to PostHog, when POSTHOG_API_KEY is set (sign-ups, generations, trainings,
purchases, exports and deletions; observability.events sends most of them). The distinct id is
the account's public id; no e-mail address, prompt or photo ever leaves."""

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)
_client = None


def client():
    global _client
    if not settings.POSTHOG_API_KEY:
        return None
    if _client is None or _client.api_key != settings.POSTHOG_API_KEY:
        from posthog import Posthog  # loaded only when PostHog is configured

        _client = Posthog(settings.POSTHOG_API_KEY, host=settings.POSTHOG_HOST,
                          disable_geoip=True, timeout=5)
    return _client


def capture(user, event: str, **properties) -> None:
    posthog = client()
    if posthog is None or user is None:
        return
    distinct_id = str(user.public_id)

    def send():
        try:
            posthog.capture(event, distinct_id=distinct_id, properties=properties)
        except Exception:  # analytics never breaks the product
            logger.warning("PostHog capture of %s failed", event, exc_info=True)

    transaction.on_commit(send)
