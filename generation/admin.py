from django.contrib import admin

from generation.models import Generation, Image


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Generation)
class GenerationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "status", "base_model", "num_images", "provider",
                    "credits_reserved", "credits_refunded", "attempts"]
    list_filter = ["status", "base_model", "provider"]
    search_fields = ["id", "user__email", "prompt"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]


@admin.register(Image)
class ImageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "generation", "index", "width", "height", "provider",
                    "is_demo", "favorite"]
    list_filter = ["provider", "is_demo", "favorite", "aspect_ratio"]
    search_fields = ["id", "user__email", "prompt"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "generation"]

    def has_delete_permission(self, request, obj=None):
        return True
