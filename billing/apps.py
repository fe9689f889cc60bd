from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from billing import notices  # noqa: F401  (connects the low-credit notice)
