from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["email", "name", "plan", "balance", "is_staff", "date_joined"]
    list_filter = ["plan", "is_staff", "is_active"]
    search_fields = ["email", "name"]
    readonly_fields = ["public_id", "last_login", "date_joined", "balance"]
    fieldsets = [
        (None, {"fields": ["email", "password", "public_id"]}),
        ("Profile", {"fields": ["name", "plan", "balance"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    @admin.display(description="credits")
    def balance(self, obj):
        account = getattr(obj, "credit_account", None)  # the ledger's running balance
        return account.balance if account else 0
