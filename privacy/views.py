"""The customer's data rights on the site: what we hold, export it, delete the account."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import AccountDeletion
from likeness.analytics import capture
from likeness.text import TextFieldsMixin
from privacy.data import (
    DeletionBlocked,
    account_data,
    delete_account,
    deletion_status,
    export_stream,
)
from providers.private import outside_processors


@login_required
def data_page(request):
    data = account_data(request.user)
    counts = {name: len(data[name]) for name in ("personal_models", "training_photos",
                                                  "trainings", "generations", "images",
                                                  "credits", "api_keys")}
    return render(request, "privacy/data.html", {
        "counts": counts, "private_mode": settings.PRIVATE_MODE,
        "processors": outside_processors()})


@login_required
@require_POST
def data_export(request):
    response = StreamingHttpResponse((chunk for chunk in export_stream(request.user) if chunk),
                                     content_type="application/zip")
    name = f"likeness-export-{timezone.localtime():%Y%m%d-%H%M}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    capture(request.user, "data_exported")
    return response


class DeleteAccountForm(TextFieldsMixin, forms.Form):
    email = forms.EmailField(label="Type your e-mail address to confirm")
    password = forms.CharField(label="Your password", widget=forms.PasswordInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_usable_password():
            del self.fields["password"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if email != self.user.email.lower():
            raise forms.ValidationError("This is not the e-mail address of your account.")
        return email

    def clean_password(self):
        password = self.cleaned_data.get("password", "")
        if not self.user.check_password(password):
            raise forms.ValidationError("The password is not right.")
        return password


@login_required
def delete_account_view(request):
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        capture(user, "account_deleted")
        try:
            receipt = delete_account(user)
        except DeletionBlocked as exc:
            messages.error(request, str(exc))
            return redirect("account_delete")
        logout(request)
        return redirect("account_deleted", token=receipt.token)
    return render(request, "privacy/delete.html", {"form": form})


def account_deleted(request, token):
    receipt = get_object_or_404(AccountDeletion, token=token)
    cleanups = deletion_status(receipt)
    return render(request, "privacy/deleted.html", {
        "receipt": receipt, "cleanups": cleanups,
        "all_done": all(c["done"] for c in cleanups),
    })
