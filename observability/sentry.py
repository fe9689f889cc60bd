"""Sentry, when SENTRY_DSN is set: errors of the web and of the workers, with the request id,
account id and job id as tags, and no personal data (no cookies, bodies or addresses). In
private mode (PRIVATE_MODE) the frames' local variables and request bodies are never sent
either: a prompt must not leave in an error report."""

from django.conf import settings

from observability import context


def _tag(event, hint):
    tags = event.setdefault("tags", {})
    for name, value in (("request_id", context.request_id.get()),
                        ("account_id", context.current_account_id()),
                        ("job_id", context.job_id.get())):
        if value:
            tags[name] = value
    return event


def init_sentry(dsn: str | None = None) -> bool:
    dsn = dsn if dsn is not None else settings.SENTRY_DSN
    if not dsn:
        return False
    import sentry_sdk  # loaded only when Sentry is configured
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(dsn=dsn, environment=settings.SENTRY_ENVIRONMENT,
                    traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
                    send_default_pii=False, integrations=[DjangoIntegration()],
                    before_send=_tag, include_local_variables=not settings.PRIVATE_MODE,
                    max_request_body_size="never" if settings.PRIVATE_MODE else "medium")
    return True
