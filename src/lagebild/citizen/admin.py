"""Administration of citizen reporting: categories with questions, routing, Open311 clients.

Routing rules are ordered (first match wins); the list shows and edits the position
directly. Reports appear read-only and authority-scoped (the request's scope applies to
the default manager); reporter contact data is left out here, it is shown (and logged)
only in the back office.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from lagebild.core.admin_scoping import AuthorityAdminMixin, PlatformInlineMixin
from lagebild.core.models import Authority

from .models import ApiClient, Report, RoutingRule, RoutingTarget, ServiceAttribute, ServiceType, StatusChange


class ServiceAttributeInline(PlatformInlineMixin, admin.TabularInline):
    model = ServiceAttribute
    extra = 0
    fields = [
        "order",
        "code",
        "description",
        "datatype",
        "required",
        "variable",
        "datatype_description",
        "values",
    ]


@admin.register(ServiceType)
class ServiceTypeAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The citizen portal is the city's: its administrators configure it, the police read it.
    authority_field = None
    shared_editor_kinds = frozenset({Authority.Kind.CITY})
    list_display = [
        "name",
        "code",
        "group",
        "category",
        "service_level_days",
        "acute",
        "about_people",
        "publish_precision",
        "active",
        "sort_order",
    ]
    list_editable = ["service_level_days", "active", "sort_order"]
    list_filter = ["group", "acute", "about_people", "publish_precision", "public_in_open311", "active"]
    search_fields = ["name", "code", "keywords"]
    inlines = [ServiceAttributeInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "code",
                    "description",
                    "group",
                    "keywords",
                    "category",
                    "sort_order",
                    "active",
                )
            },
        ),
        ("Bearbeitung", {"fields": ("service_level_days",)}),
        ("Akute Lagen", {"fields": ("acute", "acute_notice")}),
        (
            "Datenschutz und offene Daten",
            {"fields": ("about_people", "publish_precision", "public_in_open311")},
        ),
    )


@admin.register(RoutingTarget)
class RoutingTargetAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The citizen portal is the city's: its administrators configure it, the police read it.
    authority_field = None
    shared_editor_kinds = frozenset({Authority.Kind.CITY})
    list_display = ["name", "kind", "authority", "forwarded", "email"]
    list_filter = ["kind", "authority"]
    search_fields = ["name", "email"]

    @admin.display(boolean=True, description="Weiterleitung (außerhalb von Lagebild)")
    def forwarded(self, obj: RoutingTarget) -> bool:
        return obj.authority_id is None


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The citizen portal is the city's: its administrators configure it, the police read it.
    authority_field = None
    shared_editor_kinds = frozenset({Authority.Kind.CITY})
    list_display = ["position", "name", "service", "area", "weekdays", "time_window", "target", "active"]
    list_display_links = ["name"]
    list_editable = ["position", "active"]
    list_filter = ["active", "target", "service"]
    ordering = ["position", "id"]
    search_fields = ["name"]
    autocomplete_fields: list[str] = []
    fieldsets = (
        (None, {"fields": ("position", "name", "active")}),
        ("Bedingungen (leer = jede)", {"fields": ("service", "area", "weekdays", ("time_from", "time_to"))}),
        ("Zuständig", {"fields": ("target",)}),
    )

    @admin.display(description="Uhrzeit")
    def time_window(self, obj: RoutingRule) -> str:
        if obj.time_from is None or obj.time_to is None:
            return "ganztägig"
        return f"{obj.time_from:%H:%M}–{obj.time_to:%H:%M}"


@admin.register(ApiClient)
class ApiClientAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The citizen portal is the city's: its administrators configure it, the police read it.
    authority_field = None
    shared_editor_kinds = frozenset({Authority.Kind.CITY})
    list_display = ["name", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]


class StatusChangeInline(PlatformInlineMixin, admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "user", "public_note", "internal_note"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    """Read-only view for administrators; the work happens in the back office (/hinweise/)."""

    list_display = [
        "id",
        "requested_at",
        "service",
        "status",
        "channel",
        "target",
        "routing_rule",
        "authority",
    ]
    list_filter = ["status", "channel", "service", "target"]
    date_hierarchy = "requested_at"
    search_fields = ["=id", "address_text", "external_id"]
    list_select_related = ["service", "target", "routing_rule", "authority"]
    exclude = ["reporter_name", "reporter_email", "reporter_phone", "public_token", "areas", "incidents"]
    inlines = [StatusChangeInline]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in Report._meta.fields if f.name not in self.exclude]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
