"""The demo city: accounts, synthetic records that follow the rules, calibration to the seeds."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from lagebild.catalog.models import CAUTION_MAX, CAUTION_MIN
from lagebild.core.models import Role, User
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.demo import calibration as cal
from lagebild.demo.base import DEMO_LOGINS
from lagebild.demo.service import DemoConfig, setup_demo
from lagebild.field.models import (
    POLICE_ONLY_MEASURES,
    Incident,
    IncidentArea,
    Measure,
    Patrol,
    PatrolMember,
    Person,
    Shift,
)
from lagebild.geo.models import Area
from lagebild.geo.services import area_index

END = dt.date(2026, 11, 22)
SHORT = DemoConfig(end_date=END, months=1, scale=0.15, seed=7)
# Holds all three operations: the police (1 Jul–25 Aug), the Wallring (17–30 Aug) and the
# November operation in the City (2–15 Nov 2026) with the two weeks after it.
NOVEMBER = DemoConfig(end_date=dt.date(2026, 12, 5), months=6, scale=0.15, seed=7)


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # Hashing "demo" with PBKDF2 would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def short_demo(db):
    return setup_demo(SHORT)


def _snapshot() -> tuple[dict[str, int], list[tuple]]:
    with unscoped():
        counts = {
            "incidents": Incident.objects.count(),
            "measures": Measure.objects.count(),
            "patrols": Patrol.objects.count(),
            "shifts": Shift.objects.count(),
            "persons": Person.objects.count(),
            "links": IncidentArea.objects.count(),
        }
        first = list(
            Incident.objects.order_by("occurred_at", "id").values_list(
                "occurred_at", "authority__code", "category__code", "lat", "lon", "joint"
            )[:25]
        )
    return counts, first


def test_demo_logins_exist_with_roles_and_password_demo(short_demo, client):
    expected = {login.username: login for login in DEMO_LOGINS}
    assert set(expected) == {
        "kod",
        "kod-lead",
        "polizei",
        "analyse",
        "sonderstab",
        "leitung",
        "ob",
        "pp",
        "vorstand",
        "ag-polizei",
        "bussgeld",
        "admin",
    }
    for user in User.objects.filter(username__in=expected):
        login = expected[user.username]
        assert user.authority.code == login.authority
        assert user.role == login.role
        assert user.first_name and user.last_name
        assert client.login(username=user.username, password="demo"), user.username
        client.logout()
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser and admin.role == Role.ADMIN
    assert User.objects.get(username="polizei").authority.kind == "police"
    assert [row.username for row in short_demo.logins] == [login.username for login in DEMO_LOGINS]


def test_patrol_staff_accounts_cannot_log_in(short_demo, client):
    kod_staff = User.objects.filter(username__startswith="kod-0")
    police_staff = User.objects.filter(username__startswith="pol-")
    assert kod_staff.count() == 72
    assert police_staff.count() == 60
    assert {u.authority.code for u in police_staff} == {"polizei"}
    assert not any(u.has_usable_password() for u in [*kod_staff, *police_staff])
    assert not client.login(username="kod-017", password="demo")


def test_second_run_adds_nothing(short_demo):
    before = _snapshot()
    users = User.objects.count()
    areas = Area.objects.count()

    again = setup_demo(SHORT)

    assert again.data.skipped
    assert (again.areas, again.places, again.catalogue, again.users) == (0, 0, 0, 0)
    assert _snapshot() == before
    assert User.objects.count() == users
    assert Area.objects.count() == areas


def test_same_seed_gives_the_same_records(short_demo):
    first = _snapshot()
    assert first[0]["incidents"] > 300
    with unscoped():
        Measure.objects.all().delete()
        Incident.objects.all().delete()
        PatrolMember.objects.all().delete()
        Patrol.objects.all().delete()
        Shift.objects.all().delete()
        Person.objects.all().delete()

    setup_demo(SHORT)

    assert _snapshot() == first


def test_generated_records_follow_the_recording_rules(short_demo):
    tz = timezone.get_current_timezone()
    window_end = dt.datetime.combine(END, dt.time.min, tzinfo=tz)
    with unscoped():
        incidents = list(
            Incident.objects.select_related("category_rule", "authority", "patrol").prefetch_related(
                "area_links"
            )
        )
        measures = list(Measure.objects.select_related("incident__category_rule", "incident__authority"))
        patrols = list(Patrol.objects.prefetch_related("memberships__authority"))
    assert incidents and measures and patrols

    lats = np.array([i.lat for i in incidents])
    lons = np.array([i.lon for i in incidents])
    assert area_index().inside_boundary_many(lons, lats).all()
    for incident in incidents:
        assert incident.x_utm and incident.y_utm and len(incident.h3_cell) == 15
        assert incident.area_links.all(), incident.pk
        assert incident.category_rule is not None
        assert incident.category_rule.category_id == incident.category_id
        assert incident.category_rule.applies_on(timezone.localtime(incident.occurred_at).date())
        assert incident.occurred_at < window_end
        if incident.authority.kind == "city":
            assert 6 <= timezone.localtime(incident.occurred_at).hour < 22  # KOD has no night shift
        if incident.patrol is not None:
            patrol = incident.patrol
            assert patrol.authority_id == incident.authority_id or patrol.joint
            assert incident.joint == patrol.joint
            assert patrol.start <= incident.occurred_at <= patrol.end

    for measure in measures:
        incident = measure.incident
        assert measure.authority_id == incident.authority_id
        if measure.type in POLICE_ONLY_MEASURES:
            assert incident.authority.kind == "police"
        if measure.type == "caution_fee":
            rule = incident.category_rule
            assert rule.caution_allowed
            assert CAUTION_MIN <= measure.amount <= CAUTION_MAX
            assert measure.amount == rule.caution_amount
        if measure.person_id:
            assert measure.person.authority_id == measure.authority_id

    for patrol in patrols:
        members = list(patrol.memberships.all())
        kinds = {m.authority.kind for m in members}
        assert patrol.member_count == len(members) >= 2
        assert patrol.joint == (kinds == {"city", "police"})
        hours = Decimal(len(members)) * Decimal((patrol.end - patrol.start).total_seconds()) / Decimal(3600)
        assert patrol.staff_hours == hours.quantize(Decimal("0.01"))


def test_today_has_a_planned_doppelstreife_with_the_demo_logins(short_demo):
    with unscoped():
        today = Patrol.objects.filter(shift__date=END, joint=True).order_by("pk").first()
        assert today is not None and today.actual_start is None
        members = set(today.memberships.values_list("user__username", flat=True))
    assert {"kod", "polizei"} <= members


def test_city_and_police_see_only_their_own_and_joint_demo_records(short_demo):
    kod = User.objects.get(username="kod")
    polizei = User.objects.get(username="polizei")
    with unscoped():
        police_only = set(
            Incident.objects.filter(authority=polizei.authority, joint=False).values_list("pk", flat=True)
        )
        city_only = set(
            Incident.objects.filter(authority=kod.authority, joint=False).values_list("pk", flat=True)
        )
        joint = set(Incident.objects.filter(joint=True).values_list("pk", flat=True))
        police_persons = set(Person.objects.filter(authority=polizei.authority).values_list("pk", flat=True))
    assert police_only and city_only and joint and police_persons
    with authority_scope(kod.authority):
        seen = set(Incident.objects.values_list("pk", flat=True))
        assert seen == city_only | joint
        assert not Measure.objects.filter(incident_id__in=police_only).exists()
        assert not Person.objects.filter(pk__in=police_persons).exists()
    with authority_scope(polizei.authority):
        assert set(Incident.objects.values_list("pk", flat=True)) == police_only | joint


# --- calibration to the published figures ----------------------------------------------------------


def test_exact_plans_reproduce_the_published_figures():
    op = cal.OPERATION_BLOCK
    assert op.total("dispersal_order") == 782
    assert cal.within(op.total("offence_report"), 1000)
    assert cal.within(op.total("offence_report", "drug-consumption-public"), 400)
    assert cal.within(op.total("offence_report", "aggressive-begging"), 136)
    police = cal.POLICE_BLOCK
    assert cal.within(police.total("dispersal_order"), 1000)
    assert cal.within(police.total("offence_report") + police.total("criminal_complaint"), 440)
    assert police.total("contact") >= 800
    assert police.total("seizure", "weapons") == 18
    for block in (op, police):
        for code, counts in block.measures.items():
            n = block.incidents[code]
            assert all(k <= n for k in counts.values()), code
            # A caution with fee and an OWi report exclude each other.
            assert counts.get("offence_report", 0) + counts.get("caution_fee", 0) <= n, code


def test_operation_lies_in_the_last_august_that_ended_eight_weeks_ago():
    assert cal.operation_start(dt.date(2026, 11, 22)) == dt.date(2026, 8, 17)
    assert cal.operation_start(dt.date(2026, 10, 26)) == dt.date(2026, 8, 17)
    assert cal.operation_start(dt.date(2026, 10, 25)) == dt.date(2025, 8, 17)
    # Twelve months back from late October would miss it: the window grows to keep
    # the operation and twelve weeks before it.
    config = DemoConfig(end_date=dt.date(2026, 10, 20), months=12)
    assert config.operation.start == dt.date(2025, 8, 17)
    assert config.first_day <= dt.date(2025, 8, 17) - dt.timedelta(weeks=12)
    assert DemoConfig(end_date=dt.date(2026, 11, 22), months=12).first_day == dt.date(2025, 11, 22)
    assert DemoConfig(end_date=dt.date(2026, 11, 22)).first_day == dt.date(2024, 11, 22)


def test_november_plan_is_the_wallring_per_staff_hour_with_the_published_reasons():
    assert cal.staff_days(cal.NOVEMBER_STAFF_PER_WEEKDAY, 14) == 602
    assert cal.staff_days(cal.OPERATION_STAFF_PER_WEEKDAY, 14) == 620
    assert max(cal.NOVEMBER_STAFF_PER_WEEKDAY) == 45 and min(cal.NOVEMBER_STAFF_PER_WEEKDAY) == 40
    nov, wallring = cal.NOVEMBER_BLOCK, cal.OPERATION_BLOCK
    assert cal.november_targets() == {"dispersal_order": 759, "offence_report": 953}
    for measure_type, target in cal.november_targets().items():
        assert nov.total(measure_type) == target
        per_staff_day = nov.total(measure_type) / 602, wallring.total(measure_type) / 620
        assert per_staff_day[0] == pytest.approx(per_staff_day[1], rel=0.002)
    assert sum(nov.incidents.values()) == pytest.approx(
        sum(wallring.incidents.values()) * 602 / 620, rel=0.01
    )
    # Begging and camping ("unerlaubtes Lagern") weigh more than in the Wallring, drugs stay first.
    share = {
        name: {code: n / sum(block.incidents.values()) for code, n in block.incidents.items()}
        for name, block in (("nov", nov), ("wallring", wallring))
    }
    for code in ("aggressive-begging", "camping"):
        assert share["nov"][code] > share["wallring"][code], code
    assert max(nov.incidents, key=nov.incidents.__getitem__) == "drug-consumption-public"
    for code, counts in nov.measures.items():
        n = nov.incidents[code]
        assert all(k <= n for k in counts.values()), code
        assert counts.get("offence_report", 0) + counts.get("caution_fee", 0) <= n, code


def test_november_operation_is_the_last_one_with_two_weeks_after_it_in_the_data():
    from lagebild.analytics import balance as bal

    assert cal.november_operation_start(dt.date(2026, 12, 6)) == dt.date(2026, 11, 2)
    assert cal.november_operation_start(dt.date(2026, 11, 30)) == dt.date(2026, 11, 2)
    assert cal.november_operation_start(dt.date(2026, 11, 29)) == dt.date(2025, 11, 2)
    assert cal.november_operation_start(dt.date(2027, 3, 1)) == dt.date(2026, 11, 2)
    assert NOVEMBER.november_operation == cal.Period(dt.date(2026, 11, 2), dt.date(2026, 11, 15))
    assert SHORT.november_operation == cal.Period(dt.date(2025, 11, 2), dt.date(2025, 11, 15))
    # The balance page offers it with the same dates (yearly rule of operations.json).
    entries = json.loads(bal.OPERATIONS_FILE.read_text(encoding="utf-8"))["operations"]
    for end_date in (dt.date(2026, 12, 6), dt.date(2026, 11, 30), dt.date(2026, 11, 29), dt.date(2027, 8, 1)):
        resolved = dict(
            (entry["code"], (period.start, period.end))
            for entry, period in bal.resolve_operations(entries, end_date - dt.timedelta(days=1))
        )
        period = DemoConfig(end_date=end_date).november_operation
        assert resolved["kod-city-november"] == (period.start, period.end), end_date
    # The default 24 months always hold it with the two weeks before and after.
    day = dt.date(2026, 1, 1)
    while day < dt.date(2028, 1, 1):
        config = DemoConfig(end_date=day)
        period = config.november_operation
        assert config.first_day <= period.start - dt.timedelta(days=14), day
        assert period.end + dt.timedelta(days=14) <= config.last_day, day
        day += dt.timedelta(days=1)


AWKWARD_INSTANTS = [
    "2027-03-28T03:30:00+02:00",  # just after the switch to summer time
    "2027-10-31T02:30:00+02:00",  # the first 02:30 of the night the clocks go back
    "2026-12-31T23:30:00+01:00",  # 31 December in ISO week 53
    "2027-01-01T00:15:00+01:00",  # 1 January, still ISO week 53 of 2026
    "2028-02-29T09:00:00+01:00",  # 29 February
    "2027-01-04T00:00:00+01:00",  # Monday 00:00
]


def test_every_comparison_with_the_year_before_falls_on_demo_days():
    """For any end date (four years, day by day) the default demo covers all cockpit windows."""
    from lagebild.analytics.periods import compstat_windows

    day = dt.date(2026, 1, 1)
    while day < dt.date(2030, 1, 1):
        config = DemoConfig(end_date=day)
        assert config.months == 24
        assert config.first_day <= cal.add_months(day, -24)
        for pair in compstat_windows(config.last_day):
            assert pair.prior.start >= config.first_day, (day, pair.key)
            assert pair.current.end <= config.last_day, (day, pair.key)
        assert config.operation.end <= config.last_day, day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize("instant", AWKWARD_INSTANTS)
def test_demo_ends_yesterday_at_awkward_instants(db, clock, instant):
    """``lagebild demo`` without --end-date at DST nights, new year, leap day, Monday 00:00."""
    clock.move_to(instant)
    today = timezone.localdate()
    call_command("demo", "--no-serve", "--months", "1", "--scale", "0.05")
    with unscoped():
        last = Incident.objects.order_by("-occurred_at").first()
        assert last is not None and timezone.localtime(last.occurred_at).date() == today - dt.timedelta(
            days=1
        )
        assert not Incident.objects.filter(occurred_at__gte=timezone.now()).exists()
        shifts_today = Shift.objects.filter(date=today)
        assert shifts_today.count() >= 2
        for shift in shifts_today:
            # Shift times are real instants on the nights the clocks change.
            hours = (shift.ends_at - shift.starts_at).total_seconds() / 3600
            assert 6 <= hours <= 10, (shift.kind, hours)
        doppelstreife = Patrol.objects.filter(shift__date=today, joint=True).order_by("pk").first()
        assert doppelstreife is not None
        assert {"kod", "polizei"} <= set(doppelstreife.memberships.values_list("user__username", flat=True))


def test_same_arguments_give_the_same_data_whatever_the_clock_says(db, clock):
    """The wall clock does not enter the data: open reports and contact data depend on the end date."""
    from lagebild.citizen.models import Report

    config = DemoConfig(end_date=END, months=13, scale=0.05, seed=11)

    def snapshot() -> tuple:
        with unscoped():
            reports = tuple(
                Report.objects.order_by("requested_at", "service__code", "lat").values_list(
                    "status", "requested_at", "closed_at", "reporter_email", "anonymised_at", "due_at"
                )
            )
        return _snapshot(), reports

    clock.move_to("2026-11-22T00:05:00+01:00")
    setup_demo(config)
    first = snapshot()
    assert len(first[1]) > 100
    with unscoped():
        Report.objects.all().delete()
        Measure.objects.all().delete()
        Incident.objects.all().delete()
        PatrolMember.objects.all().delete()
        Patrol.objects.all().delete()
        Shift.objects.all().delete()
        Person.objects.all().delete()
    clock.move_to("2029-07-01T15:00:00+02:00")
    setup_demo(config)
    assert snapshot() == first
    # Contact data of reports closed more than a year before the end date are gone, as
    # the daily retention job would have left them; later ones are kept.
    with unscoped():
        cutoff = dt.datetime(2025, 11, 22, tzinfo=timezone.get_current_timezone())
        old = Report.objects.filter(closed_at__lt=cutoff)
        assert (
            old.exists() and not old.exclude(reporter_name="", reporter_email="", reporter_phone="").exists()
        )
        assert Report.objects.filter(closed_at__gte=cutoff).exclude(reporter_email="").exists()


def test_two_year_demo_compares_with_a_realistic_year_before(db):
    """Prior-year figures of the cockpit are of the same order as this year's, not nearly empty."""
    from lagebild.analytics.views_cockpit import build_report, default_set_code

    end = dt.date(2027, 10, 31)
    report = setup_demo(DemoConfig(end_date=end, scale=0.2, seed=5))
    assert report.data.first_day == cal.add_months(end, -24)
    with unscoped():
        cockpit = build_report(0, default_set_code(), end - dt.timedelta(days=1), False, "", "28d").cockpit
    compared = 0
    for group in cockpit.groups:
        for row in group.rows:
            for window, figure in zip(cockpit.windows, row.figures, strict=True):
                # Autumn, weeks after the operation: no exact (unscaled) plan in either period.
                # Counts only: cash seized is a few large amounts and varies by design.
                if window.key == "28d" and figure.change.is_count and figure.current >= 30:
                    compared += 1
                    assert 0.5 <= figure.prior / figure.current <= 2.0, (row.indicator.name, figure)
    assert compared >= 6


def test_kod_operation_in_the_wallring_hits_the_published_balance(db):
    config = DemoConfig(
        end_date=dt.date(2026, 9, 1),
        start_date=dt.date(2026, 8, 10),
        operation_start=dt.date(2026, 8, 17),
        scale=0.15,
    )
    report = setup_demo(config)
    city = User.objects.get(username="kod").authority
    wallring = Area.objects.get(code="wallring")

    figures = cal.operation_figures(report.data.operation, authority_id=city.pk, area_id=wallring.pk)

    assert cal.within(figures["dispersal_order"], 782)
    assert cal.within(figures["offence_report"], 1000)
    assert cal.within(figures["offence_report_drugs"], 400)
    assert cal.within(figures["offence_report_begging"], 136)
    # Displacement: right after the operation the ring just outside the Wallring is busier
    # than in the week before it started.
    zone = Area.objects.get(code="pz-nordstadt-sued")
    with unscoped():
        before = IncidentArea.objects.filter(
            area=zone, incident__occurred_at__date__range=(dt.date(2026, 8, 10), dt.date(2026, 8, 16))
        ).count()
        after = IncidentArea.objects.filter(
            area=zone, incident__occurred_at__date__range=(dt.date(2026, 8, 24), dt.date(2026, 8, 30))
        ).count()
    assert after > before


def test_police_eight_weeks_from_july_hit_the_published_balance(db):
    config = DemoConfig(
        end_date=dt.date(2026, 8, 26),
        start_date=dt.date(2026, 7, 1),
        operation_start=dt.date(2026, 8, 17),
        scale=0.05,
    )
    report = setup_demo(config)
    police = User.objects.get(username="polizei").authority

    figures = cal.police_figures(report.data.police_window, authority_id=police.pk)

    assert 8900 <= figures["staff_hours"] <= 8900 * 1.1
    assert cal.within(figures["dispersal_order"], 1000)
    assert figures["weapons"] == 18
    assert figures["cash"] == 50000
    assert cal.within(figures["offences"], 440)
    assert figures["contact"] >= 800


def test_november_operation_in_the_city_with_up_to_45_kod_staff_a_day(db):
    report = setup_demo(NOVEMBER)
    period = report.data.november_operation
    assert period == cal.Period(dt.date(2026, 11, 2), dt.date(2026, 11, 15))
    assert report.data.operation and report.data.police_window  # the other two are still there
    city = User.objects.get(username="kod").authority
    zone = Area.objects.get(code=cal.NOVEMBER_AREA)

    # Up to 45 KOD staff a day, 40–45 on every day, in the early and the late shift.
    staff = cal.staff_per_day(period, authority_id=city.pk)
    assert max(staff.values()) == 45 and min(staff.values()) >= 40
    assert staff[dt.date(2026, 11, 6)] == 45  # Thursday, the evening the mayor came along
    before = cal.Period(period.start - dt.timedelta(days=14), period.start - dt.timedelta(days=1))
    assert max(cal.staff_per_day(before, authority_id=city.pk).values()) <= 38
    with unscoped():
        patrols = Patrol.objects.filter(authority=city, shift__date__range=(period.start, period.end))
        assert set(patrols.values_list("shift__kind", flat=True)) == {"early", "late"}
        in_city = patrols.filter(area=zone).count()
        assert in_city > patrols.count() / 2
        assert patrols.filter(clothing=Patrol.Clothing.PLAIN).exists()

    # The planned balance (Wallring per staff hour), and more records in the City than before.
    figures = cal.operation_figures(period, authority_id=city.pk, area_id=zone.pk)
    targets = cal.november_targets()
    assert cal.within(figures["dispersal_order"], targets["dispersal_order"], 0.03)
    assert cal.within(figures["offence_report"], targets["offence_report"], 0.03)
    with unscoped():
        links = IncidentArea.objects.filter(area=zone)
        during = links.filter(incident__occurred_at__date__range=(period.start, period.end)).count()
        previous = links.filter(incident__occurred_at__date__range=(before.start, before.end)).count()
    assert during > 3 * previous > 0
    assert any(
        line.startswith("Sondereinsatz KOD in der City 02.11.–15.11.2026 (40–45 Kräfte am Tag")
        for line in report.balances
    )
    # The Wallring in August still hits its published balance, and per KOD staff hour (all the
    # KOD's patrols on the operation's days) both operations have as many Platzverweise.
    wallring = Area.objects.get(code="wallring")
    op = cal.operation_figures(report.data.operation, authority_id=city.pk, area_id=wallring.pk)
    assert all(cal.within(op[key], target) for key, target in cal.OPERATION_TARGETS.items())
    kod_hours = {
        name: cal.police_figures(p, authority_id=city.pk)["staff_hours"]
        for name, p in (("november", period), ("wallring", report.data.operation))
    }
    assert kod_hours["november"] == pytest.approx(kod_hours["wallring"] * 602 / 620, rel=0.01)
    assert figures["dispersal_order"] / kod_hours["november"] == pytest.approx(
        op["dispersal_order"] / kod_hours["wallring"], rel=0.03
    )


def test_no_november_operation_when_the_data_do_not_hold_it(short_demo):
    from lagebild.demo.generator import Planner, World
    from lagebild.taskforce.models import Operation

    # SHORT ends 22 November 2026: the November with two weeks after it is 2025, before its data.
    assert short_demo.data.november_operation is None
    assert not any("City" in line for line in short_demo.balances)
    assert not Operation.objects.filter(code="kod-city-november").exists()
    world = World.load()
    starts_late = DemoConfig(end_date=dt.date(2026, 12, 5), start_date=dt.date(2026, 11, 3))
    assert Planner(starts_late, world).november is None
    holds_it = DemoConfig(end_date=dt.date(2026, 12, 5), start_date=dt.date(2026, 11, 2))
    assert Planner(holds_it, world).november == cal.Period(dt.date(2026, 11, 2), dt.date(2026, 11, 15))


def test_command_prints_the_logins_and_is_idempotent(db, capsys):
    args = ["--no-serve", "--months", "1", "--scale", "0.1", "--end-date", "2026-11-22"]
    call_command("demo", *args)
    out = capsys.readouterr().out
    assert "kod-lead" in out and "Schichtleitung" in out and "Polizeipräsidium Dortmund" in out
    assert "http://127.0.0.1:8000/" in out
    assert "Feststellungen" in out

    call_command("demo", *args)
    assert "bereits vorhanden" in capsys.readouterr().out


def test_command_rejects_bad_arguments(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Datum"):
        call_command("demo", "--no-serve", "--end-date", "22.11.2026")
    with pytest.raises(CommandError, match="months"):
        call_command("demo", "--no-serve", "--months", "0")
