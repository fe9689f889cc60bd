from django.contrib import admin

from studio.models import PersonalModel, TrainingPhoto


class TrainingPhotoInline(admin.TabularInline):
    model = TrainingPhoto
    extra = 0
    can_delete = False
    fields = ["filename", "width", "height", "source_format", "sharpness", "face_box",
              "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PersonalModel)
class PersonalModelAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "subject_class", "trigger_word", "status", "photo_count",
                    "created_at"]
    list_filter = ["status", "subject_class"]
    search_fields = ["name", "trigger_word", "user__email", "id"]
    readonly_fields = ["id", "user", "trigger_word", "created_at", "updated_at", "queued_at"]
    inlines = [TrainingPhotoInline]
    list_select_related = ["user"]

    @admin.display(description="photos")
    def photo_count(self, obj):
        return obj.photos.count()
