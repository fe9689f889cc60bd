from django import forms
from django.contrib import admin

from accounts.models import User
from credits import actions
from credits.models import CreditEntry
from likeness.text import TextFieldsMixin


class AdjustmentForm(TextFieldsMixin, forms.ModelForm):
    """Staff add a ledger row only as an adjustment with a reason; nothing is ever edited."""

    user = forms.ModelChoiceField(queryset=User.objects.order_by("email"))
    delta = forms.IntegerField(help_text="Credits to add (positive) or remove (negative).")
    reason = forms.CharField(max_length=200, help_text="Why: kept in the customer's ledger.")

    class Meta:
        model = CreditEntry
        fields = ["user", "delta", "reason"]

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError("An adjustment must change the balance.")
        return delta

    def clean(self):
        cleaned = super().clean()
        user, delta = cleaned.get("user"), cleaned.get("delta")
        if user and delta and actions.get_balance(user) + delta < 0:
            raise forms.ValidationError(
                f"The balance is {actions.get_balance(user)}; it cannot go below zero.")
        return cleaned


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "delta", "balance_after", "reason", "reference"]
    list_filter = ["kind"]
    search_fields = ["user__email", "reference", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    form = AdjustmentForm

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "delta", "reason"]
        return ["user", "kind", "delta", "balance_after", "reason", "reference", "actor",
                "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj else []

    def save_model(self, request, obj, form, change):
        entry = actions.adjust(form.cleaned_data["user"], form.cleaned_data["delta"],
                               reason=form.cleaned_data["reason"], actor=request.user)
        obj.pk = entry.pk
        obj._state.adding = False

    def has_change_permission(self, request, obj=None):
        return False if obj else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
