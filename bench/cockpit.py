"""Benchmark: the CompStat cockpit over the pre-aggregated counts against aggregating the raw tables.

``python -m bench.cockpit [--measures 1000000] [--runs 30] [--raw-runs 3] [--days 730]`` with
``DATABASE_URL`` pointing at a throw-away database (``bench.run`` does that).

Seeding (timed, ``cockpit_seed``): two years of records generated inside the database with one
``INSERT … SELECT`` per table over a number series (no rows pass through Python, faster than
``COPY``): about ``--measures`` / 1.5 incidents with one or two measures each (types, seizure
kinds, amounts and categories distributed like the demo city), 75 % city and 25 % police, 10 %
joint, more in the afternoon and evening, measures a few minutes to two hours after the incident
(some cross midnight). Points come from a pool of 20,000 located points inside the city (half around
the centre), so every incident has real area links (district, focus area, patrol zone, …). About
22 patrols a day with two or three members and 6–10 hours give the staff hours. Secondary indexes
are dropped while loading and recreated afterwards, then ``ANALYZE``.

Figures (one JSON line each):

* ``cockpit_rebuild_aggregates``: ``aggregates.rebuild()`` over all records (no target).
* ``cockpit_build``: ``cockpit.build_cockpit(0, "wochenlage", as_of)`` for the whole city and the
  Sonderstab set, as_of = the last seeded day, ``--runs`` timed runs after 3 warm-up runs.
  Target p95 < 150 ms (10,000,000 measures on PostgreSQL, 1,000,000 on SQLite).
* ``cockpit_raw``: the same figures computed straight from the records (``GROUP BY`` over
  ``field_measure`` / ``field_incident`` / ``citizen_report`` with the same local-day windows as
  UTC instant bounds, conditional sums per window; patrols in Python), ``--raw-runs`` runs; the
  ratio raw / aggregated of the medians and whether all 6 × indicator values are identical
  (ok = identical).
* ``cockpit_page``: ``GET /auswertung/lage/`` through Django's full stack (table, drill-downs,
  weekly series, heat table, map values), for orientation (no target).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from .accounts import two_factor_login
from .common import base_world, db_vendor, emit, log, migrate, percentile, prepare_like_a_server, setup

TARGET_P95_MS = 150.0
POOL_SIZE = 20_000
PATROLS_PER_DAY = 22
SET_CODE = "wochenlage"

# Shares like the demo city (per 1000 incidents; per 1000 measures).
CATEGORY_WEIGHTS = {
    "drug-consumption-public": 172, "antisocial-behaviour": 139, "littering": 90, "waste-dumping": 78,
    "aggressive-begging": 75, "other": 61, "dog-off-leash": 58, "camping": 48, "drug-dealing": 43,
    "public-urination": 36, "noise": 26, "violence": 24, "street-furniture-misuse": 19, "street-crime": 19,
    "graffiti": 18, "alcohol-playground": 17, "youth-protection": 14, "illegal-posters": 12,
    "illegal-trade": 12, "street-prostitution": 11, "blind-guidance-obstruction": 9, "pigeon-feeding": 7,
    "neglected-property": 7, "weapons": 4, "illegal-car-race": 1,
}  # fmt: skip
# (type, share in ‰, police only)
MEASURE_WEIGHTS = (
    ("contact", 380, False), ("dispersal_order", 240, False), ("offence_report", 150, False),
    ("caution_fee", 100, False), ("criminal_complaint", 55, False), ("referral", 30, False),
    ("seizure", 30, False), ("custody", 10, True), ("exclusion_order", 5, True),
)  # fmt: skip
SEIZURE_KINDS = (("weapon", 20), ("cash", 30), ("drugs", 40), ("other", 10))
REFERRAL_SERVICES = (("addiction_help", 40), ("street_social_work", 30), ("shelter", 20), ("medical", 10))


# --- SQL building blocks ------------------------------------------------------------------


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _hash(column: str, multiplier: int, salt: int, modulo: int) -> str:
    """A deterministic pseudo-random integer in [0, modulo) from a sequence number (64-bit safe)."""
    return f"((CAST({column} AS bigint) * {multiplier} + {salt}) % 2147483647 % {modulo})"


def _weighted_case(expression: str, choices: Sequence[tuple[str, int]], total: int) -> str:
    """CASE over ``expression`` in [0, total) picking a choice by cumulative weight."""
    parts, upper = [], 0
    for value, weight in choices:
        upper += weight
        parts.append(f"WHEN {expression} < {upper} THEN {value}")
    return f"(CASE {' '.join(parts)} ELSE {choices[-1][0]} END)"


def _series(count: int) -> str:
    """A relation ``s(k)`` with k = 0 … count − 1."""
    if _postgres():
        return f"(SELECT generate_series(0::bigint, {count - 1}) AS k) s"
    return (
        f"(WITH RECURSIVE seq(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM seq WHERE k < {count - 1}) "
        "SELECT k FROM seq) s"
    )


def _timestamp(epoch_expression: str) -> str:
    if _postgres():
        return f"to_timestamp({epoch_expression})"
    return f"datetime({epoch_expression}, 'unixepoch')"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def _without_secondary_indexes(tables: Sequence[str]) -> Iterator[None]:
    """Drop the secondary indexes of ``tables`` while loading; recreate them afterwards."""
    from django.db import connection

    definitions: list[str] = []
    with connection.cursor() as cursor:
        for table in tables:
            if _postgres():
                cursor.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                    [table],
                )
            else:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                    "AND sql IS NOT NULL",
                    [table],
                )
            for name, definition in cursor.fetchall():
                definitions.append(definition)
                cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for definition in definitions:
                cursor.execute(definition)


# --- seeding --------------------------------------------------------------------------------


def _point_pool(seed: int) -> tuple[list[tuple], list[tuple[int, int]]]:
    """Located points inside the city: half around the centre, half spread over the city."""
    from lagebild.geo.services import area_index, locate_many

    rng = np.random.default_rng(seed)
    boundary = area_index().boundary
    min_lon, min_lat, max_lon, max_lat = boundary.bounds
    lats, lons = np.empty(0), np.empty(0)
    while len(lats) < POOL_SIZE:
        want = POOL_SIZE * 2
        near = rng.random(want) < 0.5
        lat = np.where(near, rng.normal(51.5140, 0.01, want), rng.uniform(min_lat, max_lat, want))
        lon = np.where(near, rng.normal(7.4650, 0.016, want), rng.uniform(min_lon, max_lon, want))
        lat, lon = np.round(lat, 6), np.round(lon, 6)
        inside = area_index().inside_boundary_many(lon, lat)
        lats, lons = np.concatenate([lats, lat[inside]]), np.concatenate([lons, lon[inside]])
    lats, lons = lats[:POOL_SIZE], lons[:POOL_SIZE]
    located = locate_many(lats, lons)
    points = [
        (
            i,
            float(lats[i]),
            float(lons[i]),
            float(located.x_utm[i]),
            float(located.y_utm[i]),
            located.h3_cells[i],
        )
        for i in range(POOL_SIZE)
    ]
    links = [(i, area) for i in range(POOL_SIZE) for area in located.area_ids[i]]
    return points, links


def _patrols(first_day: dt.date, days: int, seed: int) -> int:
    """Shifts, about 22 patrols a day (2–3 members, 6–10 hours, some joint) with their members."""
    from lagebild.core.models import Authority
    from lagebild.demo import bulk
    from lagebild.demo.base import CITY, POLICE, staff_ids
    from lagebild.field.models import Patrol, PatrolMember, Shift
    from lagebild.geo.models import Area

    rng = np.random.default_rng(seed + 1)
    zone = ZoneInfo("Europe/Berlin")
    city = Authority.objects.get(code=CITY)
    police = Authority.objects.get(code=POLICE)
    staff = {city.pk: staff_ids(CITY), police.pk: staff_ids(POLICE)}
    areas = list(
        Area.objects.filter(kind__in=["district", "focus_area", "patrol_zone"]).values_list("pk", flat=True)
    )
    stamp = bulk.datetime_adapter()
    kinds = (("early", 6, 14), ("late", 14, 22), ("night", 22, 30))
    shift_ids = bulk.reserve_ids(Shift, days * 2 * len(kinds))
    shifts, shift_of = [], {}
    index = 0
    for d in range(days):
        day = first_day + dt.timedelta(days=d)
        for authority in (city.pk, police.pk):
            for kind, start_hour, end_hour in kinds:
                start = dt.datetime.combine(day, dt.time(0), tzinfo=zone) + dt.timedelta(hours=start_hour)
                end = dt.datetime.combine(day, dt.time(0), tzinfo=zone) + dt.timedelta(hours=end_hour)
                pk = shift_ids[index]
                index += 1
                shifts.append((pk, authority, bulk.db_date(day), kind, stamp(start), stamp(end), None, ""))
                shift_of[(d, authority, kind)] = (pk, start)
    bulk.insert(Shift, ["id", "authority", "date", "kind", "starts_at", "ends_at", "lead", "note"], shifts)
    total = days * PATROLS_PER_DAY
    patrol_ids = bulk.reserve_ids(Patrol, total)
    patrols, members = [], []
    now = stamp(dt.datetime.now(dt.UTC))
    for number, pk in enumerate(patrol_ids):
        d = number // PATROLS_PER_DAY
        authority = city.pk if rng.random() < 0.6 else police.pk
        kind = kinds[int(rng.integers(0, 3))][0]
        shift_pk, shift_start = shift_of[(d, authority, kind)]
        start = shift_start + dt.timedelta(minutes=int(rng.integers(0, 120)))
        end = start + dt.timedelta(minutes=int(rng.integers(360, 600)))
        size = int(rng.integers(2, 4))
        joint = rng.random() < 0.3
        chosen: list[tuple[int, int]] = []
        for slot in range(size):
            member_authority = (
                (police.pk if authority == city.pk else city.pk) if joint and slot == 0 else authority
            )
            pool = staff[member_authority]
            user = pool[int(rng.integers(0, len(pool)))]
            if all(user != u for u, _ in chosen):
                chosen.append((user, member_authority))
        hours = (Decimal(len(chosen)) * Decimal((end - start).total_seconds()) / Decimal(3600)).quantize(
            Decimal("0.01")
        )
        area = areas[int(rng.integers(0, len(areas)))] if areas and rng.random() < 0.8 else None
        patrols.append((
            pk, authority, shift_pk, f"Streife {number % PATROLS_PER_DAY + 1}", area, joint, "uniform",
            stamp(start), stamp(end), stamp(start), stamp(end), len(chosen), hours, now,
        ))  # fmt: skip
        members.extend((pk, user, member_authority) for user, member_authority in chosen)
    bulk.insert(
        Patrol,
        ["id", "authority", "shift", "name", "area", "joint", "clothing", "planned_start", "planned_end",
         "actual_start", "actual_end", "member_count", "staff_hours", "created_at"],
        patrols,
    )  # fmt: skip
    bulk.insert(PatrolMember, ["patrol", "user", "authority"], members)
    return total


def _incident_sql(
    base: int, incidents: int, days: int, first_epoch: int, city: int, police: int, categories: list
) -> str:
    """Incidents k = 0 … n − 1 walk forward in time; 70 % between 10:00 and 22:00 local time."""
    k = "s.k"
    day = f"({k} * {days} / {incidents})"
    daytime = _hash(k, 2654435761, 7, 1000)
    hour = (
        f"(CASE WHEN {daytime} < 700 THEN 10 + {_hash(k, 40503, 11, 12)} ELSE {_hash(k, 40503, 11, 24)} END)"
    )
    # Local hours from the local midnight of the first day (an hour off across DST, which is harmless).
    epoch = f"({first_epoch} + {day} * 86400 + {hour} * 3600 + {_hash(k, 69069, 3, 3600)})"
    authority = f"(CASE WHEN {_hash(k, 1103515245, 12345, 4)} = 0 THEN {police} ELSE {city} END)"
    joint = f"({_hash(k, 22695477, 1, 10)} = 0)"
    total = sum(weight for _, weight in categories)
    category = _weighted_case(_hash(k, 134775813, 1, total), categories, total)
    sources = [("'patrol'", 7), ("'control_room'", 2), ("'citizen_report'", 1)]
    source = _weighted_case(_hash(k, 214013, 2531011, 10), sources, 10)
    point = _hash(k, 48271, 0, POOL_SIZE)
    at = _timestamp(epoch)
    return (
        "INSERT INTO field_incident (id, authority_id, joint, occurred_at, recorded_at, recorded_by_id, "
        "patrol_id, category_id, category_rule_id, source, description, address_text, lat, lon, "
        "x_utm, y_utm, h3_cell, external_id) "
        f"SELECT {base} + 1 + {k}, {authority}, {joint}, {at}, {at}, NULL, NULL, {category}, NULL, "
        f"{source}, '', '', p.lat, p.lon, p.x, p.y, p.h3, '' "
        f"FROM {_series(incidents)} JOIN bench_point p ON p.idx = {point}"
    )


def _link_sql(base: int) -> str:
    """The area links of each incident: those of its pool point (same hash as in the insert)."""
    point = _hash(f"(i.id - {base} - 1)", 48271, 0, POOL_SIZE)
    return (
        "INSERT INTO field_incidentarea (incident_id, area_id) SELECT i.id, pa.area_id "
        f"FROM field_incident i JOIN bench_point_area pa ON pa.idx = {point} WHERE i.id > {base}"
    )


def _measure_sql(base: int, number: int, police: int) -> str:
    """The first measure of every incident (``number`` 0) or the second of every other one (1)."""
    n = f"(i.id - {base} - 1)"
    salt = 17 + number
    picked = _weighted_case(
        _hash(n, 1664525, salt, 1000), [(_quote(t), w) for t, w, _ in MEASURE_WEIGHTS], 1000
    )
    police_only = " OR ".join(f"{picked} = {_quote(t)}" for t, _, only in MEASURE_WEIGHTS if only)
    measure_type = (
        f"(CASE WHEN i.authority_id <> {police} AND ({police_only}) THEN 'contact' ELSE {picked} END)"
    )
    kind_draw = _hash(n, 1013904223, salt, 100)
    seizure = _weighted_case(kind_draw, [(_quote(v), w) for v, w in SEIZURE_KINDS], 100)
    referral = _weighted_case(kind_draw, [(_quote(v), w) for v, w in REFERRAL_SERVICES], 100)
    seizure_kind = f"(CASE WHEN {measure_type} = 'seizure' THEN {seizure} ELSE '' END)"
    referral_service = f"(CASE WHEN {measure_type} = 'referral' THEN {referral} ELSE '' END)"
    amount = (
        f"(CASE WHEN {measure_type} = 'caution_fee' THEN 35 "
        f"WHEN {seizure_kind} = 'cash' THEN 5 + {_hash(n, 69069, salt, 500)} ELSE NULL END)"
    )
    # A few minutes to two hours after the incident: some measures fall on the next day.
    minutes = _hash(n, 22695477, salt, 30 if number == 0 else 120)
    if _postgres():
        taken_at = f"(i.occurred_at + make_interval(mins => {minutes}::int))"
    else:
        taken_at = f"datetime(i.occurred_at, '+' || {minutes} || ' minutes')"
    which = "" if number == 0 else f" AND {n} % 2 = 0"
    return (
        "INSERT INTO field_measure (incident_id, type, authority_id, taken_by_id, taken_at, person_id, "
        "amount, seizure_kind, quantity, quantity_unit, referral_service, note) "
        f"SELECT i.id, {measure_type}, i.authority_id, NULL, {taken_at}, NULL, {amount}, {seizure_kind}, "
        f"NULL, '', {referral_service}, '' FROM field_incident i WHERE i.id > {base}{which}"
    )


def seed(measures: int, days: int, seed: int) -> dict[str, int | str]:
    """Two years of incidents, measures, area links and patrols, generated inside the database."""
    from django.db import connection, transaction
    from django.utils import timezone

    from lagebild.catalog.models import Category
    from lagebild.core.models import Authority
    from lagebild.demo.base import CITY, POLICE

    incidents = max(1, math.ceil(measures / 1.5))
    last_day = timezone.localdate() - dt.timedelta(days=1)
    first_day = last_day - dt.timedelta(days=days - 1)
    zone = ZoneInfo("Europe/Berlin")
    first_epoch = int(dt.datetime.combine(first_day, dt.time(0), tzinfo=zone).timestamp())
    city = Authority.objects.get(code=CITY).pk
    police = Authority.objects.get(code=POLICE).pk
    categories = dict(Category.objects.filter(active=True).values_list("code", "pk"))
    category_choices = [(str(pk), CATEGORY_WEIGHTS.get(code, 5)) for code, pk in sorted(categories.items())]
    points, links = _point_pool(seed)
    postgres = _postgres()

    with connection.cursor() as cursor:
        if not postgres:
            cursor.execute("PRAGMA cache_size = -1000000")
        cursor.execute("DROP TABLE IF EXISTS bench_point")
        cursor.execute("DROP TABLE IF EXISTS bench_point_area")
        cursor.execute(
            "CREATE TABLE bench_point (idx integer PRIMARY KEY, lat double precision, lon double precision, "
            "x double precision, y double precision, h3 varchar(16))"
        )
        cursor.execute("CREATE TABLE bench_point_area (idx integer, area_id integer)")
        cursor.executemany("INSERT INTO bench_point VALUES (%s, %s, %s, %s, %s, %s)", points)
        cursor.executemany("INSERT INTO bench_point_area VALUES (%s, %s)", links)
        cursor.execute("CREATE INDEX bench_point_area_idx ON bench_point_area (idx)")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM field_incident")
        base = int(cursor.fetchone()[0])
        if postgres:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('field_incident', 'id'), %s)", [base + incidents]
            )

    started = time.perf_counter()
    from lagebild.field.models import Incident, IncidentArea, Measure

    counts: dict[str, int | str] = {}
    with transaction.atomic():
        if postgres:
            # Generated rows are valid by construction: no foreign-key trigger per row while loading.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        with _without_secondary_indexes(["field_incident", "field_measure", "field_incidentarea"]):
            with connection.cursor() as cursor:
                cursor.execute(
                    _incident_sql(base, incidents, days, first_epoch, city, police, category_choices)
                )
                log(f"{incidents:,} Feststellungen ({time.perf_counter() - started:.0f} s)")
                cursor.execute(_link_sql(base))
                log(f"Gebietszuordnungen ({time.perf_counter() - started:.0f} s)")
                for number in (0, 1):
                    cursor.execute(_measure_sql(base, number, police))
                    log(f"Maßnahmen {number + 1} ({time.perf_counter() - started:.0f} s)")
            log("Indizes werden neu angelegt …")
        counts["patrols"] = _patrols(first_day, days, seed)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_point")
        cursor.execute("DROP TABLE bench_point_area")
        if postgres:
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA cache_size = -2000")
    from lagebild.core.scoping import unscoped

    with unscoped():
        counts["incidents"] = Incident.objects.count()
        counts["measures"] = Measure.objects.count()
        counts["links"] = IncidentArea.objects.count()
    counts["first_day"] = first_day.isoformat()
    counts["last_day"] = last_day.isoformat()
    return counts


# --- the same figures from the raw tables --------------------------------------------------


def _local_midnight(day: dt.date) -> dt.datetime:
    from django.conf import settings

    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(settings.TIME_ZONE))


def raw_window_totals(windows: Mapping[str, object]) -> dict[str, dict]:
    """Per window the totals per dimension group, straight from the records (whole city)."""
    from django.db.models import Case, CharField, Count, DecimalField, F, Q, Sum, Value, When
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    from lagebild.analytics.indicators import GroupKey
    from lagebild.citizen.models import Report
    from lagebild.core.scoping import unscoped
    from lagebild.field.models import Incident, Measure, Patrol, PatrolMember

    result: dict[str, dict] = {name: defaultdict(lambda: [0, 0.0]) for name in windows}
    bounds = {
        name: (_local_midnight(w.start), _local_midnight(w.end + dt.timedelta(days=1)))  # type: ignore[attr-defined]
        for name, w in windows.items()
    }
    amount_field = DecimalField(max_digits=16, decimal_places=2)

    def collect(queryset, column: str, fact: str, dimensions: dict, amount: object | None) -> None:
        any_window = Q(pk__in=[])
        sums = {}
        for name, (start, end) in bounds.items():
            inside = Q(**{f"{column}__gte": start, f"{column}__lt": end})
            any_window |= inside
            sums[f"c_{name}"] = Count(Case(When(inside, then=Value(1))))
            if amount is not None:
                sums[f"a_{name}"] = Sum(
                    Case(When(inside, then=amount), default=Value(0), output_field=amount_field)
                )
        rows = queryset.filter(any_window).values(**dimensions).annotate(**sums).order_by()
        for row in rows:
            key = GroupKey(fact, row["cat"], row["mtype"], row["det"], row["auth"], row["jnt"])
            for name in windows:
                count = row[f"c_{name}"]
                value = float(row.get(f"a_{name}") or 0)
                if count or value:
                    slot = result[name][key]
                    slot[0] += count
                    slot[1] += value

    with unscoped():
        collect(
            Measure.objects.all(),
            "taken_at",
            "measure",
            {
                "cat": F("incident__category_id"),
                "mtype": F("type"),
                "det": Case(
                    When(~Q(seizure_kind=""), then=F("seizure_kind")),
                    default=F("referral_service"),
                    output_field=CharField(),
                ),
                "auth": F("authority_id"),
                "jnt": F("incident__joint"),
            },
            Coalesce(F("amount"), Value(0), output_field=amount_field),
        )
        incident_dimensions = {
            "cat": F("category_id"),
            "mtype": Value("", output_field=CharField()),
            "det": F("source"),
            "auth": F("authority_id"),
            "jnt": F("joint"),
        }
        collect(Incident.objects.all(), "occurred_at", "incident", incident_dimensions, None)
        report_dimensions = {
            "cat": Coalesce(F("service__category_id"), Value(0)),
            "mtype": Value("", output_field=CharField()),
            "auth": F("authority_id"),
            "jnt": F("joint"),
        }
        collect(
            Report.objects.all(),
            "requested_at",
            "report_received",
            {**report_dimensions, "det": F("channel")},
            None,
        )
        collect(
            Report.objects.filter(closed_at__isnull=False),
            "closed_at",
            "report_closed",
            {**report_dimensions, "det": F("status")},
            None,
        )
        # Patrols: counted on the local day of their start, staff hours per member authority.
        first = min(start for start, _ in bounds.values())
        last = max(end for _, end in bounds.values())
        members: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        # A patrol starts at most a few hours from its planned start: a day of margin, exact test below.
        near = Q(
            planned_start__gte=first - dt.timedelta(days=1), planned_start__lt=last + dt.timedelta(days=1)
        )
        patrols = list(
            Patrol.objects.filter(near).values(
                "id", "authority_id", "joint", "planned_start", "planned_end", "actual_start", "actual_end"
            )
        )
        wanted = {p["id"] for p in patrols}
        for patrol_id, authority_id in PatrolMember.objects.filter(patrol_id__in=wanted).values_list(
            "patrol_id", "authority_id"
        ):
            members[patrol_id][authority_id] += 1
    for p in patrols:
        start = timezone.localtime(p["actual_start"] or p["planned_start"])
        end = p["actual_end"] or p["planned_end"]
        hours = max((end - start).total_seconds(), 0) / 3600
        for name, (window_start, window_end) in bounds.items():
            if not window_start <= start < window_end:
                continue
            slot = result[name][GroupKey("patrol", 0, "", "", p["authority_id"], p["joint"])]
            slot[0] += 1
            for authority_id, n in members[p["id"]].items():
                slot = result[name][GroupKey("staff_hours", 0, "", "", authority_id, p["joint"])]
                slot[0] += n
                slot[1] += float(Decimal(str(round(n * hours, 2))))
    return {
        name: {k: (int(c), round(a, 2)) for k, (c, a) in groups.items()} for name, groups in result.items()
    }


def raw_figures(as_of: dt.date) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    """The cockpit's (current, prior) per indicator and window, from the raw tables."""
    from lagebild.analytics import selectors
    from lagebild.analytics.indicators import value
    from lagebild.analytics.periods import compstat_windows

    windows = compstat_windows(as_of)
    ranges = {}
    for w in windows:
        ranges[w.key], ranges[f"{w.key}_prior"] = w.current, w.prior
    totals = raw_window_totals(ranges)
    return {
        (indicator.code, w.key): (value(indicator, totals[w.key]), value(indicator, totals[f"{w.key}_prior"]))
        for indicator in selectors.indicators_for(SET_CODE)
        for w in windows
    }


def cockpit_figures(cockpit) -> dict[tuple[str, str], tuple[float | None, float | None]]:  # type: ignore[no-untyped-def]
    return {
        (row.code, w.key): (figure.current, figure.prior)
        for row in cockpit.rows
        for w, figure in zip(cockpit.windows, row.figures, strict=True)
    }


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 0.005 + 1e-9 * abs(b)


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--measures", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--raw-runs", type=int, default=3)
    parser.add_argument("--page-runs", type=int, default=10)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup()

    from django.db import connection
    from django.test import Client

    from lagebild.analytics import aggregates
    from lagebild.analytics.cockpit import build_cockpit
    from lagebild.analytics.models import CITY_AREA
    from lagebild.analytics.services import load_indicators
    from lagebild.core.models import User

    vendor = db_vendor()
    migrate()
    base_world()
    load_indicators()

    started = time.perf_counter()
    counts = seed(args.measures, args.days, args.seed)
    seed_seconds = time.perf_counter() - started
    log(f"{counts['measures']:,} Maßnahmen, {counts['incidents']:,} Feststellungen in {seed_seconds:.0f} s")
    emit(bench="cockpit_seed", db=vendor, seconds=round(seed_seconds, 1), **counts, ok=True)

    started = time.perf_counter()
    rows = aggregates.rebuild()
    rebuild_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vendor == "postgres" else "ANALYZE")
    log(f"Zähltabellen neu aufgebaut in {rebuild_seconds:.0f} s: {rows}")
    emit(
        bench="cockpit_rebuild_aggregates",
        db=vendor,
        stored_measures=counts["measures"],
        seconds=round(rebuild_seconds, 1),
        measures_per_s=round(int(counts["measures"]) / rebuild_seconds),
        rows=rows,
        ok=True,
    )

    as_of = dt.date.fromisoformat(str(counts["last_day"]))
    for _ in range(3):
        cockpit = build_cockpit(CITY_AREA, SET_CODE, as_of)
    prepare_like_a_server()
    load_before = os.getloadavg()[0]
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        cockpit = build_cockpit(CITY_AREA, SET_CODE, as_of)
        timings.append((time.perf_counter() - started) * 1000)
    p95 = percentile(timings, 95)
    aggregated = cockpit_figures(cockpit)
    ytd = cockpit.window("ytd").current
    emit(
        bench="cockpit_build",
        db=vendor,
        stored_measures=counts["measures"],
        area="Stadtgebiet",
        set=SET_CODE,
        as_of=as_of.isoformat(),
        ytd_days=ytd.days,
        indicators=len(cockpit.rows),
        n=args.runs,
        p50_ms=round(percentile(timings, 50), 2),
        p95_ms=round(p95, 2),
        max_ms=round(max(timings), 2),
        load_1min=round(load_before, 2),
        target_p95_ms=TARGET_P95_MS,
        ok=p95 < TARGET_P95_MS,
    )

    raw_timings, raw = [], {}
    for _ in range(args.raw_runs):
        started = time.perf_counter()
        raw = raw_figures(as_of)
        raw_timings.append((time.perf_counter() - started) * 1000)
    differences = [
        {
            "indicator": code,
            "window": window,
            "aggregated": aggregated[(code, window)],
            "raw": raw.get((code, window)),
        }
        for code, window in aggregated
        if not all(
            _same(a, b)
            for a, b in zip(aggregated[(code, window)], raw.get((code, window), (None, None)), strict=True)
        )
    ]
    raw_median = statistics.median(raw_timings)
    emit(
        bench="cockpit_raw",
        db=vendor,
        stored_measures=counts["measures"],
        n=args.raw_runs,
        raw_median_ms=round(raw_median, 1),
        aggregated_p50_ms=round(percentile(timings, 50), 2),
        ratio_raw_to_aggregated=round(raw_median / percentile(timings, 50), 1),
        figures_compared=len(aggregated) * 2,
        identical=not differences,
        differences=differences[:5],
        sample={
            f"{code} {window}": list(aggregated[(code, window)])
            for code, window in (
                ("dispersal-orders", "ytd"),
                ("drug-consumption-observed", "28d"),
                ("staff-hours", "week"),
                ("cash-seized", "ytd"),
            )
            if (code, window) in aggregated
        },
        ok=not differences,
    )

    client = Client(HTTP_HOST="127.0.0.1")
    two_factor_login(client, User.objects.get(username="sonderstab"))
    url = f"/auswertung/lage/?date={as_of.isoformat()}"
    statuses = {client.get(url).status_code for _ in range(2)}
    page_timings = []
    for _ in range(args.page_runs):
        started = time.perf_counter()
        statuses.add(client.get(url).status_code)
        page_timings.append((time.perf_counter() - started) * 1000)
    emit(
        bench="cockpit_page",
        db=vendor,
        stored_measures=counts["measures"],
        n=args.page_runs,
        p50_ms=round(percentile(page_timings, 50), 1),
        p95_ms=round(percentile(page_timings, 95), 1),
        statuses=sorted(statuses),
        ok=statuses == {200},
    )


if __name__ == "__main__":
    main()
