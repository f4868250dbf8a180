"""Intake, routing, service levels, status changes and merging of citizen reports."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from lagebild.citizen import selectors
from lagebild.citizen import services as intake
from lagebild.citizen.models import Report, ReportStatus, StatusChange
from lagebild.citizen.sla import add_working_days
from lagebild.core.scoping import authority_scope, unscoped

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE, OUTSIDE

BERLIN = ZoneInfo("Europe/Berlin")


NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=BERLIN)


def submit(service, when=NOON, **extra):
    values = {
        "lat": INSIDE[0],
        "lon": INSIDE[1],
        "description": "Mehrere Personen betteln aggressiv.",
        "attributes": {"personen": "3"},
    }
    values.update(extra)
    return intake.report_create(service=service, channel="web", requested_at=when, **values)


def test_public_report_is_located_routed_and_due(services, city, after_november_2026_reports):
    when = dt.datetime(2026, 11, 20, 15, 0, tzinfo=BERLIN)  # a Friday afternoon
    report = submit(services["begging"], when, reporter_email="buerger@example.org")
    assert report.status == ReportStatus.NEW and report.channel == "web"
    assert report.authority == city and report.target == services["kod"]
    assert report.routing_rule.name == "Alles andere an KOD"
    assert report.x_utm and report.h3_cell and report.attributes == {"personen": 3}
    # Two working days after a Friday: Monday and Tuesday.
    assert timezone_date(report.due_at) == dt.date(2026, 11, 24)
    with unscoped():
        assert StatusChange.objects.filter(report=report, to_status="new").exists()


def timezone_date(value):
    return value.astimezone(BERLIN).date()


def test_routing_first_match_wins_night_to_police_and_waste_forwarded(
    services, police, after_november_2026_reports
):
    night = submit(services["begging"], dt.datetime(2026, 11, 20, 23, 30, tzinfo=BERLIN))
    assert night.authority == police and night.routing_rule.name == "Nachts an Polizei"
    waste = submit(services["waste"], dt.datetime(2026, 11, 20, 23, 30, tzinfo=BERLIN), attributes={})
    assert waste.routing_rule.name == "Müll an EDG"
    assert waste.status == ReportStatus.FORWARDED and waste.closed_at is not None


@pytest.mark.parametrize(
    ("now", "due"),
    [
        # Half an hour after local midnight it is still the day before in UTC.
        ("2027-01-05T00:30:00+01:00", dt.date(2027, 1, 7)),  # Tuesday → Wednesday, Thursday
        # New Year's Eve (ISO week 53), then a holiday and a weekend.
        ("2026-12-31T23:30:00+01:00", dt.date(2027, 1, 5)),
        # Friday night before summer time starts (and Easter Monday): due in summer time.
        ("2027-03-26T23:30:00+01:00", dt.date(2027, 3, 31)),
    ],
)
def test_reports_received_now_are_due_at_the_end_of_the_local_working_day(services, clock, now, due):
    clock.move_to(now)
    report = intake.report_create(
        service=services["begging"],
        channel="web",
        lat=INSIDE[0],
        lon=INSIDE[1],
        description="Mehrere Personen betteln aggressiv.",
        attributes={"personen": "3"},
    )
    local_due = report.due_at.astimezone(BERLIN)
    assert (local_due.date(), local_due.time()) == (due, dt.time(23, 59, 59))


def test_holidays_are_not_working_days():
    # 24 Dec 2026 is a Thursday; 25 and 26 Dec are public holidays in NRW.
    due = add_working_days(dt.datetime(2026, 12, 23, 10, tzinfo=BERLIN), 2)
    assert due.date() == dt.date(2026, 12, 28)


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"lat": OUTSIDE[0], "lon": OUTSIDE[1]}, "lat", "außerhalb"),
        ({"lat": None, "lon": None}, "location", "Ort angeben"),
        ({"lon": None}, "lat", "gehören zusammen"),
        ({"description": "x" * 4001}, "description", "zu lang"),
        ({"attributes": {}}, "attributes", "Bitte beantworten"),
        ({"attributes": {"personen": "viele"}}, "attributes", "Zahl"),
        ({"attributes": {"personen": 2, "tageszeit": ["immer"]}}, "attributes", "vorgegebene"),
        ({"reporter_email": "kein-mail"}, "reporter_email", "gültige E-Mail"),
    ],
)
def test_invalid_reports_get_german_messages_at_the_field(
    services, extra, field, message, after_november_2026_reports
):
    with pytest.raises(ValidationError) as excinfo:
        submit(services["begging"], **extra)
    assert message in " ".join(excinfo.value.message_dict[field])
    with unscoped():
        assert Report.objects.count() == 0


def test_acute_categories_are_refused_for_the_public(services, after_november_2026_reports):
    with pytest.raises(ValidationError, match="110"):
        submit(services["violence"], attributes={})


def test_html_is_stripped(services, after_november_2026_reports):
    report = submit(services["begging"], description="<script>alert(1)</script><b>Hallo</b> & Tschüss")
    assert report.description == "Hallo & Tschüss"


def test_transitions_first_response_and_closure(
    services, kod, kod_lead, analyst, after_november_2026_reports
):
    report = submit(services["begging"])
    with authority_scope(kod.authority):
        with pytest.raises(PermissionDenied):
            services_transition(analyst, report, "in_progress")
        services_transition(kod, report, "in_progress", public_note="Wir kümmern uns.")
        assert report.first_response_at is not None and report.closed_at is None
        services_transition(kod, report, "resolved", public_note="Personen angesprochen.")
        assert report.closed_at is not None
        with pytest.raises(PermissionDenied):
            services_transition(kod, report, "forwarded", public_note="x")
        services_transition(kod_lead, report, "triage")  # reopened
        assert report.closed_at is None
    notes = [c.public_note for c in selectors.public_history(report)]
    assert "Wir kümmern uns." in notes


def services_transition(user, report, status, **notes):
    return intake.report_transition(user=user, report=report, to_status=status, **notes)


def test_merge_counts_supporters_and_never_counts_as_resolved(
    services, kod_lead, after_november_2026_reports
):
    first = submit(services["begging"])
    second = submit(services["begging"])
    intake.report_support(report_id=second.pk)
    with authority_scope(kod_lead.authority):
        into = intake.report_merge(user=kod_lead, duplicate=second, into=first)
        second.refresh_from_db()
    assert into.supporters == 2
    assert second.status == ReportStatus.DUPLICATE and second.duplicate_of_id == first.pk


def test_nearby_open_reports_for_support(services):
    report = submit(services["begging"], when=None)  # now: within the 30-day window
    nearby = selectors.nearby_open_reports(services["begging"], INSIDE[0] + 0.001, INSIDE[1])
    assert [r["id"] for r in nearby] == [report.pk]
    assert 100 < nearby[0]["distance_m"] < 120
    assert selectors.nearby_open_reports(services["begging"], INSIDE[0] + 0.01, INSIDE[1]) == []
    assert selectors.nearby_open_reports(services["waste"], INSIDE[0], INSIDE[1]) == []


def test_cross_authority_visibility(services, kod, polizei, after_november_2026_reports):
    city_report = submit(services["begging"], dt.datetime(2026, 11, 20, 12, tzinfo=BERLIN))
    police_report = submit(services["begging"], dt.datetime(2026, 11, 20, 23, tzinfo=BERLIN))
    with authority_scope(kod.authority):
        assert set(selectors.report_list().values_list("pk", flat=True)) == {city_report.pk}
        with pytest.raises(PermissionDenied):
            services_transition(kod, police_report, "in_progress")
    with authority_scope(polizei.authority):
        assert set(selectors.report_list().values_list("pk", flat=True)) == {police_report.pk}


def test_staff_channels_need_a_staff_role(services, kod, analyst):
    report = intake.report_create(
        service=services["begging"],
        channel="phone",
        entered_by=kod,
        address_text="Westenhellweg 10",
        attributes={"personen": 1},
    )
    assert report.channel == "phone" and report.entered_by == kod
    with pytest.raises(PermissionDenied):
        intake.report_create(
            service=services["begging"],
            channel="letter",
            entered_by=analyst,
            address_text="Westenhellweg 10",
            attributes={"personen": 1},
        )


def test_receipt_time_in_the_future_is_refused(services):
    with pytest.raises(ValidationError, match="Zukunft"):
        submit(services["begging"], when=timezone.now() + dt.timedelta(hours=1))


def test_reports_about_people_are_never_published_exactly(services, client):
    begging = services["begging"]
    begging.publish_precision = "exact"
    begging.save()
    report = submit(begging, when=None)
    assert begging.effective_precision == "coarse"
    assert services["waste"].effective_precision == "exact"
    published = client.get(f"/open311/v2/requests/{report.public_id}.json").json()[0]
    # The 100 m cell centre, not the stored point (both the status page and Open311 agree).
    assert (published["lat"], published["long"]) != (report.lat, report.lon)
    assert abs(published["lat"] - report.lat) < 0.001
