from django.urls import include, path

from web import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/credits/", views.credits, name="credits"),
    path("dashboard/api-keys/", views.api_keys, name="api_keys"),
    path("dashboard/api-keys/<uuid:pk>/revoke", views.api_key_revoke, name="api_key_revoke"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<str:name>", views.outbox_message, name="outbox_message"),
    path("", include("accounts.urls")),
]
