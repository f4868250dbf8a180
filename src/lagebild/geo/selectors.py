"""Reads for areas and places (areas carry no personal data and are shared by all)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import Case, Q, QuerySet, Value, When

from . import points
from .models import Area, Place

# Reverse geocoding with the offline gazetteer (no external service). The gazetteer holds one
# point per street or place, not street lines, so a distance is only a hint: closer than
# PLACE_AT_POINT_M the name alone is what an officer would write; up to NEAR_PLACE_MAX_M it
# is "Nähe <name> (ca. 120 m)"; farther away a gazetteer name would mislead, and the smallest
# named area around the point is used instead ("Stadtbezirk Hombruch").
PLACE_AT_POINT_M = 75
NEAR_PLACE_MAX_M = 500
MAX_PLACES_ON_MAP = 300

# Area kinds whose names say where a point is; city, patrol zones and custom areas do not.
AREA_PLACE_PREFIX = {
    Area.Kind.VIDEO_AREA: "",
    Area.Kind.FOCUS_AREA: "",
    Area.Kind.STATISTICAL_DISTRICT: "Statistischer Bezirk ",
    Area.Kind.DISTRICT: "Stadtbezirk ",
}


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


def place_by_name(text: str) -> Place | None:
    """The gazetteer entry whose name or alias is exactly ``text`` (any case), if only one is."""
    wanted = " ".join(text.split()).casefold()
    if len(wanted) < 2:
        return None
    candidates = Place.objects.filter(Q(name__iexact=wanted) | Q(aliases__icontains=wanted))
    matches = [
        place
        for place in candidates[:50]
        if place.name.casefold() == wanted
        or wanted in (alias.strip().casefold() for alias in place.aliases.split(","))
    ]
    return matches[0] if len(matches) == 1 else None


def _degree_box(lat: float, radius_m: float) -> tuple[float, float]:
    """Half-widths in degrees (latitude, longitude) of a square of ``radius_m`` around a point."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    return dlat, dlon


def nearest_place(
    lat: float, lon: float, *, within_m: float = NEAR_PLACE_MAX_M
) -> tuple[Place, float] | None:
    """The gazetteer entry nearest to the point and its distance in metres, if one is close."""
    dlat, dlon = _degree_box(lat, within_m)
    candidates = Place.objects.filter(
        lat__gte=lat - dlat, lat__lte=lat + dlat, lon__gte=lon - dlon, lon__lte=lon + dlon
    )
    best: tuple[Place, float] | None = None
    for place in candidates:
        distance = points.distance_m(lat, lon, place.lat, place.lon)
        if distance <= within_m and (best is None or (distance, place.name) < (best[1], best[0].name)):
            best = (place, distance)
    return best


@dataclass(frozen=True)
class PointDescription:
    """What an officer would write as the place of a point: ``text`` is empty when nothing fits."""

    text: str
    place: str = ""
    distance_m: int | None = None
    area: str = ""


def area_label(area: Area) -> str:
    return AREA_PLACE_PREFIX.get(area.kind, "") + area.name


def describe_point(lat: float, lon: float, *, area_ids: list[int] | None = None) -> PointDescription:
    """Reverse geocoding: the nearest street or place of the gazetteer, else the smallest
    named area the point lies in. ``area_ids`` (from ``locate``) saves the area lookup."""
    near = nearest_place(lat, lon)
    if near is not None:
        place, distance = near
        rounded = int(round(distance / 10) * 10)
        if distance <= PLACE_AT_POINT_M:
            return PointDescription(text=place.name, place=place.name, distance_m=rounded)
        return PointDescription(
            text=f"Nähe {place.name} (ca. {rounded} m)", place=place.name, distance_m=rounded
        )
    if area_ids is None:
        from .services import area_index

        area_ids = area_index().areas_at(lon, lat)
    areas = Area.objects.filter(pk__in=area_ids, active=True, kind__in=list(AREA_PLACE_PREFIX))
    smallest = min(areas, key=lambda a: (a.area_km2, a.name), default=None)
    if smallest is None:
        return PointDescription(text="")
    label = area_label(smallest)
    return PointDescription(text=label, area=label)


# Which labels a crowded map keeps first: squares, then streets (what an officer writes as the
# place), then stations and facilities.
PLACE_KIND_PRIORITY = [Place.Kind.PLACE, Place.Kind.STREET, Place.Kind.STATION, Place.Kind.FACILITY]


def places_in_box(
    min_lat: float, min_lon: float, max_lat: float, max_lon: float, *, limit: int = MAX_PLACES_ON_MAP
) -> list[Place]:
    """Named places inside a map view, for labels on maps without tiles, most useful first."""
    priority = Case(
        *(When(kind=kind, then=Value(rank)) for rank, kind in enumerate(PLACE_KIND_PRIORITY)),
        default=Value(len(PLACE_KIND_PRIORITY)),
    )
    return list(
        Place.objects.filter(lat__gte=min_lat, lat__lte=max_lat, lon__gte=min_lon, lon__lte=max_lon)
        .annotate(priority=priority)
        .order_by("priority", "name")[:limit]
    )
