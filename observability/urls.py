from django.urls import path

from observability import health, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("staff/providers/", views.provider_health_page, name="staff_provider_health"),
]
