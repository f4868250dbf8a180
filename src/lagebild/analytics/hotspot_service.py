"""Hotspot analyses over the incident points: kernel density, Getis-Ord Gi* and concentration.

The database side of the pure modules ``hotspots`` and ``concentration``. The methods need the
points themselves, so this is one of the few places in the analytics app that reads raw records:
only ``x_utm`` and ``y_utm`` (ETRS89 / UTM 32N, EPSG:25832), through ``unscoped()``. The results
are aggregates (densities and counts per grid cell) and are the same for both partners, like the
count tables; no record id, time, description or person ever leaves this module.

Study area: area ``0`` is the whole city (the city outline, or the union of the districts when the
city itself is not stored); any other id is an active area. Incidents belong to an area through
``IncidentArea`` (computed when they were recorded). Periods are inclusive local days
(Europe/Berlin).

Grids (all in metres, aligned to multiples of the cell size so different periods share cells):

* Kernel density: extent = bounding box of the area in UTM plus the bandwidth on every side, so
  no kernel of a point in the area is cut off. Default bandwidth: the ArcGIS rule
  (:func:`hotspots.default_bandwidth`). Default cell size: the shorter extent side / 250 (ArcGIS),
  rounded to 1, 2, 2.5 or 5 × 10^k m and at least 25 m; a default bandwidth is raised to at least
  two cell sizes so a kernel spans several cells.
* Gi* and concentration: the cells of a grid over the area's bounding box (default 100 m) that
  overlap the area, empty cells included. Gi* uses a binary distance band (default 1.5 × cell
  size = the cell, its four edge and four corner neighbours), two-sided normal p-values and
  Benjamini-Hochberg FDR control.

Gi* p-values come from the normal distribution (like ArcGIS). With very few incidents per cell
that is an approximation with too light an upper tail: on uniform data with about 5 incidents per
100 m cell, 10–15 % of data sets get a false hot cell after FDR instead of 5 %; with about 15 per
cell the nominal rate holds. Cells on the area's edge lie partly outside it and expect fewer
incidents, which can show as cold spots along the boundary. The page says both.

How many cells the area has decides the share "top 1 % of cells" and the Gini coefficient: most
cells of a large area are empty, and more empty cells mean a higher concentration (Eck et al.
2017). Compare concentration figures only for the same area and cell size.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from django.db.models import Q
from pyproj import Transformer
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident
from lagebild.field.selectors import local_day_start
from lagebild.geo.models import Area

from . import concentration as concentration_module
from . import hotspots
from .hotspots import GiStarResult, Grid
from .models import CITY_AREA

# --- limits and defaults (metres) ------------------------------------------------------------

MIN_CELL_SIZE = 5.0  # below GPS accuracy a finer grid shows nothing real
MAX_CELL_SIZE = 5_000.0
MIN_DEFAULT_CELL_SIZE = 25.0
MAX_BANDWIDTH = 5_000.0
MAX_GRID_CELLS = 1_000_000
FALLBACK_BANDWIDTH = 250.0  # when the ArcGIS rule has no spread to work with (fewer than two places)
DEFAULT_GI_CELL_SIZE = 100.0
DEFAULT_BAND_FACTOR = 1.5  # 1.5 × cell size: the eight neighbours and the cell itself
MAX_BAND_IN_CELLS = 20  # a band of 20 cells already sums 1,257 cells per cell
MAX_DISTANCE_BAND = 5_000.0
DEFAULT_ALPHA = 0.05
MIN_ALPHA, MAX_ALPHA = 0.0001, 0.2
NICE_STEPS = (1.0, 2.0, 2.5, 5.0)
# Map colour classes of the density as multiples of its mean over the study area (Milić et al.
# 2018 suggest incremental multiples of the mean; "≥ 3 × mean" is their hotspot threshold).
KDE_CLASS_MULTIPLES = (1.0, 2.0, 3.0, 5.0, 10.0)
HOTSPOT_MULTIPLE = 3.0
TOP_CELLS = 5
DENSITY_UNIT = "Feststellungen je km²"
KDE_METHOD_LABELS = {"exact": "exakte Formel", "binned": "Binning mit FFT-Faltung"}


class ParameterError(ValueError):
    """Unusable parameters; ``errors`` maps form field names to German messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


# --- selection and parameters ------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which incidents: area (0 = city), inclusive local days and optional filters."""

    area_id: int
    start: dt.date
    end: dt.date
    category_ids: tuple[int, ...] = ()
    sources: tuple[str, ...] = ()
    authority_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class HotspotParameters:
    """Method parameters in metres; ``None`` means the documented default."""

    bandwidth: float | None = None
    cell_size: float | None = None
    gi_cell_size: float | None = None
    distance_band: float | None = None
    alpha: float | None = None

    @property
    def gi_cell(self) -> float:
        return self.gi_cell_size if self.gi_cell_size is not None else DEFAULT_GI_CELL_SIZE

    @property
    def band(self) -> float:
        return self.distance_band if self.distance_band is not None else DEFAULT_BAND_FACTOR * self.gi_cell

    @property
    def level(self) -> float:
        return self.alpha if self.alpha is not None else DEFAULT_ALPHA


def _metres(value: float) -> str:
    if value >= 10 or value == int(value):
        return f"{value:,.0f}".replace(",", ".")
    return f"{value:.1f}".replace(".", ",")


def check_parameters(params: HotspotParameters) -> None:
    """Range checks that need no data; raises :class:`ParameterError` with all problems at once."""
    errors: dict[str, str] = {}
    for name, value, label in (
        ("bandwidth", params.bandwidth, "Die Bandbreite"),
        ("cell_size", params.cell_size, "Die Zellgröße"),
        ("gi_cell_size", params.gi_cell_size, "Die Zellgröße für Gi*"),
        ("distance_band", params.distance_band, "Der Distanzbereich"),
    ):
        if value is not None and not math.isfinite(value):
            errors[name] = f"{label} muss eine Zahl sein."
    if errors:
        raise ParameterError(errors)
    if params.bandwidth is not None:
        if params.bandwidth <= 0:
            errors["bandwidth"] = "Die Bandbreite muss größer als 0 m sein."
        elif params.bandwidth > MAX_BANDWIDTH:
            errors["bandwidth"] = (
                f"Die Bandbreite darf höchstens {_metres(MAX_BANDWIDTH)} m betragen; "
                "größere Suchradien glätten jeden Brennpunkt weg."
            )
    for name, value, label in (
        ("cell_size", params.cell_size, "Die Zellgröße"),
        ("gi_cell_size", params.gi_cell_size, "Die Zellgröße für Gi*"),
    ):
        if value is None:
            continue
        if value < MIN_CELL_SIZE:
            errors[name] = f"{label} muss mindestens {_metres(MIN_CELL_SIZE)} m betragen."
        elif value > MAX_CELL_SIZE:
            errors[name] = f"{label} darf höchstens {_metres(MAX_CELL_SIZE)} m betragen."
    if (
        params.bandwidth is not None
        and params.cell_size is not None
        and "bandwidth" not in errors
        and "cell_size" not in errors
        and params.bandwidth < params.cell_size
    ):
        errors["bandwidth"] = (
            f"Die Bandbreite ({_metres(params.bandwidth)} m) ist kleiner als die Zellgröße "
            f"({_metres(params.cell_size)} m); bitte eine größere Bandbreite oder kleinere Zellen wählen."
        )
    if "gi_cell_size" not in errors:
        band, cell = params.band, params.gi_cell
        if band <= 0:
            errors["distance_band"] = "Der Distanzbereich muss größer als 0 m sein."
        elif band > MAX_DISTANCE_BAND:
            errors["distance_band"] = (
                f"Der Distanzbereich darf höchstens {_metres(MAX_DISTANCE_BAND)} m betragen."
            )
        elif band < cell:
            errors["distance_band"] = (
                f"Der Distanzbereich ({_metres(band)} m) muss mindestens eine Zellgröße ({_metres(cell)} m) "
                "betragen, sonst hat keine Zelle Nachbarn."
            )
        elif band > MAX_BAND_IN_CELLS * cell:
            errors["distance_band"] = (
                f"Der Distanzbereich darf höchstens das {MAX_BAND_IN_CELLS}-Fache der Zellgröße betragen "
                f"(hier {_metres(MAX_BAND_IN_CELLS * cell)} m)."
            )
    if params.alpha is not None and not (MIN_ALPHA <= params.alpha <= MAX_ALPHA):
        errors["alpha"] = "Das Signifikanzniveau muss zwischen 0,0001 und 0,2 liegen (üblich: 0,05)."
    if errors:
        raise ParameterError(errors)


# --- points and study area ---------------------------------------------------------------------


def incident_points(
    area_id: int,
    start: dt.date,
    end: dt.date,
    category_ids: Iterable[int] = (),
    *,
    sources: Iterable[str] = (),
    authority_ids: Iterable[int] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """UTM 32N x and y (metres) of the incidents in the area on the local days start..end.

    Reads every partner's incidents (the surface is a shared aggregate) and nothing but the two
    coordinates. Empty filters mean "all".
    """
    conditions = Q(occurred_at__gte=local_day_start(start)) & Q(
        occurred_at__lt=local_day_start(end + dt.timedelta(days=1))
    )
    if area_id != CITY_AREA:
        conditions &= Q(area_links__area_id=area_id)
    categories, source_list, authorities = list(category_ids), list(sources), list(authority_ids)
    if categories:
        conditions &= Q(category_id__in=categories)
    if source_list:
        conditions &= Q(source__in=source_list)
    if authorities:
        conditions &= Q(authority_id__in=authorities)
    # The scope is lifted for exactly this read of two coordinate columns.
    with unscoped():
        rows = list(Incident.objects.filter(conditions).order_by().values_list("x_utm", "y_utm"))
    if not rows:
        return np.zeros(0), np.zeros(0)
    coordinates = np.asarray(rows, dtype=float)
    return coordinates[:, 0].copy(), coordinates[:, 1].copy()


def selection_points(selection: Selection) -> tuple[np.ndarray, np.ndarray]:
    return incident_points(
        selection.area_id,
        selection.start,
        selection.end,
        selection.category_ids,
        sources=selection.sources,
        authority_ids=selection.authority_ids,
    )


@lru_cache(maxsize=1)
def _to_utm() -> Transformer:
    return Transformer.from_crs(4326, hotspots.CRS_EPSG, always_xy=True)


def _project(geometry: BaseGeometry) -> BaseGeometry:
    transformer = _to_utm()
    return shapely.transform(
        geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])), include_z=False
    )


@dataclass(frozen=True)
class StudyArea:
    """The analysed area as WGS84 and UTM 32N geometry."""

    id: int
    name: str
    wgs84: BaseGeometry
    utm: BaseGeometry

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        xmin, ymin, xmax, ymax = self.utm.bounds
        return float(xmin), float(ymin), float(xmax), float(ymax)

    @property
    def area_km2(self) -> float:
        return float(self.utm.area) / hotspots.SQUARE_METRES_PER_KM2

    def outline_feature(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": mapping(self.wgs84),
            "properties": {"id": self.id, "name": self.name},
        }

    def cells_overlapping(self, grid: Grid) -> np.ndarray:
        """Boolean mask of the grid cells that share area with the study area.

        Cells whose centre lies inside, plus the cells the boundary passes through when they
        overlap the area: exact, and without testing a box for every cell of a large grid.
        """
        centre_x, centre_y = grid.cell_centres()
        mask = shapely.contains_xy(self.utm, centre_x, centre_y)
        size = grid.cell_size
        boundary = shapely.segmentize(self.utm.boundary, size / 4)
        rows, cols = grid.cell_index(*shapely.get_coordinates(boundary).T)
        near = set()
        for row_step in (-1, 0, 1):
            for col_step in (-1, 0, 1):
                near.update(zip((rows + row_step).tolist(), (cols + col_step).tolist(), strict=True))
        candidates = np.array(
            [(r, c) for r, c in near if 0 <= r < grid.nrows and 0 <= c < grid.ncols and not mask[r, c]],
            dtype=np.int64,
        ).reshape(-1, 2)
        if len(candidates):
            left = grid.x0 + candidates[:, 1] * size
            bottom = grid.y0 + candidates[:, 0] * size
            boxes = shapely.box(left, bottom, left + size, bottom + size)
            overlapping = shapely.intersects(self.utm, boxes) & ~shapely.touches(self.utm, boxes)
            mask[candidates[overlapping, 0], candidates[overlapping, 1]] = True
        return mask


def study_area(area_id: int) -> StudyArea:
    """The area with that id (0 = the whole city); German ``ParameterError`` if unknown."""
    if area_id == CITY_AREA:
        from django.conf import settings

        areas = list(Area.objects.filter(active=True, kind=Area.Kind.CITY))
        if not areas:
            areas = list(Area.objects.filter(active=True, kind=Area.Kind.DISTRICT))
        if not areas:
            raise ParameterError({"area": "Für das Stadtgebiet ist keine Grenze hinterlegt."})
        geometry = shapely.union_all([shapely.geometry.shape(a.geometry) for a in areas])
        name = f"Stadtgebiet {settings.CITY_NAME}"
    else:
        area = Area.objects.filter(pk=area_id, active=True).first()
        if area is None:
            raise ParameterError({"area": "Dieses Gebiet gibt es nicht (mehr)."})
        geometry = shapely.geometry.shape(area.geometry)
        name = area.name
    shapely.prepare(geometry)
    projected = _project(geometry)
    shapely.prepare(projected)
    return StudyArea(id=area_id, name=name, wgs84=geometry, utm=projected)


# --- kernel density ----------------------------------------------------------------------------


def nice_length(value: float) -> float:
    """The nearest (on a log scale) of 1, 2, 2.5 or 5 × 10^k metres."""
    exponent = math.floor(math.log10(value))
    candidates = [
        step * 10.0**power for power in (exponent - 1, exponent, exponent + 1) for step in NICE_STEPS
    ]
    return min(candidates, key=lambda c: abs(math.log(c / value)))


def nice_floor(value: float) -> float:
    """The largest of 1, 2, 2.5 or 5 × 10^k metres not above the value."""
    exponent = math.floor(math.log10(value))
    candidates = [step * 10.0**power for power in (exponent - 1, exponent) for step in NICE_STEPS]
    return max(c for c in candidates if c <= value * (1 + 1e-12))


def _default_cell_size(width: float, height: float) -> float:
    size = max(MIN_DEFAULT_CELL_SIZE, nice_length(max(min(width, height), 1.0) / 250))
    while math.ceil(width / size + 1) * math.ceil(height / size + 1) > MAX_GRID_CELLS:
        size = nice_length(size * 2.2)  # the next larger nice step
    return size


@dataclass(frozen=True)
class KdeSurface:
    """Quartic kernel density in incidents per km² at the cell centres (row 0 = south)."""

    grid: Grid
    values: np.ndarray
    points: int
    bandwidth: float
    bandwidth_note: str
    cell_size_note: str
    method: str
    area_cells: np.ndarray  # cells overlapping the study area
    unit: str = DENSITY_UNIT

    @property
    def mean_density(self) -> float:
        """Mean density over the cells of the study area (the base of the colour classes)."""
        inside = self.values[self.area_cells]
        return float(inside.mean()) if inside.size else 0.0

    @property
    def max_density(self) -> float:
        return float(self.values.max(initial=0.0))

    def class_breaks(self) -> list[float]:
        mean = self.mean_density
        return [multiple * mean for multiple in KDE_CLASS_MULTIPLES]

    def classes(self) -> np.ndarray:
        """Colour class per cell: 0 below the mean, 1..5 for the multiples 1, 2, 3, 5, 10 × mean."""
        if self.mean_density <= 0:
            return np.zeros(self.values.shape, dtype=np.int8)
        return np.searchsorted(np.asarray(self.class_breaks()), self.values, side="right").astype(np.int8)

    def hotspot_cells(self) -> int:
        """Cells of the study area at or above 3 × the mean density."""
        if self.mean_density <= 0:
            return 0
        return int((self.values[self.area_cells] >= HOTSPOT_MULTIPLE * self.mean_density).sum())


def kde_for_points(
    area: StudyArea,
    x: np.ndarray,
    y: np.ndarray,
    bandwidth: float | None = None,
    cell_size: float | None = None,
) -> KdeSurface:
    """Kernel density of the points over the area's bounding box widened by the bandwidth.

    Parameter defaults and guards as in the module docstring; raises :class:`ParameterError`.
    """
    check_parameters(HotspotParameters(bandwidth=bandwidth, cell_size=cell_size))
    count = len(x)
    xmin, ymin, xmax, ymax = area.bounds
    notes: list[str] = []
    if bandwidth is not None:
        radius = float(bandwidth)
        bandwidth_note = "vom Benutzer gewählt"
        from_rule = False
    else:
        from_rule = True
        try:
            radius = hotspots.default_bandwidth(x, y)
            bandwidth_note = (
                f"Standardregel (ArcGIS) aus der Streuung der {_number(count, 0)} Punkte: "
                "0,9 · min(Standarddistanz; √(1/ln 2) · Median-Distanz zum Mittelpunkt) · n^−0,2"
            )
        except ValueError:
            radius = FALLBACK_BANDWIDTH
            bandwidth_note = (
                f"Standardwert {_metres(FALLBACK_BANDWIDTH)} m, weil die Standardregel mindestens zwei "
                "verschiedene Orte braucht"
            )
        if radius > MAX_BANDWIDTH:
            notes.append(f"auf die Obergrenze {_metres(MAX_BANDWIDTH)} m begrenzt")
            radius = MAX_BANDWIDTH
    width, height = xmax - xmin + 2 * radius, ymax - ymin + 2 * radius
    if cell_size is not None:
        size = float(cell_size)
        cell_size_note = "vom Benutzer gewählt"
    else:
        size = _default_cell_size(width, height)
        cell_size_note = "kürzere Seite des Ausschnitts / 250 (ArcGIS), gerundet, mindestens 25 m"
        if not from_rule and radius < 2 * size:
            size = max(MIN_CELL_SIZE, nice_floor(radius / 2))
            cell_size_note = "höchstens die halbe Bandbreite, damit ein Kern mehrere Zellen überdeckt"
    if from_rule and radius < 2 * size:
        radius = 2 * size
        notes.append(
            f"auf zwei Zellgrößen ({_metres(radius)} m) angehoben, damit ein Kern mehrere Zellen überdeckt"
        )
    if notes:
        bandwidth_note = f"{bandwidth_note}; " + "; ".join(notes)
    try:
        grid = hotspots.grid_for_extent(
            xmin - radius,
            ymin - radius,
            xmax + radius,
            ymax + radius,
            cell_size=size,
            max_cells=MAX_GRID_CELLS,
        )
    except ValueError as exc:
        field_name = "cell_size" if cell_size is not None or bandwidth is None else "bandwidth"
        raise ParameterError({field_name: str(exc)}) from exc
    method = "exact" if count == 0 else _kde_method(count, radius, grid)
    values = hotspots.kde_quartic(x, y, grid, radius, method=method)  # type: ignore[arg-type]
    return KdeSurface(
        grid=grid,
        values=values,
        points=count,
        bandwidth=radius,
        bandwidth_note=bandwidth_note,
        cell_size_note=cell_size_note,
        method=method,
        area_cells=area.cells_overlapping(grid),
    )


def _kde_method(count: int, radius: float, grid: Grid) -> str:
    """The same choice ``kde_quartic(method="auto")`` makes, named for the page."""
    cells_in_radius = math.pi * (radius / grid.cell_size) ** 2 + 1
    exact = count * min(cells_in_radius, grid.cell_count) <= hotspots.EXACT_WORK_LIMIT
    return "exact" if exact else "binned"


def kde_surface(
    area_id: int,
    start: dt.date,
    end: dt.date,
    category_ids: Iterable[int] = (),
    *,
    bandwidth: float | None = None,
    cell_size: float | None = None,
    sources: Iterable[str] = (),
    authority_ids: Iterable[int] = (),
) -> KdeSurface:
    """Kernel density of the selected incidents (see :func:`kde_for_points`)."""
    area = study_area(area_id)
    x, y = incident_points(area_id, start, end, category_ids, sources=sources, authority_ids=authority_ids)
    return kde_for_points(area, x, y, bandwidth=bandwidth, cell_size=cell_size)


# --- counts per cell, Gi*, concentration -------------------------------------------------------


@dataclass(frozen=True)
class CellCounts:
    """Incidents per cell of a grid over the area; ``area_cells`` marks the cells of the area."""

    grid: Grid
    counts: np.ndarray
    area_cells: np.ndarray

    @property
    def cell_count(self) -> int:
        return int(self.area_cells.sum())


def cell_counts(area: StudyArea, x: np.ndarray, y: np.ndarray, cell_size: float) -> CellCounts:
    """Counts on the grid over the area's bounding box, cells overlapping the area marked."""
    xmin, ymin, xmax, ymax = area.bounds
    try:
        grid = hotspots.grid_for_extent(xmin, ymin, xmax, ymax, cell_size=cell_size, max_cells=MAX_GRID_CELLS)
    except ValueError as exc:
        raise ParameterError({"gi_cell_size": str(exc)}) from exc
    counts = grid.counts(x, y)
    area_cells = area.cells_overlapping(grid) | (counts > 0)
    return CellCounts(grid=grid, counts=counts, area_cells=area_cells)


@dataclass(frozen=True)
class GiStarCells:
    """Gi* per grid cell with the parameters used."""

    cells: CellCounts
    result: GiStarResult
    cell_size: float
    distance_band: float
    alpha: float
    neighbours: int  # cells in the band of an interior cell, itself included

    @property
    def hot_count(self) -> int:
        return self.result.hot_count

    @property
    def cold_count(self) -> int:
        return self.result.cold_count

    @property
    def informative(self) -> bool:
        """False when no cell got a z-score: the band spans every cell, or all counts are equal."""
        return bool(np.any(self.result.z[self.cells.area_cells] != 0))


def gi_star_for_cells(cells: CellCounts, params: HotspotParameters) -> GiStarCells:
    """Gi* of counts per cell (the area's cells are the units, empty ones included)."""
    try:
        result = hotspots.gi_star_grid(
            cells.counts, params.gi_cell, params.band, alpha=params.level, mask=cells.area_cells
        )
    except ValueError as exc:
        raise ParameterError({"gi_cell_size": f"{exc} Bitte kleinere Zellen wählen."}) from exc
    stencil = hotspots.distance_band_stencil(params.gi_cell, params.band)
    return GiStarCells(
        cells=cells,
        result=result,
        cell_size=params.gi_cell,
        distance_band=params.band,
        alpha=params.level,
        neighbours=int(stencil.sum()),
    )


def gi_star_for_points(
    area: StudyArea,
    x: np.ndarray,
    y: np.ndarray,
    cell_size: float | None = None,
    distance_band: float | None = None,
    alpha: float | None = None,
) -> GiStarCells:
    """Gi* of the incident counts on the area's cells (empty cells included)."""
    params = HotspotParameters(gi_cell_size=cell_size, distance_band=distance_band, alpha=alpha)
    check_parameters(params)
    return gi_star_for_cells(cell_counts(area, x, y, params.gi_cell), params)


def gi_star_cells(
    area_id: int,
    start: dt.date,
    end: dt.date,
    category_ids: Iterable[int] = (),
    *,
    cell_size: float | None = None,
    distance_band: float | None = None,
    alpha: float | None = None,
    sources: Iterable[str] = (),
    authority_ids: Iterable[int] = (),
) -> GiStarCells:
    """Gi* of the selected incidents (see :func:`gi_star_for_points`)."""
    area = study_area(area_id)
    x, y = incident_points(area_id, start, end, category_ids, sources=sources, authority_ids=authority_ids)
    return gi_star_for_points(area, x, y, cell_size, distance_band, alpha)


@dataclass(frozen=True)
class CellConcentration:
    """Concentration of incidents on the area's cells, with the Lorenz curve at every tenth of cells."""

    result: concentration_module.Concentration
    cell_size: float
    cells: int
    deciles: list[tuple[float, float]] = field(default_factory=list)  # (share of cells, share of incidents)


def concentration_of_counts(counts: np.ndarray, cell_size: float) -> CellConcentration:
    values = np.asarray(counts, dtype=float).ravel()
    result = concentration_module.concentration(values)
    ascending_cumulative = np.concatenate([[0.0], np.cumsum(np.sort(values))])
    total = ascending_cumulative[-1]
    deciles = []
    for tenth in range(11):
        cells_taken = round(tenth * values.size / 10)
        deciles.append((tenth / 10, float(ascending_cumulative[cells_taken] / total)))
    return CellConcentration(result=result, cell_size=cell_size, cells=values.size, deciles=deciles)


def concentration_for_points(
    area: StudyArea, x: np.ndarray, y: np.ndarray, cell_size: float | None = None
) -> CellConcentration:
    """Concentration over all cells of the area (empty ones included) at the Gi* cell size."""
    params = HotspotParameters(gi_cell_size=cell_size)
    check_parameters(params)
    cells = cell_counts(area, x, y, params.gi_cell)
    return concentration_of_counts(cells.counts[cells.area_cells], params.gi_cell)


def concentration_for(
    area_id: int,
    start: dt.date,
    end: dt.date,
    category_ids: Iterable[int] = (),
    *,
    cell_size: float | None = None,
    sources: Iterable[str] = (),
    authority_ids: Iterable[int] = (),
) -> CellConcentration:
    """Share of incidents in the top 1/5/10 % of cells, Lorenz curve, Gini and generalized Gini.

    Raises ``ValueError`` (German) when there are no incidents: there is nothing to concentrate.
    """
    area = study_area(area_id)
    x, y = incident_points(area_id, start, end, category_ids, sources=sources, authority_ids=authority_ids)
    return concentration_for_points(area, x, y, cell_size)


# --- the whole analysis for the page ----------------------------------------------------------


@dataclass(frozen=True)
class TopCell:
    rank: int
    count: int
    share: float
    z: float
    hot_cold: int
    lat: float
    lon: float
    places: str


@dataclass(frozen=True)
class HotspotAnalysis:
    selection: Selection
    params: HotspotParameters
    area: StudyArea
    points: int
    kde: KdeSurface | None = None
    cells: CellCounts | None = None
    gi: GiStarCells | None = None
    gi_message: str = ""
    concentration: CellConcentration | None = None
    top_cells: list[TopCell] = field(default_factory=list)


def analyse(selection: Selection, params: HotspotParameters) -> HotspotAnalysis:
    """Everything the page shows, from one read of the points.

    With no incidents the analysis is empty (``points == 0``) instead of an error: the page says
    so. Parameter problems raise :class:`ParameterError`, except that an area too small for Gi*
    at the default cell size only leaves out Gi* (with ``gi_message``), not the whole page.
    """
    check_parameters(params)
    area = study_area(selection.area_id)
    x, y = selection_points(selection)
    if len(x) == 0:
        return HotspotAnalysis(selection, params, area, 0)
    kde = kde_for_points(area, x, y, params.bandwidth, params.cell_size)
    cells = cell_counts(area, x, y, params.gi_cell)
    gi, gi_message = None, ""
    try:
        gi = gi_star_for_cells(cells, params)
    except ParameterError as exc:
        if params.gi_cell_size is not None or params.distance_band is not None:
            raise
        gi_message = exc.errors["gi_cell_size"]
    return HotspotAnalysis(
        selection=selection,
        params=params,
        area=area,
        points=len(x),
        kde=kde,
        cells=cells,
        gi=gi,
        gi_message=gi_message,
        concentration=concentration_of_counts(cells.counts[cells.area_cells], params.gi_cell),
        top_cells=top_cells(cells, gi, len(x)),
    )


def kde_only(selection: Selection, params: HotspotParameters) -> tuple[StudyArea, KdeSurface | None]:
    check_parameters(params)
    area = study_area(selection.area_id)
    x, y = selection_points(selection)
    if len(x) == 0:
        return area, None
    return area, kde_for_points(area, x, y, params.bandwidth, params.cell_size)


def gi_only(selection: Selection, params: HotspotParameters) -> tuple[StudyArea, GiStarCells | None]:
    check_parameters(params)
    area = study_area(selection.area_id)
    x, y = selection_points(selection)
    if len(x) == 0:
        return area, None
    return area, gi_star_for_points(area, x, y, params.gi_cell, params.band, params.level)


def _place_names(lons: Sequence[float], lats: Sequence[float]) -> list[str]:
    """Names of the focus areas and districts at each point (most specific first)."""
    from lagebild.geo.services import area_index

    index = area_index()
    hits = index.areas_at_many(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    wanted = {hit for found in hits for hit in found}
    order = {
        Area.Kind.FOCUS_AREA: 0,
        Area.Kind.VIDEO_AREA: 1,
        Area.Kind.PATROL_ZONE: 2,
        Area.Kind.DISTRICT: 3,
    }
    areas = {
        pk: (order[kind], name)
        for pk, kind, name in Area.objects.filter(pk__in=wanted, kind__in=list(order)).values_list(
            "pk", "kind", "name"
        )
    }
    return [", ".join(name for _, name in sorted(areas[i] for i in found if i in areas)) for found in hits]


def top_cells(cells: CellCounts, gi: GiStarCells | None, total: int, limit: int = TOP_CELLS) -> list[TopCell]:
    """The cells with the most incidents (ties: higher Gi* z first), with their location."""
    grid = cells.grid
    flat_counts = np.where(cells.area_cells, cells.counts, 0).ravel()
    z = gi.result.z.ravel() if gi is not None else np.zeros(flat_counts.size)
    flags = gi.result.hot_cold.ravel() if gi is not None else np.zeros(flat_counts.size, dtype=np.int8)
    order = np.lexsort((-z, -flat_counts))
    chosen = [int(i) for i in order[:limit] if flat_counts[i] > 0]
    if not chosen:
        return []
    rows, cols = np.unravel_index(chosen, grid.shape)
    centre_x = grid.x0 + (cols + 0.5) * grid.cell_size
    centre_y = grid.y0 + (rows + 0.5) * grid.cell_size
    lons, lats = hotspots.utm32_to_wgs84(centre_x, centre_y)
    places = _place_names(lons.tolist(), lats.tolist())
    return [
        TopCell(
            rank=rank,
            count=int(flat_counts[index]),
            share=float(flat_counts[index]) / total,
            z=float(z[index]),
            hot_cold=int(flags[index]),
            lat=round(float(lats[rank - 1]), 5),
            lon=round(float(lons[rank - 1]), 5),
            places=places[rank - 1],
        )
        for rank, index in enumerate(chosen, start=1)
    ]


# --- map and download payloads -----------------------------------------------------------------


def _round_coordinates(geometry: BaseGeometry, decimals: int = 6) -> BaseGeometry:
    return shapely.transform(geometry, lambda xy: np.round(xy, decimals))


def _to_wgs84(geometry: BaseGeometry) -> BaseGeometry:
    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = hotspots.utm32_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return _round_coordinates(shapely.transform(geometry, convert))


def kde_class_features(kde: KdeSurface) -> dict[str, Any]:
    """The coloured density classes as one (multi)polygon per class, WGS84.

    The cells of a class are merged (their exact outlines, nothing simplified), so the map gets a
    few polygons instead of tens of thousands of squares; the per-cell values are in the downloads.
    """
    classes = kde.classes()
    breaks = kde.class_breaks()
    features = []
    column_edges = kde.grid.x0 + np.arange(kde.grid.ncols + 1) * kde.grid.cell_size
    row_edges = kde.grid.y0 + np.arange(kde.grid.nrows + 1) * kde.grid.cell_size
    for number in range(1, len(KDE_CLASS_MULTIPLES) + 1):
        rows, cols = np.nonzero(classes == number)
        if rows.size == 0:
            continue
        # Neighbouring cells must share bit-identical edges for the coverage union.
        boxes = shapely.box(column_edges[cols], row_edges[rows], column_edges[cols + 1], row_edges[rows + 1])
        merged = shapely.coverage_union_all(boxes)
        upper = breaks[number] if number < len(breaks) else None
        features.append({
            "type": "Feature",
            "geometry": mapping(_to_wgs84(merged)),
            "properties": {
                "class": number,
                "cells": int(rows.size),
                "min": round(breaks[number - 1], 3),
                "max": None if upper is None else round(upper, 3),
                "label": kde_class_label(number, breaks),
            },
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def _number(value: float, decimals: int = 1) -> str:
    return f"{value:,.{decimals}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def kde_class_label(number: int, breaks: Sequence[float]) -> str:
    low = KDE_CLASS_MULTIPLES[number - 1]
    if number < len(KDE_CLASS_MULTIPLES):
        high = KDE_CLASS_MULTIPLES[number]
        return (
            f"{_number(low, 0)} bis unter {_number(high, 0)} × Mittelwert "
            f"({_number(breaks[number - 1])} bis {_number(breaks[number])} je km²)"
        )
    return f"{_number(low, 0)} × Mittelwert und mehr (ab {_number(breaks[number - 1])} je km²)"


def kde_legend(kde: KdeSurface) -> list[dict[str, Any]]:
    breaks = kde.class_breaks()
    classes = kde.classes()
    return [
        {"class": number, "label": kde_class_label(number, breaks), "cells": int((classes == number).sum())}
        for number in range(1, len(KDE_CLASS_MULTIPLES) + 1)
    ]


GI_CLASS_LABELS = {1: "Brennpunkt (hot spot)", -1: "Kaltpunkt (cold spot)", 0: "nicht signifikant"}
GI_CLASS_CODES = {1: "hot", -1: "cold", 0: "not_significant"}


def gi_features(gi: GiStarCells, significant_only: bool) -> dict[str, Any]:
    """Gi* cells as GeoJSON (WGS84): z, p, significant, class, incident count, row, col."""
    grid, result = gi.cells.grid, gi.result
    selected = result.significant if significant_only else gi.cells.area_cells
    rows, cols = np.nonzero(selected)
    if rows.size == 0:
        return {"type": "FeatureCollection", "features": []}
    size = grid.cell_size
    left = grid.x0 + cols * size
    bottom = grid.y0 + rows * size
    corner_x = np.stack([left, left + size, left + size, left, left], axis=1)
    corner_y = np.stack([bottom, bottom, bottom + size, bottom + size, bottom], axis=1)
    lon, lat = hotspots.utm32_to_wgs84(corner_x.ravel(), corner_y.ravel())
    lon = np.round(lon, 6).reshape(-1, 5).tolist()
    lat = np.round(lat, 6).reshape(-1, 5).tolist()
    z = result.z[rows, cols].tolist()
    p = result.p[rows, cols].tolist()
    flags = result.hot_cold[rows, cols].tolist()
    significant = result.significant[rows, cols].tolist()
    counts = gi.cells.counts[rows, cols].tolist()
    features = []
    for index, (row, col) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [list(zip(lon[index], lat[index], strict=True))]},
            "properties": {
                "z": round(z[index], 6),
                "p": float(f"{p[index]:.6g}"),
                "significant": bool(significant[index]),
                "class": GI_CLASS_CODES[flags[index]],
                "count": int(counts[index]),
                "row": row,
                "col": col,
            },
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def kde_cells_geojson(kde: KdeSurface) -> dict[str, Any]:
    """Every cell with a density above 0 as a WGS84 polygon: value, row, col, unit."""
    collection = hotspots.grid_cells_geojson(kde.grid, kde.values)
    for feature in collection["features"]:
        feature["properties"]["unit"] = kde.unit
    return collection


def kde_metadata(kde: KdeSurface) -> dict[str, Any]:
    return {
        "crs_of_grid": f"EPSG:{hotspots.CRS_EPSG}",
        "cell_size_m": kde.grid.cell_size,
        "bandwidth_m": round(kde.bandwidth, 2),
        "kernel": "quartic (ArcGIS/CrimeStat)",
        "unit": kde.unit,
        "points": kde.points,
        "x0": kde.grid.x0,
        "y0": kde.grid.y0,
        "ncols": kde.grid.ncols,
        "nrows": kde.grid.nrows,
    }
