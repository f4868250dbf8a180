"""The Django admin for authorities, users and the audit log, administered per authority.

An administrator (role ``ADMIN``) manages the accounts of their own authority only and can
neither escalate (superuser, platform role, permissions, groups) nor move an account to
another authority; the platform administration does all of that, and it is logged
(see core/admin_scoping.py).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .admin_scoping import AuthorityAdminMixin, is_platform_admin
from .models import AuditEvent, Authority, Role, User

admin.site.site_header = "Lagebild – Verwaltung"
admin.site.site_title = "Lagebild"
admin.site.index_title = "Verwaltung"

# Fields only the platform administration may set on an account.
ESCALATING_FIELDS = ["is_superuser", "user_permissions", "groups", "authority"]


@admin.register(Authority)
class AuthorityAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    """Authorities are created and renamed by the platform administration; others see their own."""

    list_display = ["name", "code", "kind"]
    prepopulated_fields = {"code": ["name"]}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if is_platform_admin(request.user):
            return queryset
        return queryset.filter(pk=request.user.authority_id)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return is_platform_admin(request.user)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return is_platform_admin(request.user)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return is_platform_admin(request.user)


@admin.register(User)
class UserAdmin(AuthorityAdminMixin, BaseUserAdmin):
    list_display = ["username", "get_full_name", "authority", "role", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Behörde und Rolle", {"fields": ("authority", "role", "service_number")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        ("Behörde und Rolle", {"fields": ("authority", "role")}),
    )

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        queryset = super().get_queryset(request)
        if is_platform_admin(request.user):
            return queryset
        # The platform administration's accounts are out of reach even in the own authority:
        # resetting their password would hand over every authority.
        return queryset.exclude(Q(is_superuser=True) | Q(role=Role.PLATFORM_ADMIN))

    def get_list_filter(self, request):  # type: ignore[no-untyped-def]
        if is_platform_admin(request.user):
            return ["authority", *self.list_filter]
        return self.list_filter

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None and not is_platform_admin(request.user):
            # New accounts of an authority administrator belong to its own authority.
            fieldsets = [
                (name, {**options, "fields": tuple(f for f in options["fields"] if f != "authority")})
                for name, options in fieldsets
            ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        readonly = list(super().get_readonly_fields(request, obj))
        if not is_platform_admin(request.user):
            readonly += [field for field in ESCALATING_FIELDS if obj is not None or field != "authority"]
        return readonly

    def get_form(self, request, obj=None, **kwargs):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, **kwargs)
        if not is_platform_admin(request.user) and "role" in form.base_fields:
            role = form.base_fields["role"]
            role.choices = [(value, label) for value, label in role.choices if value != Role.PLATFORM_ADMIN]
        return form

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not is_platform_admin(request.user):
            # Defence in depth behind the read-only fields and the role choices.
            if obj.role == Role.PLATFORM_ADMIN or obj.is_superuser:
                raise PermissionDenied("Nur die Plattform-Administration vergibt diese Rechte.")
            obj.authority_id = request.user.authority_id
        super().save_model(request, obj, form, change)


def _unregister_second_factor_devices() -> None:
    """No admin pages for TOTP and recovery-code devices.

    django-otp's device admin shows a device's secret (configuration page, QR code) to whoever
    may view it, which would let an administrator copy a user's second factor, and it is not
    administered per authority. Users enrol and renew on /konto/; a lost device is reset with
    ``lagebild two-factor-reset USER``. The plugins' admin modules are imported here first so
    that Django's autodiscovery, which imports them again later, finds them already undone.
    """
    from importlib import import_module

    from django.apps import apps

    for app_label, module in [
        ("otp_totp", "django_otp.plugins.otp_totp"),
        ("otp_static", "django_otp.plugins.otp_static"),
    ]:
        if not apps.is_installed(module):
            continue
        import_module(f"{module}.admin")
        for model in apps.get_app_config(app_label).get_models():
            if admin.site.is_registered(model):
                admin.site.unregister(model)


_unregister_second_factor_devices()


@admin.register(AuditEvent)
class AuditEventAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    """Read-only: administrators read the entries of their own authority."""

    list_display = ["at", "action", "user", "authority", "object_type", "object_id"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
