from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"

    def ready(self):
        from generation import tasks  # noqa: F401  (connects the task_abandoned receiver)
