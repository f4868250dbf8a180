from django.contrib import admin

from lagebild.core.admin_scoping import (
    AuthorityAdminMixin,
    PlatformInlineMixin,
    authority_kind,
    is_platform_admin,
)

from .models import Category, CategoryRule


class CategoryRuleInline(PlatformInlineMixin, admin.StackedInline):
    model = CategoryRule
    extra = 0
    readonly_fields = ["limitation_label"]
    fields = [
        ("valid_from", "valid_to"),
        "legal_basis",
        ("is_offence", "is_crime"),
        ("caution_allowed", "caution_amount"),
        ("max_fine", "limitation_label", "limitation_override_months"),
        ("is_demo_value", "source"),
    ]

    @admin.display(description="Verjährung (§ 31 Abs. 2 OWiG)")
    def limitation_label(self, obj: CategoryRule) -> str:
        return obj.limitation_label


@admin.register(Category)
class CategoryAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    """The catalogue is shared; each authority's administrators change the categories it is competent for."""

    authority_field = None
    list_display = ["name", "code", "group", "competent_authority", "active"]
    list_filter = ["group", "competent_authority", "active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    inlines = [CategoryRuleInline]

    def may_edit_shared(self, request, obj):  # type: ignore[no-untyped-def]
        kind = authority_kind(request.user)
        if obj is None:
            return kind in Category.Competence.values
        return obj.competent_authority == kind

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        readonly = list(super().get_readonly_fields(request, obj))
        if not is_platform_admin(request.user):
            readonly.append("competent_authority")  # no handing a category to the other authority
        return readonly

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change and not is_platform_admin(request.user):
            obj.competent_authority = authority_kind(request.user)
        super().save_model(request, obj, form, change)
