from django.urls import path

from studio import downloads, training_views, views, webhooks

urlpatterns = [
    path("dashboard/models/", views.model_list, name="models"),
    path("dashboard/models/new/", views.model_new, name="model_new"),
    path("dashboard/models/<uuid:pk>/", views.model_detail, name="model_detail"),
    path("dashboard/models/<uuid:pk>/photos/", views.model_photos, name="model_photos"),
    path("dashboard/models/<uuid:pk>/review/", views.model_review, name="model_review"),
    path("dashboard/models/<uuid:pk>/consent/", views.model_consent, name="model_consent"),
    path("dashboard/models/<uuid:pk>/delete", views.model_delete, name="model_delete"),
    path("dashboard/models/<uuid:pk>/photos/<uuid:photo_id>/delete", views.model_photo_delete,
         name="model_photo_delete"),
    path("dashboard/models/<uuid:pk>/photos/<uuid:photo_id>/thumbnail",
         views.model_photo_thumbnail, name="model_photo_thumbnail"),
    path("dashboard/models/<uuid:pk>/photos/<uuid:photo_id>/file", views.model_photo_file,
         name="model_photo_file"),
    path("webhooks/replicate", webhooks.replicate_webhook, name="webhook_replicate"),
    path("webhooks/fal", webhooks.fal_webhook, name="webhook_fal"),
    path("training-files/<uuid:run_id>/<str:token>/photos.zip", downloads.training_zip,
         name="training_zip"),
    path("dashboard/training/", training_views.training_list, name="training_list"),
    path("dashboard/training/<uuid:pk>/", training_views.training_detail,
         name="training_detail"),
    path("dashboard/training/<uuid:pk>/status", training_views.training_status,
         name="training_status"),
    path("dashboard/training/<uuid:pk>/cancel", training_views.training_cancel,
         name="training_cancel"),
    path("dashboard/training/<uuid:pk>/retry", training_views.training_retry,
         name="training_retry"),
    path("dashboard/models/<uuid:pk>/train", training_views.model_train, name="model_train"),
]
