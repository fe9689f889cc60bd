from django.urls import path

from studio import downloads, training_views, webhooks

urlpatterns = [
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
