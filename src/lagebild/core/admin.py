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

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        # Administrators manage the accounts of their own authority only.
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(authority_id=request.user.authority_id)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions", "groups"]
        return readonly

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not request.user.is_superuser:
            obj.authority_id = request.user.authority_id
        super().save_model(request, obj, form, change)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "user", "authority", "object_type", "object_id"]
    list_filter = ["action", "authority"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(authority_id=request.user.authority_id)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
