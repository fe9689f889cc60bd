"""The API keys page of the dashboard: create a key (shown once), revoke one, and the account's
signing secret for completion callbacks."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from api.callbacks import signing_secret
from api.keys import create_api_key, revoke_api_key
from api.models import ApiKey
from likeness.errors import DomainError, show


@login_required
def api_keys(request):
    created_raw = None
    if request.method == "POST":
        try:
            key, created_raw = create_api_key(request.user, request.POST.get("name", ""))
        except DomainError as exc:
            show(request, exc)
        else:
            messages.success(request, f"API key “{key.name}” created. Copy it now.")
    keys = ApiKey.objects.filter(user=request.user)
    return render(request, "api/keys.html", {
        "keys": keys, "created_raw": created_raw, "signing_secret": signing_secret(request.user),
    })


@login_required
@require_POST
def api_key_revoke(request, pk):
    key = get_object_or_404(ApiKey, pk=pk, user=request.user)
    if revoke_api_key(request.user, key.pk):
        messages.success(request, f"API key “{key.name}” revoked. It no longer works.")
    else:
        messages.info(request, f"API key “{key.name}” was already revoked.")
    return redirect("api_keys")


urlpatterns = [
    path("dashboard/api-keys/", api_keys, name="api_keys"),
    path("dashboard/api-keys/<uuid:pk>/revoke", api_key_revoke, name="api_key_revoke"),
]
