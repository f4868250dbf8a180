"""Read replica: the cockpit and the Einsatzbilanz read from it, everything else from default.

Runs on two real PostgreSQL databases: DATABASE_URL and LAGEBILD_REPLICA_DATABASE_URL (another
database on the same server is enough; the test runner creates and migrates both). The replica
is filled the way replication fills it, as a copy of the primary (pg_dump | psql); then a new
record goes to the primary only, as if the replica lagged behind. The cockpit must show the
replica's figure, while the incident list (a read-your-own-write page) shows the new record.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from lagebild.analytics import cockpit as ck
from lagebild.analytics.models import CITY_AREA
from lagebild.analytics.services import load_indicators
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident
from lagebild.ops.db_router import analytics_database, analytics_reads

from .test_analytics_cockpit import _page_rows

pytestmark = [
    pytest.mark.skipif(
        "replica" not in settings.DATABASES
        or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL and LAGEBILD_REPLICA_DATABASE_URL (a second database)",
    ),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]

INDICATORS = {
    "indicators": [
        {"code": "incidents", "name": "Feststellungen gesamt", "kind": "problem", "fact": "incident"}
    ],
    "sets": [{"code": "wochenlage", "name": "Wochenlage", "indicators": ["incidents"]}],
}


def _psql_arguments(alias: str) -> tuple[list[str], dict[str, str]]:
    config = connections[alias].settings_dict
    env = os.environ | ({"PGPASSWORD": config["PASSWORD"]} if config["PASSWORD"] else {})
    arguments = [
        "--host", config["HOST"] or "127.0.0.1",
        "--port", str(config["PORT"] or 5432),
        "--username", config["USER"] or "postgres",
        "--dbname", config["NAME"],
    ]  # fmt: skip
    return arguments, env


def _replicate() -> None:
    """The replica becomes a copy of the primary, schema and rows (what streaming replication does)."""
    source, env = _psql_arguments("default")
    target, _ = _psql_arguments("replica")
    connections["replica"].close()
    dump = subprocess.run(
        ["pg_dump", "--clean", "--if-exists", "--no-owner", *source], env=env, capture_output=True, check=True
    )
    subprocess.run(
        ["psql", "--quiet", "--set", "ON_ERROR_STOP=1", *target],
        input=dump.stdout,
        env=env,
        capture_output=True,
        check=True,
    )


def _incident(user, category, at: dt.datetime) -> Incident:
    with authority_scope(user.authority_id):
        return field.incident_create(
            user=user,
            category=category,
            occurred_at=at,
            lat=51.53,
            lon=7.43,
            measures=[MeasureInput(type="dispersal_order")],
        )


def test_cockpit_reads_the_replica_while_lists_and_writes_use_the_primary(
    client, world, kod, analyst, tmp_path: Path
) -> None:
    indicators = tmp_path / "indicators.json"
    indicators.write_text(json.dumps(INDICATORS), encoding="utf-8")
    load_indicators(indicators)
    today = timezone.localdate()
    as_of = today - dt.timedelta(days=today.isoweekday())  # last Sunday: a complete week
    noon = timezone.make_aware(dt.datetime.combine(as_of - dt.timedelta(days=1), dt.time(12)))
    begging = world["categories"]["begging"]
    for _ in range(2):
        _incident(kod, begging, noon)
    _replicate()
    # Written after the copy: on the primary only, the replica "lags behind".
    latest = _incident(kod, begging, noon + dt.timedelta(hours=1))

    # Outside a report view everything reads the primary ...
    assert analytics_database() == "default"
    assert ck.build_cockpit(CITY_AREA, "wochenlage", as_of).figure("incidents", "week").current == 3
    # ... inside, the count tables and the catalogue come from the replica.
    with analytics_reads():
        assert analytics_database() == "replica"
        assert ck.build_cockpit(CITY_AREA, "wochenlage", as_of).figure("incidents", "week").current == 2

    # The cockpit page shows the replica's figures ...
    client.force_login(analyst)
    response = client.get(f"/auswertung/lage/?date={as_of.isoformat()}&indicator=incidents")
    assert response.status_code == 200
    row = _page_rows(response.content)["Feststellungen gesamt"]
    assert row[0] == "2"  # the week's current figure
    # ... while the field officer's list, read from the primary, has the newest record at once.
    client.force_login(kod)
    listing = client.get(reverse("field:incident-list"))
    assert listing.status_code == 200
    assert reverse("field:incident-detail", args=[latest.pk]) in listing.content.decode()
    # The replica itself was never written by the application.
    with unscoped():
        assert Incident.objects.using("replica").count() == 2
        assert Incident.objects.using("default").count() == 3
