from django.urls import path

from safety import staff, views

urlpatterns = [
    # Public: reports and removal requests, and the operator's terms.
    path("s/<str:token>/report", views.report_image, name="report_image"),
    path("report/removal/", views.removal_request, name="removal_request"),
    path("report/sent/", views.report_sent, name="report_sent"),
    path("terms/<slug:page>/", views.terms, name="terms"),
    # Staff only.
    path("staff/safety/", staff.queue, name="staff_safety"),
    path("staff/safety/audit/", staff.audit, name="staff_audit"),
    path("staff/safety/reports/<int:pk>/", staff.report_detail, name="staff_report"),
    path("staff/safety/images/<uuid:pk>", staff.image_file, name="staff_image_file"),
    path("staff/safety/models/<uuid:pk>/", staff.model_detail, name="staff_model"),
    path("staff/safety/models/<uuid:pk>/photos/<uuid:photo_id>", staff.photo_file,
         name="staff_photo_file"),
    path("staff/safety/models/<uuid:pk>/consents/<int:consent_id>/selfie", staff.selfie_file,
         name="staff_selfie_file"),
]
