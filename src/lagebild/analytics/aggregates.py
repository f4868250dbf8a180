"""Keeps the daily, weekly, monthly and hourly count tables consistent with the records.

Every write path adds or subtracts the contribution of the records it touches with one
set-based ``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`` per table, the same
statement on SQLite and PostgreSQL; only the local-time expression differs. A change is
"subtract the old contribution, write, add the new one", so counts never drift, and
:func:`rebuild` recomputes everything from scratch with the very same statements.

Local day and hour are in ``settings.TIME_ZONE``: PostgreSQL converts with
``AT TIME ZONE``; SQLite stores UTC text and has no time-zone database, so the offset is a
``CASE`` over the zone's transitions (computed here with ``zoneinfo``).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

import shapely
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import CITY_AREA, DailyCount, Fact, HourlyCount, MonthlyCount, WeeklyCount

CHUNK = 50_000
BULK = 50  # records per call from which the temporary-table path pays off

# A full rebuild writes only the hourly table from the records and derives the daily and
# weekly tables from it, so the records are read once instead of three times.
_tables: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "aggregate_tables", default=frozenset({"daily", "weekly", "monthly", "hourly"})
)

DAILY_KEY = ("area_id", "day", "fact", "category_id", "measure_type", "detail", "authority_id", "joint")
MONTHLY_KEY = ("area_id", "month", "fact", "category_id", "measure_type", "detail", "authority_id", "joint")
WEEKLY_KEY = ("area_id", "week", "fact", "category_id", "measure_type", "detail", "authority_id", "joint")
HOURLY_KEY = (
    "area_id", "day", "hour", "fact", "category_id", "measure_type", "detail", "authority_id", "joint",
)  # fmt: skip


def _postgres() -> bool:
    return connection.vendor == "postgresql"


@functools.cache
def _transitions(zone_name: str, first_year: int, last_year: int) -> tuple[tuple[str, int], ...]:
    """(UTC instant as stored by Django on SQLite, offset in seconds valid from it), newest first."""
    zone = zoneinfo.ZoneInfo(zone_name)
    instant = dt.datetime(first_year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(last_year + 1, 1, 1, tzinfo=dt.UTC)
    offset = instant.astimezone(zone).utcoffset()
    found: list[tuple[str, int]] = [("", int(offset.total_seconds()) if offset else 0)]
    step, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    # Zones change on whole hours here; a day-wise scan with an hour-wise refinement is quick.
    while instant < end:
        following = instant + day
        if following.astimezone(zone).utcoffset() != offset:
            probe = instant
            while probe.astimezone(zone).utcoffset() == offset:
                probe += step
            offset = probe.astimezone(zone).utcoffset()
            found.append((probe.strftime("%Y-%m-%d %H:%M:%S"), int(offset.total_seconds()) if offset else 0))
        instant = following
    return tuple(reversed(found))


Years = tuple[int, int]


def _local(column: str, years: Years) -> str:
    """SQL for the local wall-clock time of a stored aware datetime column.

    On SQLite the ``CASE`` covers only the transitions of ``years`` (the span of the rows
    at hand), which keeps the statement short for the single-record writes.
    """
    zone = settings.TIME_ZONE
    if _postgres():
        return f"({column} AT TIME ZONE '{zone}')"
    transitions = _transitions(zone, *years)
    branches = " ".join(
        f"WHEN {column} >= '{since}' THEN '{offset:+d} seconds'" for since, offset in transitions[:-1]
    )
    fallback = transitions[-1][1]
    if not branches:
        return f"datetime({column}, '{fallback:+d} seconds')"
    return f"datetime({column}, CASE {branches} ELSE '{fallback:+d} seconds' END)"


def _day(column: str, years: Years) -> str:
    local = _local(column, years)
    return f"CAST({local} AS date)" if _postgres() else f"date({local})"


def _week(column: str, years: Years) -> str:
    if _postgres():
        return f"CAST(date_trunc('week', {_local(column, years)}) AS date)"
    return f"date({_local(column, years)}, 'weekday 0', '-6 days')"


def _month(column: str, years: Years) -> str:
    if _postgres():
        return f"CAST(date_trunc('month', {_local(column, years)}) AS date)"
    return f"date({_local(column, years)}, 'start of month')"


def _hour(column: str, years: Years) -> str:
    if _postgres():
        return f"CAST(EXTRACT(HOUR FROM {_local(column, years)}) AS integer)"
    return f"CAST(strftime('%H', {_local(column, years)}) AS integer)"


def _year_span(cursor: object, column: str, source: str, where: str) -> Years | None:
    """The years of the rows at hand (SQLite only), or ``None`` when there are none."""
    cursor.execute(f"SELECT MIN({column}), MAX({column}) FROM {source} WHERE {where}")  # type: ignore[attr-defined]
    first, last = cursor.fetchone()  # type: ignore[attr-defined]
    if first is None:
        return None
    # A year either side: local time can fall into the neighbouring year.
    return int(str(first)[:4]) - 1, int(str(last)[:4]) + 1


def _upsert(table: str, key: Sequence[str]) -> str:
    columns = ", ".join((*key, "count", "amount"))
    return (
        f"INSERT INTO {table} ({columns}) {{select}} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        f"count = {table}.count + excluded.count, amount = {table}.amount + excluded.amount"
    )


def _ids_clause(column: str, ids: Sequence[int] | None) -> str:
    if ids is None:
        return "1 = 1"
    return f"{column} IN ({', '.join(str(int(i)) for i in ids)})"


def _chunks(ids: Iterable[int] | None) -> Iterable[list[int] | None]:
    if ids is None:
        yield None
        return
    ids = sorted(set(ids))
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _run_fact(
    *,
    time_column: str,
    source: str,
    links: str,
    link_key: str,
    fact: str,
    category: str,
    measure_type: str,
    detail: str,
    authority: str,
    joint: str,
    count: str,
    amount: str,
    where: str,
    sign: int,
    bulk: bool = False,
) -> None:
    """Add (``sign`` = 1) or subtract (−1) one kind of record's contribution to all count tables.

    ``bulk`` (imports, many records): the records are read once into a temporary table at the
    hourly grain, and the four tables are updated from it.
    """
    from_where = f"FROM {source} JOIN ({links}) ia ON ia.oid = {link_key} WHERE {where}"
    tail = f"{sign} * {count}, {sign} * {amount} {from_where}"
    dims = f"'{fact}', {category}, {measure_type}"
    with connection.cursor() as cursor:
        years: Years | None = (0, 0)
        if not _postgres():
            years = _year_span(cursor, time_column, source, where)
            if years is None:
                return
        day, week, hour = _day(time_column, years), _week(time_column, years), _hour(time_column, years)
        month = _month(time_column, years)
        statements = (
            (DailyCount, DAILY_KEY, f"ia.area_id, {day}, {dims}, {detail}, {authority}, {joint}"),
            (WeeklyCount, WEEKLY_KEY, f"ia.area_id, {week}, {dims}, {detail}, {authority}, {joint}"),
            (MonthlyCount, MONTHLY_KEY, f"ia.area_id, {month}, {dims}, {detail}, {authority}, {joint}"),
            (HourlyCount, HOURLY_KEY, f"ia.area_id, {day}, {hour}, {dims}, {detail}, {authority}, {joint}"),
        )
        wanted = _tables.get()
        if bulk and len(wanted) == 4:
            _run_bulk(cursor, statements[-1][2], f"{sign} * {count}", f"{sign} * {amount}", from_where)
            return
        for model, key, columns in statements:
            if model._meta.model_name.removesuffix("count") not in wanted:
                continue
            group = ", ".join(str(i) for i in range(1, len(key) + 1))
            select = f"SELECT {columns}, {tail} GROUP BY {group}"
            cursor.execute(_upsert(model._meta.db_table, key).format(select=select))


_DELTA = "analytics_delta"
_DELTA_COLUMNS = (
    "area_id", "day", "hour", "fact", "category_id", "measure_type", "detail", "authority_id", "joint",
)  # fmt: skip


def _run_bulk(cursor: object, hourly_columns: str, count: str, amount: str, from_where: str) -> None:
    aliased = ", ".join(
        f"{expression} AS {name}"
        for expression, name in zip(_split_columns(hourly_columns), _DELTA_COLUMNS, strict=True)
    )
    group = ", ".join(str(i) for i in range(1, len(_DELTA_COLUMNS) + 1))
    execute = cursor.execute  # type: ignore[attr-defined]
    execute(f"DROP TABLE IF EXISTS {_DELTA}")
    execute(
        f"CREATE TEMPORARY TABLE {_DELTA} AS SELECT {aliased}, {count} AS count, {amount} AS amount "
        f"{from_where} GROUP BY {group}"
    )
    dims = "fact, category_id, measure_type, detail, authority_id, joint"
    if _postgres():
        week, month = "CAST(date_trunc('week', day) AS date)", "CAST(date_trunc('month', day) AS date)"
    else:
        week, month = "date(day, 'weekday 0', '-6 days')", "date(day, 'start of month')"
    for model, key, when in (
        (HourlyCount, HOURLY_KEY, "day, hour"),
        (DailyCount, DAILY_KEY, "day"),
        (WeeklyCount, WEEKLY_KEY, week),
        (MonthlyCount, MONTHLY_KEY, month),
    ):
        select = (
            f"SELECT area_id, {when}, {dims}, SUM(count), SUM(amount) FROM {_DELTA} "
            f"GROUP BY area_id, {when}, {dims}"
        )
        execute(_upsert(model._meta.db_table, key).format(select=select))
    execute(f"DROP TABLE {_DELTA}")


def _split_columns(columns: str) -> list[str]:
    """Split a SELECT list at top-level commas (the time expressions contain commas)."""
    parts, depth, current = [], 0, []
    for char in columns:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


# The joint flag is kept only for patrols and their staff hours (Doppelstreifen); for the
# other facts it would double the rows every analytic query reads without any page using it.
_NOT_A_PATROL = "FALSE"

# The whole city is area 0 (every record, even without a city polygon), so links to areas
# of kind "city" would only duplicate it.
_NOT_CITY = " AND area_id NOT IN (SELECT id FROM geo_area WHERE kind = 'city')"


def _incident_links(ids: Sequence[int] | None) -> str:
    return (
        "SELECT incident_id AS oid, area_id FROM field_incidentarea WHERE "
        + _ids_clause("incident_id", ids)
        + _NOT_CITY
        + f" UNION ALL SELECT id AS oid, {CITY_AREA} AS area_id FROM field_incident WHERE "
        + _ids_clause("id", ids)
    )


def _report_links(ids: Sequence[int] | None) -> str:
    return (
        "SELECT report_id AS oid, area_id FROM citizen_reportarea WHERE "
        + _ids_clause("report_id", ids)
        + _NOT_CITY
        + f" UNION ALL SELECT id AS oid, {CITY_AREA} AS area_id FROM citizen_report WHERE "
        + _ids_clause("id", ids)
    )


def apply_incidents(incident_ids: Iterable[int] | None, sign: int = 1, *, with_measures: bool = True) -> None:
    """Add (or subtract) incidents and, by default, all their measures. ``None`` = all records."""
    for ids in _chunks(incident_ids):
        _run_fact(
            time_column="i.occurred_at",
            source="field_incident i",
            links=_incident_links(ids),
            link_key="i.id",
            fact=Fact.INCIDENT,
            category="i.category_id",
            measure_type="''",
            detail="i.source",
            authority="i.authority_id",
            joint=_NOT_A_PATROL,
            count="COUNT(*)",
            amount="0",
            where=_ids_clause("i.id", ids),
            sign=sign,
            bulk=ids is None or len(ids) > BULK,
        )
        if with_measures:
            _apply_measures("m.incident_id", ids, sign)


def apply_measures(measure_ids: Iterable[int], sign: int = 1) -> None:
    for ids in _chunks(measure_ids):
        _apply_measures("m.id", ids, sign)


def _apply_measures(id_column: str, ids: Sequence[int] | None, sign: int) -> None:
    if ids is None:
        links = _incident_links(None)
    elif id_column == "m.incident_id":
        links = _incident_links(ids)
    else:
        incident_ids = "SELECT incident_id FROM field_measure WHERE " + _ids_clause(
            "id", ids
        )  # the incidents of these measures
        links = (
            "SELECT incident_id AS oid, area_id FROM field_incidentarea"
            f" WHERE incident_id IN ({incident_ids})"
            f"{_NOT_CITY}"
            f" UNION ALL SELECT id AS oid, {CITY_AREA} AS area_id FROM field_incident"
            f" WHERE id IN ({incident_ids})"
        )
    _run_fact(
        time_column="m.taken_at",
        source="field_measure m JOIN field_incident i ON i.id = m.incident_id",
        links=links,
        link_key="m.incident_id",
        fact=Fact.MEASURE,
        category="i.category_id",
        measure_type="m.type",
        detail="CASE WHEN m.seizure_kind <> '' THEN m.seizure_kind ELSE m.referral_service END",
        authority="m.authority_id",
        joint=_NOT_A_PATROL,
        count="COUNT(*)",
        amount="COALESCE(SUM(m.amount), 0)",
        where=_ids_clause(id_column, ids),
        sign=sign,
        bulk=ids is None or len(ids) > BULK,
    )


def apply_reports(report_ids: Iterable[int] | None, sign: int = 1) -> None:
    """Add (or subtract) citizen reports as received and, when closed, as closed."""
    for ids in _chunks(report_ids):
        for fact, column, detail, extra in (
            (Fact.REPORT_RECEIVED, "r.requested_at", "r.channel", ""),
            (Fact.REPORT_CLOSED, "r.closed_at", "r.status", " AND r.closed_at IS NOT NULL"),
        ):
            _run_fact(
                time_column=column,
                source="citizen_report r JOIN citizen_servicetype s ON s.id = r.service_id",
                links=_report_links(ids),
                link_key="r.id",
                fact=fact,
                category="COALESCE(s.category_id, 0)",
                measure_type="''",
                detail=detail,
                authority="r.authority_id",
                joint=_NOT_A_PATROL,
                count="COUNT(*)",
                amount="0",
                where=_ids_clause("r.id", ids) + extra,
                sign=sign,
                bulk=ids is None or len(ids) > BULK,
            )


# --- patrols: few rows, their areas come from geometry, so they are computed in Python ----


def _patrol_area_ids(area_id: int | None, cache: dict[int | None, list[int]]) -> list[int]:
    if area_id in cache:
        return cache[area_id]
    from lagebild.geo.models import Area
    from lagebild.geo.services import area_index

    ids = [CITY_AREA]
    if area_id is not None:
        ids.append(area_id)
        area = Area.objects.filter(pk=area_id).values("geometry").first()
        if area is not None:
            point = shapely.geometry.shape(area["geometry"]).representative_point()
            ids.extend(a for a in area_index().areas_at(point.x, point.y) if a != area_id)
        city_areas = set(Area.objects.filter(kind=Area.Kind.CITY).values_list("id", flat=True))
        ids = [a for a in ids if a not in city_areas]
    cache[area_id] = sorted(set(ids))
    return cache[area_id]


def _patrol_rows(patrol_ids: Iterable[int] | None) -> list[tuple]:
    from lagebild.core.scoping import unscoped
    from lagebild.field.models import Patrol, PatrolMember

    with unscoped():
        patrols = Patrol.objects.all()
        if patrol_ids is not None:
            patrols = patrols.filter(pk__in=list(patrol_ids))
        patrols = list(
            patrols.values(
                "id", "area_id", "authority_id", "joint", "planned_start", "planned_end", "actual_start",
                "actual_end", "member_count", "staff_hours",
            )
        )  # fmt: skip
        members: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        member_rows = PatrolMember.objects.all()
        if patrol_ids is not None:
            member_rows = member_rows.filter(patrol_id__in=[p["id"] for p in patrols])
        for patrol_id, authority_id in member_rows.values_list("patrol_id", "authority_id"):
            members[patrol_id][authority_id] += 1
    cache: dict[int | None, list[int]] = {}
    rows = []
    for p in patrols:
        start = timezone.localtime(p["actual_start"] or p["planned_start"])
        end = p["actual_end"] or p["planned_end"]
        hours = max((end - start).total_seconds(), 0) / 3600
        areas = _patrol_area_ids(p["area_id"], cache)
        for area_id in areas:
            rows.append((area_id, start, Fact.PATROL, p["authority_id"], p["joint"], 1, Decimal(0)))
            for authority_id, n in members[p["id"]].items():
                staff = Decimal(str(round(n * hours, 2)))
                rows.append((area_id, start, Fact.STAFF_HOURS, authority_id, p["joint"], n, staff))
    return rows


def apply_patrols(patrol_ids: Iterable[int] | None, sign: int = 1) -> None:
    rows = _patrol_rows(patrol_ids)
    if not rows:
        return
    daily: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    weekly: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    monthly: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    hourly: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    for area_id, start, fact, authority_id, joint, count, amount in rows:
        day = start.date()
        week = day - dt.timedelta(days=day.weekday())
        for table, key in (
            (daily, (area_id, day, fact, 0, "", "", authority_id, joint)),
            (weekly, (area_id, week, fact, 0, "", "", authority_id, joint)),
            (monthly, (area_id, day.replace(day=1), fact, 0, "", "", authority_id, joint)),
            (hourly, (area_id, day, start.hour, fact, 0, "", "", authority_id, joint)),
        ):
            table[key][0] += sign * count
            table[key][1] += sign * amount
    with connection.cursor() as cursor:
        for model, key, values in (
            (DailyCount, DAILY_KEY, daily),
            (WeeklyCount, WEEKLY_KEY, weekly),
            (MonthlyCount, MONTHLY_KEY, monthly),
            (HourlyCount, HOURLY_KEY, hourly),
        ):
            if model._meta.model_name.removesuffix("count") not in _tables.get():
                continue
            placeholders = ", ".join(["%s"] * (len(key) + 2))
            sql = _upsert(model._meta.db_table, key).format(select=f"VALUES ({placeholders})")
            cursor.executemany(sql, [(*k, c, a) for k, (c, a) in values.items()])


# --- whole rebuild ----------------------------------------------------------------------


def _derive_daily_weekly_monthly() -> None:
    """Daily rows as sums of the hourly ones, weekly and monthly rows as sums of the daily ones."""
    dims = "fact, category_id, measure_type, detail, authority_id, joint"
    if _postgres():
        week, month = "CAST(date_trunc('week', day) AS date)", "CAST(date_trunc('month', day) AS date)"
    else:
        week, month = "date(day, 'weekday 0', '-6 days')", "date(day, 'start of month')"
    tables = {m: m._meta.db_table for m in (DailyCount, WeeklyCount, MonthlyCount, HourlyCount)}
    daily, hourly = tables[DailyCount], tables[HourlyCount]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {daily} (area_id, day, {dims}, count, amount) "
            f"SELECT area_id, day, {dims}, SUM(count), SUM(amount) FROM {hourly} "
            f"GROUP BY area_id, day, {dims}"
        )
        for model, column, expression in ((WeeklyCount, "week", week), (MonthlyCount, "month", month)):
            cursor.execute(
                f"INSERT INTO {tables[model]} (area_id, {column}, {dims}, count, amount) "
                f"SELECT area_id, {expression}, {dims}, SUM(count), SUM(amount) FROM {daily} "
                f"GROUP BY area_id, {expression}, {dims}"
            )
        if _postgres():
            # Fresh planner statistics: without them PostgreSQL misjudges the number of groups
            # of the analytic queries right after a rebuild and sorts instead of hashing.
            for table in tables.values():
                cursor.execute(f"ANALYZE {table}")


@transaction.atomic
def rebuild() -> dict[str, int]:
    """Recompute all count tables from the records (``lagebild rebuild-aggregates``)."""
    for model in (DailyCount, WeeklyCount, MonthlyCount, HourlyCount):
        model.objects.all().delete()
    token = _tables.set(frozenset({"hourly"}))
    try:
        apply_incidents(None)
        apply_reports(None)
        apply_patrols(None)
    finally:
        _tables.reset(token)
    _derive_daily_weekly_monthly()
    return {
        "daily": DailyCount.objects.count(),
        "weekly": WeeklyCount.objects.count(),
        "monthly": MonthlyCount.objects.count(),
        "hourly": HourlyCount.objects.count(),
    }
