from django.urls import path

from gallery import views

urlpatterns = [
    path("dashboard/gallery/", views.gallery, name="gallery"),
    path("dashboard/images/<uuid:pk>/", views.image_detail, name="image_detail"),
    path("images/<uuid:pk>/file", views.image_file, name="image_file"),
    path("images/<uuid:pk>/thumbnail", views.image_thumbnail, name="image_thumbnail"),
]
