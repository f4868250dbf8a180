"""The nightly consistency check: the count tables against a recount of one local day.

The counts of the day are recounted from the records with the same SQL the count tables are
written with (``analytics.aggregates``), read-only, and compared with the stored rows:

* hourly and daily rows of the day: against the recount;
* the weekly, monthly and yearly rows of the periods containing the day: against the stored
  daily rows of the period's other days plus the recounted day, so a wrong roll-up shows up
  in its own table and a wrong day in the day's rows (each night checks its own day).

Differences are reported, never corrected: someone has to find out why before
``lagebild rebuild-aggregates`` is run. Local days are Europe/Berlin (``TIME_ZONE``) days,
so a day of the clock change has 23 or 25 hours.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum

from lagebild.analytics import aggregates
from lagebild.analytics.models import (
    DailyCount,
    Fact,
    HourlyCount,
    MonthlyCount,
    WeeklyCount,
    YearlyCount,
)
from lagebild.core.scoping import unscoped

CENT = Decimal("0.01")
DIMENSIONS = ("area_id", "fact", "category_id", "measure_type", "detail", "authority_id", "joint")
TABLE_NAMES = {
    "hourly": "Stundenzeilen",
    "daily": "Tageszeilen",
    "weekly": "Wochenzeilen",
    "monthly": "Monatszeilen",
    "yearly": "Jahreszeilen",
}
MAX_REPORTED = 50  # differences kept in the job's details; the total is always counted

Key = tuple[Any, ...]
Value = tuple[int, Decimal]
Rows = dict[Key, Value]


@dataclass(frozen=True)
class Difference:
    table: str
    key: dict[str, Any]
    expected: Value
    stored: Value

    def as_dict(self) -> dict[str, Any]:
        return {
            "tabelle": self.table,
            **{name: str(value) if isinstance(value, dt.date) else value for name, value in self.key.items()},
            "erwartet": {"anzahl": self.expected[0], "betrag": str(self.expected[1])},
            "gespeichert": {"anzahl": self.stored[0], "betrag": str(self.stored[1])},
        }


@dataclass
class ConsistencyReport:
    day: dt.date
    compared: dict[str, int] = field(default_factory=dict)  # table → rows compared
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary_de(self) -> str:
        rows = sum(self.compared.values())
        head = f"Zähltabellen für {self.day:%d.%m.%Y} geprüft ({rows} Zeilen)"
        if self.ok:
            return f"{head}: keine Abweichungen."
        per_table = defaultdict(int)
        for difference in self.differences:
            per_table[difference.table] += 1
        parts = ", ".join(f"{TABLE_NAMES[t]} {n}" for t, n in per_table.items())
        found = len(self.differences)
        return (
            f"{head}: {found} {'Abweichung' if found == 1 else 'Abweichungen'} ({parts}). Nicht korrigiert – "
            "Ursache klären, dann `lagebild rebuild-aggregates`."
        )

    def details(self) -> dict[str, Any]:
        return {
            "tag": self.day.isoformat(),
            "verglichene_zeilen": self.compared,
            "abweichungen_gesamt": len(self.differences),
            "abweichungen": [d.as_dict() for d in self.differences[:MAX_REPORTED]],
        }


# --- the pure comparison ------------------------------------------------------------------


def compare(table: str, key_names: Iterable[str], expected: Rows, stored: Rows) -> list[Difference]:
    """Rows whose count or amount differ; a missing row counts as zero (subtractions leave
    zero rows behind, a rebuild writes none)."""
    names = tuple(key_names)
    zero: Value = (0, Decimal(0))
    differences = []
    for key in sorted(set(expected) | set(stored), key=str):
        want, have = expected.get(key, zero), stored.get(key, zero)
        if want[0] != have[0] or want[1] != have[1]:
            differences.append(Difference(table, dict(zip(names, key, strict=True)), want, have))
    return differences


def _amount(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _add(rows: Rows, key: Key, count: object, amount: object) -> None:
    have = rows.get(key, (0, Decimal(0)))
    rows[key] = (have[0] + int(count or 0), have[1] + _amount(amount))  # type: ignore[call-overload]


def _dims(values: dict[str, Any]) -> Key:
    return (
        int(values["area_id"]), str(values["fact"]), int(values["category_id"] or 0),
        str(values["measure_type"] or ""), str(values["detail"] or ""), int(values["authority_id"]),
        bool(values["joint"]),
    )  # fmt: skip


# --- recount of one day from the records ----------------------------------------------------


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local day as [start, end) instants; 23 or 25 hours long on the clock-change days."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _record_specs(day: dt.date) -> list[dict[str, Any]]:
    """The records of ``day`` in the form ``aggregates`` counts them (incidents, measures,
    reports received and closed); the same column choices as its write paths."""
    from lagebild.citizen.models import Report
    from lagebild.field.models import Incident, Measure

    start, end = day_window(day)
    with unscoped():
        incident_ids = sorted(
            Incident.objects.filter(occurred_at__gte=start, occurred_at__lt=end).values_list("pk", flat=True)
        )
        measures = dict(
            Measure.objects.filter(taken_at__gte=start, taken_at__lt=end).values_list("pk", "incident_id")
        )
        received = sorted(
            Report.objects.filter(requested_at__gte=start, requested_at__lt=end).values_list("pk", flat=True)
        )
        closed = sorted(
            Report.objects.filter(closed_at__gte=start, closed_at__lt=end).values_list("pk", flat=True)
        )
    common = {"joint": aggregates._NOT_A_PATROL, "sign": 1}
    specs: list[dict[str, Any]] = []
    if incident_ids:
        specs.append({
            **common, "time_column": "i.occurred_at", "source": "field_incident i",
            "links": aggregates._incident_links(incident_ids), "link_key": "i.id", "fact": Fact.INCIDENT,
            "category": "i.category_id", "measure_type": "''", "detail": "i.source",
            "authority": "i.authority_id", "count": "1", "amount": "0",
            "where": aggregates._ids_clause("i.id", incident_ids),
        })  # fmt: skip
    if measures:
        specs.append({
            **common, "time_column": "m.taken_at",
            "source": "field_measure m JOIN field_incident i ON i.id = m.incident_id",
            "links": aggregates._incident_links(sorted(set(measures.values()))), "link_key": "m.incident_id",
            "fact": Fact.MEASURE, "category": "i.category_id", "measure_type": "m.type",
            "detail": "CASE WHEN m.seizure_kind <> '' THEN m.seizure_kind ELSE m.referral_service END",
            "authority": "m.authority_id", "count": "1", "amount": "COALESCE(m.amount, 0)",
            "where": aggregates._ids_clause("m.id", sorted(measures)),
        })  # fmt: skip
    report_source = "citizen_report r JOIN citizen_servicetype s ON s.id = r.service_id"
    for fact, column, detail, ids in (
        (Fact.REPORT_RECEIVED, "r.requested_at", "r.channel", received),
        (Fact.REPORT_CLOSED, "r.closed_at", "r.status", closed),
    ):
        if ids:
            specs.append({
                **common, "time_column": column, "source": report_source,
                "links": aggregates._report_links(ids), "link_key": "r.id", "fact": fact,
                "category": "COALESCE(s.category_id, 0)", "measure_type": "''", "detail": detail,
                "authority": "r.authority_id", "count": "1", "amount": "0",
                "where": aggregates._ids_clause("r.id", ids),
            })  # fmt: skip
    return specs


def recount_hours(day: dt.date) -> Rows:
    """The hourly rows of ``day`` recounted from the records, keyed (area, day, hour, dims…)."""
    rows: Rows = {}
    years = (day.year - 1, day.year + 1)
    local_day, hour = aggregates._day_of("lt"), aggregates._hour_of("lt")
    dims = aggregates.DIMS
    with connection.cursor() as cursor:
        for spec in _record_specs(day):
            records = aggregates._rows_sql(years=years, **spec)
            cursor.execute(
                f"SELECT area_id, {local_day}, {hour}, {dims}, SUM(count), SUM(amount) FROM ({records}) x "
                f"GROUP BY area_id, {local_day}, {hour}, {dims}"
            )
            for (
                area_id,
                row_day,
                row_hour,
                fact,
                category_id,
                measure_type,
                detail,
                authority_id,
                joint,
                c,
                a,
            ) in cursor.fetchall():
                if _date(row_day) != day:
                    continue
                dims_key = _dims({
                    "area_id": area_id, "fact": fact, "category_id": category_id,
                    "measure_type": measure_type, "detail": detail, "authority_id": authority_id,
                    "joint": joint,
                })  # fmt: skip
                _add(rows, (dims_key[0], day, int(row_hour), *dims_key[1:]), c, a)
    for area_id, start, fact, authority_id, joint, count, amount in aggregates._patrol_rows(_patrol_ids(day)):
        if start.date() == day:
            _add(
                rows,
                (area_id, day, start.hour, str(fact), 0, "", "", authority_id, bool(joint)),
                count,
                amount,
            )
    return rows


def _patrol_ids(day: dt.date) -> list[int]:
    from lagebild.field.models import Patrol

    start, end = day_window(day)
    begun = Q(actual_start__gte=start, actual_start__lt=end)
    planned = Q(actual_start__isnull=True, planned_start__gte=start, planned_start__lt=end)
    with unscoped():
        return list(Patrol.objects.filter(begun | planned).values_list("pk", flat=True))


# --- the stored rows ------------------------------------------------------------------------

_KEYS: dict[type, tuple[str, ...]] = {
    HourlyCount: aggregates.HOURLY_KEY,
    DailyCount: aggregates.DAILY_KEY,
    WeeklyCount: aggregates.WEEKLY_KEY,
    MonthlyCount: aggregates.MONTHLY_KEY,
    YearlyCount: aggregates.YEARLY_KEY,
}


def _stored(model: type, **filters: Any) -> Rows:
    key_names = _KEYS[model]
    rows: Rows = {}
    for values in model._base_manager.filter(**filters).values(*key_names, "count", "amount"):  # type: ignore[attr-defined]
        key = tuple(
            _date(values[n]) if n in ("day", "week", "month", "year") else values[n] for n in key_names
        )
        _add(rows, _normalise(key_names, key), values["count"], values["amount"])
    return rows


def _normalise(key_names: tuple[str, ...], key: Key) -> Key:
    values = dict(zip(key_names, key, strict=True))
    dims = _dims(values)
    period = tuple(values[n] for n in key_names if n not in DIMENSIONS)
    return (dims[0], *period, *dims[1:])


def _daily_sums(first: dt.date, last: dt.date, skip: dt.date) -> Rows:
    """Stored daily rows of [first, last] except ``skip``, summed per dimension set."""
    rows: Rows = {}
    queryset = (
        DailyCount._base_manager.filter(day__gte=first, day__lte=last)
        .exclude(day=skip)
        .values(*DIMENSIONS)
        .annotate(total=Sum("count"), money=Sum("amount"))
    )
    for values in queryset:
        _add(rows, _dims(values), values["total"], values["money"])
    return rows


def _rollup(period: dt.date, others: Rows, day_rows: Rows) -> Rows:
    rows: Rows = {}
    for dims, (count, amount) in others.items():
        _add(rows, (dims[0], period, *dims[1:]), count, amount)
    for key, (count, amount) in day_rows.items():
        _add(rows, (key[0], period, *key[2:]), count, amount)
    return rows


def _key_names(model: type) -> tuple[str, ...]:
    """The names of a normalised key: area, period column(s), the other dimensions."""
    period = tuple(n for n in _KEYS[model] if n not in DIMENSIONS)
    return ("area_id", *period, *DIMENSIONS[1:])


def check_day(day: dt.date) -> ConsistencyReport:
    """Compare the count tables with a recount of ``day``; changes nothing but pending imports.

    Pending bulk imports are applied first (as any read of the counts does), then everything is
    read in one snapshot (REPEATABLE READ on PostgreSQL), so a record written meanwhile cannot
    show up on one side only.
    """
    aggregates.catch_up()
    report = ConsistencyReport(day=day)
    # Only a transaction of its own can still choose its isolation level (not inside a test's).
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and own_transaction:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        hours = recount_hours(day)
        days: Rows = {}
        for key, (count, amount) in hours.items():
            _add(days, (key[0], day, *key[3:]), count, amount)
        week = day - dt.timedelta(days=day.weekday())
        month, year = day.replace(day=1), day.replace(month=1, day=1)
        month_end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        week_rows = _rollup(week, _daily_sums(week, week + dt.timedelta(days=6), day), days)
        month_rows = _rollup(month, _daily_sums(month, month_end, day), days)
        year_rows = _rollup(year, _daily_sums(year, year.replace(month=12, day=31), day), days)
        checks = (
            ("hourly", HourlyCount, hours, {"day": day}),
            ("daily", DailyCount, days, {"day": day}),
            ("weekly", WeeklyCount, week_rows, {"week": week}),
            ("monthly", MonthlyCount, month_rows, {"month": month}),
            ("yearly", YearlyCount, year_rows, {"year": year}),
        )
        for name, model, expected, filters in checks:
            stored = _stored(model, **filters)
            report.compared[name] = len(set(expected) | set(stored))
            report.differences += compare(name, _key_names(model), expected, stored)
    return report
