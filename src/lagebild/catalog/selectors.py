"""Reads of the catalogue (shared by all authorities)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from .models import Category, CategoryRule


def category_list(*, active_only: bool = True) -> QuerySet[Category]:
    queryset = Category.objects.prefetch_related("rules")
    return queryset.filter(active=True) if active_only else queryset


def rule_for(category: Category | int, day: dt.date) -> CategoryRule | None:
    """The rule that applied to ``category`` on ``day`` (None if the catalogue has a gap)."""
    category_id = getattr(category, "pk", category)
    return (
        CategoryRule.objects.filter(category_id=category_id, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("-valid_from")
        .first()
    )


def rules_by_category() -> dict[int, list[CategoryRule]]:
    """All rules grouped per category, newest first (for bulk imports)."""
    grouped: dict[int, list[CategoryRule]] = {}
    for rule in CategoryRule.objects.order_by("category_id", "-valid_from"):
        grouped.setdefault(rule.category_id, []).append(rule)
    return grouped


def pick_rule(rules: list[CategoryRule], day: dt.date) -> CategoryRule | None:
    for rule in rules:
        if rule.applies_on(day):
            return rule
    return None
