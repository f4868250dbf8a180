"""The panel for the effect evaluation, read from the database (reads only).

:func:`evaluate_effect` builds cell × week counts of incidents before and during the patrol weeks,
the patrol hours per cell, decides which cells count as patrolled, and hands everything to the pure
:func:`lagebild.deployment.effect.estimate_effect`. Method and reading: ``docs/deployment-effect.md``.

Grid
    Square cells (default 250 m) in ETRS89/UTM32N over the city area's bounding box
    (:func:`lagebild.analytics.hotspots.grid_for_extent`); only cells whose centre lies in the city
    polygon take part.

Counts
    Incidents of both authorities (``occurred_at`` in the week, ``x_utm``/``y_utm`` in the cell,
    optionally one category group), read as an aggregate inside ``unscoped()``: the figures are
    shared by both partners like every other analytic figure, and only coordinates and times leave the
    database (no id, text or person). Weeks start at local midnight, so a DST change does not move
    incidents between weeks.

Patrol hours per cell
    Every patrol (both authorities, also read as an aggregate) with an operating area
    (``Patrol.area``) counts with its actual times, or its planned times where none were recorded,
    cut to the period. The area is taken as covered for the whole patrol: a cell lying wholly in the
    area gets the patrol's hours, a cell lying partly in it the hours times the covered share of the
    cell. Patrols without an area cannot be placed and are not counted (their number is reported).

Patrolled, unpatrolled, excluded
    Patrolled ("treated"): at least ``min_hours_per_week`` × weeks patrol hours in the patrol weeks,
    and, when an area is chosen (e.g. the target area of a special operation), the cell's centre in
    that area. Candidate controls: no patrol hour at all in the patrol weeks, and not within
    ``buffer_m`` of a patrolled cell (displacement or diffusion would reach them). Cells patrolled a
    little (below the threshold) or patrolled outside the chosen area are neither.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from django.db.models import Q
from django.utils import timezone
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from lagebild.analytics.displacement_service import last_data_day, to_utm
from lagebild.analytics.hotspots import Grid, grid_for_extent
from lagebild.analytics.periods import Period
from lagebild.catalog.models import Category
from lagebild.core.localtime import overlap_hours
from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident, Patrol
from lagebild.geo.models import Area

from .effect import DEFAULT_K, EffectResult, estimate_effect, with_patrol_dose

DEFAULT_WEEKS = 8
MIN_WEEKS = 2
MAX_WEEKS = 26
DEFAULT_MIN_HOURS_PER_WEEK = 2.0
DEFAULT_BUFFER_M = 500.0
DEFAULT_CELL_M = 250.0
ALL_GROUPS = ""


class EffectQueryError(ValueError):
    """The evaluation cannot be run on the stored data; the message is German."""


@dataclass(frozen=True)
class EffectParams:
    start: dt.date  # first day of the patrol weeks (the "post" period)
    weeks: int = DEFAULT_WEEKS  # length of the pre period and of the patrol weeks
    group: str = ALL_GROUPS  # Category.Group value, "" for all incidents
    area_id: int | None = None  # only cells in this area count as patrolled
    min_hours_per_week: float = DEFAULT_MIN_HOURS_PER_WEEK
    buffer_m: float = DEFAULT_BUFFER_M
    k: int = DEFAULT_K
    cell_m: float = DEFAULT_CELL_M
    alpha: float = 0.05

    @property
    def post(self) -> Period:
        return Period(self.start, self.start + dt.timedelta(days=7 * self.weeks - 1))

    @property
    def pre(self) -> Period:
        return Period(self.start - dt.timedelta(days=7 * self.weeks), self.start - dt.timedelta(days=1))


@dataclass(frozen=True)
class EffectReport:
    """What the page shows: the pure result and the definitions it rests on (aggregates only)."""

    params: EffectParams
    result: EffectResult
    group_label: str
    area_name: str
    cells_in_study: int
    cell_m: float
    incidents_pre: int
    incidents_post: int
    patrols_counted: int
    patrols_without_area: int
    hours_treated_pre: float  # mean patrol hours per patrolled cell and week, before
    hours_treated_post: float  # ... and in the patrol weeks
    hours_controls_pre: float  # mean patrol hours per chosen control cell and week, before


def group_choices() -> list[tuple[str, str]]:
    return [(ALL_GROUPS, "Alle Feststellungen"), *Category.Group.choices]


def group_label(group: str) -> str:
    return dict(group_choices()).get(group, group)


def default_start(weeks: int = DEFAULT_WEEKS) -> dt.date:
    """Patrol weeks = the last ``weeks`` complete weeks (Monday to Sunday) with data."""
    last = last_data_day()
    end_monday = last + dt.timedelta(days=1) - dt.timedelta(days=(last + dt.timedelta(days=1)).weekday())
    return end_monday - dt.timedelta(days=7 * weeks)


def operation_params(operation: object, **overrides: object) -> EffectParams:
    """Parameters for a special operation: its start and area, whole weeks covering it (at least two)."""
    days = (operation.end - operation.start).days + 1  # type: ignore[attr-defined]
    weeks = min(MAX_WEEKS, max(MIN_WEEKS, math.ceil(days / 7)))
    # A running operation: the complete weeks so far (at least two, else the page says it is too early).
    complete = (timezone.localdate() - operation.start).days // 7  # type: ignore[attr-defined]
    weeks = max(MIN_WEEKS, min(weeks, complete))
    values: dict[str, object] = {"start": operation.start, "weeks": weeks, "area_id": operation.area_id}  # type: ignore[attr-defined]
    values.update(overrides)
    return EffectParams(**values)  # type: ignore[arg-type]


# --- geometry -------------------------------------------------------------------------------------


def _geometry_utm(area: Area) -> BaseGeometry:
    return to_utm(shapely.make_valid(shape(area.geometry)))


def _study_grid(cell_m: float) -> tuple[Grid, np.ndarray]:
    cities = [_geometry_utm(a) for a in Area.objects.filter(kind=Area.Kind.CITY, active=True)]
    if not cities:
        raise EffectQueryError("Es ist kein Stadtgebiet hinterlegt; ohne Stadtgebiet gibt es kein Raster.")
    city = shapely.union_all(cities)
    try:
        grid = grid_for_extent(*city.bounds, cell_size=cell_m)
    except ValueError as exc:
        raise EffectQueryError(str(exc)) from None
    x, y = grid.cell_centres()
    shapely.prepare(city)
    return grid, shapely.contains_xy(city, x, y)


def _cover_share(grid: Grid, polygon: BaseGeometry) -> np.ndarray:
    """Share of each cell covered by ``polygon`` (flat, length grid.cell_count)."""
    share = np.zeros(grid.cell_count)
    if polygon.is_empty:
        return share
    min_x, min_y, max_x, max_y = polygon.bounds
    col0 = max(0, math.floor((min_x - grid.x0) / grid.cell_size))
    col1 = min(grid.ncols - 1, math.floor((max_x - grid.x0) / grid.cell_size))
    row0 = max(0, math.floor((min_y - grid.y0) / grid.cell_size))
    row1 = min(grid.nrows - 1, math.floor((max_y - grid.y0) / grid.cell_size))
    if col1 < col0 or row1 < row0:
        return share
    rows, cols = np.meshgrid(np.arange(row0, row1 + 1), np.arange(col0, col1 + 1), indexing="ij")
    x0 = grid.x0 + cols.ravel() * grid.cell_size
    y0 = grid.y0 + rows.ravel() * grid.cell_size
    boxes = shapely.box(x0, y0, x0 + grid.cell_size, y0 + grid.cell_size)
    # Only cells on the boundary need the (slow) intersection; inner cells are wholly covered.
    shapely.prepare(polygon)
    covered = shapely.contains(polygon, boxes).astype(float)
    edge = np.flatnonzero((covered == 0) & shapely.intersects(polygon, boxes))
    if len(edge):
        covered[edge] = shapely.area(shapely.intersection(boxes[edge], polygon)) / grid.cell_size**2
    share[rows.ravel() * grid.ncols + cols.ravel()] = np.clip(covered, 0, 1)
    return share


# --- reading ----------------------------------------------------------------------------------------


def _week_edges(params: EffectParams) -> list[dt.datetime]:
    zone = timezone.get_current_timezone()
    first = params.pre.start
    return [
        dt.datetime.combine(first + dt.timedelta(days=7 * i), dt.time.min, tzinfo=zone)
        for i in range(2 * params.weeks + 1)
    ]


def _incident_counts(params: EffectParams, grid: Grid, edges: list[dt.datetime]) -> np.ndarray:
    """Incidents per cell (flat) and week (pre weeks first), shape (cells, 2 × weeks)."""
    filters = Q(
        occurred_at__gte=edges[0],
        occurred_at__lt=edges[-1],
        x_utm__gte=grid.x0,
        x_utm__lt=grid.x1,
        y_utm__gte=grid.y0,
        y_utm__lt=grid.y1,
    )
    if params.group:
        filters &= Q(category__group=params.group)
    # Shared aggregate of both partners: coordinates and times only.
    with unscoped():
        rows = list(Incident.objects.filter(filters).order_by().values_list("x_utm", "y_utm", "occurred_at"))
    weeks = len(edges) - 1
    counts = np.zeros((grid.cell_count, weeks))
    if not rows:
        return counts
    x = np.fromiter((r[0] for r in rows), dtype=float, count=len(rows))
    y = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
    seconds = np.fromiter((r[2].timestamp() for r in rows), dtype=float, count=len(rows))
    week = np.searchsorted(np.array([e.timestamp() for e in edges]), seconds, side="right") - 1
    row, col = grid.cell_index(x, y)
    inside = (row >= 0) & (row < grid.nrows) & (col >= 0) & (col < grid.ncols) & (week >= 0) & (week < weeks)
    flat = (row * grid.ncols + col)[inside] * weeks + week[inside]
    return np.bincount(flat, minlength=grid.cell_count * weeks).reshape(grid.cell_count, weeks).astype(float)


@dataclass(frozen=True)
class _PatrolHours:
    pre: np.ndarray  # hours per cell (flat) in the pre period
    post: np.ndarray  # ... in the patrol weeks
    counted: int
    without_area: int


def _patrol_hours(grid: Grid, edges: list[dt.datetime], weeks: int) -> _PatrolHours:
    start, middle, end = edges[0], edges[weeks], edges[-1]
    overlapping = (Q(actual_start__isnull=False) & Q(actual_start__lt=end)) | (
        Q(actual_start__isnull=True) & Q(planned_start__lt=end)
    )
    # Shared aggregate of both partners: area and times only, never names or members.
    with unscoped():
        rows = list(
            Patrol.objects.filter(overlapping, planned_start__gte=start - dt.timedelta(days=2))
            .order_by()
            .values_list("area_id", "planned_start", "planned_end", "actual_start", "actual_end")
        )
    pre = np.zeros(grid.cell_count)
    post = np.zeros(grid.cell_count)
    per_area: dict[int, tuple[float, float]] = {}
    counted = without_area = 0
    for area_id, planned_start, planned_end, actual_start, actual_end in rows:
        begin, finish = actual_start or planned_start, actual_end or planned_end
        hours_pre = overlap_hours(begin, finish, start, middle)
        hours_post = overlap_hours(begin, finish, middle, end)
        if hours_pre + hours_post <= 0:
            continue
        if area_id is None:
            without_area += 1
            continue
        counted += 1
        before, during = per_area.get(area_id, (0.0, 0.0))
        per_area[area_id] = (before + hours_pre, during + hours_post)
    for area in Area.objects.filter(pk__in=list(per_area)):
        share = _cover_share(grid, _geometry_utm(area))
        before, during = per_area[area.pk]
        pre += before * share
        post += during * share
    return _PatrolHours(pre=pre, post=post, counted=counted, without_area=without_area)


# --- evaluation -----------------------------------------------------------------------------------


def check_params(params: EffectParams) -> None:
    if not MIN_WEEKS <= params.weeks <= MAX_WEEKS:
        raise EffectQueryError(f"Die Zahl der Wochen muss zwischen {MIN_WEEKS} und {MAX_WEEKS} liegen.")
    if params.group and params.group not in Category.Group.values:
        raise EffectQueryError(f"Unbekannte Gruppe „{params.group}“.")
    if params.post.end > timezone.localdate():
        raise EffectQueryError(
            "Die Streifenwochen reichen in die Zukunft; bitte einen früheren Beginn oder weniger "
            "Wochen wählen."
        )
    if params.min_hours_per_week <= 0:
        raise EffectQueryError("Die Mindeststunden müssen größer als 0 sein.")
    if params.buffer_m < 0:
        raise EffectQueryError("Der Pufferabstand darf nicht negativ sein.")


def evaluate_effect(params: EffectParams) -> EffectReport:
    """Matched difference-in-differences of patrolled against comparable unpatrolled cells."""
    from .effect import buffer_ring

    check_params(params)
    grid, mask = _study_grid(params.cell_m)
    edges = _week_edges(params)
    counts = _incident_counts(params, grid, edges)
    hours = _patrol_hours(grid, edges, params.weeks)
    threshold = params.min_hours_per_week * params.weeks
    patrolled = (hours.post >= threshold) & mask.ravel()
    treated = patrolled.copy()
    area_name = "ganzes Stadtgebiet"
    if params.area_id is not None:
        area = Area.objects.filter(pk=params.area_id).first()
        if area is None:
            raise EffectQueryError("Das gewählte Gebiet gibt es nicht.")
        area_name = area.name
        polygon = _geometry_utm(area)
        shapely.prepare(polygon)
        x, y = grid.cell_centres()
        treated &= shapely.contains_xy(polygon, x, y).ravel()
    ring = buffer_ring(patrolled.reshape(grid.shape), grid.cell_size, params.buffer_m).ravel()
    touched = hours.post > 1e-9
    excluded = (ring | touched) & ~treated
    study = np.flatnonzero(mask.ravel())
    weeks = params.weeks
    result = estimate_effect(
        counts[study, :weeks],
        counts[study, weeks:],
        treated[study],
        excluded[study],
        k=params.k,
        alpha=params.alpha,
    )
    hours_pre = hours_post = hours_controls = 0.0
    if treated.any():
        hours_pre = float(hours.pre[treated].mean()) / weeks
        hours_post = float(hours.post[treated].mean()) / weeks
    controls = study[~treated[study] & ~excluded[study]]
    if len(controls):
        hours_controls = float(hours.pre[controls].mean()) / weeks
    result = with_patrol_dose(result, hours_pre, hours_post)
    return EffectReport(
        params=params,
        result=result,
        group_label=group_label(params.group),
        area_name=area_name,
        cells_in_study=len(study),
        cell_m=grid.cell_size,
        incidents_pre=int(counts[study, :weeks].sum()),
        incidents_post=int(counts[study, weeks:].sum()),
        patrols_counted=hours.counted,
        patrols_without_area=hours.without_area,
        hours_treated_pre=hours_pre,
        hours_treated_post=hours_post,
        hours_controls_pre=hours_controls,
    )


def visible_operations(user: object) -> Iterable[object]:
    """Special operations of the task forces whose workspace ``user`` sees (newest first)."""
    from lagebild.taskforce.models import Operation
    from lagebild.taskforce.selectors import visible_task_forces

    return (
        Operation.objects.filter(task_force__in=visible_task_forces(user))
        .select_related("area")
        .order_by("-start", "name")
    )
