from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("web.urls")),
    path("", include("generation.urls")),
    path("", include("gallery.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("api.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
]
