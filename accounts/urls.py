from django.urls import path

from accounts import views

urlpatterns = [
    path("dashboard/profile/", views.profile, name="profile"),
]
