from django.contrib import admin

from safety.models import Report, StaffAction


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "reason", "status", "model_name", "created_at"]
    list_filter = ["kind", "reason", "status"]
    readonly_fields = [f.name for f in Report._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(StaffAction)
class StaffActionAdmin(admin.ModelAdmin):
    """The audit trail: read-only, here as everywhere (actions are taken on /staff/safety/)."""

    list_display = ["at", "actor_email", "action", "target_label"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in StaffAction._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
