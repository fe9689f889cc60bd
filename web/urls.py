from django.urls import path

from web import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/credits/", views.credits, name="credits"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<str:name>", views.outbox_message, name="outbox_message"),
]
