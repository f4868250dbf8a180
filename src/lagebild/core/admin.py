from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AuditEvent, Authority, User

admin.site.site_header = "Lagebild – Verwaltung"
admin.site.site_title = "Lagebild"
admin.site.index_title = "Verwaltung"


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "get_full_name", "authority", "role", "is_active"]
    list_filter = ["authority", "role", "is_active"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Behörde und Rolle", {"fields": ("authority", "role", "service_number")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        ("Behörde und Rolle", {"fields": ("authority", "role")}),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "user", "authority", "object_type", "object_id"]
    list_filter = ["action", "authority"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
