"""Fill a benchmark database with many incidents and measures, fast.

Rows are generated vectorised with numpy and written with ``lagebild.demo.bulk`` (plain
``executemany`` on SQLite, ``COPY`` on PostgreSQL). The records are valid like recorded
ones: points inside the city with UTM, H3 cell and area links, the category rule of the
day, caution fees only where allowed and at the standard amount.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from .common import log

SOURCES = ("patrol", "citizen_report", "control_room")
MEASURE_TYPES = ("contact", "dispersal_order", "offence_report", "criminal_complaint")
CHUNK = 50_000


def seed_records(measures: int, *, seed: int = 1, days: int = 365) -> dict[str, int]:
    """Insert ``measures`` measures on ``measures // 2`` incidents (two each)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from lagebild.catalog.models import Category
    from lagebild.catalog.selectors import pick_rule, rules_by_category
    from lagebild.core.models import Authority, User
    from lagebild.demo import bulk
    from lagebild.field.models import Incident, IncidentArea, Measure
    from lagebild.geo.services import area_index, locate_many

    rng = np.random.default_rng(seed)
    n = measures // 2
    city = Authority.objects.get(code="stadt")
    police = Authority.objects.get(code="polizei")
    authorities = [city, police]
    police_id = police.pk
    recorders = {
        a.pk: list(User.objects.filter(authority=a).values_list("pk", flat=True)) for a in authorities
    }
    categories = list(Category.objects.filter(active=True).order_by("pk"))
    rules = rules_by_category()
    end = timezone.now().replace(microsecond=0) - dt.timedelta(days=1)
    start_day = timezone.localdate(end) - dt.timedelta(days=days)
    # Rule of each category for each day (the catalogue is versioned).
    rule_table = [
        [pick_rule(rules.get(c.pk, []), start_day + dt.timedelta(days=d)) for d in range(days + 2)]
        for c in categories
    ]

    boundary = area_index().boundary
    min_lon, min_lat, max_lon, max_lat = boundary.bounds
    centre_lon, centre_lat = 7.4650, 51.5140

    written = {"incidents": 0, "measures": 0, "links": 0}
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        with connection.cursor() as cursor:
            # A large page cache while seeding only; reset before anything is measured.
            cursor.execute("PRAGMA cache_size = -1000000")
    with transaction.atomic():
        for offset in range(0, n, CHUNK):
            size = min(CHUNK, n - offset)
            # Points: half around the centre, half spread over the city; all inside it.
            lats = np.empty(0)
            lons = np.empty(0)
            while len(lats) < size:
                want = (size - len(lats)) * 2
                near = rng.random(want) < 0.5
                lat = np.where(near, rng.normal(centre_lat, 0.01, want), rng.uniform(min_lat, max_lat, want))
                lon = np.where(near, rng.normal(centre_lon, 0.016, want), rng.uniform(min_lon, max_lon, want))
                lat, lon = np.round(lat, 6), np.round(lon, 6)
                inside = area_index().inside_boundary_many(lon, lat)
                lats = np.concatenate([lats, lat[inside]])
                lons = np.concatenate([lons, lon[inside]])
            lats, lons = lats[:size], lons[:size]
            located = locate_many(lats, lons)
            # Chunks walk forward through time and rows are sorted: index inserts stay local.
            span = days * 86400 / max(n, 1)
            seconds = np.sort(rng.uniform(offset * span, (offset + size) * span, size))[::-1]
            occurred = [end - dt.timedelta(seconds=int(s)) for s in seconds.tolist()]
            authority = rng.choice([city.pk, police.pk], size=size, p=[0.75, 0.25])
            category = rng.integers(0, len(categories), size)
            ids = bulk.reserve_ids(Incident, size)
            stamp = bulk.datetime_adapter()
            incident_rows = []
            link_rows = []
            measure_rows = []
            mtypes = rng.integers(0, len(MEASURE_TYPES), (size, 2))
            pick = rng.random(size)
            for i, pk in enumerate(ids):
                when = occurred[i]
                a = int(authority[i])
                c = int(category[i])
                rule = rule_table[c][(timezone.localdate(when) - start_day).days]
                recorder_list = recorders[a]
                recorder = recorder_list[int(pick[i] * len(recorder_list))]
                at = stamp(when)
                incident_rows.append((
                    pk, a, bool(pick[i] < 0.1), at, at, recorder, None, categories[c].pk,
                    rule.pk if rule else None, SOURCES[int(pick[i] * 10) % 3], "", "",
                    float(lats[i]), float(lons[i]), float(located.x_utm[i]), float(located.y_utm[i]),
                    located.h3_cells[i], "",
                ))  # fmt: skip
                link_rows.extend((pk, area) for area in located.area_ids[i])
                first, second = MEASURE_TYPES[int(mtypes[i, 0])], MEASURE_TYPES[int(mtypes[i, 1])]
                if rule and rule.caution_allowed and rule.caution_amount and a != police_id:
                    second, amount = "caution_fee", rule.caution_amount
                else:
                    amount = None
                measure_rows.append((pk, first, a, recorder, at, None, None, "", None, "", "", ""))
                measure_rows.append((pk, second, a, recorder, at, None, amount, "", None, "", "", ""))
            bulk.insert(
                Incident,
                ["id", "authority", "joint", "occurred_at", "recorded_at", "recorded_by", "patrol",
                 "category", "category_rule", "source", "description", "address_text", "lat", "lon", "x_utm",
                 "y_utm", "h3_cell", "external_id"],
                incident_rows,
            )  # fmt: skip
            bulk.insert(IncidentArea, ["incident", "area"], link_rows)
            bulk.insert(
                Measure,
                ["incident", "type", "authority", "taken_by", "taken_at", "person", "amount", "seizure_kind",
                 "quantity", "quantity_unit", "referral_service", "note"],
                measure_rows,
            )  # fmt: skip
            written["incidents"] += len(incident_rows)
            written["measures"] += len(measure_rows)
            written["links"] += len(link_rows)
            log(f"{written['incidents']:,} Feststellungen, {written['measures']:,} Maßnahmen geschrieben")
    with connection.cursor() as cursor:
        if sqlite:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA cache_size = -2000")
        else:
            # Like a database that has been running for a while: autovacuum would otherwise
            # start on the fresh tables in the middle of the measurement.
            cursor.execute("VACUUM ANALYZE")
    return written
