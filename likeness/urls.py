"""The root URLconf: every app's pages, the API under /api/v1/, the admin at ADMIN_PATH.

`site` is everything but the admin: requests under ADMIN_PATH from anyone who is not signed-in
staff are resolved against it alone (likeness.public_urls, set by
accounts.staff.StaffGuardMiddleware), so the admin's path answers as any path that does not
exist, slash redirects and all."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

site = [
    # First: API requests are the busiest, and Django tries the patterns in order (the web
    # apps' patterns before it cost every API request about a tenth of its time); nothing
    # else is under api/v1/.
    path("api/v1/", include("api.urls")),
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
]
urlpatterns = [*site, path(settings.ADMIN_PATH, admin.site.urls)]
