"""What the current line of work is about: the request, the account and the job. Context
variables, so each thread (and each worker thread of a pool) keeps its own."""

import contextvars

request_id = contextvars.ContextVar("request_id", default="")
account_id = contextvars.ContextVar("account_id", default="")
job_id = contextvars.ContextVar("job_id", default="")
current_request = contextvars.ContextVar("current_request", default=None)


def current_account_id() -> str:
    value = account_id.get()
    if value:
        return value
    # API calls authenticate inside the view (ninja sets request.auth), after the middleware.
    request = current_request.get()
    user = getattr(request, "auth", None) if request is not None else None
    pk = getattr(user, "pk", None)
    return str(pk) if pk is not None else ""
