"""The URLconf of every request under ADMIN_PATH that is not from signed-in staff: the site
without the admin (see likeness.urls)."""

from likeness.urls import site as urlpatterns  # noqa: F401
