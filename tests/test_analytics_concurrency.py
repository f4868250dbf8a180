"""Parallel writers neither fail nor lose counts on the shared count rows (PostgreSQL, real connections).

Every citizen report and every incident updates the same rows of the count tables (the city's
row of the hour, day, week, month and year). Upserted in hash order, parallel Open311 posts in
the benchmark (8 clients, ~1,000 posts) deadlocked about once per hundred posts; rows are now
upserted in key order, so all writers lock shared rows in the same order. The deadlock needs an
unlucky interleaving and this test does not provoke it reliably; it guards the locking path and
the counts under real parallel transactions. A rebuild locks out count writers and deferred
imports until it commits (otherwise an import committing meanwhile was counted twice; that test
fails without the lock). SQLite serialises writers, so this runs on PostgreSQL only.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from lagebild.analytics.models import CITY_AREA, DailyCount
from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel, Report
from lagebild.core.scoping import unscoped

from .citizen_fixtures import *  # noqa: F403

CENTRE = (51.514, 7.465)
WEST = (51.53, 7.43)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writers; the race needs PostgreSQL"
)


@pytest.mark.django_db(transaction=True)
def test_parallel_citizen_reports_neither_deadlock_nor_lose_counts(world, services):
    threads, per_thread = 6, 15
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def post_reports(index: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                # Alternating districts: each report touches the city's rows and its district's.
                lat, lon = CENTRE if (index + n) % 2 else WEST
                intake.report_create(
                    service=services["begging"],
                    channel=Channel.WEB,
                    lat=lat,
                    lon=lon,
                    description=f"Hinweis {index}/{n}",
                    attributes={"personen": "2"},
                )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=post_reports, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors[:3]
    with unscoped():
        assert Report.objects.count() == threads * per_thread
    received = DailyCount.objects.filter(area_id=CITY_AREA, fact="report_received").values_list(
        "count", flat=True
    )
    assert sum(received) == threads * per_thread


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_an_import_committing_during_a_rebuild_is_counted_once(world, kod_lead, now, monkeypatch):
    import datetime as dt
    import time

    from lagebild.analytics import aggregates
    from lagebild.field import importer

    from .test_analytics_aggregates import BERLIN, _csv_rows, _snapshot

    day = (now - dt.timedelta(days=2)).astimezone(BERLIN)
    records_read, may_continue = threading.Event(), threading.Event()
    original = aggregates._apply_incidents

    def paused(*args, **kwargs):  # the rebuild stops right after clearing the tables
        if threading.current_thread().name == "rebuild" and not records_read.is_set():
            records_read.set()
            may_continue.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(aggregates, "_apply_incidents", paused)
    errors: list[BaseException] = []

    def run(target) -> None:
        try:
            target()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    rebuild = threading.Thread(target=run, args=(aggregates.rebuild,), name="rebuild")
    rebuild.start()
    assert records_read.wait(30)
    # 60 rows: a deferred import. It has to wait for the rebuild (table lock) instead of
    # committing records the rebuild reads plus a pending run that would add them again.
    load = threading.Thread(
        target=run, args=(lambda: importer.import_incidents(user=kod_lead, data=_csv_rows(day, 60)),)
    )
    load.start()
    # Go on once the import waits for the rebuild's lock (or has finished, which is the bug
    # this test catches), not after a fixed sleep: the machine's speed must not decide.
    deadline = time.monotonic() + 60
    while load.is_alive() and not _someone_waits_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    may_continue.set()
    rebuild.join(60)
    load.join(60)
    assert not errors, errors
    monkeypatch.setattr(aggregates, "_apply_incidents", original)
    aggregates.catch_up()
    incremental = _snapshot()
    aggregates.rebuild()
    assert incremental == _snapshot()
    assert sum(row[-2] for row in incremental["yearly"] if row[2] == "incident" and row[1] == CITY_AREA) == 60
