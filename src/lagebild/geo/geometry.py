"""Geometry checks and point-in-area lookup on plain shapely objects (no Django)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

_GEOD = Geod(ellps="GRS80")


class InvalidGeometry(ValueError):
    pass


def parse_polygon(geojson: object) -> BaseGeometry:
    """Parse a GeoJSON Polygon/MultiPolygon (or a Feature holding one) in WGS84."""
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict) or geojson.get("type") not in {"Polygon", "MultiPolygon"}:
        raise InvalidGeometry("Die Geometrie muss ein GeoJSON-Polygon oder -MultiPolygon sein.")
    try:
        geometry = shape(geojson)
    except Exception as exc:  # shapely raises several types for malformed input
        raise InvalidGeometry(f"Die Geometrie ist fehlerhaft: {exc}") from exc
    if geometry.is_empty:
        raise InvalidGeometry("Die Geometrie ist leer.")
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if min_lon < -180 or max_lon > 180 or min_lat < -90 or max_lat > 90:
        raise InvalidGeometry("Die Koordinaten liegen nicht im WGS84-Wertebereich (Länge, Breite).")
    if not geometry.is_valid:
        raise InvalidGeometry(
            "Die Geometrie ist ungültig (z. B. überschneidet sich der Rand): "
            + shapely.is_valid_reason(geometry)
        )
    return geometry


def area_km2(geometry: BaseGeometry) -> float:
    return abs(_GEOD.geometry_area_perimeter(geometry)[0]) / 1_000_000


@dataclass
class IndexedArea:
    id: int
    geometry: BaseGeometry


class AreaIndex:
    """All active areas in memory, with an R-tree, for fast point-in-area tests."""

    def __init__(self, areas: Sequence[IndexedArea], boundary: BaseGeometry | None) -> None:
        self.ids = np.array([a.id for a in areas], dtype=np.int64)
        self.geometries = [a.geometry for a in areas]
        for geometry in self.geometries:
            shapely.prepare(geometry)
        self.tree = shapely.STRtree(self.geometries) if self.geometries else None
        self.boundary = boundary
        if boundary is not None:
            shapely.prepare(boundary)

    def inside_boundary(self, lon: float, lat: float) -> bool:
        return self.boundary is not None and bool(shapely.contains_xy(self.boundary, lon, lat))

    def inside_boundary_many(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        if self.boundary is None:
            return np.zeros(len(lons), dtype=bool)
        return shapely.contains_xy(self.boundary, lons, lats)

    def areas_at(self, lon: float, lat: float) -> list[int]:
        if self.tree is None:
            return []
        point = shapely.Point(lon, lat)
        hits = self.tree.query(point, predicate="intersects")
        return sorted(int(self.ids[i]) for i in hits)

    def areas_at_many(self, lons: np.ndarray, lats: np.ndarray) -> list[list[int]]:
        """Area ids for each point; vectorised via the R-tree bulk query."""
        result: list[list[int]] = [[] for _ in range(len(lons))]
        if self.tree is None or len(lons) == 0:
            return result
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        point_idx, area_idx = self.tree.query(points, predicate="intersects")
        for p, a in zip(point_idx.tolist(), area_idx.tolist(), strict=True):
            result[p].append(int(self.ids[a]))
        return result
