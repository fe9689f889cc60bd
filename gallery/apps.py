from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"

    def ready(self):
        from gallery import tasks  # noqa: F401  (connects the upload of new images)
