"""Every request gets an id (the caller's X-Request-ID when it is sane, else a new one), sent
back in the answer and written on every log line; its latency goes to the metrics."""

import re
import time
import uuid

from observability import context
from observability.metrics import REQUEST_LATENCY

SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        rid = given if SANE_ID.match(given) else uuid.uuid4().hex
        request.request_id = rid
        # Set, not reset afterwards: Django logs a 4xx/5xx after the middleware has returned,
        # and that line belongs to the request too. The next request sets its own.
        context.request_id.set(rid)
        context.account_id.set("")
        context.current_request.set(request)
        started = time.perf_counter()
        response = self.get_response(request)
        if not context.account_id.get():  # no view ran (a 404), or it ran before the user was
            self.process_view(request, None, (), {})
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None else "unmatched"
        REQUEST_LATENCY.labels(request.method, route, f"{response.status_code // 100}xx"
                               ).observe(time.perf_counter() - started)
        response["X-Request-ID"] = rid
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context.account_id.set(str(user.pk))
