from django.urls import path

from privacy import views

urlpatterns = [
    path("dashboard/account/data/", views.data_page, name="account_data"),
    path("dashboard/account/export", views.data_export, name="account_export"),
    path("dashboard/account/delete", views.delete_account_view, name="account_delete"),
    path("account-deleted/<str:token>/", views.account_deleted, name="account_deleted"),
]
