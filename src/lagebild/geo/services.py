"""Writes and lookups for areas; locating recorded points."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max

from . import points
from .geometry import AreaIndex, IndexedArea, InvalidGeometry, area_km2, parse_polygon
from .models import Area, Place


@dataclass(frozen=True)
class LocatedPoint:
    lat: float
    lon: float
    x_utm: float
    y_utm: float
    h3_cell: str
    area_ids: list[int]


class PointOutsideCity(ValidationError):
    pass


_index_lock = threading.Lock()
_index_cache: dict[str, Any] = {"version": None, "index": None}


def _areas_version() -> tuple:
    info = Area.objects.filter(active=True).aggregate(n=Count("id"), changed=Max("updated_at"))
    return (info["n"], info["changed"])


def area_index() -> AreaIndex:
    """The in-process index, rebuilt whenever an area was added, changed or deactivated."""
    version = _areas_version()
    with _index_lock:
        if _index_cache["version"] == version and _index_cache["index"] is not None:
            return _index_cache["index"]
        areas = list(Area.objects.filter(active=True).values("id", "kind", "geometry"))
        indexed = [IndexedArea(id=a["id"], geometry=shapely.geometry.shape(a["geometry"])) for a in areas]
        city_parts = [
            ia.geometry for a, ia in zip(areas, indexed, strict=True) if a["kind"] == Area.Kind.CITY
        ]
        if not city_parts:
            city_parts = [
                ia.geometry for a, ia in zip(areas, indexed, strict=True) if a["kind"] == Area.Kind.DISTRICT
            ]
        boundary = shapely.union_all(city_parts) if city_parts else None
        index = AreaIndex(indexed, boundary)
        _index_cache.update(version=version, index=index)
        return index


def outside_message() -> str:
    from django.conf import settings

    return (
        f"Der Ort liegt außerhalb des Stadtgebiets {settings.CITY_NAME}. "
        "Bitte einen Punkt im Stadtgebiet wählen."
    )


def locate(lat: object, lon: object) -> LocatedPoint:
    """Validate a WGS84 point and compute UTM32N, H3 cell and containing areas."""
    errors: dict[str, str] = {}
    try:
        lat_f = points.parse_coordinate(lat, kind="Breite")
    except points.InvalidCoordinate as exc:
        errors["lat"] = str(exc)
    try:
        lon_f = points.parse_coordinate(lon, kind="Länge")
    except points.InvalidCoordinate as exc:
        errors["lon"] = str(exc)
    if errors:
        raise ValidationError(errors)
    index = area_index()
    if not index.inside_boundary(lon_f, lat_f):
        raise PointOutsideCity({"lat": outside_message()})
    x, y = points.to_utm32(lat_f, lon_f)
    return LocatedPoint(
        lat=lat_f,
        lon=lon_f,
        x_utm=x,
        y_utm=y,
        h3_cell=points.h3_cell(lat_f, lon_f),
        area_ids=index.areas_at(lon_f, lat_f),
    )


@dataclass
class LocatedBatch:
    inside: np.ndarray
    x_utm: np.ndarray
    y_utm: np.ndarray
    h3_cells: list[str]
    area_ids: list[list[int]]


def locate_many(lats: np.ndarray, lons: np.ndarray, index: AreaIndex | None = None) -> LocatedBatch:
    """Vectorised :func:`locate` for imports; points outside are flagged, not raised.

    ``index`` (from :func:`area_index`) lets a worker thread locate without a query.
    """
    index = index or area_index()
    inside = index.inside_boundary_many(lons, lats)
    x, y = points.to_utm32_many(lats, lons)
    cells = [points.h3_cell(la, lo) for la, lo in zip(lats.tolist(), lons.tolist(), strict=True)]
    return LocatedBatch(
        inside=inside, x_utm=x, y_utm=y, h3_cells=cells, area_ids=index.areas_at_many(lons, lats)
    )


def area_save(*, area: Area, geometry: object) -> Area:
    try:
        parsed = parse_polygon(geometry)
    except InvalidGeometry as exc:
        raise ValidationError({"geometry": str(exc)}) from exc
    area.geometry = shapely.geometry.mapping(parsed)
    area.min_lon, area.min_lat, area.max_lon, area.max_lat = parsed.bounds
    area.area_km2 = round(area_km2(parsed), 4)
    area.full_clean()
    area.save()
    return area


KIND_ALIASES = {
    "stadtbezirk": Area.Kind.DISTRICT,
    "stadtgebiet": Area.Kind.CITY,
    "statistischer_bezirk": Area.Kind.STATISTICAL_DISTRICT,
    "streifenbereich": Area.Kind.PATROL_ZONE,
    "schwerpunktraum": Area.Kind.FOCUS_AREA,
    "videobeobachtung": Area.Kind.VIDEO_AREA,
}


@dataclass
class ImportResult:
    created: int
    updated: int
    errors: list[str]


def import_areas_geojson(data: dict, *, default_kind: str | None = None, source: str = "") -> ImportResult:
    """Create or update areas from a GeoJSON FeatureCollection (all or nothing).

    Each feature needs ``name`` and ``code``; ``kind`` comes from the feature or from
    ``default_kind``. Existing areas (same kind and code) are updated.
    """
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return ImportResult(0, 0, ["Die Datei ist keine GeoJSON-FeatureCollection."])
    features = data.get("features") or []
    valid_kinds = set(Area.Kind.values)
    errors: list[str] = []
    prepared: list[tuple[str, str, dict, Any]] = []
    for number, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {}
        kind = str(props.get("kind") or default_kind or "").strip().lower()
        kind = KIND_ALIASES.get(kind, kind)
        code = str(props.get("code") or "").strip()
        name = str(props.get("name") or "").strip()
        label = f"Objekt {number}" + (f" ({name})" if name else "")
        if kind not in valid_kinds:
            errors.append(f"{label}: unbekannte Gebietsart {kind!r}.")
            continue
        if not code or not name:
            errors.append(f"{label}: 'code' und 'name' sind Pflichtangaben.")
            continue
        try:
            geometry = parse_polygon(feature.get("geometry"))
        except InvalidGeometry as exc:
            errors.append(f"{label}: {exc}")
            continue
        prepared.append((kind, code, props, geometry))
    if errors:
        return ImportResult(0, 0, errors)
    created = updated = 0
    with transaction.atomic():
        for kind, code, props, geometry in prepared:
            area = Area.objects.filter(kind=kind, code=code).first()
            if area is None:
                area = Area(kind=kind, code=code)
                created += 1
            else:
                updated += 1
            area.name = str(props["name"])[:200]
            area.is_approximate = bool(props.get("approximate", False))
            area.source = str(props.get("source") or source)[:300]
            area.active = True
            area_save(area=area, geometry=shapely.geometry.mapping(geometry))
    return ImportResult(created, updated, [])


def import_places_geojson(data: dict) -> ImportResult:
    features = data.get("features") or [] if isinstance(data, dict) else []
    errors: list[str] = []
    rows = []
    for number, feature in enumerate(features, start=1):
        geometry = (feature or {}).get("geometry") or {}
        props = (feature or {}).get("properties") or {}
        if geometry.get("type") != "Point" or not props.get("name"):
            errors.append(f"Objekt {number}: Punkt mit 'name' erwartet.")
            continue
        lon, lat = geometry["coordinates"][:2]
        aliases = props.get("aliases") or []
        rows.append(
            Place(
                name=str(props["name"])[:200],
                kind=props.get("kind") if props.get("kind") in Place.Kind.values else Place.Kind.STREET,
                aliases=", ".join(aliases)[:400] if isinstance(aliases, list) else str(aliases)[:400],
                lat=round(float(lat), 6),
                lon=round(float(lon), 6),
            )
        )
    if errors:
        return ImportResult(0, 0, errors)
    with transaction.atomic():
        existing = {p.name: p for p in Place.objects.all()}
        created = updated = 0
        for place in rows:
            if place.name in existing:
                old = existing[place.name]
                old.kind, old.aliases, old.lat, old.lon = place.kind, place.aliases, place.lat, place.lon
                old.save()
                updated += 1
            else:
                place.save()
                created += 1
    return ImportResult(created, updated, [])
