"""Displacement analysis over the stored data: target, buffer rings or areas, controls, before/after.

The formulas are in the pure module :mod:`lagebild.analytics.displacement`; this module gathers the
counts they need and packs the results for the page, the PDF and the API.

Where the counts come from
    Chosen areas (target, control areas, buffer areas) are read from the pre-aggregated counts
    (``selectors.totals_by_area``), exactly as every other analytic page reads them. Rings generated
    around the target have no stored counts: their points (coordinates and time only) are read from
    the records with an explicit ``unscoped()`` — the figures are shared by both partners, like the
    count tables, and no record id or detail leaves this module — and tested against the rings in
    ETRS89/UTM32N (EPSG:25832) with ``shapely.contains_xy``.

Time weights
    Before and after periods may differ in length. Each period's weight is its length in days divided
    by the length of the after period, so every estimate reads as "cases in the after period" (equal
    lengths give weights 1 and plain counts). This is ``ptools::wdd`` with time weights = days, rescaled
    to the after period so that "Netto verhindert: x ± y" is a number of cases, not a daily rate. The
    WDQ needs no weights: it uses ratios to the control area of the same period.

Buffers and controls
    Every ring (or chosen buffer area) gets its own WDD (target + that buffer) for the distance decay;
    the headline WDD and the WDQ take all buffers together. Without a separate control for the buffer
    the target's control serves both (see ``displacement.wdd``). Control areas that overlap target or
    buffer by more than 1 % of their area (Guerette's contamination rule), or that take in more than 1 %
    of the target or the buffer, are flagged, not forbidden.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely
from django.db.models import Max, Q
from django.utils import timezone
from pyproj import Transformer
from scipy import stats
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from lagebild.catalog.models import Category
from lagebild.core.scoping import unscoped
from lagebild.geo.models import Area

from . import displacement as formulas
from . import selectors
from .indicators import IndicatorDef, value
from .models import CITY_AREA, DailyCount, Fact
from .periods import MAX_PERIOD_DAYS, Period

# Facts whose records have a location, so that generated rings can count them.
POINT_FACTS = (Fact.INCIDENT, Fact.MEASURE, Fact.REPORT_RECEIVED)
CONTAMINATION_SHARE = 0.01
# Control and target levels further apart than this factor make the WDD (absolute changes) shaky.
LEVEL_RATIO = formulas.LEVEL_RATIO
MAX_RINGS = 10
MAX_AREAS = 20
DEFAULT_RINGS_M = (200.0, 400.0, 800.0)
DEFAULT_INDICATOR = "drug-consumption-observed"
DEFAULT_PRE_WEEKS = 8
DEFAULT_POST_WEEKS = 8
# Polygon edges are straight in longitude/latitude (that is how incidents were assigned to areas);
# densified before projecting they stay so in UTM to well under a metre.
SEGMENT_DEGREES = 0.0002
COUNT_NOUN = "Fälle"

ROLE_LABELS = {
    "target": "Zielgebiet",
    "buffer": "Pufferbereich",
    "target_control": "Kontrollgebiet",
    "buffer_control": "Kontrollgebiet des Puffers",
}

CAVEATS = (
    "Regression zur Mitte: Wurde das Zielgebiet gewählt, weil es gerade besonders belastet war, gehen "
    "die Zahlen oft auch ohne Maßnahme zurück. Ein Vorher-Zeitraum von 8 bis 12 Wochen und ein "
    "vergleichbares Kontrollgebiet mindern diesen Effekt, beseitigen ihn aber nicht.",
    "Erfassungsintensität: Zahlen von Kontrollmaßnahmen (Platzverweise, Anzeigen) und von Streifen "
    "festgestellte Vorfälle messen auch die Aktivität, nicht nur das Problem. Mehr Kontrollen finden "
    "zunächst mehr Verstöße; weniger Streifen finden weniger. Wo möglich Bürgerhinweise oder andere von "
    "der Kontrolldichte unabhängige Zahlen vergleichen.",
    "Zeitliche und taktische Verdrängung (z. B. in die Nachtstunden oder in Hauseingänge) erfasst der "
    "räumliche Vergleich nicht. Die zeitliche Seite zeigt das Stundenprofil getrennt.",
    "Die WDD vergleicht absolute Veränderungen: Kontrollgebiete sollten ähnlich hohe Fallzahlen und "
    "eine ähnliche Entwicklung haben wie Ziel- und Puffergebiet und von der Maßnahme nicht berührt sein.",
    "Der WDQ hat keine Stichprobenverteilung und damit keinen Signifikanztest; maßgeblich für die "
    "Unsicherheit ist die WDD mit Standardfehler und Konfidenzintervall.",
)


class DisplacementInputError(ValueError):
    """Invalid parameters; ``errors`` maps a parameter name (or ``__all__``) to German messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(message for messages in errors.values() for message in messages))


# --- parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisplacementParams:
    """What to analyse. Exactly one of ``ring_distances_m`` / ``buffer_area_ids`` and at most one of
    ``indicator_code`` / ``category_ids`` (neither: all incidents)."""

    target_id: int
    control_ids: tuple[int, ...]
    pre: Period
    post: Period
    ring_distances_m: tuple[float, ...] = ()
    buffer_area_ids: tuple[int, ...] = ()
    buffer_control_ids: tuple[int, ...] = ()
    indicator_code: str = ""
    category_ids: tuple[int, ...] = ()
    alpha: float = 0.05

    @property
    def uses_rings(self) -> bool:
        return bool(self.ring_distances_m)


def parse_distances(text: str) -> tuple[float, ...]:
    """ "200, 400, 800" (also with "m", semicolons or spaces) → (200.0, 400.0, 800.0)."""
    # Units may follow each number ("200 m", "400m"); they are dropped before splitting.
    cleaned_text = re.sub(r"(?<=\d)\s*m\b", "", (text or "").strip().lower())
    parts = [part for part in re.split(r"[;,\s]+", cleaned_text) if part]
    if not parts:
        raise ValueError("Bitte mindestens einen Ringabstand in Metern angeben, z. B. 200, 400, 800.")
    distances: list[float] = []
    for part in parts:
        try:
            distance = float(part)
        except ValueError:
            raise ValueError(f"Der Ringabstand „{part}“ ist keine Zahl (Meter, z. B. 200).") from None
        if not math.isfinite(distance) or distance <= 0:
            raise ValueError("Die Ringabstände müssen größer als 0 m sein.")
        if distance > formulas.MAX_RING_DISTANCE_M:
            raise ValueError(
                f"Die Ringabstände dürfen höchstens {formulas.MAX_RING_DISTANCE_M:.0f} m betragen."
            )
        if distances and distance <= distances[-1]:
            raise ValueError("Die Ringabstände müssen aufsteigend sein (z. B. 200, 400, 800).")
        distances.append(distance)
    if len(distances) > MAX_RINGS:
        raise ValueError(f"Höchstens {MAX_RINGS} Ringe.")
    return tuple(distances)


def format_distances(distances: Iterable[float]) -> str:
    return ", ".join(f"{d:g}" for d in distances)


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """One estimate with its normal-approximation inference."""

    estimate: float
    se: float
    z: float | None
    p_value: float | None
    ci_low: float
    ci_high: float

    @classmethod
    def of(cls, estimate: float, se: float, alpha: float) -> Estimate:
        quantile = float(stats.norm.ppf(1 - alpha / 2))
        if se <= 0:
            return cls(estimate, 0.0, None, None, estimate, estimate)
        z = estimate / se
        return cls(
            estimate,
            se,
            z,
            float(2 * stats.norm.sf(abs(z))),
            estimate - quantile * se,
            estimate + quantile * se,
        )

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


@dataclass(frozen=True)
class AreaCounts:
    """Counts of one analysed unit (an area, a set of areas or a ring) before and after."""

    key: str
    role: str  # target | buffer | target_control | buffer_control
    label: str
    pre: int
    post: int
    pre_days: int
    post_days: int
    area_ids: tuple[int, ...] = ()
    inner_m: float | None = None
    outer_m: float | None = None
    area_km2: float | None = None

    @property
    def counts(self) -> tuple[int, int]:
        return self.pre, self.post

    @property
    def pre_per_day(self) -> float:
        return self.pre / self.pre_days

    @property
    def post_per_day(self) -> float:
        return self.post / self.post_days

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def is_ring(self) -> bool:
        return self.outer_m is not None


@dataclass(frozen=True)
class BufferResult:
    """WDD of the target together with one ring or buffer area (distance decay)."""

    counts: AreaCounts
    wdd: formulas.WDDResult
    displacement: Estimate
    total: Estimate


@dataclass(frozen=True)
class CountedThing:
    """What is counted: an indicator or a list of incident categories."""

    kind: str  # "indicator" | "categories"
    definition: IndicatorDef
    name: str
    categories: tuple[Category, ...] = ()

    @property
    def is_activity(self) -> bool:
        return self.definition.kind == "activity"


@dataclass(frozen=True)
class AreaRef:
    id: int
    name: str
    kind: str


@dataclass
class DisplacementResult:
    params: DisplacementParams
    counted: CountedThing
    target_area: AreaRef
    control_areas: list[AreaRef]
    buffer_control_areas: list[AreaRef]
    buffer_areas: list[AreaRef]
    target: AreaCounts
    target_control: AreaCounts
    buffer_control: AreaCounts | None
    buffer_total: AreaCounts
    buffers: list[BufferResult]
    wdd: formulas.WDDResult
    local: Estimate
    displacement: Estimate
    total: Estimate
    wdq: formulas.WDQResult | None
    wdq_note: str
    verdict: formulas.Verdict
    explanation_de: str
    hour_counts_pre: list[float]
    hour_counts_post: list[float]
    hours: formulas.HourProfile
    time_weights: formulas.TimeWeights
    warnings: list[str] = field(default_factory=list)
    caveats: tuple[str, ...] = CAVEATS
    geojson: dict = field(default_factory=dict)

    @property
    def pre(self) -> Period:
        return self.params.pre

    @property
    def post(self) -> Period:
        return self.params.post

    @property
    def weighted(self) -> bool:
        return self.time_weights != formulas.TimeWeights()

    @property
    def all_counts(self) -> list[AreaCounts]:
        rows = [self.target, *(b.counts for b in self.buffers)]
        if len(self.buffers) > 1:
            rows.append(self.buffer_total)
        rows.append(self.target_control)
        if self.buffer_control is not None:
            rows.append(self.buffer_control)
        return rows

    @property
    def prevented(self) -> bool:
        """Significantly fewer cases than the control's trend predicts (target and buffer together)."""
        return self.verdict.effect == "prevented"

    @property
    def headline_de(self) -> str:
        """ "Netto verhindert: 12 ± 8 Fälle" (± = half the confidence interval) for a significant WDD,
        otherwise "Kein gesicherter Effekt", whatever the point estimate."""
        return self.verdict.headline

    @property
    def wdq_reading_de(self) -> str:
        """The WDQ's interpretation, judging the measure only where the WDD supports it."""
        if self.wdq is None:
            return ""
        return formulas.wdq_reading_de(self.wdq, self.wdd)


# --- geometry -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _to_utm() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


def to_utm(geometry_wgs84: BaseGeometry) -> BaseGeometry:
    dense = shapely.segmentize(geometry_wgs84, SEGMENT_DEGREES)
    return shapely.transform(dense, lambda xy: np.column_stack(_to_utm().transform(xy[:, 0], xy[:, 1])))


def to_wgs84(geometry_utm: BaseGeometry) -> BaseGeometry:
    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = _to_wgs84().transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    return shapely.make_valid(shapely.transform(geometry_utm, project))


def _area_geometry(area: Area) -> BaseGeometry:
    return shapely.make_valid(shape(area.geometry))


def _overlap_share(area: BaseGeometry, other: BaseGeometry) -> float:
    """Share of ``area`` that lies in ``other`` (both metric)."""
    if area.is_empty or area.area <= 0:
        return 0.0
    return float(shapely.intersection(area, other).area / area.area)


# --- counting -----------------------------------------------------------------------------------


def _counted(params: DisplacementParams, errors: dict[str, list[str]]) -> CountedThing | None:
    if params.indicator_code and params.category_ids:
        errors.setdefault("indicator", []).append(
            "Bitte entweder eine Kennzahl oder Sachverhalte wählen, nicht beides."
        )
        return None
    if params.category_ids:
        categories = list(Category.objects.filter(pk__in=params.category_ids))
        found = {c.pk for c in categories}
        missing = [str(i) for i in params.category_ids if i not in found]
        if missing:
            errors.setdefault("categories", []).append(f"Unbekannte Sachverhalte: {', '.join(missing)}.")
            return None
        ordered = tuple(sorted(categories, key=lambda c: c.name))
        definition = IndicatorDef(
            code="categories",
            name=", ".join(c.name for c in ordered),
            kind="problem",
            fact=Fact.INCIDENT,
            category_ids=frozenset(found),
            unit="Feststellungen",
        )
        return CountedThing("categories", definition, f"Feststellungen: {definition.name}", ordered)
    if not params.indicator_code:
        definition = IndicatorDef(
            code="incidents-all", name="Feststellungen gesamt", kind="problem", fact=Fact.INCIDENT
        )
        return CountedThing("categories", definition, definition.name)
    found_defs = selectors.indicators_for(codes=[params.indicator_code])
    if not found_defs:
        errors.setdefault("indicator", []).append(f"Unbekannte Kennzahl „{params.indicator_code}“.")
        return None
    definition = found_defs[0]
    if not definition.is_count:
        errors.setdefault("indicator", []).append(
            f"„{definition.name}“ ist keine Fallzahl (Betrag, Stunden oder Quote). WDD und WDQ brauchen "
            "gezählte Fälle; bitte eine andere Kennzahl wählen."
        )
        return None
    if params.uses_rings and definition.fact not in POINT_FACTS:
        errors.setdefault("indicator", []).append(
            f"„{definition.name}“ hat keine Ortsangabe je Fall; erzeugte Ringe lassen sich damit nicht "
            "zählen. Bitte Pufferbereiche als Gebiete wählen oder eine andere Kennzahl."
        )
        return None
    return CountedThing("indicator", definition, definition.name)


def _area_count(totals: dict[int, dict], area_ids: Sequence[int], definition: IndicatorDef) -> int:
    return int(sum(value(definition, totals.get(a, {})) or 0 for a in area_ids))


def _local_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _points(
    definition: IndicatorDef, bbox: tuple[float, float, float, float], periods: Sequence[Period]
) -> list[tuple[float, float, dt.datetime]]:
    """(x, y, time) of the counted records inside ``bbox`` and the periods; coordinates only."""
    from lagebild.citizen.models import Report
    from lagebild.field.models import Incident, Measure

    min_x, min_y, max_x, max_y = bbox
    if definition.fact == Fact.INCIDENT:
        model, prefix, time_field = Incident, "", "occurred_at"
        filters = Q()
        if definition.category_ids:
            filters &= Q(category_id__in=definition.category_ids)
        if definition.details:
            filters &= Q(source__in=definition.details)
        if definition.authority_ids:
            filters &= Q(authority_id__in=definition.authority_ids)
    elif definition.fact == Fact.MEASURE:
        model, prefix, time_field = Measure, "incident__", "taken_at"
        filters = Q()
        if definition.category_ids:
            filters &= Q(incident__category_id__in=definition.category_ids)
        if definition.measure_types:
            filters &= Q(type__in=definition.measure_types)
        if definition.details:
            filters &= Q(seizure_kind__in=definition.details) | Q(
                seizure_kind="", referral_service__in=definition.details
            )
        if definition.authority_ids:
            filters &= Q(authority_id__in=definition.authority_ids)
    else:
        model, prefix, time_field = Report, "", "requested_at"
        filters = Q(x_utm__isnull=False, y_utm__isnull=False)
        if definition.category_ids:
            filters &= Q(service__category_id__in=definition.category_ids)
        if definition.details:
            filters &= Q(channel__in=definition.details)
        if definition.authority_ids:
            filters &= Q(authority_id__in=definition.authority_ids)
    in_time = Q()
    for period in periods:
        start, end = _local_bounds(period)
        in_time |= Q(**{f"{time_field}__gte": start, f"{time_field}__lt": end})
    in_box = Q(
        **{
            f"{prefix}x_utm__gte": min_x,
            f"{prefix}x_utm__lte": max_x,
            f"{prefix}y_utm__gte": min_y,
            f"{prefix}y_utm__lte": max_y,
        }
    )
    # The figures are shared by both partners; only coordinates and times are read.
    with unscoped():
        rows = list(
            model.objects.filter(filters & in_box & in_time)
            .order_by()
            .values_list(f"{prefix}x_utm", f"{prefix}y_utm", time_field)
        )
    return rows


def _ring_counts(
    rings: Sequence[BaseGeometry], definition: IndicatorDef, pre: Period, post: Period
) -> list[tuple[int, int]]:
    """Counts per ring before and after; each point counts in at most one ring."""
    bbox = shapely.union_all(list(rings)).bounds
    rows = _points(definition, bbox, (pre, post))
    if not rows:
        return [(0, 0) for _ in rings]
    x = np.fromiter((r[0] for r in rows), dtype=float, count=len(rows))
    y = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
    seconds = np.fromiter((r[2].timestamp() for r in rows), dtype=float, count=len(rows))
    pre_start, pre_end = (b.timestamp() for b in _local_bounds(pre))
    post_start, post_end = (b.timestamp() for b in _local_bounds(post))
    is_pre = (seconds >= pre_start) & (seconds < pre_end)
    is_post = (seconds >= post_start) & (seconds < post_end)
    unassigned = np.ones(len(rows), dtype=bool)
    counts = []
    for ring in rings:
        shapely.prepare(ring)
        inside = unassigned & shapely.contains_xy(ring, x, y)
        unassigned &= ~inside
        counts.append((int(np.count_nonzero(inside & is_pre)), int(np.count_nonzero(inside & is_post))))
    return counts


# --- defaults -----------------------------------------------------------------------------------


def last_data_day() -> dt.date:
    """The last day with stored counts (the demo ends there), or today."""
    last = DailyCount.objects.aggregate(last=Max("day"))["last"]
    today = timezone.localdate()
    return min(last, today) if last else today


def default_params() -> DisplacementParams | None:
    """Sensible defaults: on the demo the KOD special operation in the Wallring.

    Target = the operation's focus area (else the first focus area); before = the 8 weeks before the
    operation; after = up to 8 weeks after its end (the operation itself is left out: its enforcement
    counts measure activity); rings 200/400/800 m; control = the districts that touch neither the
    target nor the outermost ring.
    """
    from lagebild.demo import calibration

    target = (
        Area.objects.filter(active=True, code=calibration.OPERATION_AREA).exclude(kind=Area.Kind.CITY).first()
        or Area.objects.filter(active=True, kind=Area.Kind.FOCUS_AREA).order_by("name").first()
    )
    if target is None:
        return None
    last_day = last_data_day()
    if target.code == calibration.OPERATION_AREA:
        operation = calibration.operation_period(calibration.operation_start(last_day + dt.timedelta(days=1)))
        pre = Period(
            operation.start - dt.timedelta(weeks=DEFAULT_PRE_WEEKS), operation.start - dt.timedelta(days=1)
        )
        post_start = operation.end + dt.timedelta(days=1)
        post = Period(
            post_start, max(post_start, min(last_day, operation.end + dt.timedelta(weeks=DEFAULT_POST_WEEKS)))
        )
    else:
        post = Period(last_day - dt.timedelta(weeks=4) + dt.timedelta(days=1), last_day)
        pre = Period(post.start - dt.timedelta(weeks=DEFAULT_PRE_WEEKS), post.start - dt.timedelta(days=1))
    reach = to_utm(_area_geometry(target)).buffer(DEFAULT_RINGS_M[-1])
    controls = []
    for district in Area.objects.filter(active=True, kind=Area.Kind.DISTRICT).order_by("code", "name"):
        if _overlap_share(to_utm(_area_geometry(district)), reach) <= CONTAMINATION_SHARE:
            controls.append(district.pk)
    indicator = DEFAULT_INDICATOR if selectors.indicators_for(codes=[DEFAULT_INDICATOR]) else ""
    return DisplacementParams(
        target_id=target.pk,
        control_ids=tuple(controls),
        pre=pre,
        post=post,
        ring_distances_m=DEFAULT_RINGS_M,
        indicator_code=indicator,
    )


# --- the analysis -------------------------------------------------------------------------------


def _load_areas(
    ids: Sequence[int], name: str, errors: dict[str, list[str]], *, allow_city: bool = False
) -> dict[int, Area | None]:
    """Areas by id (``None`` for the whole city, area 0); German errors for unknown ids."""
    if len(ids) > MAX_AREAS:
        errors.setdefault(name, []).append(f"Höchstens {MAX_AREAS} Gebiete.")
        return {}
    if len(set(ids)) != len(ids):
        errors.setdefault(name, []).append("Ein Gebiet ist doppelt gewählt.")
        return {}
    found = {a.pk: a for a in Area.objects.filter(pk__in=[i for i in ids if i != CITY_AREA])}
    result: dict[int, Area | None] = {}
    for area_id in ids:
        if area_id == CITY_AREA and allow_city:
            result[area_id] = None
            continue
        area = found.get(area_id)
        if area is None or area.kind == Area.Kind.CITY:
            if area_id == CITY_AREA or (area is not None and area.kind == Area.Kind.CITY):
                errors.setdefault(name, []).append("Das ganze Stadtgebiet ist hier nicht wählbar.")
            else:
                errors.setdefault(name, []).append(f"Unbekanntes Gebiet {area_id}.")
            continue
        result[area_id] = area
    return result


def _area_ref(area_id: int, area: Area | None) -> AreaRef:
    if area is None:
        return AreaRef(CITY_AREA, selectors.area_name(CITY_AREA), Area.Kind.CITY)
    return AreaRef(area.pk, area.name, area.kind)


def _city_geometry_utm() -> BaseGeometry | None:
    cities = [_area_geometry(a) for a in Area.objects.filter(kind=Area.Kind.CITY, active=True)]
    return to_utm(shapely.union_all(cities)) if cities else None


def _check_periods(params: DisplacementParams, errors: dict[str, list[str]]) -> None:
    for name, period in (("pre_end", params.pre), ("post_end", params.post)):
        if period.days > MAX_PERIOD_DAYS:
            errors.setdefault(name, []).append("Der Zeitraum darf höchstens 10 Jahre umfassen.")
    if params.post.start <= params.pre.end:
        errors.setdefault("post_start", []).append(
            "Der Nachher-Zeitraum muss nach dem Ende des Vorher-Zeitraums beginnen."
        )


def _joined_label(refs: Sequence[AreaRef]) -> str:
    return " + ".join(r.name for r in refs)


def analyse_displacement(params: DisplacementParams) -> DisplacementResult:
    """WDD (per buffer and overall), WDQ and the hour profile for the given design.

    Raises :class:`DisplacementInputError` with German messages per parameter for anything unusable.
    """
    errors: dict[str, list[str]] = {}
    try:
        alpha = float(params.alpha)
    except (TypeError, ValueError):
        alpha = float("nan")
    if not 0 < alpha < 1:
        errors.setdefault("alpha", []).append(
            "Das Signifikanzniveau muss zwischen 0 und 1 liegen (z. B. 0,05)."
        )
    _check_periods(params, errors)
    if params.ring_distances_m and params.buffer_area_ids:
        errors.setdefault("rings", []).append(
            "Bitte entweder Ringabstände oder Pufferbereiche angeben, nicht beides."
        )
    elif not params.ring_distances_m and not params.buffer_area_ids:
        errors.setdefault("rings", []).append("Bitte Ringabstände oder Pufferbereiche angeben.")
    if params.ring_distances_m:
        try:
            parse_distances(format_distances(params.ring_distances_m))
        except ValueError as exc:
            errors.setdefault("rings", []).append(str(exc))
    if not params.control_ids:
        errors.setdefault("control", []).append("Bitte mindestens ein Kontrollgebiet wählen.")

    targets = _load_areas([params.target_id], "target", errors)
    controls = _load_areas(params.control_ids, "control", errors, allow_city=True)
    buffer_controls = _load_areas(params.buffer_control_ids, "buffer_control", errors, allow_city=True)
    buffer_areas = _load_areas(params.buffer_area_ids, "buffer_areas", errors)
    if params.target_id in params.control_ids:
        errors.setdefault("control", []).append("Das Zielgebiet kann nicht zugleich Kontrollgebiet sein.")
    if params.target_id in params.buffer_control_ids:
        errors.setdefault("buffer_control", []).append(
            "Das Zielgebiet kann nicht zugleich Kontrollgebiet des Puffers sein."
        )
    if params.target_id in params.buffer_area_ids:
        errors.setdefault("buffer_areas", []).append("Das Zielgebiet kann nicht zugleich Pufferbereich sein.")
    if set(params.buffer_area_ids) & set(params.control_ids):
        errors.setdefault("control", []).append("Ein Pufferbereich kann nicht zugleich Kontrollgebiet sein.")
    counted = _counted(params, errors)

    target_area = targets.get(params.target_id)
    target_utm: BaseGeometry | None = None
    rings: list[BaseGeometry] = []
    if target_area is not None:
        target_utm = to_utm(_area_geometry(target_area))
        if params.ring_distances_m and "rings" not in errors:
            try:
                rings = formulas.buffer_rings(target_utm, params.ring_distances_m)
            except ValueError as exc:
                errors.setdefault("rings", []).append(str(exc))
    if errors:
        raise DisplacementInputError(errors)
    assert target_area is not None and target_utm is not None and counted is not None

    definition = counted.definition
    pre, post = params.pre, params.post
    pre_days, post_days = pre.days, post.days
    time_weights = (pre_days / post_days, 1.0)
    warnings: list[str] = []

    # Counts of the chosen areas from the count tables.
    area_ids = sorted(
        {params.target_id, *params.control_ids, *params.buffer_control_ids, *params.buffer_area_ids}
    )
    totals_pre = selectors.totals_by_area(area_ids, pre.start, pre.end)
    totals_post = selectors.totals_by_area(area_ids, post.start, post.end)

    def counts_of(key: str, role: str, label: str, ids: Sequence[int], **extra: object) -> AreaCounts:
        return AreaCounts(
            key=key,
            role=role,
            label=label,
            pre=_area_count(totals_pre, ids, definition),
            post=_area_count(totals_post, ids, definition),
            pre_days=pre_days,
            post_days=post_days,
            area_ids=tuple(ids),
            **extra,  # type: ignore[arg-type]
        )

    target_ref = _area_ref(target_area.pk, target_area)
    control_refs = [_area_ref(i, controls[i]) for i in params.control_ids]
    buffer_control_refs = [_area_ref(i, buffer_controls[i]) for i in params.buffer_control_ids]
    buffer_refs = [_area_ref(i, buffer_areas[i]) for i in params.buffer_area_ids]
    target_counts = counts_of(
        "target", "target", target_ref.name, [target_area.pk], area_km2=target_area.area_km2
    )
    control_counts = counts_of(
        "control",
        "target_control",
        _joined_label(control_refs),
        list(params.control_ids),
        area_km2=_km2(controls.values()),
    )
    buffer_control_counts = (
        counts_of(
            "buffer_control",
            "buffer_control",
            _joined_label(buffer_control_refs),
            list(params.buffer_control_ids),
            area_km2=_km2(buffer_controls.values()),
        )
        if params.buffer_control_ids
        else None
    )

    # Buffers: generated rings (points) or chosen areas (count tables).
    buffer_geometries: list[BaseGeometry] = []
    buffer_counts: list[AreaCounts] = []
    if rings:
        ring_values = _ring_counts(rings, definition, pre, post)
        inner = 0.0
        for number, (ring, outer, (before, after)) in enumerate(
            zip(rings, params.ring_distances_m, ring_values, strict=True), start=1
        ):
            buffer_counts.append(
                AreaCounts(
                    key=f"ring-{number}",
                    role="buffer",
                    label=f"Ring {inner:g}–{outer:g} m",
                    pre=before,
                    post=after,
                    pre_days=pre_days,
                    post_days=post_days,
                    inner_m=inner,
                    outer_m=outer,
                    area_km2=round(ring.area / 1e6, 4),
                )
            )
            buffer_geometries.append(ring)
            inner = outer
    else:
        for ref in buffer_refs:
            area = buffer_areas[ref.id]
            assert area is not None
            buffer_counts.append(
                counts_of(f"buffer-{ref.id}", "buffer", ref.name, [ref.id], area_km2=area.area_km2)
            )
            buffer_geometries.append(to_utm(_area_geometry(area)))
    buffer_total = AreaCounts(
        key="buffer",
        role="buffer",
        label="Alle Ringe zusammen" if rings else "Alle Pufferbereiche zusammen",
        pre=sum(b.pre for b in buffer_counts),
        post=sum(b.post for b in buffer_counts),
        pre_days=pre_days,
        post_days=post_days,
        area_ids=tuple(params.buffer_area_ids),
        inner_m=0.0 if rings else None,
        outer_m=params.ring_distances_m[-1] if rings else None,
        area_km2=round(sum(b.area_km2 or 0 for b in buffer_counts), 4),
    )

    # Contamination and double counting (warnings, not errors).
    buffer_union = shapely.union_all(buffer_geometries) if buffer_geometries else None
    city_utm: BaseGeometry | None = None
    control_geometries: dict[int, BaseGeometry] = {}
    for refs, areas in ((control_refs, controls), (buffer_control_refs, buffer_controls)):
        for ref in refs:
            if ref.id in control_geometries:
                continue
            area = areas[ref.id]
            if area is None:
                city_utm = city_utm or _city_geometry_utm()
                if city_utm is None:
                    warnings.append(
                        f"„{ref.name}“ enthält Zielgebiet und Puffer; ein Kontrollgebiet soll von der "
                        "Maßnahme nicht berührt sein."
                    )
                    continue
                control_geometries[ref.id] = city_utm
            else:
                control_geometries[ref.id] = to_utm(_area_geometry(area))
    for ref in [*control_refs, *[r for r in buffer_control_refs if r.id not in params.control_ids]]:
        geometry = control_geometries.get(ref.id)
        if geometry is None:
            continue
        # Flagged when the overlap is more than 1 % of the control (Guerette) or of the target or
        # buffer: a large control can swallow the whole target while the overlap is small for it.
        parts = []
        for name, genitive, other in (
            ("das Zielgebiet", "des Zielgebiets", target_utm),
            ("den Pufferbereich", "des Pufferbereichs", buffer_union),
        ):
            if other is None or other.is_empty:
                continue
            overlap = float(shapely.intersection(geometry, other).area)
            of_control = overlap / geometry.area if geometry.area > 0 else 0.0
            of_other = overlap / other.area if other.area > 0 else 0.0
            if max(of_control, of_other) > CONTAMINATION_SHARE:
                parts.append((name, genitive, of_control, of_other))
        if parts:
            details = "; ".join(
                f"{formulas.format_number_de(100 * of_other, 0)} % {genitive} liegen darin, "
                f"{formulas.format_number_de(100 * of_control, 1)} % seiner Fläche"
                for _name, genitive, of_control, of_other in parts
            )
            touched = " und ".join(part[0] for part in parts)
            warnings.append(
                f"Das Kontrollgebiet „{ref.name}“ überschneidet {touched} ({details}). "
                "Ein Kontrollgebiet soll von der Maßnahme und einer möglichen Verdrängung nicht berührt "
                "sein (Kontaminationsregel nach Guerette); das Ergebnis unterschätzt sonst Wirkung und "
                "Verdrängung."
            )
    if not rings:
        for ref, geometry in zip(buffer_refs, buffer_geometries, strict=True):
            if _overlap_share(geometry, target_utm) > CONTAMINATION_SHARE:
                warnings.append(
                    f"Der Pufferbereich „{ref.name}“ schließt Teile des Zielgebiets ein; Fälle dort werden "
                    "doppelt gezählt (im Ziel und im Puffer). Besser Ringe erzeugen lassen."
                )
        if _overlapping_pairs(buffer_refs, buffer_geometries):
            warnings.append(
                "Pufferbereiche überschneiden sich; Fälle in der Überschneidung zählen in der Summe doppelt."
            )
    if len(control_refs) > 1 and _overlapping_pairs(
        control_refs, [control_geometries.get(r.id) for r in control_refs]
    ):
        warnings.append("Kontrollgebiete überschneiden sich; Fälle in der Überschneidung zählen doppelt.")
    if counted.is_activity:
        warnings.append(
            f"„{counted.name}“ ist eine Aktivitätszahl: sie zeigt, wie viel kontrolliert wurde, nicht wie "
            "groß das Problem ist. Ein Rückgang kann auch weniger Kontrollen bedeuten."
        )
    if target_counts.pre > 0 and control_counts.pre > 0:
        ratio = control_counts.pre / target_counts.pre
        if not 1 / LEVEL_RATIO <= ratio <= LEVEL_RATIO:
            warnings.append(
                f"Das Kontrollgebiet hatte vorher {control_counts.pre} Fälle, das Zielgebiet "
                f"{target_counts.pre}. Die WDD zieht die absolute Veränderung der Kontrolle ab und passt am "
                "besten bei ähnlich hohen Zahlen; der WDQ rechnet mit Verhältnissen. Zeigen WDD und WDQ in "
                "verschiedene Richtungen, liegt das an diesem Unterschied: dann ein vergleichbareres "
                "Kontrollgebiet wählen oder das Ergebnis mit Vorsicht lesen."
            )
    if post.end > timezone.localdate():
        warnings.append(
            "Der Nachher-Zeitraum reicht in die Zukunft; für diese Tage gibt es noch keine Zahlen."
        )

    # WDD: per buffer (distance decay) and overall.
    def run_wdd(buffer: AreaCounts) -> formulas.WDDResult:
        return formulas.wdd(
            target_counts.counts,
            control_counts.counts,
            buffer.counts,
            buffer_control_counts.counts if buffer_control_counts else None,
            time_weights=time_weights,
            alpha=alpha,
        )

    try:
        overall = run_wdd(buffer_total)
    except ValueError as exc:
        raise DisplacementInputError({"__all__": [str(exc)]}) from exc
    buffer_results = []
    for buffer in buffer_counts:
        result = run_wdd(buffer)
        buffer_results.append(
            BufferResult(
                counts=buffer,
                wdd=result,
                displacement=Estimate.of(result.displacement or 0.0, result.displacement_se or 0.0, alpha),
                total=Estimate.of(result.total, result.se, alpha),
            )
        )

    wdq_result: formulas.WDQResult | None = None
    wdq_note = ""
    try:
        wdq_result = formulas.wdq(
            target_counts.pre,
            target_counts.post,
            buffer_total.pre,
            buffer_total.post,
            control_counts.pre,
            control_counts.post,
        )
    except ValueError as exc:
        wdq_note = str(exc)
    if wdq_result is not None and buffer_control_counts is not None:
        wdq_note = (
            "Der WDQ vergleicht Ziel und Puffer mit demselben Kontrollgebiet (dem des Zielgebiets); "
            "das eigene Kontrollgebiet des Puffers geht nur in die WDD ein."
        )

    hour_pre = selectors.hour_counts(target_area.pk, pre.start, pre.end, definition)
    hour_post = selectors.hour_counts(target_area.pk, post.start, post.end, definition)
    hours = formulas.hour_profile(hour_pre, hour_post, pre_days, post_days)

    result = DisplacementResult(
        params=params,
        counted=counted,
        target_area=target_ref,
        control_areas=control_refs,
        buffer_control_areas=buffer_control_refs,
        buffer_areas=buffer_refs,
        target=target_counts,
        target_control=control_counts,
        buffer_control=buffer_control_counts,
        buffer_total=buffer_total,
        buffers=buffer_results,
        wdd=overall,
        local=Estimate.of(overall.local, overall.local_se, alpha),
        displacement=Estimate.of(overall.displacement or 0.0, overall.displacement_se or 0.0, alpha),
        total=Estimate.of(overall.total, overall.se, alpha),
        wdq=wdq_result,
        wdq_note=wdq_note,
        verdict=formulas.verdict_de(overall, wdq_result, noun_de=COUNT_NOUN),
        explanation_de=formulas.explain_de(overall, wdq_result, noun_de=COUNT_NOUN),
        hour_counts_pre=[float(v) for v in hour_pre],
        hour_counts_post=[float(v) for v in hour_post],
        hours=hours,
        time_weights=formulas.TimeWeights(*time_weights),
        warnings=warnings,
    )
    result.geojson = _feature_collection(
        target_area,
        [(b, g) for b, g in zip(buffer_counts, buffer_geometries, strict=True)],
        rings_generated=bool(rings),
        buffer_areas=buffer_areas,
        controls=[(r, controls[r.id], "target_control") for r in control_refs]
        + [(r, buffer_controls[r.id], "buffer_control") for r in buffer_control_refs],
    )
    return result


def _km2(areas: Iterable[Area | None]) -> float | None:
    values = [a.area_km2 for a in areas if a is not None]
    return round(sum(values), 4) if values else None


def _overlapping_pairs(refs: Sequence[AreaRef], geometries: Sequence[BaseGeometry | None]) -> bool:
    for i in range(len(refs)):
        for j in range(i + 1, len(refs)):
            first, second = geometries[i], geometries[j]
            if first is None or second is None:
                continue
            smaller = min(first.area, second.area)
            if smaller > 0 and shapely.intersection(first, second).area > CONTAMINATION_SHARE * smaller:
                return True
    return False


def _feature_collection(
    target: Area,
    buffers: Sequence[tuple[AreaCounts, BaseGeometry]],
    *,
    rings_generated: bool,
    buffer_areas: dict[int, Area | None],
    controls: Sequence[tuple[AreaRef, Area | None, str]],
) -> dict:
    """Target, buffers and controls in WGS84 for the map (no records, only areas)."""
    features = [_feature(target.geometry, "target", target.name, ROLE_LABELS["target"])]
    for counts, geometry in buffers:
        if rings_generated:
            features.append(
                _feature(
                    mapping(to_wgs84(geometry)), "ring", counts.label, "Pufferring", outer_m=counts.outer_m
                )
            )
        else:
            area_id = int(counts.key.split("-", 1)[1])
            area = buffer_areas[area_id]
            if area is not None:
                features.append(_feature(area.geometry, "buffer", counts.label, ROLE_LABELS["buffer"]))
    seen: set[tuple[int, str]] = set()
    for ref, area, role in controls:
        if area is None or (ref.id, role) in seen:
            continue
        seen.add((ref.id, role))
        features.append(_feature(area.geometry, role, ref.name, ROLE_LABELS[role]))
    return {"type": "FeatureCollection", "features": features}


def _feature(geometry: dict, role: str, name: str, role_label: str, **extra: object) -> dict:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"role": role, "name": name, "role_label": role_label, **extra},
    }
