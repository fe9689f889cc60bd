from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"

    def ready(self):
        from studio import receivers  # noqa: F401  (connects the signal receivers)
