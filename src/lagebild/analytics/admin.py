"""Indicator definitions in the admin: what the task force steers by is data, not code.

The count tables are derived data and therefore not editable here.
"""

from django.contrib import admin

from lagebild.core.admin_scoping import AuthorityAdminMixin, PlatformInlineMixin

from .models import Indicator, IndicatorSet, IndicatorSetEntry


@admin.register(Indicator)
class IndicatorAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # Joint steering definitions (aggregates only): administrators of both partners keep them.
    authority_field = None
    list_display = ["name", "code", "kind", "fact", "value", "per_100_staff_hours", "unit", "active"]
    list_filter = ["kind", "fact", "active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    filter_horizontal = ["categories"]
    fields = [
        ("name", "code"),
        "description",
        ("kind", "fact", "value"),
        "categories",
        "measure_types",
        "details",
        "authority_kinds",
        ("per_100_staff_hours", "unit"),
        ("active", "sort_order"),
    ]


class IndicatorSetEntryInline(PlatformInlineMixin, admin.TabularInline):
    model = IndicatorSetEntry
    extra = 1
    autocomplete_fields = ["indicator"]


@admin.register(IndicatorSet)
class IndicatorSetAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    authority_field = None
    list_display = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    inlines = [IndicatorSetEntryInline]
