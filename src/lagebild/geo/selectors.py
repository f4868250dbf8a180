"""Reads for areas and places (areas carry no personal data and are shared by all)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Area, Place


def area_list(*, kinds: list[str] | None = None, active_only: bool = True) -> QuerySet[Area]:
    queryset = Area.objects.all()
    if active_only:
        queryset = queryset.filter(active=True)
    if kinds:
        queryset = queryset.filter(kind__in=kinds)
    return queryset.order_by("kind", "name")


def areas_feature_collection(areas: QuerySet[Area] | list[Area]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": area.pk,
                "geometry": area.geometry,
                "properties": {
                    "id": area.pk,
                    "kind": area.kind,
                    "kind_label": area.get_kind_display(),
                    "code": area.code,
                    "name": area.name,
                    "approximate": area.is_approximate,
                },
            }
            for area in areas
        ],
    }


def place_search(query: str, *, limit: int = 8) -> list[Place]:
    query = query.strip()
    if len(query) < 2:
        return []
    return list(
        Place.objects.filter(Q(name__icontains=query) | Q(aliases__icontains=query)).order_by("name")[:limit]
    )
