from django.urls import path

from gallery import version_views, views

urlpatterns = [
    path("dashboard/gallery/", views.gallery, name="gallery"),
    path("dashboard/gallery/newer", views.gallery_newer, name="gallery_newer"),
    path("dashboard/gallery/bulk", views.gallery_bulk, name="gallery_bulk"),
    path("dashboard/gallery/archive", views.gallery_archive, name="gallery_archive"),
    path("dashboard/images/<uuid:pk>/", views.image_detail, name="image_detail"),
    path("dashboard/images/<uuid:pk>/favorite", views.image_favorite, name="image_favorite"),
    path("dashboard/images/<uuid:pk>/share", views.image_share, name="image_share"),
    path("dashboard/images/<uuid:pk>/share/revoke", views.image_unshare, name="image_unshare"),
    path("dashboard/images/<uuid:pk>/delete", views.image_delete, name="image_delete"),
    path("dashboard/images/<uuid:pk>/vary", views.image_vary, name="image_vary"),
    path("dashboard/images/<uuid:pk>/upscale", version_views.image_upscale,
         name="image_upscale"),
    path("dashboard/images/<uuid:pk>/restore-face", version_views.image_restore_face,
         name="image_restore_face"),
    path("images/<uuid:pk>/file", views.image_file, name="image_file"),
    path("images/<uuid:pk>/thumbnail", views.image_thumbnail, name="image_thumbnail"),
    # Public: a shared image, for whoever holds the token.
    path("s/<str:token>", views.shared_image, name="shared_image"),
    path("s/<str:token>/image", views.shared_image_file, name="shared_image_file"),
]
