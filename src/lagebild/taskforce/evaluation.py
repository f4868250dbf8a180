"""The automatic evaluation of a special operation (Schwerpunkteinsatz). Reads and computes only.

:func:`build_evaluation` returns a JSON-serialisable snapshot; :mod:`lagebild.taskforce.operations`
freezes it on the operation (``Operation.evaluation``). Every part comes from the analytics app,
so the snapshot shows what the balance, displacement and hotspot pages show for the same area
and periods:

Periods
    ``during`` is the operation (start to end, local days, n days). ``before`` is the n days right
    before it, ``after`` the n days right after it. "After" counts only complete days with data
    (up to yesterday and the last day with records): until the after period has passed it is
    marked ``partial`` (or ``missing`` before its first day).

Einsatzbilanz
    :func:`lagebild.analytics.balance.build_balance` for the target area and the operation period
    (compared with ``before``); with one participating authority only that partner's measures,
    staff hours and reports (and every joint patrol), with both (or none named) all of them.

Verdrängung
    :func:`~lagebild.analytics.displacement_service.analyse_displacement` with the operation's area
    as target, rings of 200, 400 and 800 m generated around it, ``before`` as the pre period and
    the operation as the post period (equal lengths: time weights 1). Counted are the citizen
    reports received (the city's unfiltered "report_received" indicator), which do not depend on
    how much is patrolled; all incidents ("Feststellungen gesamt"), which rise during an operation
    because more officers look, follow as a second, compact analysis, or lead when there is no
    such indicator or no report at all. Control area: the Stadtbezirke that overlap the target
    together with its outermost ring by at most 1 % (``CONTAMINATION_SHARE``), of their own area
    and of target plus ring (:func:`control_districts`).

Problemzahlen
    Every active indicator of kind "problem" (and always all incidents and all citizen reports
    received) in the target area, from the count tables, before, during and after; not split
    by authority: the problem is the same whoever works on it.

Brennpunkte
    Kernel density (quartic, :mod:`lagebild.analytics.hotspots`) of the incidents in the target
    and its 800 m ring, before, during and after (as far as counted, like the problem figures),
    with one search radius, grid and threshold for all maps (ArcGIS rule on the points of all
    periods shown, at least 50 m; cells: the longer side / 80, at least 25 m), stored as the (at
    most 200 densest) cells at or above three times the mean density before (GeoJSON points), the
    peak, the concentration on 100 m cells and a sentence. While "after" is partial or missing,
    its map is marked so with a German note (``after.note``); it is drawn again when the
    evaluation is completed.

Nothing here raises for bad data: a part that cannot be computed has ``status`` "unavailable"
and a German ``note``; the snapshot's ``notes`` collect them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely
from django.db.models import Max
from django.utils import timezone
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from lagebild.analytics import balance as balance_module
from lagebild.analytics import displacement_service as displacement
from lagebild.analytics import hotspot_service, hotspots
from lagebild.analytics import selectors as analytics_selectors
from lagebild.analytics.documents import number_de
from lagebild.analytics.indicators import IndicatorDef
from lagebild.analytics.indicators import value as indicator_value
from lagebild.analytics.models import CITY_AREA, DailyCount, Fact
from lagebild.analytics.periods import MAX_PERIOD_DAYS, Period
from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident
from lagebild.field.selectors import local_day_start
from lagebild.geo.geometry import InvalidGeometry, parse_polygon
from lagebild.geo.models import Area

from .models import Operation

SCHEMA_VERSION = 1
STAGE_FIRST = "first"
STAGE_FINAL = "final"
STAGE_LABELS = {
    STAGE_FIRST: "Erste Auswertung (Montag nach Einsatzende)",
    STAGE_FINAL: "Vervollständigt (Zeitraum nach dem Einsatz abgeschlossen)",
}
RINGS_M = displacement.DEFAULT_RINGS_M
CONTAMINATION_SHARE = displacement.CONTAMINATION_SHARE
HOTSPOT_MULTIPLE = hotspot_service.HOTSPOT_MULTIPLE
MAX_MAP_CELLS = 200  # hotspot cells stored per period (the densest first)
MAP_CELLS_ON_LONG_SIDE = 80
MIN_MAP_CELL_M = 25.0
MIN_BANDWIDTH_M = 50.0  # finer than GPS accuracy and address geocoding shows nothing real
CONCENTRATION_CELL_M = 100.0
DENSITY_UNIT = hotspot_service.DENSITY_UNIT
SECTIONS = ("balance", "displacement", "indicators", "hotspots")

PERIOD_RULE = (
    "Vorher: die gleiche Zahl von Tagen unmittelbar vor dem Einsatz; während: der Einsatzzeitraum; "
    "danach: die gleiche Zahl von Tagen unmittelbar nach dem Einsatz, gezählt nur bis zum letzten "
    "vollständigen Tag mit Daten. Alle Tage sind Kalendertage in Ortszeit."
)
CONTROL_RULE = (
    "Kontrollgebiet sind alle Stadtbezirke, von denen höchstens 1 % ihrer Fläche in Zielgebiet und "
    "Ringen (bis 800 m) liegt und die höchstens 1 % der Fläche von Zielgebiet und Ringen einnehmen "
    "(Kontaminationsregel nach Guerette). So ist das Kontrollgebiet weder von der Maßnahme noch von "
    "einer Verdrängung in die Ringe berührt; die Bezirke zählen zusammen als ein Kontrollgebiet."
)
DISPLACEMENT_PERIODS = (
    "Vorher-Zeitraum: die gleiche Zahl von Tagen unmittelbar vor dem Einsatz; Nachher-Zeitraum: der "
    "Einsatz selbst. Beide sind gleich lang, die Zeitgewichte sind daher 1 und die Zahlen Fälle im "
    "Einsatzzeitraum."
)
REPORTS_COUNTED = (
    "Gezählt werden die eingegangenen Bürgerhinweise: sie hängen nicht davon ab, wie viel im "
    "Zielgebiet kontrolliert wird. Feststellungen steigen während eines Einsatzes schon, weil mehr "
    "Kräfte vor Ort sind; ihre Analyse steht zum Vergleich darunter."
)
INCIDENTS_COUNTED = "Gezählt werden alle Feststellungen, weil keine Bürgerhinweise auswertbar sind."
DISPLACEMENT_CAVEAT = (
    "Während eines Schwerpunkteinsatzes wird im Zielgebiet mehr kontrolliert, und mehr Kontrollen "
    "finden mehr Verstöße: ein Anstieg der Feststellungen im Zielgebiet kann der Einsatz selbst sein "
    "und ist kein Beleg für mehr Probleme."
)

Json = dict[str, Any]


# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperationPeriods:
    before: Period
    during: Period
    after: Period


def operation_periods(start: dt.date, end: dt.date) -> OperationPeriods:
    """The operation and the periods of equal length right before and right after it."""
    during = Period(start, end)
    days = dt.timedelta(days=during.days)
    return OperationPeriods(
        before=Period(start - days, start - dt.timedelta(days=1)),
        during=during,
        after=Period(end + dt.timedelta(days=1), end + days),
    )


def evaluation_day(end: dt.date) -> dt.date:
    """The Monday after the operation's last day (the next Monday when it ends on a Monday)."""
    return end + dt.timedelta(days=7 - end.weekday())


def completion_day(start: dt.date, end: dt.date) -> dt.date:
    """The first day on which the period after the operation lies wholly in the past."""
    return operation_periods(start, end).after.end + dt.timedelta(days=1)


def period_problem(start: dt.date | None, end: dt.date | None) -> str:
    """A German message when the operation's dates cannot be evaluated, else ""."""
    if start is None or end is None:
        return "Beginn und Ende des Einsatzes müssen angegeben sein."
    if end < start:
        return "Das Ende des Einsatzes liegt vor seinem Beginn."
    days = (end - start).days + 1
    first, last = balance_module.FIRST_DAY, balance_module.LAST_DAY
    if 3 * days > MAX_PERIOD_DAYS:
        return "Der Einsatz ist zu lang für eine Auswertung mit gleich langen Zeiträumen davor und danach."
    if start - dt.timedelta(days=days) < first or end + dt.timedelta(days=days) > last:
        return (
            f"Die Zeiträume vor und nach dem Einsatz müssen zwischen {first:%d.%m.%Y} und "
            f"{last:%d.%m.%Y} liegen."
        )
    return ""


def _period(period: Period, **extra: Any) -> Json:
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "days": period.days,
        "label": period.dates_label,
        **extra,
    }


def _date_de(day: dt.date) -> str:
    return f"{day:%d.%m.%Y}"


def last_data_day() -> dt.date | None:
    """The last day with any incident or citizen report in the city (count tables)."""
    return DailyCount.objects.filter(
        area_id=CITY_AREA, fact__in=(Fact.INCIDENT, Fact.REPORT_RECEIVED)
    ).aggregate(last=Max("day"))["last"]


def after_window(after: Period, today: dt.date, data_until: dt.date | None) -> Json:
    """How much of the period after the operation can be counted yet."""
    yesterday = today - dt.timedelta(days=1)
    observed_to = min(after.end, yesterday, data_until or yesterday)
    base = _period(after, complete=False, observed_start=after.start.isoformat())
    if data_until is None:
        return {
            **base,
            "status": "missing",
            "observed_to": None,
            "observed_days": 0,
            "note": "Es liegen noch keine Daten vor; der Zeitraum nach dem Einsatz fehlt.",
        }
    if observed_to < after.start:
        reason = (
            "hat noch nicht begonnen"
            if yesterday < after.start
            else f"liegt nach dem letzten Tag mit Daten ({_date_de(data_until)})"
        )
        return {
            **base,
            "status": "missing",
            "observed_to": None,
            "observed_days": 0,
            "note": f"Der Zeitraum nach dem Einsatz ({after.dates_label}) {reason}; noch keine Zahlen.",
        }
    observed = Period(after.start, observed_to)
    if observed_to < after.end:
        why = (
            f"Daten liegen nur bis {_date_de(data_until)} vor"
            if data_until < min(after.end, yesterday)
            else f"vollständig ab {_date_de(after.end + dt.timedelta(days=1))}; dann wird die "
            "Auswertung automatisch ergänzt"
        )
        return {
            **base,
            "status": "partial",
            "observed_to": observed_to.isoformat(),
            "observed_days": observed.days,
            "note": (
                f"Zeitraum nach dem Einsatz unvollständig: bisher {observed.days} von {after.days} Tagen "
                f"({observed.dates_label}); {why}."
            ),
        }
    return {
        **base,
        "status": "complete",
        "complete": True,
        "observed_to": observed_to.isoformat(),
        "observed_days": observed.days,
        "note": "",
    }


# --- areas and geometry --------------------------------------------------------------------------


def count_area_id(area: Area) -> int:
    """The area's id in the count tables: area 0 is the whole city."""
    return CITY_AREA if area.kind == Area.Kind.CITY else area.pk


def authority_filter(kinds: Iterable[str]) -> str:
    """Balance filter: "city" or "police" when only that partner takes part, else "" (both)."""
    present = {k for k in kinds if k in balance_module.AUTHORITY_KINDS}
    return next(iter(present)) if len(present) == 1 else ""


def _geometry(area: Area) -> BaseGeometry:
    """The area's polygon in WGS84; German InvalidGeometry when it has none usable."""
    return shapely.make_valid(parse_polygon(area.geometry))


@dataclass(frozen=True)
class ControlChoice:
    controls: tuple[Area, ...]
    excluded: tuple[tuple[Area, str], ...]  # (district, German reason)


def control_districts(target_utm: BaseGeometry, *, target_id: int | None = None) -> ControlChoice:
    """The Stadtbezirke usable as control: overlap with target + outermost ring at most 1 %.

    The share is measured both of the district and of target + ring, so neither a district that
    reaches into the rings nor a large one that swallows them serves as control.
    """
    reach = target_utm.buffer(RINGS_M[-1])
    controls: list[Area] = []
    excluded: list[tuple[Area, str]] = []
    for district in Area.objects.filter(active=True, kind=Area.Kind.DISTRICT).order_by("code", "name"):
        if district.pk == target_id:
            excluded.append((district, "ist das Zielgebiet"))
            continue
        try:
            geometry = displacement.to_utm(_geometry(district))
        except InvalidGeometry:
            excluded.append((district, "hat keine gültige Geometrie"))
            continue
        overlap = float(shapely.intersection(geometry, reach).area)
        of_district = overlap / geometry.area if geometry.area > 0 else 1.0
        of_reach = overlap / reach.area if reach.area > 0 else 1.0
        if max(of_district, of_reach) > CONTAMINATION_SHARE:
            excluded.append(
                (
                    district,
                    f"überschneidet Zielgebiet und Ringe ({number_de(100 * of_district, 1)} % seiner "
                    f"Fläche, {number_de(100 * of_reach, 1)} % von Zielgebiet und Ringen)",
                )
            )
        else:
            controls.append(district)
    return ControlChoice(tuple(controls), tuple(excluded))


# --- helpers -------------------------------------------------------------------------------------


def _unavailable(note: str, **extra: Any) -> Json:
    return {"status": "unavailable", "note": note, **extra}


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _rounded(value: Any, digits: int = 4) -> float | None:
    number = _finite(value)
    return None if number is None else round(number, digits)


def jsonable(value: Any) -> Any:
    """Dates as ISO strings, numpy numbers as Python numbers, NaN and infinity as None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _finite(value)
    return value


# --- Einsatzbilanz -------------------------------------------------------------------------------


def balance_section(area: Area, during: Period, authority: str) -> Json:
    try:
        balance = balance_module.build_balance(
            count_area_id(area), during.start, during.end, authority=authority
        )
    except ValueError as exc:
        return _unavailable(f"Die Einsatzbilanz ist nicht möglich: {exc}")
    lines = [
        {
            "key": line.key,
            "label": line.label,
            "section": line.section,
            "current": line.current,
            "previous": line.previous,
            "unit": line.unit,
            "flag": line.flag,
            "sub": line.sub,
        }
        for line in balance.lines
    ]
    return {
        "status": "ok",
        "area_id": balance.area_id,
        "area_name": balance.area_name,
        "authority": balance.authority,
        "authority_label": balance.authority_label,
        "period": _period(balance.period),
        "previous": _period(balance.previous),
        "lines": lines,
        "key_figures": [line.key for _label, line in balance.key_figures],
        "prose": balance_module.balance_prose(balance),
        "note": "",
    }


# --- Verdrängung ---------------------------------------------------------------------------------


def displacement_section(area: Area, target_wgs84: BaseGeometry | None, periods: OperationPeriods) -> Json:
    if area.kind == Area.Kind.CITY:
        return _unavailable(
            "Der Einsatz umfasst das ganze Stadtgebiet: ohne Gebiet außerhalb gibt es weder Pufferringe "
            "noch ein Kontrollgebiet, eine Verdrängungsanalyse ist daher nicht möglich."
        )
    if target_wgs84 is None:
        return _unavailable(
            f"Das Zielgebiet „{area.name}“ hat keine gültige Fläche; ohne sie lassen sich keine Ringe "
            "erzeugen und kein Kontrollgebiet wählen."
        )
    target_utm = displacement.to_utm(target_wgs84)
    choice = control_districts(target_utm, target_id=area.pk)
    common = {
        "rings_m": list(RINGS_M),
        "control_rule": CONTROL_RULE,
        "periods_rule": DISPLACEMENT_PERIODS,
        "pre": _period(periods.before),
        "post": _period(periods.during),
        "controls": [{"id": d.pk, "name": d.name} for d in choice.controls],
        "excluded_districts": [
            {"id": d.pk, "name": d.name, "reason": reason} for d, reason in choice.excluded
        ],
    }
    if not choice.controls:
        return _unavailable(
            "Kein Stadtbezirk liegt außerhalb von Zielgebiet und 800-m-Ring; ohne Kontrollgebiet ist "
            "keine Verdrängungsanalyse möglich.",
            **common,
        )
    params = displacement.DisplacementParams(
        target_id=area.pk,
        control_ids=tuple(d.pk for d in choice.controls),
        pre=periods.before,
        post=periods.during,
        ring_distances_m=RINGS_M,
    )
    reports = report_indicator()
    analyses: list[tuple[str, Json]] = []
    if reports is not None:
        analyses.append(("reports", _analysis(replace(params, indicator_code=reports.code))))
    analyses.append(("incidents", _analysis(params)))
    usable = [(kind, found) for kind, found in analyses if found["status"] == "ok"]
    if not usable:
        notes = " ".join(dict.fromkeys(found["note"] for _kind, found in analyses))
        return _unavailable(f"Die Verdrängungsanalyse ist nicht möglich: {notes}", **common)
    kind, primary = usable[0]
    if kind == "reports":
        why = REPORTS_COUNTED
    elif reports is None:
        why = INCIDENTS_COUNTED + " Eine Kennzahl „Bürgerhinweise eingegangen“ ist nicht eingerichtet."
    else:
        why = INCIDENTS_COUNTED + f" Bürgerhinweise: {analyses[0][1]['note']}"
    secondary = next((found for other, found in usable if other != kind), None)
    return {
        "status": "ok",
        **common,
        **primary,
        "counted_why": why,
        "incidents": _compact(secondary) if secondary is not None else None,
        "caveat": DISPLACEMENT_CAVEAT,
        "note": "",
    }


def report_indicator() -> IndicatorDef | None:
    """The active indicator counting every citizen report received, if the city has one."""
    return next(
        (d for d in analytics_selectors.indicators_for() if _unfiltered(d, Fact.REPORT_RECEIVED)), None
    )


def _compact(found: Json) -> Json:
    """The second analysis (all incidents) without its long texts."""
    keys = ("counted", "headline", "effect", "wdd", "counts", "warnings")
    return {key: found[key] for key in keys}


def _analysis(params: displacement.DisplacementParams) -> Json:
    try:
        result = displacement.analyse_displacement(params)
    except displacement.DisplacementInputError as exc:
        return _unavailable(" ".join(m for ms in exc.errors.values() for m in ms))
    wdd, wdq = result.wdd, result.wdq
    return {
        "status": "ok",
        "counted": result.counted.name,
        "counted_code": result.counted.definition.code,
        "target": {"id": result.target_area.id, "name": result.target_area.name},
        "time_weights": {"pre": result.time_weights.before, "post": result.time_weights.after},
        "headline": result.headline_de,
        "effect": result.verdict.effect,
        "verdict": result.verdict.text,
        "explanation": result.explanation_de,
        "wdd": {
            "estimate": _rounded(wdd.total),
            "se": _rounded(wdd.se),
            "z": _rounded(wdd.z),
            "p": _rounded(wdd.p_value, 6),
            "ci_low": _rounded(wdd.ci_low),
            "ci_high": _rounded(wdd.ci_high),
            "alpha": wdd.alpha,
            "significant": wdd.significant,
            "local": _rounded(wdd.local),
            "displacement": _rounded(wdd.displacement),
        },
        "wdq": None
        if wdq is None
        else {
            "wdq": _rounded(wdq.wdq),
            "success_measure": _rounded(wdq.success_measure),
            "buffer_measure": _rounded(wdq.buffer_measure),
            "total_net_effect": _rounded(wdq.total_net_effect),
            "meaningful": wdq.meaningful,
            "reading": result.wdq_reading_de,
        },
        "wdq_note": result.wdq_note,
        "counts": [
            {
                "key": c.key,
                "role": c.role,
                "label": c.label,
                "pre": c.pre,
                "post": c.post,
                "inner_m": c.inner_m,
                "outer_m": c.outer_m,
                "area_km2": c.area_km2,
            }
            for c in result.all_counts
        ],
        "rings": [
            {
                "label": b.counts.label,
                "estimate": _rounded(b.wdd.total),
                "p": _rounded(b.wdd.p_value, 6),
                "displacement": _rounded(b.displacement.estimate),
            }
            for b in result.buffers
        ],
        "warnings": list(result.warnings),
        "note": "",
    }


# --- Problemzahlen -------------------------------------------------------------------------------

ALL_INCIDENTS = IndicatorDef(
    code="incidents-all", name="Feststellungen gesamt", kind="problem", fact=Fact.INCIDENT, unit="Anzahl"
)
ALL_REPORTS = IndicatorDef(
    code="reports-all",
    name="Bürgerhinweise eingegangen",
    kind="problem",
    fact=Fact.REPORT_RECEIVED,
    unit="Anzahl",
)


def _unfiltered(definition: IndicatorDef, fact: str) -> bool:
    return (
        definition.fact == fact
        and definition.value == "count"
        and not definition.per_100_staff_hours
        and not (
            definition.category_ids
            or definition.measure_types
            or definition.details
            or definition.authority_ids
        )
    )


def problem_indicators() -> list[IndicatorDef]:
    """Every active problem indicator; all incidents and all citizen reports always come first."""
    found = [
        d for d in analytics_selectors.indicators_for() if d.kind == "problem" and d.fact != Fact.PROCEEDINGS
    ]
    generic = []
    for fallback in (ALL_INCIDENTS, ALL_REPORTS):
        match = next((d for d in found if _unfiltered(d, fallback.fact)), None)
        generic.append(match or fallback)
    return generic + [d for d in found if d not in generic]


def _per_day(value: float | None, days: int, definition: IndicatorDef) -> float | None:
    if value is None or days <= 0 or not definition.is_count:
        return None
    return value / days


def _change_percent(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    return round(100 * (current - previous) / previous, 1)


def _rounded_or_none(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def indicators_section(area: Area, periods: OperationPeriods, after: Json) -> Json:
    windows: dict[str, Period] = {"before": periods.before, "during": periods.during}
    if after["observed_to"] is not None:
        windows["after"] = Period(periods.after.start, dt.date.fromisoformat(after["observed_to"]))
    totals = analytics_selectors.window_totals(count_area_id(area), windows)
    rows = []
    for definition in problem_indicators():
        values = {name: indicator_value(definition, totals[name]) for name in windows}
        before, during, later = values["before"], values["during"], values.get("after")
        per_day = {name: _per_day(values[name], windows[name].days, definition) for name in windows}
        rows.append(
            {
                "code": definition.code,
                "name": definition.name,
                "unit": definition.unit,
                "fact": definition.fact,
                "is_count": definition.is_count,
                "before": before,
                "during": during,
                "after": later,
                "before_per_day": _rounded_or_none(per_day["before"]),
                "during_per_day": _rounded_or_none(per_day["during"]),
                "after_per_day": _rounded_or_none(per_day.get("after")),
                # Per day, so that an incomplete "after" compares fairly.
                "change_during_percent": _change_percent(per_day["during"], per_day["before"])
                if definition.is_count
                else _change_percent(during, before),
                "change_after_percent": _change_percent(per_day.get("after"), per_day["before"])
                if definition.is_count
                else _change_percent(later, before),
            }
        )
    return {
        "status": "ok",
        "area_id": count_area_id(area),
        "before": _period(periods.before),
        "during": _period(periods.during),
        "after": after,
        "rows": rows,
        "note": (
            "Problemzahlen beider Partner im Zielgebiet (aus den Zähltabellen). Veränderungen in % "
            "je Tag gegenüber dem Zeitraum vorher, damit ein unvollständiger Zeitraum danach vergleichbar "
            "bleibt."
        ),
    }


# --- Brennpunkte ---------------------------------------------------------------------------------


def _points(
    reach_utm: BaseGeometry, first: dt.date, last: dt.date
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y (UTM 32N) and time of all incidents in ``reach`` on the local days first..last."""
    min_x, min_y, max_x, max_y = reach_utm.bounds
    # Shared aggregate like the count tables: only coordinates and times are read.
    with unscoped():
        rows = list(
            Incident.objects.filter(
                occurred_at__gte=local_day_start(first),
                occurred_at__lt=local_day_start(last + dt.timedelta(days=1)),
                x_utm__gte=min_x,
                x_utm__lte=max_x,
                y_utm__gte=min_y,
                y_utm__lte=max_y,
            )
            .order_by()
            .values_list("x_utm", "y_utm", "occurred_at")
        )
    if not rows:
        empty = np.zeros(0)
        return empty, empty, empty
    x = np.fromiter((r[0] for r in rows), dtype=float, count=len(rows))
    y = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
    seconds = np.fromiter((r[2].timestamp() for r in rows), dtype=float, count=len(rows))
    inside = shapely.contains_xy(reach_utm, x, y)
    return x[inside], y[inside], seconds[inside]


def _in_period(seconds: np.ndarray, period: Period) -> np.ndarray:
    start = local_day_start(period.start).timestamp()
    end = local_day_start(period.end + dt.timedelta(days=1)).timestamp()
    return (seconds >= start) & (seconds < end)


def _cell_points(grid: hotspots.Grid, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> Json:
    centre_x = grid.x0 + (cols + 0.5) * grid.cell_size
    centre_y = grid.y0 + (rows + 0.5) * grid.cell_size
    lons, lats = hotspots.utm32_to_wgs84(centre_x, centre_y)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(float(lon), 5), round(float(lat), 5)]},
            "properties": {"density": round(float(value), 1)},
        }
        for lon, lat, value in zip(lons, lats, values, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _surface_summary(
    surface: hotspot_service.KdeSurface, threshold: float, cells: hotspot_service.CellCounts, period: Period
) -> Json:
    inside = np.where(surface.area_cells, surface.values, 0.0)
    peak_index = int(np.argmax(inside))
    peak_row, peak_col = np.unravel_index(peak_index, inside.shape)
    peak = float(inside.flat[peak_index])
    hot = np.nonzero((inside >= threshold) & (inside > 0)) if threshold > 0 else (np.zeros(0, int),) * 2
    order = np.argsort(-inside[hot], kind="stable")[:MAX_MAP_CELLS]
    rows, cols = hot[0][order], hot[1][order]
    concentration: Json | None = None
    counts = cells.counts[cells.area_cells]
    if counts.sum() > 0:
        result = hotspot_service.concentration_of_counts(counts, CONCENTRATION_CELL_M).result
        concentration = {
            "cell_m": CONCENTRATION_CELL_M,
            "cells": result.cells,
            "top_5_percent_share": _rounded(result.top_share[5]),
            "generalized_gini": _rounded(result.generalized_gini),
        }
    grid = surface.grid
    peak_x = grid.x0 + (peak_col + 0.5) * grid.cell_size
    peak_y = grid.y0 + (peak_row + 0.5) * grid.cell_size
    peak_lon, peak_lat = hotspots.utm32_to_wgs84(np.array([peak_x]), np.array([peak_y]))
    return {
        "period": _period(period),
        "points": surface.points,
        "peak_density": round(peak, 1),
        "peak": [round(float(peak_lon[0]), 6), round(float(peak_lat[0]), 6)] if peak > 0 else None,
        "peak_utm": [float(peak_x), float(peak_y)] if peak > 0 else None,
        "mean_density": round(surface.mean_density, 3),
        "hotspot_cells": len(hot[0]),
        "cells": _cell_points(grid, rows, cols, inside[rows, cols]),
        "concentration": concentration,
    }


def map_cell_size(bounds: tuple[float, float, float, float], bandwidth: float) -> float:
    """Cells for the stored map: the longer side of the study area / 80, rounded to 1, 2, 2.5 or
    5 × 10^k m, at least 25 m and at most half the search radius (a kernel spans several cells)."""
    min_x, min_y, max_x, max_y = bounds
    size = max(
        MIN_MAP_CELL_M,
        hotspot_service.nice_length(max(max_x - min_x, max_y - min_y, 1.0) / MAP_CELLS_ON_LONG_SIDE),
    )
    if size > bandwidth / 2:
        size = max(hotspot_service.MIN_CELL_SIZE, hotspot_service.nice_floor(bandwidth / 2))
    return size


def _rounded_geometry(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geometry, lambda xy: np.round(xy, 5))


def _observed_after(periods: OperationPeriods, after: Json) -> Period | None:
    """The part of the period after the operation that can be counted yet (None: none of it)."""
    if after.get("observed_to") is None:
        return None
    return Period(periods.after.start, dt.date.fromisoformat(after["observed_to"]))


def _after_note(periods: OperationPeriods, after: Json) -> str:
    """German note on the map after the operation while its period is not complete, else ""."""
    status = after.get("status")
    if status == "complete":
        return ""
    completion = _date_de(periods.after.end + dt.timedelta(days=1))
    if status == "partial":
        return (
            f"Die Brennpunktkarte nach dem Einsatz ist vorläufig: sie zeigt erst {after['observed_days']} "
            f"von {periods.after.days} Tagen (bis {_date_de(dt.date.fromisoformat(after['observed_to']))}), "
            "also weniger Feststellungen als ein ganzer Zeitraum. Mit den anderen Karten vergleichbar ist "
            f"sie erst, wenn der Zeitraum bis {_date_de(periods.after.end)} vollständig gezählt ist; dann "
            f"wird die Auswertung vervollständigt (frühestens am {completion})."
        )
    return (
        f"Die Brennpunktkarte nach dem Einsatz ({periods.after.dates_label}) steht noch aus: für diesen "
        "Zeitraum gibt es noch keine Zahlen. Sie folgt mit der vervollständigten Auswertung, sobald der "
        f"Zeitraum vollständig gezählt ist (frühestens am {completion})."
    )


def _hotspot_sentence(before: Json, during: Json, shift_m: float | None, cell_m: float) -> str:
    if not before["points"] and not during["points"]:
        return "Weder vor noch während des Einsatzes gab es Feststellungen im Zielgebiet und seinen Ringen."
    text = (
        f"Vor dem Einsatz ({before['period']['label']}) lag die höchste Dichte bei "
        f"{number_de(before['peak_density'], 1)} {DENSITY_UNIT} ({number_de(before['points'])} "
        f"Feststellungen), während des Einsatzes bei {number_de(during['peak_density'], 1)} "
        f"({number_de(during['points'])} Feststellungen). Zellen mit mindestens dreifacher mittlerer "
        f"Dichte des Zeitraums vorher: {number_de(before['hotspot_cells'])} vorher, "
        f"{number_de(during['hotspot_cells'])} während des Einsatzes."
    )
    if shift_m is not None and before["points"] and during["points"]:
        if shift_m <= cell_m:
            text += " Der dichteste Punkt blieb während des Einsatzes an derselben Stelle."
        else:
            text += f" Der dichteste Punkt verschob sich während des Einsatzes um {number_de(shift_m)} m."
    return text


def _after_sentence(before: Json, later: Json, shift_m: float | None, cell_m: float) -> str:
    """What the map after the operation shows, compared with the map before it."""
    so_far = "" if later["complete"] else f", bisher {later['period']['days']} Tage"
    label = f"Nach dem Einsatz ({later['period']['label']}{so_far})"
    if not later["points"]:
        return f"{label} gab es keine Feststellungen im Zielgebiet und seinen Ringen."
    cells, cells_before = later["hotspot_cells"], before["hotspot_cells"]
    if cells == cells_before:
        compared = "so viele wie vorher"
    else:
        compared = f"{'mehr' if cells > cells_before else 'weniger'} als vorher ({number_de(cells_before)})"
    text = (
        f"{label} lag die höchste Dichte bei {number_de(later['peak_density'], 1)} {DENSITY_UNIT} "
        f"({number_de(later['points'])} Feststellungen); {number_de(cells)} "
        f"{'Zelle' if cells == 1 else 'Zellen'} mit mindestens dreifacher mittlerer Dichte des Zeitraums "
        f"vorher, {compared}."
    )
    if shift_m is not None and before["points"]:
        if shift_m <= cell_m:
            text += " Der dichteste Punkt lag danach wieder an derselben Stelle wie vor dem Einsatz."
        else:
            text += (
                f" Der dichteste Punkt lag danach {number_de(shift_m)} m von dem vor dem Einsatz entfernt."
            )
    return text


def _pending_after(periods: OperationPeriods, after: Json) -> Json:
    return {
        "status": "missing",
        "period": _period(periods.after),
        "complete": False,
        "note": _after_note(periods, after),
    }


def hotspots_section(
    area: Area, target_wgs84: BaseGeometry | None, periods: OperationPeriods, after: Json | None = None
) -> Json:
    """Kernel density maps before, during and (as far as observed, see :func:`after_window`) after
    the operation, all three with one search radius, grid and threshold."""
    if target_wgs84 is None:
        return _unavailable(
            f"Das Zielgebiet „{area.name}“ hat keine gültige Fläche; eine Brennpunktkarte ist nicht möglich."
        )
    after = after or {"status": "missing", "observed_to": None}
    target_utm = displacement.to_utm(target_wgs84)
    if area.kind == Area.Kind.CITY:
        reach_utm, reach_label = target_utm, "Stadtgebiet"
    else:
        reach_utm = shapely.union_all([target_utm, target_utm.buffer(RINGS_M[-1])])
        reach_label = f"Zielgebiet und Ringe bis {RINGS_M[-1]:g} m"
    shapely.prepare(reach_utm)
    study = hotspot_service.StudyArea(
        id=area.pk, name=reach_label, wgs84=displacement.to_wgs84(reach_utm), utm=reach_utm
    )
    windows: dict[str, Period] = {"before": periods.before, "during": periods.during}
    observed_after = _observed_after(periods, after)
    if observed_after is not None:
        windows["after"] = observed_after
    x, y, seconds = _points(reach_utm, periods.before.start, max(w.end for w in windows.values()))
    masks = {name: _in_period(seconds, window) for name, window in windows.items()}
    pooled = np.logical_or.reduce(list(masks.values()))
    shown = (
        "aller gezeigten Zeiträume, für alle Karten"
        if "after" in windows
        else "beider Zeiträume, für beide Karten"
    )
    try:
        bandwidth = hotspots.default_bandwidth(x[pooled], y[pooled])
        bandwidth_note = f"ArcGIS-Regel aus den Feststellungen {shown} gleich"
    except ValueError:
        bandwidth = hotspot_service.FALLBACK_BANDWIDTH
        bandwidth_note = "Standardwert, weil es weniger als zwei verschiedene Orte gibt"
    if bandwidth < MIN_BANDWIDTH_M:
        bandwidth, bandwidth_note = MIN_BANDWIDTH_M, f"{bandwidth_note}; auf 50 m angehoben"
    bandwidth = min(bandwidth, hotspot_service.MAX_BANDWIDTH)
    cell_size = map_cell_size(reach_utm.bounds, bandwidth)
    try:
        surfaces = {
            name: hotspot_service.kde_for_points(
                study, x[mask], y[mask], bandwidth=bandwidth, cell_size=cell_size
            )
            for name, mask in masks.items()
        }
        cells = {
            name: hotspot_service.cell_counts(study, x[mask], y[mask], CONCENTRATION_CELL_M)
            for name, mask in masks.items()
        }
    except ValueError as exc:  # ParameterError: a grid too large for the area
        return _unavailable(f"Die Brennpunktkarte ist nicht möglich: {exc}")
    reference = surfaces["before"].mean_density or surfaces["during"].mean_density
    threshold = HOTSPOT_MULTIPLE * reference
    maps = {
        name: _surface_summary(surfaces[name], threshold, cells[name], window)
        for name, window in windows.items()
    }
    peaks = {name: summary.pop("peak_utm", None) for name, summary in maps.items()}

    def shift(name: str) -> float | None:
        if peaks["before"] and peaks.get(name):
            return round(math.dist(peaks["before"], peaks[name]))
        return None

    grid = surfaces["before"].grid
    before, during = maps["before"], maps["during"]
    sentence = _hotspot_sentence(before, during, shift("during"), grid.cell_size)
    after_note = _after_note(periods, after)
    if "after" in maps:
        later = {
            **maps["after"],
            "status": after["status"],
            "complete": after["status"] == "complete",
            "full_period": _period(periods.after),
            "note": after_note,
        }
        sentence += " " + _after_sentence(before, later, shift("after"), grid.cell_size)
    else:
        later = _pending_after(periods, after)
        sentence += " Die Karte für die Zeit nach dem Einsatz steht noch aus."
    return {
        "status": "ok",
        "study_area": reach_label,
        "outline": mapping(_rounded_geometry(shapely.simplify(study.wgs84, 0.00005))),
        "unit": DENSITY_UNIT,
        "kernel": "quartic (ArcGIS/CrimeStat)",
        "bandwidth_m": round(bandwidth, 1),
        "bandwidth_note": bandwidth_note,
        "cell_size_m": grid.cell_size,
        "cell_size_note": (
            "längere Seite des Ausschnitts / 80, gerundet, mindestens 25 m und höchstens die halbe Bandbreite"
        ),
        "threshold_density": round(threshold, 3),
        "threshold_note": (
            f"Karte: Zellen mit mindestens {HOTSPOT_MULTIPLE:g} × der mittleren Dichte des Zeitraums "
            f"vorher (höchstens {MAX_MAP_CELLS} je Zeitraum, die dichtesten zuerst)"
        ),
        "before": before,
        "during": during,
        "after": later,
        "peak_shift_m": shift("during"),
        "peak_shift_after_m": shift("after"),
        "sentence": sentence,
        "note": "",
    }


# --- the snapshot --------------------------------------------------------------------------------


SUMMARY_LINES = (
    ("staff_hours", "Personalstunde", "Personalstunden", 1),
    ("measures", "Maßnahme", "Maßnahmen", 0),
    ("dispersal_order", "Platzverweis", "Platzverweise", 0),
    ("offence_report", "OWi-Anzeige", "OWi-Anzeigen", 0),
    ("criminal_complaint", "Strafanzeige", "Strafanzeigen", 0),
)


def _summary(balance: Json, moved: Json, indicators: Json) -> list[str]:
    sentences = []
    if balance.get("status") == "ok":
        lines = {line["key"]: line for line in balance["lines"]}
        parts = [
            f"{number_de(value, decimals)} {singular if value == 1 else plural}"
            for key, singular, plural, decimals in SUMMARY_LINES
            if key in lines
            for value in [lines[key]["current"] or 0]
        ]
        who = balance_module.AUTHORITY_LABELS.get(balance["authority"], "Ordnungsamt und Polizei")
        sentences.append(f"Einsatzbilanz ({who}): {', '.join(parts)}.")
    if moved.get("status") == "ok":
        sentences.append(f"Verdrängungsanalyse ({moved['counted']}): {moved['headline']}.")
    if indicators.get("status") == "ok":
        after = indicators["after"]
        for row in indicators["rows"][:2]:
            text = (
                f"{row['name']} im Zielgebiet: vorher {number_de(row['before'])}, während "
                f"{number_de(row['during'])}"
            )
            if row["after"] is not None:
                suffix = "" if after["status"] == "complete" else f" (bisher {after['observed_days']} Tage)"
                text += f", danach {number_de(row['after'])}{suffix}"
            sentences.append(text + ".")
    return sentences


def operation_fingerprint(operation: Operation) -> Json:
    """What the evaluation depends on; a changed operation is evaluated again."""
    kinds = sorted({a.kind for a in operation.authorities.all()})
    return {
        "area_id": operation.area_id,
        "start": operation.start.isoformat() if operation.start else None,
        "end": operation.end.isoformat() if operation.end else None,
        "authority_kinds": kinds,
    }


def build_evaluation(operation: Operation, *, today: dt.date | None = None) -> Json:
    """The snapshot of ``operation`` as of ``today`` (default: today; figures up to yesterday)."""
    day = today or timezone.localdate()
    fingerprint = operation_fingerprint(operation)
    authority = authority_filter(fingerprint["authority_kinds"])
    area = operation.area
    snapshot: Json = {
        "version": SCHEMA_VERSION,
        "computed_at": timezone.now(),
        "as_of": day - dt.timedelta(days=1),
        "fingerprint": fingerprint,
        "operation": {
            "code": operation.code,
            "name": operation.name,
            "area_id": area.pk,
            "area_name": area.name,
            "start": operation.start,
            "end": operation.end,
            "authority": authority,
            "authority_label": dict(balance_module.AUTHORITY_CHOICES)[authority],
            "planned_staff_per_day": operation.planned_staff_per_day,
        },
        "notes": [],
    }
    problem = period_problem(operation.start, operation.end)
    if problem:
        snapshot.update(stage=STAGE_FIRST, stage_label=STAGE_LABELS[STAGE_FIRST])
        for section in SECTIONS:
            snapshot[section] = _unavailable(problem)
        snapshot["notes"] = [problem]
        snapshot["summary"] = [problem]
        return jsonable(snapshot)

    periods = operation_periods(operation.start, operation.end)
    stage = STAGE_FINAL if day >= completion_day(operation.start, operation.end) else STAGE_FIRST
    after = after_window(periods.after, day, last_data_day())
    snapshot.update(
        stage=stage,
        stage_label=STAGE_LABELS[stage],
        periods={
            "rule": PERIOD_RULE,
            "before": _period(periods.before),
            "during": _period(periods.during),
            "after": after,
        },
    )
    snapshot["operation"]["days"] = periods.during.days
    if operation.planned_staff_per_day:
        snapshot["operation"]["planned_staff_days"] = operation.planned_staff_per_day * periods.during.days

    target_wgs84: BaseGeometry | None = None
    geometry_note = ""
    try:
        target_wgs84 = _geometry(area)
    except InvalidGeometry as exc:
        geometry_note = f"Das Zielgebiet „{area.name}“ hat keine gültige Geometrie: {exc}"
    snapshot["balance"] = balance_section(area, periods.during, authority)
    snapshot["displacement"] = displacement_section(area, target_wgs84, periods)
    snapshot["indicators"] = indicators_section(area, periods, after)
    snapshot["hotspots"] = hotspots_section(area, target_wgs84, periods, after)

    notes = [geometry_note] if geometry_note else []
    if after["note"]:
        notes.append(after["note"])
    for section in SECTIONS:
        part = snapshot[section]
        if part.get("status") != "ok" and part.get("note") and part["note"] not in notes:
            notes.append(part["note"])
    if not _has_records(snapshot):
        notes.append(
            "Für Zielgebiet und Zeitraum liegen keine Daten vor (keine Streifen, Maßnahmen, "
            "Feststellungen oder Bürgerhinweise); alle Zahlen sind 0."
        )
    snapshot["notes"] = notes
    snapshot["summary"] = _summary(snapshot["balance"], snapshot["displacement"], snapshot["indicators"])
    return jsonable(snapshot)


def _has_records(snapshot: Json) -> bool:
    balance, indicators = snapshot["balance"], snapshot["indicators"]
    if balance.get("status") == "ok" and any(
        (line["current"] or 0) or (line["previous"] or 0) for line in balance["lines"]
    ):
        return True
    return indicators.get("status") == "ok" and any(
        (row[name] or 0) for row in indicators["rows"] for name in ("before", "during", "after")
    )


def stage_of(evaluation: Mapping[str, Any] | None) -> str | None:
    if not isinstance(evaluation, Mapping):
        return None
    stage = evaluation.get("stage")
    return stage if stage in STAGE_LABELS else None
