"""Reads of the analytics app: indicator definitions and sums over the pre-aggregated counts.

Every figure on an analytic page comes from these functions, so a page cannot contradict
itself: a window's total is the sum of the same rows its drill-downs split up. Long windows
read whole ISO weeks from ``WeeklyCount`` and only the partial weeks at their edges from
``DailyCount``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.db.models import Case, DecimalField, F, Q, Sum, Value, When

from lagebild.core.models import Authority
from lagebild.geo.models import Area

from .indicators import GroupKey, IndicatorDef
from .models import CITY_AREA, DailyCount, HourlyCount, Indicator, IndicatorSet, WeeklyCount

DIMENSIONS = ("fact", "category_id", "measure_type", "detail", "authority_id", "joint")
AREA_KINDS_FOR_ANALYSIS = (
    Area.Kind.DISTRICT,
    Area.Kind.FOCUS_AREA,
    Area.Kind.PATROL_ZONE,
    Area.Kind.VIDEO_AREA,
    Area.Kind.STATISTICAL_DISTRICT,
    Area.Kind.CUSTOM,
)

Totals = dict[GroupKey, tuple[int, float]]
AMOUNT = DecimalField(max_digits=16, decimal_places=2)


@dataclass(frozen=True)
class DayRange:
    """Inclusive local days; the pure ``periods.Period`` has the same shape."""

    start: dt.date
    end: dt.date


class _HasRange(Protocol):
    start: dt.date
    end: dt.date


# --- indicators ---------------------------------------------------------------------------


def _definition(indicator: Indicator, authority_ids: Mapping[str, int]) -> IndicatorDef:
    return IndicatorDef(
        code=indicator.code,
        name=indicator.name,
        kind=indicator.kind,
        fact=indicator.fact,
        value=indicator.value,
        category_ids=frozenset(c.pk for c in indicator.categories.all()),
        measure_types=frozenset(indicator.measure_types or ()),
        details=frozenset(indicator.details or ()),
        authority_ids=frozenset(
            authority_ids[k] for k in indicator.authority_kinds or () if k in authority_ids
        ),
        per_100_staff_hours=indicator.per_100_staff_hours,
        unit=indicator.unit,
        description=indicator.description,
    )


def indicator_sets() -> list[IndicatorSet]:
    return list(IndicatorSet.objects.all())


def indicators_for(set_code: str | None = None, codes: Sequence[str] | None = None) -> list[IndicatorDef]:
    """Active indicator definitions of a set (in its order), of the given codes, or all."""
    authority_ids = dict(Authority.objects.values_list("kind", "pk"))
    queryset = Indicator.objects.filter(active=True).prefetch_related("categories")
    if set_code:
        entries = (
            IndicatorSet.objects.get(code=set_code)
            .entries.filter(indicator__active=True)
            .select_related("indicator")
            .prefetch_related("indicator__categories")
        )
        return [_definition(entry.indicator, authority_ids) for entry in entries]
    if codes is not None:
        by_code = {i.code: i for i in queryset.filter(code__in=codes)}
        return [_definition(by_code[c], authority_ids) for c in codes if c in by_code]
    return [_definition(i, authority_ids) for i in queryset]


# --- areas --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaChoice:
    id: int
    name: str
    kind: str
    kind_label: str


def area_choices() -> list[AreaChoice]:
    """The whole city (id 0) first, then districts, focus areas and other analysable areas."""
    from django.conf import settings

    choices = [AreaChoice(CITY_AREA, f"Stadtgebiet {settings.CITY_NAME}", Area.Kind.CITY, "Stadtgebiet")]
    order = {kind: position for position, kind in enumerate(AREA_KINDS_FOR_ANALYSIS)}
    areas = Area.objects.filter(active=True, kind__in=AREA_KINDS_FOR_ANALYSIS)
    for area in sorted(areas, key=lambda a: (order[a.kind], a.name)):
        choices.append(AreaChoice(area.pk, area.name, area.kind, area.get_kind_display()))
    return choices


def area_name(area_id: int) -> str:
    for choice in area_choices():
        if choice.id == area_id:
            return choice.name
    raise Area.DoesNotExist(area_id)


# --- sums over the count tables ---------------------------------------------------------


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def split_into_weeks(start: dt.date, end: dt.date) -> tuple[tuple[dt.date, dt.date] | None, list[DayRange]]:
    """Whole ISO weeks inside [start, end] (as first and last Monday) and the edge day ranges."""
    if end < start:
        return None, []
    first_monday = start if start.weekday() == 0 else _monday(start) + dt.timedelta(days=7)
    last_sunday = end if end.weekday() == 6 else _monday(end) - dt.timedelta(days=1)
    if first_monday > last_sunday:
        return None, [DayRange(start, end)]
    edges = []
    if start < first_monday:
        edges.append(DayRange(start, first_monday - dt.timedelta(days=1)))
    if last_sunday < end:
        edges.append(DayRange(last_sunday + dt.timedelta(days=1), end))
    return (first_monday, _monday(last_sunday)), edges


def _to_float(value: object) -> float:
    return 0.0 if value is None else float(value)  # type: ignore[arg-type]


def window_totals(
    area_id: int, windows: Mapping[str, _HasRange], facts: Iterable[str] | None = None
) -> dict[str, Totals]:
    """For each named window (inclusive start/end days) the totals per dimension group.

    Two queries regardless of the number of windows: whole weeks from the weekly table,
    the edge days from the daily table, each window a conditional sum.
    """
    daily_q, weekly_q = Q(pk__in=[]), Q(pk__in=[])
    daily_sums, weekly_sums = {}, {}
    for name, window in windows.items():
        weeks, edges = split_into_weeks(window.start, window.end)
        day_condition = Q(pk__in=[])
        for edge in edges:
            day_condition |= Q(day__range=(edge.start, edge.end))
        if edges:
            daily_q |= day_condition
            daily_sums[f"c_{name}"] = Sum(Case(When(day_condition, then=F("count")), default=0))
            daily_sums[f"a_{name}"] = Sum(
                Case(When(day_condition, then=F("amount")), default=Value(0), output_field=AMOUNT)
            )
        if weeks:
            week_condition = Q(week__range=weeks)
            weekly_q |= week_condition
            weekly_sums[f"c_{name}"] = Sum(Case(When(week_condition, then=F("count")), default=0))
            weekly_sums[f"a_{name}"] = Sum(
                Case(When(week_condition, then=F("amount")), default=Value(0), output_field=AMOUNT)
            )
    result: dict[str, dict[GroupKey, list[float]]] = {name: defaultdict(lambda: [0, 0.0]) for name in windows}
    base_filter = Q(area_id=area_id)
    if facts is not None:
        base_filter &= Q(fact__in=list(facts))
    for model, condition, sums in ((DailyCount, daily_q, daily_sums), (WeeklyCount, weekly_q, weekly_sums)):
        if not sums:
            continue
        rows = model.objects.filter(base_filter & condition).values(*DIMENSIONS).annotate(**sums).order_by()
        for row in rows:
            key = GroupKey(*(row[d] for d in DIMENSIONS))
            for name in windows:
                if f"c_{name}" not in sums:
                    continue
                count, amount = row[f"c_{name}"] or 0, _to_float(row[f"a_{name}"])
                if count or amount:
                    slot = result[name][key]
                    slot[0] += int(count)
                    slot[1] += amount
    return {
        name: {k: (int(v[0]), round(v[1], 2)) for k, v in groups.items()} for name, groups in result.items()
    }


def weekly_totals(area_id: int, first_monday: dt.date, last_day: dt.date) -> dict[dt.date, Totals]:
    """Totals per ISO week (key: its Monday) from ``first_monday`` to the week of ``last_day``.

    The last week is cut at ``last_day`` (from the daily table) so it matches the windows.
    """
    weeks: dict[dt.date, dict[GroupKey, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    last_monday = _monday(last_day)
    full_until = last_monday if last_day.weekday() == 6 else last_monday - dt.timedelta(days=7)
    rows = (
        WeeklyCount.objects.filter(area_id=area_id, week__range=(first_monday, full_until))
        .values("week", *DIMENSIONS)
        .annotate(c=Sum("count"), a=Sum("amount"))
        .order_by()
    )
    for row in rows:
        slot = weeks[row["week"]][GroupKey(*(row[d] for d in DIMENSIONS))]
        slot[0] += row["c"] or 0
        slot[1] += _to_float(row["a"])
    if last_day.weekday() != 6:
        rows = (
            DailyCount.objects.filter(area_id=area_id, day__range=(last_monday, last_day))
            .values(*DIMENSIONS)
            .annotate(c=Sum("count"), a=Sum("amount"))
            .order_by()
        )
        for row in rows:
            slot = weeks[last_monday][GroupKey(*(row[d] for d in DIMENSIONS))]
            slot[0] += row["c"] or 0
            slot[1] += _to_float(row["a"])
    monday, result = first_monday, {}
    while monday <= last_monday:
        result[monday] = {k: (int(v[0]), round(v[1], 2)) for k, v in weeks.get(monday, {}).items()}
        monday += dt.timedelta(days=7)
    return result


def daily_totals(area_id: int, start: dt.date, end: dt.date) -> dict[dt.date, Totals]:
    """Totals per local day (for short periods and charts of operations)."""
    days: dict[dt.date, dict[GroupKey, tuple[int, float]]] = defaultdict(dict)
    rows = (
        DailyCount.objects.filter(area_id=area_id, day__range=(start, end))
        .values("day", *DIMENSIONS)
        .annotate(c=Sum("count"), a=Sum("amount"))
        .order_by()
    )
    for row in rows:
        days[row["day"]][GroupKey(*(row[d] for d in DIMENSIONS))] = (row["c"] or 0, _to_float(row["a"]))
    return dict(days)


def totals_by_area(area_ids: Sequence[int], start: dt.date, end: dt.date) -> dict[int, Totals]:
    """One period's totals for several areas (drill-down table, open data, displacement)."""
    result: dict[int, dict[GroupKey, list[float]]] = {a: defaultdict(lambda: [0, 0.0]) for a in area_ids}
    weeks, edges = split_into_weeks(start, end)
    parts = []
    if weeks:
        parts.append((WeeklyCount, Q(week__range=weeks)))
    for edge in edges:
        parts.append((DailyCount, Q(day__range=(edge.start, edge.end))))
    for model, condition in parts:
        rows = (
            model.objects.filter(condition, area_id__in=list(area_ids))
            .values("area_id", *DIMENSIONS)
            .annotate(c=Sum("count"), a=Sum("amount"))
            .order_by()
        )
        for row in rows:
            slot = result[row["area_id"]][GroupKey(*(row[d] for d in DIMENSIONS))]
            slot[0] += row["c"] or 0
            slot[1] += _to_float(row["a"])
    return {a: {k: (int(v[0]), round(v[1], 2)) for k, v in g.items()} for a, g in result.items()}


def hour_weekday_counts(
    area_id: int, start: dt.date, end: dt.date, indicator: IndicatorDef
) -> list[list[float]]:
    """A 7 × 24 table (Monday first) of the indicator's raw value per weekday and local hour."""
    table = [[0.0] * 24 for _ in range(7)]
    queryset = HourlyCount.objects.filter(area_id=area_id, day__range=(start, end), fact=indicator.fact)
    if indicator.category_ids:
        queryset = queryset.filter(category_id__in=indicator.category_ids)
    if indicator.measure_types:
        queryset = queryset.filter(measure_type__in=indicator.measure_types)
    if indicator.details:
        queryset = queryset.filter(detail__in=indicator.details)
    if indicator.authority_ids:
        queryset = queryset.filter(authority_id__in=indicator.authority_ids)
    column = "count" if indicator.value == "count" else "amount"
    for day, hour, value in (
        queryset.values("day", "hour").annotate(v=Sum(column)).order_by().values_list("day", "hour", "v")
    ):
        table[day.weekday()][hour] += _to_float(value)
    return table


def hour_counts(area_id: int, start: dt.date, end: dt.date, indicator: IndicatorDef) -> list[float]:
    """The indicator's raw value per local hour of day over a period (temporal profiles)."""
    table = hour_weekday_counts(area_id, start, end, indicator)
    return [sum(table[weekday][hour] for weekday in range(7)) for hour in range(24)]
