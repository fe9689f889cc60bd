from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"

    def ready(self):
        from generation import receivers  # noqa: F401  (connects the signal receivers)
