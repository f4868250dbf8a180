"""Parallel writers neither fail nor lose counts on the shared count rows (PostgreSQL, real connections).

Every citizen report and every incident updates the same rows of the count tables (the city's
row of the hour, day, week, month and year). Upserted in hash order, parallel Open311 posts in
the benchmark (8 clients, ~1,000 posts) deadlocked about once per hundred posts; rows are now
upserted in key order, so all writers lock shared rows in the same order. The deadlock needs an
unlucky interleaving and this test does not provoke it reliably; it guards the locking path and
the counts under real parallel transactions. SQLite serialises writers, so this runs on
PostgreSQL only.
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
