"""Retention: reporter contact data is anonymised a configurable time after closure."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from lagebild.citizen import services as intake
from lagebild.citizen.models import Report, ReportStatus
from lagebild.core.models import AuditEvent
from lagebild.core.scoping import unscoped

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE

CONTACT = {"reporter_name": "Erika Muster", "reporter_email": "erika@example.org", "reporter_phone": "0231 1"}


def noon(days_ago: int) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


def closed_report(
    services, *, closed_days_ago: int | None, when=None, contact=CONTACT, status=ReportStatus.RESOLVED
):
    report = intake.report_create(
        service=services["begging"],
        channel="web",
        lat=INSIDE[0],
        lon=INSIDE[1],
        attributes={"personen": 1},
        requested_at=when or noon(closed_days_ago + 3 if closed_days_ago is not None else 1),
        **contact,
    )
    if closed_days_ago is not None:
        with unscoped():
            Report.objects.filter(pk=report.pk).update(
                status=status, closed_at=timezone.now() - dt.timedelta(days=closed_days_ago)
            )
    return report


def contact_of(report: Report) -> tuple[str, str, str, bool]:
    with unscoped():
        report.refresh_from_db()
    return (
        report.reporter_name,
        report.reporter_email,
        report.reporter_phone,
        report.anonymised_at is not None,
    )


@pytest.fixture
def reports(services, police):
    old = closed_report(services, closed_days_ago=400)
    recent = closed_report(services, closed_days_ago=100)
    still_open = closed_report(services, closed_days_ago=None, when=noon(500))
    anonymous = closed_report(services, closed_days_ago=400, contact={})
    # Routed to the police by the night rule: a system job covers both authorities.
    night = dt.datetime.combine(
        timezone.localdate() - dt.timedelta(days=420), dt.time(23, 30), tzinfo=timezone.get_current_timezone()
    )
    police_old = closed_report(services, closed_days_ago=400, when=night, status=ReportStatus.NOT_RESOLVABLE)
    with unscoped():
        assert Report.objects.get(pk=police_old.pk).authority == police
    return {"old": old, "recent": recent, "open": still_open, "anonymous": anonymous, "police": police_old}


def run(*args: str) -> str:
    out = StringIO()
    call_command("anonymise-reports", *args, stdout=out)
    return out.getvalue()


def test_dry_run_counts_and_changes_nothing(reports):
    output = run("--dry-run")
    assert "Probelauf: 2 Hinweise" in output and "Nichts geändert" in output
    assert contact_of(reports["old"]) == ("Erika Muster", "erika@example.org", "0231 1", False)
    assert not AuditEvent.objects.filter(action="citizen.reporters.anonymised").exists()


def test_anonymises_after_default_365_days_with_one_audit_event(reports, monkeypatch):
    monkeypatch.delenv("LAGEBILD_REPORTER_RETENTION_DAYS", raising=False)
    assert "2 Hinweise anonymisiert" in run()
    assert contact_of(reports["old"]) == ("", "", "", True)
    assert contact_of(reports["police"]) == ("", "", "", True)
    assert contact_of(reports["recent"])[:3] == ("Erika Muster", "erika@example.org", "0231 1")
    assert contact_of(reports["open"])[3] is False  # open reports keep their contact data
    assert contact_of(reports["anonymous"])[3] is False  # nothing to anonymise
    event = AuditEvent.objects.get(action="citizen.reporters.anonymised")
    assert event.detail["count"] == 2 and event.detail["days"] == 365
    # Daily runs: the next one has nothing left to do.
    assert "0 Hinweise anonymisiert" in run()
    with unscoped():
        report = Report.objects.get(pk=reports["old"].pk)
        assert report.status == ReportStatus.RESOLVED and report.h3_cell  # the report itself stays


def test_days_from_option_and_environment(reports, monkeypatch):
    monkeypatch.setenv("LAGEBILD_REPORTER_RETENTION_DAYS", "90")
    assert "Probelauf: 3 Hinweise" in run("--dry-run")
    assert "2 Hinweise anonymisiert" in run("--days", "365")
    monkeypatch.setenv("LAGEBILD_REPORTER_RETENTION_DAYS", "viele")
    with pytest.raises(CommandError):
        run()
    with pytest.raises(CommandError):
        run("--days", "-1")


def test_anonymised_report_shows_deletion_to_triage(client, reports, kod_lead, police_lead):
    run()
    client.force_login(kod_lead)
    html = client.get(
        reverse("office:report-detail", args=[reports["old"].pk]), {"kontaktdaten": "1"}
    ).content.decode()
    assert "Kontaktdaten wurden am" in html and "erika@example.org" not in html
    # Cross-authority: the city lead does not see the police report at all.
    assert client.get(reverse("office:report-detail", args=[reports["police"].pk])).status_code == 404
    client.force_login(police_lead)
    assert client.get(reverse("office:report-detail", args=[reports["police"].pk])).status_code == 200
    assert client.get(reverse("office:report-detail", args=[reports["old"].pk])).status_code == 404
