from django.contrib import admin

from .models import Category, CategoryRule


class CategoryRuleInline(admin.StackedInline):
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
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "group", "competent_authority", "active"]
    list_filter = ["group", "competent_authority", "active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    inlines = [CategoryRuleInline]
