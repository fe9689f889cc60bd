from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"

    def ready(self):
        from api import callbacks  # noqa: F401  (connects the completion callbacks)
