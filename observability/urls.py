from django.urls import path

from observability import views

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    path("staff/providers/", views.provider_health_page, name="staff_provider_health"),
]
