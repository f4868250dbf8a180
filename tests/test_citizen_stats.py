"""Figures of citizen-report handling, checked against numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
import statistics
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from lagebild.citizen import services as intake
from lagebild.citizen import stats
from lagebild.citizen.models import Report, ReportStatus
from lagebild.core.scoping import authority_scope, unscoped

from .citizen_fixtures import *  # noqa: F403

BERLIN = ZoneInfo("Europe/Berlin")
WEST = (51.52, 7.43)
EAST = (51.52, 7.50)
FIRST, LAST = dt.date(2026, 11, 2), dt.date(2026, 11, 8)  # Monday to Sunday, no holiday
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=BERLIN)


def t(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


def make(service, when, channel="web", point=None, **extra) -> Report:
    attributes = {"personen": 2} if service.code == "betteln" else {}
    location = {"lat": point[0], "lon": point[1]} if point else {"address_text": "Irgendwo 5"}
    return intake.report_create(
        service=service, channel=channel, requested_at=when, attributes=attributes, **location, **extra
    )


def set_handling(report: Report, status: str, first_response=None, closed=None) -> None:
    with unscoped():
        Report.objects.filter(pk=report.pk).update(
            status=status, first_response_at=first_response, closed_at=closed
        )


@pytest.fixture
def dataset(services, kod_lead, police, clock):
    # The figures are those as of NOW (the intake refuses receipt times in the future).
    clock.move_to(NOW)
    begging, waste = services["begging"], services["waste"]
    a = make(begging, t(2, 10), point=WEST)  # due Wed 4 Nov
    set_handling(a, ReportStatus.RESOLVED, t(2, 14), t(4, 10))
    b = make(begging, t(3, 9), channel="phone", point=WEST, entered_by=kod_lead)  # due Thu 5 Nov
    set_handling(b, ReportStatus.RESOLVED, t(5, 9), t(9, 9))  # late
    c = make(waste, t(4, 10), point=EAST)  # forwarded to EDG by rule, closed at once
    d = make(begging, t(5, 10), channel="email", point=EAST, entered_by=kod_lead)  # open, due Mon 9 Nov
    e = make(begging, t(6, 8), point=WEST)  # merged as duplicate
    set_handling(e, ReportStatus.DUPLICATE, t(6, 10), t(6, 10))
    g = make(begging, t(6, 12), channel="letter", entered_by=kod_lead)  # no map point, rejected
    set_handling(g, ReportStatus.REJECTED, t(6, 13), t(6, 13))
    night = make(begging, t(3, 23, 30), point=WEST)  # police by the night rule
    outside = make(begging, t(9, 10), point=WEST)  # after the range
    with unscoped():
        assert Report.objects.get(pk=c.pk).status == ReportStatus.FORWARDED
        assert Report.objects.get(pk=night.pk).authority == police
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "g": g, "night": night, "outside": outside}


def test_totals_match_hand_computation(dataset, city):
    with authority_scope(city):
        total = stats.summary(FIRST, LAST, now=NOW)
    assert total.total == 6
    assert (total.open, total.resolved, total.forwarded, total.duplicates, total.closed_unresolved) == (
        1,
        2,
        1,
        1,
        1,
    )
    # Overdue: B closed after its due date, D still open past it; C (forwarded) and E
    # (duplicate) are left out of the base.
    assert (total.overdue, total.overdue_base, total.share_overdue) == (2, 4, 0.5)
    assert total.open_overdue == 1
    assert total.share_forwarded == pytest.approx(1 / 6)
    # First responses: A 4 h, B 48 h, E 2 h, G 1 h; working days 0, 2, 0, 0.
    fr = total.first_response
    assert fr.count == 4
    assert fr.median_hours == pytest.approx(3.0) and fr.mean_hours == pytest.approx(13.75)
    assert fr.median_working_days == 0 and fr.mean_working_days == pytest.approx(0.5)
    # Resolution only of "Erledigt": A 48 h (2 working days), B 144 h (Wed, Thu, Fri, Mon = 4).
    res = total.resolution
    assert res.count == 2
    assert res.median_hours == pytest.approx(96.0) and res.mean_hours == pytest.approx(96.0)
    assert res.median_working_days == pytest.approx(3.0) and res.mean_working_days == pytest.approx(3.0)


def test_forwarded_is_never_resolved(dataset, city):
    with authority_scope(city):
        waste = {f.label: f for f in stats.by_category(FIRST, LAST, now=NOW)}["Wilder Müll"]
    assert waste.total == 1 and waste.forwarded == 1
    assert waste.resolved == 0 and waste.resolution.count == 0 and waste.share_resolved == 0
    assert waste.overdue_base == 0 and waste.share_overdue is None


def test_groups_by_category_channel_and_district(dataset, city, geography):
    with authority_scope(city):
        categories = {f.label: f for f in stats.by_category(FIRST, LAST, now=NOW)}
        channels = {f.key: f for f in stats.by_channel(FIRST, LAST, now=NOW)}
        areas = {f.label: f for f in stats.by_area(FIRST, LAST, now=NOW)}
    assert {k: v.total for k, v in categories.items()} == {"Aggressives Betteln": 5, "Wilder Müll": 1}
    assert {k: v.total for k, v in channels.items()} == {"web": 3, "phone": 1, "email": 1, "letter": 1}
    assert channels["web"].label == "Online-Formular"
    assert (channels["web"].resolved, channels["web"].forwarded, channels["web"].duplicates) == (1, 1, 1)
    assert channels["phone"].overdue == 1 and channels["phone"].resolution.median_hours == pytest.approx(144)
    assert {k: v.total for k, v in areas.items()} == {"Bezirk West": 3, "Bezirk Ost": 2, stats.NO_AREA: 1}
    assert areas["Bezirk Ost"].forwarded == 1 and areas["Bezirk Ost"].open == 1


def test_figures_equal_direct_computation(dataset, city):
    """Recompute every channel's medians and means straight from the stored reports."""
    with authority_scope(city):
        channels = {f.key: f for f in stats.by_channel(FIRST, LAST, now=NOW)}
        reports = list(Report.objects.filter(requested_at__gte=t(2, 0), requested_at__lt=t(9, 0)))
    for key, figures in channels.items():
        mine = [r for r in reports if r.channel == key]
        hours = [
            (r.first_response_at - r.requested_at).total_seconds() / 3600 for r in mine if r.first_response_at
        ]
        if hours:
            assert figures.first_response.median_hours == pytest.approx(statistics.median(hours))
            assert figures.first_response.mean_hours == pytest.approx(statistics.mean(hours))
        resolved = [
            (r.closed_at - r.requested_at).total_seconds() / 3600
            for r in mine
            if r.status == ReportStatus.RESOLVED
        ]
        assert figures.resolution.count == len(resolved)
        if resolved:
            assert figures.resolution.mean_hours == pytest.approx(statistics.mean(resolved))
        late = [
            r
            for r in mine
            if r.status not in (ReportStatus.FORWARDED, ReportStatus.DUPLICATE)
            and ((r.closed_at and r.closed_at > r.due_at) or (r.closed_at is None and r.due_at < NOW))
        ]
        assert figures.overdue == len(late)
        assert figures.forwarded == sum(r.status == ReportStatus.FORWARDED for r in mine)


def test_police_figures_are_separate(dataset, city, police):
    """Cross-authority: the city never counts police reports and vice versa."""
    with authority_scope(police):
        total = stats.summary(FIRST, LAST, now=NOW)
    assert total.total == 1 and total.open == 1
    with authority_scope(city):
        assert stats.summary(FIRST, LAST, authority_id=police.pk, now=NOW).total == 0
    with unscoped():
        assert stats.summary(FIRST, LAST, now=NOW).total == 7
        assert stats.summary(FIRST, LAST, authority_id=city.pk, now=NOW).total == 6


def test_working_days_skip_weekends_and_nrw_holidays():
    assert stats.working_days_elapsed(t(2, 10), t(2, 18)) == 0
    assert stats.working_days_elapsed(t(6, 10), t(9, 8)) == 1  # Friday to Monday
    christmas_eve = dt.datetime(2026, 12, 24, 10, tzinfo=BERLIN)
    assert stats.working_days_elapsed(christmas_eve, dt.datetime(2026, 12, 28, 10, tzinfo=BERLIN)) == 1


def test_statistics_page_shows_the_figures(client, dataset, kod_lead, police_lead):
    client.force_login(kod_lead)
    html = client.get(
        reverse("office:statistics"), {"date_from": "2026-11-02", "date_to": "2026-11-08"}
    ).content.decode()
    assert "<dt>Meldungen</dt><dd>6</dd>" in html
    assert "Bezirk West" in html and "Ohne Ortsbezug" in html and "Telefon" in html
    client.force_login(police_lead)
    html = client.get(
        reverse("office:statistics"), {"date_from": "2026-11-02", "date_to": "2026-11-08"}
    ).content.decode()
    assert "<dt>Meldungen</dt><dd>1</dd>" in html


# --- the demo city's reports ------------------------------------------------------------------


def test_demo_reports_keep_the_intake_invariants(db, settings):
    from lagebild.citizen.models import RoutingRule, StatusChange
    from lagebild.citizen.sla import add_working_days
    from lagebild.demo.service import DemoConfig, setup_demo

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    config = DemoConfig(end_date=dt.date(2026, 11, 22), months=2, scale=0.5, seed=7)
    demo = setup_demo(config)
    assert "Bürgerhinweise:" in demo.citizen.line()
    with unscoped():
        reports = list(Report.objects.select_related("service", "target", "routing_rule", "authority"))
        first_changes = {}
        for change in StatusChange.objects.order_by("at", "id"):
            first_changes.setdefault(change.report_id, change)
        located = set(Report.objects.filter(area_links__isnull=False).values_list("pk", flat=True))
        rule_names = set(RoutingRule.objects.values_list("name", flat=True))
    # About 8,500 a year: two months at half scale.
    assert 550 <= len(reports) <= 850
    assert {"Wilder Müll an die EDG", "Alles andere an den KOD"} <= rule_names
    channels = {r.channel for r in reports}
    assert channels == {"phone", "email", "letter", "web", "citywache"}
    for r in reports:
        assert r.pk in located and r.h3_cell and r.target_id
        # Routed by a rule, unless triage forwarded it by hand later.
        assert r.routing_rule_id or r.status == ReportStatus.FORWARDED
        assert r.due_at == add_working_days(r.requested_at.astimezone(BERLIN), r.service.service_level_days)
        assert first_changes[r.pk].to_status == ReportStatus.NEW and first_changes[r.pk].at == r.requested_at
        assert (r.closed_at is None) == (r.status in {"new", "triage", "assigned", "in_progress"})
        if r.status == ReportStatus.FORWARDED:
            assert r.target.authority_id is None
        if r.authority.code == "polizei":
            assert r.target.kind == "police"
        if r.status == ReportStatus.DUPLICATE:
            assert r.duplicate_of.service_id == r.service_id and r.duplicate_of.authority_id == r.authority_id
    statuses = {r.status for r in reports}
    assert {"resolved", "forwarded", "duplicate"} <= statuses
    with unscoped():
        total = stats.summary(dt.date(2026, 9, 22), dt.date(2026, 11, 21), now=NOW)
    assert 0.6 <= total.share_resolved <= 0.8
    assert 0.01 <= total.share_overdue <= 0.3
    assert total.resolution.median_working_days <= 5
    # Running the demo again adds no reports.
    again = setup_demo(config)
    assert again.citizen.skipped
    with unscoped():
        assert Report.objects.count() == len(reports)
