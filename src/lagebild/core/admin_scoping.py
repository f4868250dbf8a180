"""Administration per authority: what an administrator may see and change in the Django admin.

Three kinds of data are administered:

* **Authority-owned** (users, audit entries, citizen reports, notifications): an
  administrator (role ``ADMIN``) sees and manages only the rows of their own authority. A
  row of the other authority answers exactly like a row that does not exist (the admin's
  "does not exist" redirect, 404 for the password form).
* **Shared reference data** (areas and places, the offence catalogue, citizen services and
  routing, indicators, task-force structure): every administrator may read it; who may
  change it is decided per model (``shared_editor_kinds`` or :meth:`may_edit_shared`), e.g.
  the city maintains the geography, each authority the categories it is competent for.
* **Cross-authority administration** is reserved for the platform administration
  (``Role.PLATFORM_ADMIN``, or a Django superuser created at installation). Every add,
  change and delete it makes in the admin is also written to the audit log.

Apply :class:`AuthorityAdminMixin` before ``admin.ModelAdmin`` in the bases.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from . import audit
from .models import Role

PLATFORM_ACTION = "admin.platform"


def is_platform_admin(user: Any) -> bool:
    """Administers every authority: the platform role, or a superuser from the installation."""
    return bool(
        getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
        and (getattr(user, "is_superuser", False) or getattr(user, "role", None) == Role.PLATFORM_ADMIN)
    )


def is_authority_admin(user: Any) -> bool:
    return bool(
        getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
        and getattr(user, "role", None) == Role.ADMIN
    )


def authority_kind(user: Any) -> str:
    authority = getattr(user, "authority", None)
    return getattr(authority, "kind", "") if authority is not None else ""


class AuthorityAdminMixin:
    """Scopes a ModelAdmin to the administrator's authority; the platform role sees everything."""

    #: Lookup from the model to its owning authority (``"authority"``, ``"user__authority"``);
    #: ``None`` for shared reference data.
    authority_field: str | None = "authority"
    #: Shared data only: authority kinds whose administrators may change it (``None``: all).
    shared_editor_kinds: frozenset[str] | None = None

    # --- visibility ----------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if is_platform_admin(request.user) or self.authority_field is None:
            return queryset
        return queryset.filter(**{f"{self.authority_field}_id": request.user.authority_id})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_platform_admin(request.user) or super().has_view_permission(request, obj)  # type: ignore[misc]

    # --- changes -------------------------------------------------------------------------

    def may_edit_shared(self, request: HttpRequest, obj: Model | None) -> bool:
        """Whether an authority administrator may change shared data (``obj`` None: add)."""
        kinds = self.shared_editor_kinds
        return kinds is None or authority_kind(request.user) in kinds

    def _may_write(self, request: HttpRequest, obj: Model | None) -> bool | None:
        """True/False decides; None leaves it to the model permission."""
        if is_platform_admin(request.user):
            return True
        if self.authority_field is None and not self.may_edit_shared(request, obj):
            return False
        return None

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        decided = self._may_write(request, None)
        return decided if decided is not None else super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        decided = self._may_write(request, obj)
        return decided if decided is not None else super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        decided = self._may_write(request, obj)
        return decided if decided is not None else super().has_delete_permission(request, obj)  # type: ignore[misc]

    # --- the platform role's acts go to the audit log as well ------------------------------

    def _audit_platform(self, request: HttpRequest, obj: Model, change: str, message: Any = "") -> None:
        if not is_platform_admin(request.user):
            return
        owner = None
        if self.authority_field is not None:
            owner = getattr(obj, f"{self.authority_field.split('__')[0]}_id", None)
        # Filed under the authority whose data changed, so its administrators and its
        # data-protection officer see what the platform did to it.
        audit.log(
            PLATFORM_ACTION,
            user=request.user,
            obj=obj,
            authority=owner,
            change=change,
            object_repr=str(obj)[:200],
            message=message if isinstance(message, (str, list)) else str(message),
            target_authority=owner,
        )

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit_platform(request, obj, "add", message)
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit_platform(request, obj, "change", message)
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        # Called by the delete view (with a one-element list) and the bulk delete action.
        for obj in queryset:
            self._audit_platform(request, obj, "delete", str(obj))
        return super().log_deletions(request, queryset)  # type: ignore[misc]


class ScopedModelAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    """A ModelAdmin for authority-owned data."""


class SharedModelAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    """A ModelAdmin for shared reference data (readable by every administrator)."""

    authority_field = None


class PlatformInlineMixin:
    """Inlines of an administered model: the platform role may work with them as with the parent.

    Authority administrators keep the model permissions; whether they may change the parent
    at all is decided by the parent's :class:`AuthorityAdminMixin`.
    """

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_platform_admin(request.user) or super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_platform_admin(request.user) or super().has_add_permission(request, obj)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_platform_admin(request.user) or super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_platform_admin(request.user) or super().has_delete_permission(request, obj)  # type: ignore[misc]
