"""Coordinate handling without Django: WGS84 → ETRS89/UTM32N (EPSG:25832) and H3 cells."""

from __future__ import annotations

import math
from functools import lru_cache

import h3
import numpy as np
from pyproj import Transformer

H3_RESOLUTION = 9  # hexagons of about 0.1 km², a few street blocks
COORDINATE_DECIMALS = 6  # about 0.1 m, more than any phone GPS delivers


class InvalidCoordinate(ValueError):
    """The value is not a usable WGS84 coordinate."""


@lru_cache(maxsize=1)
def _to_utm32() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)


def parse_coordinate(value: object, *, kind: str) -> float:
    """Parse a latitude or longitude, accepting a German decimal comma."""
    if isinstance(value, bool):
        raise InvalidCoordinate(f"Ungültige {kind}.")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace(",", ".")
        if not text:
            raise InvalidCoordinate(f"{kind} fehlt.")
        try:
            number = float(text)
        except ValueError as exc:
            raise InvalidCoordinate(f"{kind} ist keine Zahl: {value!r}.") from exc
    limit = 90.0 if kind == "Breite" else 180.0
    if not math.isfinite(number) or abs(number) > limit:
        raise InvalidCoordinate(f"{kind} muss zwischen -{limit:g} und {limit:g} liegen.")
    return round(number, COORDINATE_DECIMALS)


def to_utm32(lat: float, lon: float) -> tuple[float, float]:
    x, y = _to_utm32().transform(lon, lat)
    return round(float(x), 2), round(float(y), 2)


def to_utm32_many(lats: np.ndarray, lons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = _to_utm32().transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    return np.round(x, 2), np.round(y, 2)


def h3_cell(lat: float, lon: float, resolution: int = H3_RESOLUTION) -> str:
    return h3.latlng_to_cell(lat, lon, resolution)


EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine); within a city it is exact to centimetres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
