from django.urls import path

from generation import instant_views, views

urlpatterns = [
    path("dashboard/generate/", views.generate, name="generate"),
    path("dashboard/generate/expand", views.generate_expand, name="generate_expand"),
    path("dashboard/generations/<uuid:pk>/", views.generation_detail, name="generation_detail"),
    path("dashboard/generations/<uuid:pk>/status", views.generation_status,
         name="generation_status"),
    path("dashboard/generations/images/<uuid:pk>/vary", views.image_vary,
         name="generation_image_vary"),
    path("dashboard/instant/<uuid:pk>/", instant_views.instant, name="instant"),
    path("dashboard/packs/", views.pack_list, name="packs"),
    path("dashboard/packs/<slug:slug>/run", views.pack_run, name="pack_run"),
    path("dashboard/packs/runs/<uuid:pk>/", views.pack_run_detail, name="pack_run_detail"),
    path("dashboard/validation/<uuid:pk>.webp", views.validation_sample,
         name="validation_sample"),
    path("lora-weights/<uuid:pk>/<str:token>/lora.safetensors", views.lora_weights,
         name="lora_weights"),
]
