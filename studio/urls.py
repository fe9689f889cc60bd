from django.urls import path

from studio import views

urlpatterns = [
    path("dashboard/models/", views.model_list, name="models"),
    path("dashboard/models/new/", views.model_new, name="model_new"),
    path("dashboard/models/<uuid:pk>/", views.model_detail, name="model_detail"),
    path("dashboard/models/<uuid:pk>/photos/", views.model_photos, name="model_photos"),
    path("dashboard/models/<uuid:pk>/review/", views.model_review, name="model_review"),
    path("dashboard/models/<uuid:pk>/delete", views.model_delete, name="model_delete"),
    path("dashboard/models/<uuid:pk>/photos/<uuid:photo_id>/delete", views.model_photo_delete,
         name="model_photo_delete"),
    path("dashboard/models/<uuid:pk>/photos/<uuid:photo_id>/thumbnail",
         views.model_photo_thumbnail, name="model_photo_thumbnail"),
    path("dashboard/models/<uuid:pk>/photos/<uuid:photo_id>/file", views.model_photo_file,
         name="model_photo_file"),
]
