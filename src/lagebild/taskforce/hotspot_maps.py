"""The hotspot maps of a stored operation evaluation as small inline SVG panels (no script).

:func:`panels` reads the ``hotspots`` section of a snapshot (:mod:`lagebild.taskforce.evaluation`)
and returns one panel per period – before, during, after – drawn on the same frame (the outline of
target and rings) with the same colour scale (density relative to the highest density of all maps
shown), so the maps compare at a glance. A period without a map (the period after the operation
not begun yet, or an older snapshot that has no "after") gets a panel with a German text instead.
Bad or missing data never raises: it gives no panel.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

METRES_PER_DEGREE = 111_320.0
PERIODS = (("before", "Vorher"), ("during", "Während"), ("after", "Danach"))
FRAME_MARGIN = 0.03  # share of the longer side around the outline
NOT_STORED = "Nicht verfügbar: diese Auswertung wurde vor der Karte nach dem Einsatz gespeichert."


def _rings(geometry: Any) -> list[list[list[float]]]:
    """All rings of a GeoJSON (Multi)Polygon, [] for anything else."""
    if not isinstance(geometry, Mapping):
        return []
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = coordinates
    else:
        return []
    rings = []
    for polygon in polygons or []:
        for ring in polygon or []:
            points = [p for p in ring or [] if isinstance(p, list | tuple) and len(p) >= 2]
            if len(points) >= 3:
                rings.append(points)
    return rings


class _Frame:
    """Lon/lat to metres east and south of the outline's north-west corner (equirectangular)."""

    def __init__(self, rings: Iterable[list[list[float]]]) -> None:
        lons = [float(p[0]) for ring in rings for p in ring]
        lats = [float(p[1]) for ring in rings for p in ring]
        self.west, self.north = min(lons), max(lats)
        self.scale_x = METRES_PER_DEGREE * math.cos(math.radians((min(lats) + self.north) / 2))
        width = (max(lons) - self.west) * self.scale_x
        height = (self.north - min(lats)) * METRES_PER_DEGREE
        margin = FRAME_MARGIN * max(width, height, 1.0)
        self.view_box = f"{-margin:.0f} {-margin:.0f} {width + 2 * margin:.0f} {height + 2 * margin:.0f}"

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (float(lon) - self.west) * self.scale_x, (self.north - float(lat)) * METRES_PER_DEGREE


def _path(frame: _Frame, rings: list[list[list[float]]]) -> str:
    parts = []
    for ring in rings:
        points = [frame.xy(p[0], p[1]) for p in ring]
        parts.append("M" + " L".join(f"{x:.0f} {y:.0f}" for x, y in points) + " Z")
    return " ".join(parts)


def _cells(section: Mapping[str, Any]) -> list[tuple[float, float, float]]:
    features = ((section.get("cells") or {}).get("features")) or []
    found = []
    for feature in features:
        try:
            lon, lat = feature["geometry"]["coordinates"][:2]
            found.append((float(lon), float(lat), float(feature["properties"]["density"])))
        except (KeyError, TypeError, ValueError):
            continue
    return found


def _label(section: Mapping[str, Any], name: str) -> str:
    period = section.get("period") or {}
    label = period.get("label", "")
    if name == "after" and section.get("status") == "partial":
        return f"{label}, vorläufig ({period.get('days', '?')} Tage)"
    return label


def panels(spots: Any) -> list[dict[str, Any]]:
    """Up to three panels (name, title, period label, SVG data or a text); [] without a map."""
    if not isinstance(spots, Mapping) or spots.get("status") != "ok":
        return []
    rings = _rings(spots.get("outline"))
    if not rings:
        return []
    frame = _Frame(rings)
    outline = _path(frame, rings)
    cell_m = float(spots.get("cell_size_m") or 0)
    shown = {
        name: spots[name]
        for name, _title in PERIODS
        if isinstance(spots.get(name), Mapping) and spots[name].get("status", "ok") != "missing"
    }
    cells = {name: _cells(section) for name, section in shown.items()}
    top = max((d for found in cells.values() for _lon, _lat, d in found), default=0.0)
    result = []
    for name, title in PERIODS:
        section = spots.get(name)
        panel: dict[str, Any] = {"name": name, "title": title}
        if name not in shown:
            if isinstance(section, Mapping):
                panel["text"] = section.get("note") or "Steht noch aus."
            else:
                panel["text"] = NOT_STORED
            result.append(panel)
            continue
        squares = []
        for lon, lat, density in cells[name]:
            x, y = frame.xy(lon, lat)
            share = density / top if top > 0 else 0.0
            squares.append(
                {
                    "x": f"{x - cell_m / 2:.0f}",
                    "y": f"{y - cell_m / 2:.0f}",
                    "opacity": f"{0.25 + 0.75 * share:.2f}",
                }
            )
        count = len(squares)
        panel.update(
            label=_label(section, name),
            view_box=frame.view_box,
            outline=outline,
            cell=f"{cell_m:.0f}",
            squares=squares,
            description=(
                f"Karte {title.lower()} ({_label(section, name)}): "
                + (
                    f"{count} {'Zelle' if count == 1 else 'Zellen'} mit mindestens dreifacher mittlerer "
                    "Dichte des Zeitraums vorher"
                    if count
                    else "keine Zelle mit mindestens dreifacher mittlerer Dichte des Zeitraums vorher"
                )
            ),
        )
        result.append(panel)
    return result
