from django.contrib import admin

from generation.models import Generation, Image, Pack, PackRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Generation)
class GenerationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "status", "base_model", "num_images", "provider",
                    "credits_reserved", "credits_refunded", "attempts"]
    list_filter = ["status", "base_model", "provider", "operation"]
    search_fields = ["id", "user__email", "prompt"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]


@admin.register(Image)
class ImageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "generation", "index", "width", "height", "provider",
                    "is_demo", "favorite"]
    list_filter = ["provider", "is_demo", "favorite", "aspect_ratio", "operation"]
    search_fields = ["id", "user__email", "prompt"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "generation"]

    def has_delete_permission(self, request, obj=None):
        return True


@admin.register(Pack)
class PackAdmin(admin.ModelAdmin):
    """Staff create and edit packs here; Pack.clean checks every prompt's shape, style and
    variants before a pack is saved."""

    list_display = ["name", "slug", "active", "position", "subjects", "updated_at"]
    list_editable = ["active", "position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug", "description"]


@admin.register(PackRun)
class PackRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "pack_name", "personal_model", "credits_reserved"]
    search_fields = ["id", "user__email", "pack_name"]
    list_select_related = ["user", "personal_model"]
