"""CompStat cockpit: the figures of one area and indicator set, assembled from the count tables.

Every figure comes from the pre-aggregated counts through ``selectors``; nothing here reads
records. The three windows (current ISO week to date, last 28 days, year to date, each against
the same days 364 days earlier or the calendar year before: see ``periods``) are read with one
``window_totals`` call, so all rows of the table are sums over the same count rows.

The drill-downs, the weekly series and the hour × weekday table re-split the same counts and
are built so that they add up to the cockpit figure:

* by area: the Stadtbezirke are a partition of the city, the remainder "ohne Bezirk" is the
  city total minus the districts (records outside every district), so districts plus
  remainder equal the city figure; focus areas lie inside districts and overlap them, so they
  are listed separately and never summed;
* by category: the indicator's rows split by ``GroupKey.category_id`` (rates keep the whole
  area's staff hours as denominator, so the parts add up to the rate);
* weekly series: the newest week ends at ``as_of`` and its prior-year week is the cockpit's
  own week window, so the newest point equals the week column. Unless ``as_of`` is a Sunday
  that week is partial (``WeekPoint.partial``): charts and documents mark it or leave it out,
  so that its few days do not read as a fall.

The effort-normalised view divides every count by the staff hours of patrols in the same
area and period (× 100); amounts (euros, hours) and indicators that are already rates are
shown unchanged. Poisson z applies to counts only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from lagebild.catalog.models import Category
from lagebild.geo.models import Area

from . import selectors
from .changestats import FLAG_LABELS_DE, Change
from .documents import number_de, stand_de
from .indicators import STAFF_HOURS_FACT, GroupKey, IndicatorDef, TotalsIndex, value
from .models import CITY_AREA, IndicatorSet
from .periods import Period, WindowPair, compstat_windows, iso_monday

Totals = Mapping[GroupKey, tuple[int, float]]

WINDOW_KEYS = ("week", "28d", "ytd")
DEFAULT_DETAIL_WINDOW = "28d"
WEEKS_IN_SERIES = 52
YEAR_SHIFT = dt.timedelta(days=364)
NORMALISED_UNIT = "je 100 Std."
WEEKDAYS_DE = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
WEEKDAY_NAMES_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")

KIND_ORDER = ("problem", "activity", "outcome")
KIND_LABELS = {
    "problem": "Problem – was geschieht",
    "activity": "Aktivität – was wir getan haben",
    "outcome": "Wirkung – was sich verändert hat",
}
KIND_EXPLANATIONS = {
    "problem": (
        "Feststellungen und Bürgerhinweise zeigen, was im Gebiet geschieht – sie steigen aber auch, "
        "wenn mehr kontrolliert wird."
    ),
    "activity": (
        "Maßnahmen, Streifen und Personalstunden zeigen den Einsatz, nicht die Größe des Problems: "
        "mehr Kontrollen bringen zuerst mehr Maßnahmen."
    ),
    "outcome": "Wirkungszahlen zeigen, ob sich etwas verändert hat, z. B. erledigte Bürgerhinweise.",
}
SEPARATION_NOTE = (
    "Problem-, Aktivitäts- und Wirkungszahlen stehen getrennt, weil mehr Kontrollen zuerst mehr "
    "festgestellte Verstöße bringen; Erfolg zeigt sich erst später als Rückgang bei den Problemzahlen."
)

FLAG_SYMBOLS = {3: "▲▲", 2: "▲", 0: "", -2: "▼", -3: "▼▼"}
FLAG_TEXT = {3: "++", 2: "+", 0: "", -2: "−", -3: "−−"}  # for PDF fonts without the triangles
FLAG_CSS = {3: "flag-up-strong", 2: "flag-up", 0: "", -2: "flag-down", -3: "flag-down-strong"}

# Sequential colour scale (ColorBrewer "Reds", 5 classes) with a neutral class for zero.
CHOROPLETH_COLOURS = ("#f3f4f6", "#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
CHOROPLETH_CLASSES = 5
HEAT_LEVELS = 5


# --- one figure: current vs prior --------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One indicator in one window; ``change`` is None when a value is missing or negative."""

    current: float | None
    prior: float | None
    change: Change | None

    @classmethod
    def of(cls, current: float | None, prior: float | None, *, is_count: bool) -> Figure:
        if current is None or prior is None or current < 0 or prior < 0:
            return cls(current, prior, None)
        return cls(current, prior, Change.of(current, prior, is_count=is_count))

    @property
    def delta(self) -> float | None:
        if self.current is None or self.prior is None:
            return None
        return self.current - self.prior

    @property
    def percent(self) -> float | None:
        return self.change.percent if self.change else None

    @property
    def z(self) -> float | None:
        return self.change.z if self.change else None

    @property
    def flag(self) -> int:
        return self.change.flag if self.change else 0

    @property
    def flag_symbol(self) -> str:
        return FLAG_SYMBOLS[self.flag]

    @property
    def flag_text(self) -> str:
        return FLAG_TEXT[self.flag]

    @property
    def flag_css(self) -> str:
        return FLAG_CSS[self.flag]

    @property
    def flag_label(self) -> str:
        if self.change is None or self.change.z is None:
            return "kein Poisson-Test (kein Zählwert)"
        return FLAG_LABELS_DE[self.flag]


def effort_normalised(indicator: IndicatorDef) -> IndicatorDef:
    """The indicator per 100 staff hours; amounts and existing rates stay as they are."""
    if indicator.value != "count" or indicator.per_100_staff_hours or indicator.fact == STAFF_HOURS_FACT:
        return indicator
    return dataclasses.replace(
        indicator, per_100_staff_hours=True, unit=NORMALISED_UNIT, name=f"{indicator.name} je 100 Std."
    )


# --- the cockpit table ---------------------------------------------------------------------


@dataclass(frozen=True)
class CockpitRow:
    indicator: IndicatorDef  # as evaluated (per 100 staff hours when the view is normalised)
    original: IndicatorDef
    figures: tuple[Figure, ...]  # in the order of the cockpit's windows

    @property
    def code(self) -> str:
        return self.original.code

    @property
    def name(self) -> str:
        return self.original.name

    @property
    def unit(self) -> str:
        return self.indicator.unit

    @property
    def normalised(self) -> bool:
        return self.indicator is not self.original

    @property
    def is_count(self) -> bool:
        return self.indicator.is_count

    @property
    def decimals(self) -> int:
        return 0 if self.is_count else (1 if self.indicator.per_100_staff_hours else 2)


@dataclass(frozen=True)
class KindGroup:
    kind: str
    label: str
    explanation: str
    rows: tuple[CockpitRow, ...]


@dataclass(frozen=True)
class Cockpit:
    area_id: int
    area_name: str
    set_code: str
    set_name: str
    as_of: dt.date
    per_100_staff_hours: bool
    windows: tuple[WindowPair, ...]
    groups: tuple[KindGroup, ...]
    totals: Mapping[str, Totals]  # "<window>" and "<window>_prior"
    computed_at: dt.datetime
    # ``totals`` split by fact, built once per window for all figures of a request.
    indexed: dict[str, TotalsIndex] = field(default_factory=dict, compare=False, repr=False)

    def index(self, name: str) -> TotalsIndex:
        """The totals of a window (e.g. "28d_prior") indexed for evaluating indicators."""
        index = self.indexed.get(name)
        if index is None:
            index = self.indexed[name] = TotalsIndex(self.totals[name])
        return index

    @property
    def rows(self) -> list[CockpitRow]:
        return [row for group in self.groups for row in group.rows]

    def row(self, code: str) -> CockpitRow:
        for row in self.rows:
            if row.code == code:
                return row
        raise ValueError(f"Die Kennzahl „{code}“ gehört nicht zum gewählten Kennzahlen-Set.")

    def window(self, key: str) -> WindowPair:
        for window in self.windows:
            if window.key == key:
                return window
        raise ValueError(f"Unbekannter Zeitraum „{key}“.")

    def window_index(self, key: str) -> int:
        return [w.key for w in self.windows].index(self.window(key).key)

    def figure(self, code: str, window_key: str) -> Figure:
        return self.row(code).figures[self.window_index(window_key)]

    @property
    def week(self) -> Period:
        return Period(iso_monday(self.as_of), iso_monday(self.as_of) + dt.timedelta(days=6))

    @property
    def week_heading(self) -> str:
        """ "KW 47/2026 (Mo 16.11. – So 22.11.2026)", cut at ``as_of`` for a week to date."""
        year, week, weekday = self.as_of.isocalendar()
        start = self.week.start
        end = self.week.end
        text = f"KW {week}/{year} (Mo {start:%d.%m.} – So {end:%d.%m.%Y})"
        if weekday != 7:
            text += f", Woche bis {WEEKDAYS_DE[weekday - 1]} {self.as_of:%d.%m.%Y}"
        return text

    @property
    def title(self) -> str:
        return f"Lagebild {self.area_name} – {self.week_heading}"

    @property
    def stand(self) -> str:
        return stand_de(self.computed_at)

    @property
    def staff_hours(self) -> list[tuple[float, float]]:
        """Staff hours (current, prior) per window: the denominator of the normalised view."""
        none: frozenset[int] = frozenset()
        return [
            (self.index(w.key).staff_hours(none), self.index(f"{w.key}_prior").staff_hours(none))
            for w in self.windows
        ]


def area_label(area_id: int) -> str:
    """The name of an analysable area; German ValueError for an unknown one."""
    if area_id == CITY_AREA:
        return f"Stadtgebiet {settings.CITY_NAME}"
    name = (
        Area.objects.filter(pk=area_id, active=True, kind__in=selectors.AREA_KINDS_FOR_ANALYSIS)
        .values_list("name", flat=True)
        .first()
    )
    if name is None:
        raise ValueError("Dieses Gebiet gibt es nicht (oder es ist nicht mehr aktiv).")
    return name


def _window_ranges(windows: Sequence[WindowPair]) -> dict[str, Period]:
    ranges: dict[str, Period] = {}
    for window in windows:
        ranges[window.key] = window.current
        ranges[f"{window.key}_prior"] = window.prior
    return ranges


def _figure(indicator: IndicatorDef, current: Totals, prior: Totals) -> Figure:
    return Figure.of(value(indicator, current), value(indicator, prior), is_count=indicator.is_count)


def build_cockpit(
    area_id: int,
    set_code: str,
    as_of: dt.date,
    per_100_staff_hours: bool = False,
    *,
    definitions: Sequence[IndicatorDef] | None = None,
    set_name: str | None = None,
) -> Cockpit:
    """The cockpit table of one area and indicator set on ``as_of`` (the last day that counts).

    ``definitions`` and ``set_name``, when the caller has already read them (the page's form),
    must be ``selectors.indicators_for(set_code)`` and the set's name.
    """
    name = area_label(area_id)
    if set_name is None:
        set_name = IndicatorSet.objects.filter(code=set_code).values_list("name", flat=True).first()
    if set_name is None:
        raise ValueError(f"Das Kennzahlen-Set „{set_code}“ gibt es nicht.")
    if definitions is None:
        definitions = selectors.indicators_for(set_code)
    windows = tuple(compstat_windows(as_of))
    facts = {d.fact for d in definitions} | {STAFF_HOURS_FACT}
    totals = selectors.window_totals(area_id, _window_ranges(windows), facts=facts)
    indexed = {name: TotalsIndex(window_totals) for name, window_totals in totals.items()}
    rows: dict[str, list[CockpitRow]] = {}
    for original in definitions:
        indicator = effort_normalised(original) if per_100_staff_hours else original
        figures = tuple(
            Figure.of(
                indexed[w.key].value(indicator),
                indexed[f"{w.key}_prior"].value(indicator),
                is_count=indicator.is_count,
            )
            for w in windows
        )
        rows.setdefault(original.kind, []).append(CockpitRow(indicator, original, figures))
    kinds = [k for k in KIND_ORDER if k in rows] + sorted(k for k in rows if k not in KIND_ORDER)
    groups = tuple(
        KindGroup(kind, KIND_LABELS.get(kind, kind), KIND_EXPLANATIONS.get(kind, ""), tuple(rows[kind]))
        for kind in kinds
    )
    return Cockpit(
        area_id=area_id,
        area_name=name,
        set_code=set_code,
        set_name=set_name,
        as_of=as_of,
        per_100_staff_hours=per_100_staff_hours,
        windows=windows,
        groups=groups,
        totals=totals,
        computed_at=timezone.now(),
        indexed=indexed,
    )


# --- reads restricted to the rows of one indicator ----------------------------------------


# --- drill-down by area ------------------------------------------------------------------


@dataclass(frozen=True)
class DrillRow:
    label: str
    kind: str  # district, remainder, total, focus_area, other, category
    key: int
    figure: Figure
    selected: bool = False


@dataclass(frozen=True)
class AreaDrillDown:
    indicator: IndicatorDef
    window: WindowPair
    total: DrillRow  # the whole city
    districts: tuple[DrillRow, ...]
    remainder: DrillRow  # city minus districts: records outside every district
    focus_areas: tuple[DrillRow, ...]
    others: tuple[DrillRow, ...]  # the chosen area when it is neither district nor focus area
    districts_overlap: bool  # the districts add up to more than the city (overlapping polygons)

    @property
    def selected_row(self) -> DrillRow | None:
        for row in (self.total, *self.districts, *self.focus_areas, *self.others):
            if row.selected:
                return row
        return None


def subtract_totals(total: Totals, parts: Iterable[Totals]) -> dict[GroupKey, tuple[int, float]]:
    """``total`` minus the sum of ``parts`` per dimension group (the remainder of a partition)."""
    result = {key: [count, amount] for key, (count, amount) in total.items()}
    for part in parts:
        for key, (count, amount) in part.items():
            slot = result.setdefault(key, [0, 0.0])
            slot[0] -= count
            slot[1] -= amount
    return {key: (int(count), round(amount, 2)) for key, (count, amount) in result.items()}


def area_drilldown(cockpit: Cockpit, code: str, window_key: str = DEFAULT_DETAIL_WINDOW) -> AreaDrillDown:
    """The chosen window per Stadtbezirk (a partition, with the remainder) and per focus area."""
    row = cockpit.row(code)
    indicator = row.indicator
    window = cockpit.window(window_key)
    areas = list(
        Area.objects.filter(active=True, kind__in=selectors.AREA_KINDS_FOR_ANALYSIS)
        .order_by("name")
        .values_list("id", "name", "kind")
    )
    districts = [(pk, name) for pk, name, kind in areas if kind == Area.Kind.DISTRICT]
    focus_areas = [(pk, name) for pk, name, kind in areas if kind == Area.Kind.FOCUS_AREA]
    others = [
        (pk, name)
        for pk, name, kind in areas
        if pk == cockpit.area_id and kind not in (Area.Kind.DISTRICT, Area.Kind.FOCUS_AREA)
    ]
    ids = [CITY_AREA, *(pk for pk, _ in districts + focus_areas + others)]
    current = selectors.totals_by_area(ids, window.current.start, window.current.end, indicator)
    prior = selectors.totals_by_area(ids, window.prior.start, window.prior.end, indicator)

    def drill(label: str, kind: str, key: int, now: Totals, before: Totals) -> DrillRow:
        return DrillRow(label, kind, key, _figure(indicator, now, before), selected=key == cockpit.area_id)

    district_rows = tuple(drill(name, "district", pk, current[pk], prior[pk]) for pk, name in districts)
    remainder = drill(
        "ohne Bezirk",
        "remainder",
        -1,
        subtract_totals(current[CITY_AREA], (current[pk] for pk, _ in districts)),
        subtract_totals(prior[CITY_AREA], (prior[pk] for pk, _ in districts)),
    )
    overlap = any(v is not None and v < -1e-9 for v in (remainder.figure.current, remainder.figure.prior))
    return AreaDrillDown(
        indicator=indicator,
        window=window,
        total=drill(f"Stadtgebiet {settings.CITY_NAME}", "total", CITY_AREA, current[0], prior[0]),
        districts=district_rows,
        remainder=remainder,
        focus_areas=tuple(drill(name, "focus_area", pk, current[pk], prior[pk]) for pk, name in focus_areas),
        others=tuple(drill(name, "other", pk, current[pk], prior[pk]) for pk, name in others),
        districts_overlap=overlap,
    )


# --- drill-down by category ---------------------------------------------------------------


@dataclass(frozen=True)
class CategoryDrillDown:
    indicator: IndicatorDef
    window: WindowPair
    rows: tuple[DrillRow, ...]
    total: DrillRow


def category_drilldown(
    cockpit: Cockpit, code: str, window_key: str = DEFAULT_DETAIL_WINDOW
) -> CategoryDrillDown:
    """The chosen indicator split by catalogue category (Sachverhalt), largest first.

    A category's part is its own rows of the indicator; the staff-hours rows stay in every
    part: they are the denominator of a rate, not a share (so an indicator of staff hours
    itself shows the whole value in each part).
    """
    row = cockpit.row(code)
    indicator = row.indicator
    window = cockpit.window(window_key)
    position = 0 if indicator.value == "count" else 1
    indexes = (cockpit.index(window.key), cockpit.index(f"{window.key}_prior"))
    matching = [index.rows(indicator) for index in indexes]
    category_ids = {key.category_id for rows in matching for key, _values in rows}
    raw: list[dict[int, float]] = []
    for index, rows in zip(indexes, matching, strict=True):
        if indicator.fact == STAFF_HOURS_FACT:
            whole = index.raw_value(indicator)
            raw.append(dict.fromkeys(category_ids, whole))
            continue
        parts: dict[int, list[float]] = {}
        for key, values in rows:
            parts.setdefault(key.category_id, []).append(values[position])
        raw.append({category_id: sum(parts.get(category_id, ())) for category_id in category_ids})
    names = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "name"))
    rows = []
    for category_id in category_ids:
        figure = Figure.of(
            indexes[0].value_of(indicator, raw[0][category_id]),
            indexes[1].value_of(indicator, raw[1][category_id]),
            is_count=indicator.is_count,
        )
        if not figure.current and not figure.prior:
            continue
        label = names.get(category_id, "ohne Sachverhalt")
        rows.append(DrillRow(label, "category", category_id, figure))
    rows.sort(key=lambda r: (-(r.figure.current or 0), -(r.figure.prior or 0), r.label))
    total = DrillRow(
        "Alle Sachverhalte", "total", cockpit.area_id, row.figures[cockpit.window_index(window.key)]
    )
    return CategoryDrillDown(indicator, window, tuple(rows), total)


# --- weekly series -------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekPoint:
    monday: dt.date
    current: float | None
    prior_monday: dt.date
    prior: float | None
    partial: bool  # the newest week, cut at ``as_of`` (its prior week is cut at the same weekday)
    last_day: dt.date | None = None  # the last day counted; the Sunday unless the week is partial

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"KW {week}/{year}"

    @property
    def days(self) -> int:
        """Days of the week that count (7 for a complete week)."""
        if self.last_day is None:
            return 7
        return (self.last_day - self.monday).days + 1

    @property
    def partial_label(self) -> str:
        """ "laufende Woche, bis 18.11." for the running week, else ""."""
        if not self.partial or self.last_day is None:
            return ""
        return f"laufende Woche, bis {self.last_day:%d.%m.}"

    @property
    def partial_note(self) -> str:
        """What the running week covers, for a footnote in a document; "" for a complete week."""
        if not self.partial or self.last_day is None:
            return ""
        weekday = WEEKDAYS_DE[self.last_day.weekday()]
        return (
            f"{self.label} ist die laufende Woche: Mo {self.monday:%d.%m.} bis {weekday} "
            f"{self.last_day:%d.%m.%Y}, {self.days} von 7 Tagen; der Vorjahreswert umfasst dieselben "
            "Wochentage. Sie ist unvollständig und mit den ganzen Wochen nicht vergleichbar."
        )

    @property
    def prior_label(self) -> str:
        year, week, _ = self.prior_monday.isocalendar()
        return f"KW {week}/{year}"


@dataclass(frozen=True)
class WeeklySeries:
    indicator: IndicatorDef
    points: tuple[WeekPoint, ...]

    @property
    def complete_points(self) -> tuple[WeekPoint, ...]:
        """The whole weeks, without the running week."""
        return tuple(p for p in self.points if not p.partial)

    @property
    def partial_point(self) -> WeekPoint | None:
        """The running week (cut at the Stichtag), if the Stichtag is not a Sunday."""
        return self.points[-1] if self.points and self.points[-1].partial else None

    @property
    def current_values(self) -> list[float | None]:
        return [p.current for p in self.points]

    @property
    def prior_values(self) -> list[float | None]:
        return [p.prior for p in self.points]


def weekly_series(cockpit: Cockpit, code: str, weeks: int = WEEKS_IN_SERIES) -> WeeklySeries:
    """The last ``weeks`` ISO weeks up to ``as_of`` and the same weeks 364 days earlier (one read)."""
    indicator = cockpit.row(code).indicator
    newest = iso_monday(cockpit.as_of)
    first = newest - dt.timedelta(weeks=weeks - 1)
    totals = selectors.weekly_totals(cockpit.area_id, first - YEAR_SHIFT, cockpit.as_of, indicator)
    points = []
    for index in range(weeks):
        monday = first + dt.timedelta(weeks=index)
        prior_monday = monday - YEAR_SHIFT
        partial = monday == newest and cockpit.as_of.isoweekday() != 7
        # The newest prior week is cut like the current one: the cockpit's own week window.
        prior_index = (
            cockpit.index("week_prior") if monday == newest else TotalsIndex(totals.get(prior_monday, {}))
        )
        points.append(
            WeekPoint(
                monday=monday,
                current=TotalsIndex(totals.get(monday, {})).value(indicator),
                prior_monday=prior_monday,
                prior=prior_index.value(indicator),
                partial=partial,
                last_day=min(cockpit.as_of, monday + dt.timedelta(days=6)),
            )
        )
    return WeeklySeries(indicator, tuple(points))


# --- hour × weekday --------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatTable:
    indicator: IndicatorDef  # raw (not normalised): staff hours cannot be split by hour of day
    period: Period
    cells: tuple[tuple[float, ...], ...]  # 7 weekdays (Monday first) × 24 hours
    levels: tuple[tuple[int, ...], ...]  # 0 (none) … HEAT_LEVELS

    @property
    def row_totals(self) -> list[float]:
        return [sum(row) for row in self.cells]

    @property
    def column_totals(self) -> list[float]:
        return [sum(row[hour] for row in self.cells) for hour in range(24)]

    @property
    def total(self) -> float:
        return sum(self.row_totals)

    @property
    def maximum(self) -> float:
        return max((max(row) for row in self.cells), default=0.0)

    @property
    def rows(self) -> list[tuple[str, str, list[tuple[float, int]], float]]:
        """(short name, full name, [(value, level) per hour], row total) for the template."""
        return [
            (
                WEEKDAYS_DE[d],
                WEEKDAY_NAMES_DE[d],
                list(zip(self.cells[d], self.levels[d], strict=True)),
                total,
            )
            for d, total in enumerate(self.row_totals)
        ]


def heat_levels(cells: Sequence[Sequence[float]], levels: int = HEAT_LEVELS) -> tuple[tuple[int, ...], ...]:
    """Shading level per cell: 0 for none, else 1…levels in equal steps up to the maximum."""
    maximum = max((max(row) for row in cells), default=0.0)
    if maximum <= 0:
        return tuple(tuple(0 for _ in row) for row in cells)
    return tuple(
        tuple(0 if v <= 0 else max(1, min(levels, math.ceil(v / maximum * levels))) for v in row)
        for row in cells
    )


def heat_table(cockpit: Cockpit, code: str) -> HeatTable:
    """The indicator's raw value per weekday and local hour over the 28-day window."""
    indicator = cockpit.row(code).original
    period = cockpit.window("28d").current
    cells = selectors.hour_weekday_counts(cockpit.area_id, period.start, period.end, indicator)
    rounded = tuple(tuple(round(v, 2) for v in row) for row in cells)
    return HeatTable(indicator, period, rounded, heat_levels(rounded))


# --- choropleth for the map ---------------------------------------------------------------


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude + 1e-12:
            return factor * magnitude
    return 10 * magnitude


@dataclass(frozen=True)
class Choropleth:
    breaks: tuple[float, ...]  # upper bounds of classes 1…n (class 0 = none / no value)
    classes: Mapping[int, int]  # area id → class
    values: Mapping[int, float | None]
    decimals: int
    colours: tuple[str, ...] = CHOROPLETH_COLOURS

    @property
    def legend(self) -> list[tuple[str, str]]:
        """(colour, German label) per class, class 0 first."""
        items = [(self.colours[0], "0 oder kein Wert")]
        lower = 0.0
        for index, upper in enumerate(self.breaks, start=1):
            items.append(
                (
                    self.colours[index],
                    f"über {number_de(lower, self.decimals)} bis {number_de(upper, self.decimals)}",
                )
            )
            lower = upper
        return items

    def as_json(self) -> dict:
        return {
            str(area_id): {
                "value": self.values[area_id],
                "label": number_de(self.values[area_id], self.decimals),
                "colour": self.colours[self.classes[area_id]],
            }
            for area_id in self.values
        }


def choropleth(values: Mapping[int, float | None], *, decimals: int = 0) -> Choropleth:
    """Equal-interval classes from 0 to a rounded maximum (comparable week to week, easy to read)."""
    present = [v for v in values.values() if v is not None and v > 0]
    top = max(present, default=0.0)
    step = _nice_step(top / CHOROPLETH_CLASSES)
    if decimals == 0:
        step = max(1.0, math.ceil(step))
    breaks = tuple(step * (i + 1) for i in range(CHOROPLETH_CLASSES))
    classes = {}
    for area_id, v in values.items():
        if v is None or v <= 0:
            classes[area_id] = 0
        else:
            classes[area_id] = next(
                (i + 1 for i, b in enumerate(breaks) if v <= b + 1e-9), CHOROPLETH_CLASSES
            )
    return Choropleth(breaks, classes, dict(values), decimals)


# --- everything a page or a document shows ------------------------------------------------


@dataclass(frozen=True)
class CockpitReport:
    cockpit: Cockpit
    row: CockpitRow
    window: WindowPair
    by_area: AreaDrillDown
    by_category: CategoryDrillDown
    series: WeeklySeries
    heat: HeatTable
    district_map: Choropleth
    focus_map: Choropleth
    notes: list[str] = field(default_factory=list)


def default_indicator(cockpit: Cockpit) -> str:
    """The first count indicator of the set (the natural one for a series and a heat table)."""
    rows = cockpit.rows
    for row in rows:
        if row.original.is_count:
            return row.code
    return rows[0].code if rows else ""


def build_report(
    area_id: int,
    set_code: str,
    as_of: dt.date,
    per_100_staff_hours: bool = False,
    indicator_code: str = "",
    window_key: str = DEFAULT_DETAIL_WINDOW,
    *,
    definitions: Sequence[IndicatorDef] | None = None,
    set_name: str | None = None,
) -> CockpitReport:
    """The cockpit plus the detail sections for one indicator and window."""
    cockpit = build_cockpit(
        area_id, set_code, as_of, per_100_staff_hours, definitions=definitions, set_name=set_name
    )
    if not cockpit.rows:
        raise ValueError("Das Kennzahlen-Set enthält keine aktiven Kennzahlen.")
    code = indicator_code or default_indicator(cockpit)
    row = cockpit.row(code)
    window = cockpit.window(window_key)
    by_area = area_drilldown(cockpit, code, window.key)
    decimals = row.decimals
    district_map = choropleth({r.key: r.figure.current for r in by_area.districts}, decimals=decimals)
    focus_map = choropleth({r.key: r.figure.current for r in by_area.focus_areas}, decimals=decimals)
    notes = []  # the windows' own notes (KW 53, leap day) stay with the windows
    if by_area.districts_overlap:
        notes.append(
            "Die Stadtbezirke überschneiden sich in den Gebietsdaten; Datensätze an den Grenzen zählen "
            "in mehreren Bezirken. Die Zeile „ohne Bezirk“ zeigt deshalb einen negativen Rest."
        )
    return CockpitReport(
        cockpit=cockpit,
        row=row,
        window=window,
        by_area=by_area,
        by_category=category_drilldown(cockpit, code, window.key),
        series=weekly_series(cockpit, code),
        heat=heat_table(cockpit, code),
        district_map=district_map,
        focus_map=focus_map,
        notes=notes,
    )
