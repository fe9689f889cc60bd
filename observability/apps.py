from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"

    def ready(self):
        from observability import events, jobs, metrics, sentry  # noqa: F401  (signal receivers)

        sentry.init_sentry()
