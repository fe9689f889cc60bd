"""The one retry policy: how long to wait before another try, and whether to try again at all.

Every task that talks to an outside service uses `retry_or_fail`: a transient error
(likeness.errors.ProviderError with transient=True, or any error that says nothing) is retried
after the backoff, up to JOB_MAX_ATTEMPTS; then, or at once for a permanent error, the task's
own `give_up` puts its row in a final state. Calls that retry in place (the image routing's
tries at one provider, the download of a result) wait `backoff(...)` with their own base."""

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from jobs.queue import enqueue

logger = logging.getLogger(__name__)
MAX_DELAY = 300.0


def backoff(attempt: int, retry_after: float | None = None, *, base: float | None = None,
            cap: float = MAX_DELAY) -> float:
    """Exponential backoff with jitter (±20 %) from `base` (JOB_RETRY_BASE_SECONDS), at most
    `cap`; a service's Retry-After wins when it asks for longer."""
    base = settings.JOB_RETRY_BASE_SECONDS if base is None else base
    delay = min(base * (2 ** max(attempt - 1, 0)), cap) * (0.8 + random.random() * 0.4)
    return max(delay, retry_after) if retry_after else delay


def retry_later(task, *args, attempt: int, retry_after: float | None = None, **kwargs):
    delay = backoff(attempt, retry_after)
    logger.info("retrying %s%s in %.1fs (attempt %d)", task.name, args, delay, attempt)
    return enqueue(task, *args, run_after=timezone.now() + timedelta(seconds=delay), **kwargs)


def retry_or_fail(task, *args, attempt: int, error: BaseException | None = None,
                  give_up: Callable[[], object] | None = None, retry_after: float | None = None,
                  **kwargs) -> bool:
    """Queue `task(*args, **kwargs)` again after the backoff when `error` may pass and
    attempts remain (True); otherwise call `give_up` (False)."""
    transient = getattr(error, "transient", True)
    if retry_after is None:
        retry_after = getattr(error, "retry_after", None)
    if transient and attempt < settings.JOB_MAX_ATTEMPTS:
        retry_later(task, *args, attempt=attempt, retry_after=retry_after, **kwargs)
        return True
    if give_up is not None:
        give_up()
    return False
