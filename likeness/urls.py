from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from likeness import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("web.urls")),
    path("", include("generation.urls")),
    path("", include("gallery.urls")),
    path("", include("studio.urls")),
    path("", include("studio.pipeline_urls")),
    path("", include("billing.urls")),
    path("", include("observability.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("api.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
]
