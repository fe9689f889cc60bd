"""The root URLconf: every app's pages, the API under /api/v1/, the admin at ADMIN_PATH."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("observability.urls")),
    path("", include("web.urls")),
    path("", include("accounts.urls")),
    path("", include("privacy.urls")),
    path("", include("generation.urls")),
    path("", include("gallery.urls")),
    path("", include("studio.urls")),
    path("", include("billing.urls")),
    path("", include("safety.urls")),
    path("", include("api.pages")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("api.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
]
