from django.urls import path

from billing import views, webhooks

urlpatterns = [
    path("dashboard/billing/", views.billing, name="billing"),
    path("dashboard/billing/checkout", views.checkout, name="billing_checkout"),
    path("dashboard/billing/portal", views.portal, name="billing_portal"),
    path("dashboard/billing/success", views.success, name="billing_success"),
    path("dashboard/billing/canceled", views.canceled, name="billing_canceled"),
    path("dashboard/billing/models", views.choose_models, name="billing_models"),
    path("dashboard/billing/low-credit/dismiss", views.dismiss_low_credit,
         name="billing_dismiss_low_credit"),
    path("dashboard/usage/", views.usage_page, name="usage"),
    path("dashboard/usage/ledger.csv", views.usage_csv, name="usage_csv"),
    path("dashboard/business/", views.business_page, name="business"),
    path("webhooks/stripe", webhooks.stripe_webhook, name="stripe_webhook"),
]
