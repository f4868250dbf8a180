"""Keeps the hourly, daily, weekly, monthly and yearly count tables consistent with the records.

Every single write adds or subtracts the contribution of the records it touches with set-based
``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`` statements (one per table on SQLite,
one data-modifying ``WITH`` for all tables on PostgreSQL). A change is "subtract the old
contribution, write, add the new one", so counts never drift, and :func:`rebuild` recomputes
everything from scratch. Large imports defer their contribution (:func:`defer_incidents`);
the next read or write of the counts applies it first (:func:`catch_up`).

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

from .models import (
    CITY_AREA,
    DailyCount,
    Fact,
    HourlyCount,
    MonthlyCount,
    PendingCounts,
    WeeklyCount,
    YearlyCount,
)

CHUNK = 50_000
BULK = 50  # records per call from which the temporary-table path pays off

# A full rebuild writes only the hourly table from the records and derives the daily and
# weekly tables from it, so the records are read once instead of three times.
ALL_TABLES = frozenset({"hourly", "daily", "weekly", "monthly", "yearly"})
_tables: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "aggregate_tables", default=ALL_TABLES
)

DAILY_KEY = ("area_id", "day", "fact", "category_id", "measure_type", "detail", "authority_id", "joint")
MONTHLY_KEY = ("area_id", "month", "fact", "category_id", "measure_type", "detail", "authority_id", "joint")
WEEKLY_KEY = ("area_id", "week", "fact", "category_id", "measure_type", "detail", "authority_id", "joint")
YEARLY_KEY = ("area_id", "year", "fact", "category_id", "measure_type", "detail", "authority_id", "joint")
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


# --- calendar parts of a local time (``lt``) or of a local day -------------------------
# On SQLite both are text ('YYYY-MM-DD HH:MM:SS' / 'YYYY-MM-DD'), so most parts are substrings.


def _day_of(lt: str) -> str:
    return f"CAST({lt} AS date)" if _postgres() else f"substr({lt}, 1, 10)"


def _hour_of(lt: str) -> str:
    if _postgres():
        return f"CAST(EXTRACT(HOUR FROM {lt}) AS integer)"
    return f"CAST(substr({lt}, 12, 2) AS integer)"


def _week_of(day: str) -> str:
    if _postgres():
        return f"CAST(date_trunc('week', {day}) AS date)"
    return f"date({day}, 'weekday 0', '-6 days')"


def _month_of(day: str) -> str:
    if _postgres():
        return f"CAST(date_trunc('month', {day}) AS date)"
    return f"(substr({day}, 1, 8) || '01')"


def _year_of(day: str) -> str:
    if _postgres():
        return f"CAST(date_trunc('year', {day}) AS date)"
    return f"(substr({day}, 1, 5) || '01-01')"


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
    """SQL condition for ``ids`` (sorted, unique); a contiguous run, as imports write, is a range."""
    if ids is None:
        return "1 = 1"
    if not ids:
        return "1 = 0"
    if ids[-1] - ids[0] + 1 == len(ids):
        return f"{column} BETWEEN {int(ids[0])} AND {int(ids[-1])}"
    return f"{column} IN ({', '.join(str(int(i)) for i in ids)})"


def _chunks(ids: Iterable[int] | None) -> Iterable[list[int] | None]:
    if ids is None:
        yield None
        return
    ids = sorted(set(ids))
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


DIMS = "fact, category_id, measure_type, detail, authority_id, joint"


def _table(model: type) -> str:
    return model._meta.db_table  # type: ignore[attr-defined]


def _name(model: type) -> str:
    return model._meta.model_name.removesuffix("count")  # type: ignore[attr-defined]


def _rows_sql(
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
    years: Years,
    sign: int,
) -> str:
    """One row per record and area: area, local time ``lt``, dimensions, signed count and amount.

    The local time is computed once per record (before the join with its areas).
    """
    records = (
        f"SELECT {link_key} AS oid, {_local(time_column, years)} AS lt, '{fact}' AS fact, "
        f"{category} AS category_id, {measure_type} AS measure_type, {detail} AS detail, "
        f"{authority} AS authority_id, {joint} AS joint, {sign} * {count} AS count, "
        f"{sign} * {amount} AS amount FROM {source} WHERE {where}"
    )
    return (
        f"SELECT ia.area_id AS area_id, r.lt AS lt, r.fact AS fact, r.category_id AS category_id, "
        f"r.measure_type AS measure_type, r.detail AS detail, r.authority_id AS authority_id, "
        f"r.joint AS joint, r.count AS count, r.amount AS amount "
        f"FROM ({records}) r JOIN ({links}) ia ON ia.oid = r.oid"
    )


# Rows are upserted in the order of the table's key. Concurrent writes then lock the rows they
# share (the city's row of the day, of the year, ...) in the same order and cannot deadlock;
# in hash order they did (PostgreSQL, citizen reports posted in parallel).
_IN_KEY_ORDER = {n: "ORDER BY " + ", ".join(str(i) for i in range(1, n + 1)) for n in (8, 9)}


def _rollups(rows: str, day: str) -> list[tuple[type, Sequence[str], str]]:
    """(table, key, SELECT grouped to the table's grain) over ``rows`` with a local ``day`` column."""
    result = []
    for model, key, when in (
        (DailyCount, DAILY_KEY, day),
        (WeeklyCount, WEEKLY_KEY, _week_of(day)),
        (MonthlyCount, MONTHLY_KEY, _month_of(day)),
        (YearlyCount, YEARLY_KEY, _year_of(day)),
    ):
        result.append((
            model, key,
            f"SELECT area_id, {when}, {DIMS}, SUM(count), SUM(amount) FROM {rows} "
            f"GROUP BY area_id, {when}, {DIMS} {_IN_KEY_ORDER[len(key)]}",
        ))  # fmt: skip
    return result


def _run_fact(*, bulk: bool = False, **record: str | int) -> None:
    """Add (``sign`` = 1) or subtract (−1) one kind of record's contribution to all count tables.

    ``bulk`` (imports, rebuilds): the rows go into the temporary delta table, which
    :func:`_flush_delta` rolls into the count tables once for all kinds of record.
    Otherwise (single writes) the tables are updated from the records directly: one
    statement on PostgreSQL (data-modifying ``WITH``), one per table on SQLite.
    """
    with connection.cursor() as cursor:
        years: Years = (0, 0)
        if not _postgres():
            span = _year_span(cursor, str(record["time_column"]), str(record["source"]), str(record["where"]))
            if span is None:
                return
            years = span
        rows = _rows_sql(years=years, **record)  # type: ignore[arg-type]
        wanted = _tables.get()
        if bulk and len(wanted) == len(ALL_TABLES):
            _ensure_delta(cursor)
            cursor.execute(
                f"INSERT INTO {_DELTA} (area_id, day, hour, {DIMS}, count, amount) "
                f"SELECT area_id, {_day_of('lt')}, {_hour_of('lt')}, {DIMS}, count, amount FROM ({rows}) x"
            )
            return
        hourly = (
            HourlyCount, HOURLY_KEY,
            f"SELECT area_id, {_day_of('lt')}, {_hour_of('lt')}, {DIMS}, SUM(count), SUM(amount) "
            f"FROM {{rows}} GROUP BY area_id, {_day_of('lt')}, {_hour_of('lt')}, {DIMS} {_IN_KEY_ORDER[9]}",
        )  # fmt: skip
        statements = [hourly, *_rollups("{rows}", _day_of("lt"))]
        statements = [s for s in statements if _name(s[0]) in wanted]
        if _postgres() and len(statements) > 1:
            # One round trip instead of five (the API's create path writes twice per request).
            parts = [
                f"t{n} AS ({_upsert(_table(model), key).format(select=select.format(rows='src'))})"
                for n, (model, key, select) in enumerate(statements)
            ]
            cursor.execute(f"WITH src AS MATERIALIZED ({rows}), {', '.join(parts)} SELECT 1")
            return
        for model, key, select in statements:
            cursor.execute(_upsert(_table(model), key).format(select=select.format(rows=f"({rows}) x")))


_DELTA = "analytics_delta"


def _ensure_delta(cursor: object) -> None:
    """The temporary table collecting a bulk write's rows (per connection, emptied by the flush)."""
    day = "date" if _postgres() else "text"
    cursor.execute(  # type: ignore[attr-defined]
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_DELTA} (area_id integer, day {day}, hour integer, "
        "fact varchar(20), category_id integer, measure_type varchar(20), detail varchar(20), "
        "authority_id integer, joint boolean, count integer, amount numeric)"
    )


def _flush_delta() -> None:
    """Roll the collected rows into the count tables: hourly, then daily from a daily delta, then
    weekly, monthly and yearly from that (each big set is sorted once)."""
    if _tables.get() != ALL_TABLES:
        return
    with connection.cursor() as cursor:
        _ensure_delta(cursor)
        execute = cursor.execute
        if _postgres():
            execute(f"ANALYZE {_DELTA}")  # temporary tables are never analysed automatically
        execute(
            _upsert(_table(HourlyCount), HOURLY_KEY).format(
                select=f"SELECT area_id, day, hour, {DIMS}, SUM(count), SUM(amount) FROM {_DELTA} "
                f"GROUP BY area_id, day, hour, {DIMS} {_IN_KEY_ORDER[9]}"
            )
        )
        execute(f"DROP TABLE IF EXISTS {_DELTA}_day")
        execute(
            f"CREATE TEMPORARY TABLE {_DELTA}_day AS SELECT area_id, day, {DIMS}, SUM(count) AS count, "
            f"SUM(amount) AS amount FROM {_DELTA} GROUP BY area_id, day, {DIMS}"
        )
        for model, key, select in _rollups(f"{_DELTA}_day", "day"):
            if model is DailyCount:
                select = f"SELECT area_id, day, {DIMS}, count, amount FROM {_DELTA}_day {_IN_KEY_ORDER[8]}"
            execute(_upsert(_table(model), key).format(select=select))
        execute(f"DROP TABLE {_DELTA}_day")
        execute(f"DELETE FROM {_DELTA}")


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
    catch_up()
    _apply_incidents(incident_ids, sign, with_measures=with_measures)


def apply_reports(report_ids: Iterable[int] | None, sign: int = 1) -> None:
    """Add (or subtract) citizen reports as received and, when closed, as closed."""
    catch_up()
    _apply_reports(report_ids, sign)


# --- deferred bulk writes -------------------------------------------------------------------


def _runs(ids: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ids as (first, last) runs of consecutive ids."""
    runs: list[tuple[int, int]] = []
    for record_id in sorted(set(ids)):
        if runs and runs[-1][1] == record_id - 1:
            runs[-1] = (runs[-1][0], record_id)
        else:
            runs.append((record_id, record_id))
    return runs


def defer_incidents(incident_ids: Iterable[int]) -> None:
    """Leave new incidents' and their measures' counts to the next :func:`catch_up` (bulk imports).

    Call in the transaction that created them. The measures are recorded by id, so a measure
    added later is counted by its own write, not a second time by the catch-up; any later
    change goes through ``apply_*``, which catches up first, so contributions stay in order.
    """
    runs = _runs(incident_ids)
    if not runs:
        return
    condition = " OR ".join(f"incident_id BETWEEN {int(a)} AND {int(b)}" for a, b in runs)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM field_measure WHERE {condition}")
        measure_ids = [measure_id for (measure_id,) in cursor.fetchall()]
    PendingCounts.objects.bulk_create(
        [PendingCounts(kind=PendingCounts.Kind.INCIDENTS, first_id=a, last_id=b) for a, b in runs]
        + [
            PendingCounts(kind=PendingCounts.Kind.MEASURES, first_id=a, last_id=b)
            for a, b in _runs(measure_ids)
        ]
    )


def catch_up() -> None:
    """Apply all deferred bulk writes, each exactly once.

    The pending rows are locked (PostgreSQL) or the database is (SQLite, ``BEGIN IMMEDIATE``),
    so a concurrent catch-up waits and then finds nothing left to do.
    """
    if not PendingCounts.objects.exists():
        return
    with transaction.atomic():
        pending = list(PendingCounts.objects.select_for_update().order_by("pk"))
        if not pending:
            return
        by_kind: dict[str, list[int]] = defaultdict(list)
        for run in pending:
            by_kind[run.kind].extend(range(run.first_id, run.last_id + 1))
        # Both kinds go into the same delta (when it is used), which is rolled up once.
        if by_kind.get(PendingCounts.Kind.INCIDENTS):
            _apply_incidents(by_kind[PendingCounts.Kind.INCIDENTS], with_measures=False, flush=False)
        if by_kind.get(PendingCounts.Kind.MEASURES):
            _apply_measures_by_id(by_kind[PendingCounts.Kind.MEASURES], flush=False)
        _flush_delta()
        PendingCounts.objects.filter(pk__in=[run.pk for run in pending]).delete()


def _is_bulk(ids: Sequence[int] | None) -> bool:
    return ids is None or len(ids) > BULK


def _apply_incidents(
    incident_ids: Iterable[int] | None, sign: int = 1, *, with_measures: bool = True, flush: bool = True
) -> None:
    ids_all = None if incident_ids is None else sorted(set(incident_ids))
    bulk = _is_bulk(ids_all)
    for ids in _chunks(ids_all):
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
            count="1",
            amount="0",
            where=_ids_clause("i.id", ids),
            sign=sign,
            bulk=bulk,
        )
        if with_measures:
            _apply_measures("m.incident_id", ids, sign, bulk)
    if bulk and flush:
        _flush_delta()


def apply_measures(measure_ids: Iterable[int], sign: int = 1) -> None:
    catch_up()
    _apply_measures_by_id(measure_ids, sign)


def _apply_measures_by_id(measure_ids: Iterable[int], sign: int = 1, *, flush: bool = True) -> None:
    ids_all = sorted(set(measure_ids))
    bulk = _is_bulk(ids_all)
    for ids in _chunks(ids_all):
        _apply_measures("m.id", ids, sign, bulk)
    if bulk and flush:
        _flush_delta()


def _apply_measures(id_column: str, ids: Sequence[int] | None, sign: int, bulk: bool) -> None:
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
        count="1",
        amount="COALESCE(m.amount, 0)",
        where=_ids_clause(id_column, ids),
        sign=sign,
        bulk=bulk,
    )


def _apply_reports(report_ids: Iterable[int] | None, sign: int = 1) -> None:
    ids_all = None if report_ids is None else sorted(set(report_ids))
    bulk = _is_bulk(ids_all)
    for ids in _chunks(ids_all):
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
                count="1",
                amount="0",
                where=_ids_clause("r.id", ids) + extra,
                sign=sign,
                bulk=bulk,
            )
    if bulk:
        _flush_delta()


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
    catch_up()
    _apply_patrols(patrol_ids, sign)


def _apply_patrols(patrol_ids: Iterable[int] | None, sign: int = 1) -> None:
    rows = _patrol_rows(patrol_ids)
    if not rows:
        return
    daily: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    weekly: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    monthly: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    yearly: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    hourly: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    for area_id, start, fact, authority_id, joint, count, amount in rows:
        day = start.date()
        week = day - dt.timedelta(days=day.weekday())
        for table, key in (
            (daily, (area_id, day, fact, 0, "", "", authority_id, joint)),
            (weekly, (area_id, week, fact, 0, "", "", authority_id, joint)),
            (monthly, (area_id, day.replace(day=1), fact, 0, "", "", authority_id, joint)),
            (yearly, (area_id, day.replace(month=1, day=1), fact, 0, "", "", authority_id, joint)),
            (hourly, (area_id, day, start.hour, fact, 0, "", "", authority_id, joint)),
        ):
            table[key][0] += sign * count
            table[key][1] += sign * amount
    with connection.cursor() as cursor:
        for model, key, values in (
            (DailyCount, DAILY_KEY, daily),
            (WeeklyCount, WEEKLY_KEY, weekly),
            (MonthlyCount, MONTHLY_KEY, monthly),
            (YearlyCount, YEARLY_KEY, yearly),
            (HourlyCount, HOURLY_KEY, hourly),
        ):
            if _name(model) not in _tables.get():
                continue
            placeholders = ", ".join(["%s"] * (len(key) + 2))
            sql = _upsert(model._meta.db_table, key).format(select=f"VALUES ({placeholders})")
            cursor.executemany(sql, [(*k, c, a) for k, (c, a) in sorted(values.items())])


# --- whole rebuild ----------------------------------------------------------------------


COUNT_MODELS = (HourlyCount, DailyCount, WeeklyCount, MonthlyCount, YearlyCount)


def _derive_rollups() -> None:
    """Daily rows as sums of the hourly ones, weekly and monthly rows as sums of the daily ones,
    yearly rows as sums of the monthly ones."""
    daily, monthly = _table(DailyCount), _table(MonthlyCount)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {daily} (area_id, day, {DIMS}, count, amount) "
            f"SELECT area_id, day, {DIMS}, SUM(count), SUM(amount) FROM {_table(HourlyCount)} "
            f"GROUP BY area_id, day, {DIMS}"
        )
        for model, column, source, expression in (
            (WeeklyCount, "week", daily, _week_of("day")),
            (MonthlyCount, "month", daily, _month_of("day")),
            (YearlyCount, "year", monthly, _year_of("month")),
        ):
            cursor.execute(
                f"INSERT INTO {_table(model)} (area_id, {column}, {DIMS}, count, amount) "
                f"SELECT area_id, {expression}, {DIMS}, SUM(count), SUM(amount) FROM {source} "
                f"GROUP BY area_id, {expression}, {DIMS}"
            )
        if _postgres():
            # Fresh planner statistics: without them PostgreSQL misjudges the number of groups
            # of the analytic queries right after a rebuild and sorts instead of hashing.
            for model in COUNT_MODELS:
                cursor.execute(f"ANALYZE {_table(model)}")


@transaction.atomic
def rebuild() -> dict[str, int]:
    """Recompute all count tables from the records (``lagebild rebuild-aggregates``)."""
    with connection.cursor() as cursor:
        if _postgres():
            # No count write and no deferred import may commit while the records are read: it
            # would be counted by the rebuild and again by its own update or catch-up. Readers
            # go on (EXCLUSIVE lets plain SELECTs through); SQLite's IMMEDIATE transaction
            # already excludes every other writer.
            tables = ", ".join(_table(model) for model in (PendingCounts, *COUNT_MODELS))
            cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        # The records of deferred imports are read with all the others.
        cursor.execute(f"DELETE FROM {_table(PendingCounts)}")
        for model in COUNT_MODELS:
            cursor.execute(f"DELETE FROM {_table(model)}")
    token = _tables.set(frozenset({"hourly"}))
    try:
        _apply_incidents(None)
        _apply_reports(None)
        _apply_patrols(None)
    finally:
        _tables.reset(token)
    _derive_rollups()
    # The base manager: the default one would catch up first, which is not needed here.
    return {_name(model): model._base_manager.count() for model in COUNT_MODELS}
