"""The dashboard's navigation, defined once for the sidebar and the mobile menu."""

from django import template
from django.urls import reverse

from billing.banners import banners_for

register = template.Library()

# (label, url name, url names that count as inside this section, SVG path)
NAV = [
    ("Dashboard", "dashboard", {"dashboard"},
     "M3 12 12 3l9 9M5 10v10h5v-6h4v6h5V10"),
    ("Models", "models", {"models", "model_new", "model_detail", "model_photos", "model_review",
                          "model_delete", "model_consent"},
     "M4 8V5h3m9-1h3v3m1 9v3h-3M8 20H5v-3m7-4a3 3 0 1 0 0-6 3 3 0 0 0 0 6m-5 4c1-2 3-3 5-3s4 "
     "1 5 3"),
    ("Training", "training_list", {"training_list", "training_detail"},
     "M9 3v2m6-2v2M9 19v2m6-2v2M3 9h2m-2 6h2m14-6h2m-2 6h2M7 7h10v10H7z"),
    ("Generate", "generate", {"generate", "generation_detail"},
     "M12 3v3m0 12v3M3 12h3m12 0h3M6 6l2 2m8 8 2 2M6 18l2-2m8-8 2-2"),
    ("Packs", "packs", {"packs", "pack_run_detail"},
     "M4 7h16M4 12h16M4 17h10M18 15l2 2-2 2"),
    ("Gallery", "gallery", {"gallery", "image_detail"},
     "M4 5h16v14H4zM8 11a2 2 0 1 0 0-4 2 2 0 0 0 0 4m12 4-5-5-9 9"),
    ("Credits", "credits", {"credits"},
     "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18m0-14v10m-3-7.5c0-1 1.3-1.5 3-1.5s3 .7 3 2-1.3 "
     "1.6-3 2-3 .8-3 2 1.3 2 3 2 3-.6 3-1.5"),
    ("Billing", "billing", {"billing", "billing_models"},
     "M3 7h18v10H3zm0 3h18M7 15h3"),
    ("Usage", "usage", {"usage"},
     "M4 20V10m6 10V4m6 16v-7m4 7H2"),
    ("API keys", "api_keys", {"api_keys"},
     "M15 7a4 4 0 1 1-3.9 4.9L4 19v2h3v-2h2v-2h2l1.1-1.1A4 4 0 0 1 15 7m1 3h.01"),
    ("Profile", "profile", {"profile", "account_email", "account_change_password"},
     "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8m-8 9c0-4 3.6-6 8-6s8 2 8 6"),
]


@register.simple_tag(takes_context=True)
def nav_items(context):
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else None
    items = [
        {"label": label, "url": reverse(name), "active": current in section, "icon": icon}
        for label, name, section, icon in NAV
    ]
    user = getattr(request, "user", None)
    if user is not None and user.is_staff:
        items.append({"label": "Safety", "url": reverse("staff_safety"),
                      "active": current in ("staff_safety", "staff_report", "staff_model",
                                            "staff_audit"),
                      "icon": "M12 3 4 6v6c0 4.5 3.4 8.3 8 9 4.6-.7 8-4.5 8-9V6zm0 6v4m0 3h.01"})
        items.append({"label": "Business", "url": reverse("business"),
                      "active": current == "business", "icon": "M4 19h16M6 16l4-5 3 3 5-7"})
        items.append({"label": "Admin", "url": reverse("admin:index"), "active": False,
                      "icon": "M12 3 4 6v6c0 4.5 3.4 8.3 8 9 4.6-.7 8-4.5 8-9V6z"})
    return items


@register.simple_tag(takes_context=True)
def billing_banners(context):
    """Billing's in-app notices for the signed-in user (templates/billing/_banners.html)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    balance = context.get("credit_balance", 0)
    return banners_for(user, balance() if callable(balance) else balance)
