"""Operation balance (Einsatzbilanz): figures equal direct counts over the records, the comparison
with the previous equal period, the prose reads like the published Dortmund balances, page, PDF and
XLSX show the same numbers for city and police users, bad input gives German messages."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import math
import re
import zlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from lagebild.analytics import balance as bal
from lagebild.analytics.indicators import GroupKey
from lagebild.analytics.models import CITY_AREA
from lagebild.analytics.periods import Period
from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel, Report
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.demo import calibration as cal
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure, Patrol, PatrolMember

from .citizen_fixtures import *  # noqa: F403

BERLIN = ZoneInfo("Europe/Berlin")
CENTRE = (51.514, 7.465)  # inside the focus area "centre" (and district "east")
WEST = (51.53, 7.43)  # district "west", outside the focus area
SECRET = "Vertrauliche Ermittlungsnotiz der Polizei"


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)


def _record(user, category, at, *measures, lat_lon=CENTRE, **extra) -> Incident:
    with authority_scope(user.authority_id):
        return field.incident_create(
            user=user,
            category=category,
            occurred_at=at,
            lat=lat_lon[0],
            lon=lat_lon[1],
            measures=measures,
            **extra,
        )


def _patrol(lead, members, day, start_hour, hours, *, area, kind="early", worked_hours=None):
    """A patrol in ``area``; with ``worked_hours`` it is started and ended (actual times count)."""
    with authority_scope(lead.authority_id):
        shift = field.shift_create(user=lead, date=day, kind=kind)
        patrol = field.patrol_create(
            user=lead,
            shift=shift,
            name=f"Streife {day:%d.%m.} {start_hour}",
            members=members,
            area_id=area.pk,
            planned_start=_at(day, start_hour),
            planned_end=_at(day, start_hour) + dt.timedelta(hours=hours),
        )
        if worked_hours is not None:
            field.patrol_start(user=lead, patrol=patrol, at=_at(day, start_hour))
            field.patrol_end(
                user=lead, patrol=patrol, at=_at(day, start_hour) + dt.timedelta(hours=worked_hours)
            )
    return patrol


@pytest.fixture
def scenario(world, services, kod, kod_lead, polizei, police_lead) -> dict:
    """Two weeks ending today and the two weeks before, recorded through the real services."""
    today = timezone.localdate()
    period = Period(today - dt.timedelta(days=13), today)
    previous = Period(today - dt.timedelta(days=27), today - dt.timedelta(days=14))
    cats, areas = world["categories"], world["areas"]
    d = lambda back: today - dt.timedelta(days=back)  # noqa: E731

    # Current period.
    _record(
        kod,
        cats["begging"],
        _at(d(2), 10),
        MeasureInput(type="dispersal_order"),
        MeasureInput(type="caution_fee", amount=Decimal("35")),
        MeasureInput(type="offence_report"),
    )
    _record(
        kod,
        cats["drugs"],
        _at(d(3), 18),
        MeasureInput(type="offence_report"),
        MeasureInput(type="referral", referral_service="addiction_help"),
        MeasureInput(type="contact"),
    )
    _record(
        kod, cats["drugs"], _at(d(4), 9), MeasureInput(type="offence_report"), MeasureInput(type="contact")
    )
    police_case = _record(
        polizei,
        cats["dealing"],
        _at(d(5), 23, 30),  # late evening: the local day, not the UTC day
        MeasureInput(type="dispersal_order"),
        MeasureInput(type="exclusion_order"),
        MeasureInput(type="criminal_complaint"),
        MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("1234.56")),
        MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("0.45")),
        MeasureInput(type="seizure", seizure_kind="weapon"),
        MeasureInput(type="seizure", seizure_kind="drugs"),
        MeasureInput(type="custody"),
        description=SECRET,
    )
    _record(polizei, cats["begging"], _at(d(6), 14), MeasureInput(type="dispersal_order"), lat_lon=WEST)
    _record(
        kod,
        cats["begging"],
        _at(d(7), 15),
        MeasureInput(type="dispersal_order"),
        MeasureInput(type="contact"),
        joint=True,
    )
    # Previous period; one of its incidents gets a criminal complaint filed in the current period.
    earlier = _record(kod, cats["begging"], _at(d(20), 11), MeasureInput(type="dispersal_order"))
    _record(kod, cats["begging"], _at(d(21), 11), MeasureInput(type="offence_report"))
    with authority_scope(polizei.authority_id):
        old_police = _record(polizei, cats["dealing"], _at(d(22), 12), MeasureInput(type="dispersal_order"))
        field.measure_add(
            user=polizei,
            incident=old_police,
            measure=MeasureInput(type="criminal_complaint"),
            taken_at=_at(d(1), 9),
        )
    assert earlier.pk

    # Patrols: a joint one that worked 4 of 8 planned hours, a planned KOD one (3 h), a police one before.
    _patrol(kod_lead, [kod, polizei], d(5), 8, 8, area=areas["centre"], worked_hours=4)
    _patrol(kod_lead, [kod], d(3), 10, 3, area=areas["centre"], kind="late")
    _patrol(police_lead, [polizei], d(18), 9, 2, area=areas["centre"])

    # Citizen reports: one received and resolved now, one received in the previous period.
    report = intake.report_create(
        service=services["begging"],
        channel=Channel.WEB,
        lat=CENTRE[0],
        lon=CENTRE[1],
        description="Aggressives Betteln vor dem Eingang.",
        attributes={"personen": "2"},
        requested_at=_at(d(1), 8),
    )
    triage = kod_lead if report.authority_id == kod_lead.authority_id else police_lead
    with authority_scope(triage.authority_id):
        intake.report_transition(user=triage, report=report, to_status="resolved", public_note="Erledigt.")
    intake.report_create(
        service=services["waste"],
        channel=Channel.WEB,
        lat=CENTRE[0],
        lon=CENTRE[1],
        description="Müll auf dem Gehweg.",
        attributes={},
        requested_at=_at(d(16), 8),
    )
    return {"period": period, "previous": previous, "areas": areas, "police_case": police_case}


# --- direct counts over the records (the truth the balance must equal) ------------------------


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    return _at(period.start, 0), _at(period.end + dt.timedelta(days=1), 0)


def _measures(area_id: int, period: Period, **filters):
    start, end = _bounds(period)
    with unscoped():
        queryset = Measure.objects.filter(taken_at__gte=start, taken_at__lt=end, **filters)
        if area_id != CITY_AREA:
            queryset = queryset.filter(incident__area_links__area_id=area_id)
        return list(queryset.values_list("amount", flat=True))


def _patrols_in(area_id: int, period: Period) -> list[Patrol]:
    with unscoped():
        patrols = [p for p in Patrol.objects.all() if period.contains(timezone.localtime(p.start).date())]
    return [p for p in patrols if area_id == CITY_AREA or p.area_id == area_id]


def _staff_hours(area_id: int, period: Period, authority_id: int | None = None) -> float:
    total = 0.0
    with unscoped():
        for patrol in _patrols_in(area_id, period):
            members = PatrolMember.objects.filter(patrol=patrol)
            if authority_id is not None:
                members = members.filter(authority_id=authority_id)
            total += members.count() * (patrol.end - patrol.start).total_seconds() / 3600
    return total


def _reports(area_id: int, period: Period, column: str, **filters) -> int:
    start, end = _bounds(period)
    with unscoped():
        queryset = Report.objects.filter(**{f"{column}__gte": start, f"{column}__lt": end}, **filters)
        if area_id != CITY_AREA:
            queryset = queryset.filter(area_links__area_id=area_id)
        return queryset.count()


MEASURE_KEYS = (
    "dispersal_order",
    "exclusion_order",
    "caution",
    "caution_fee",
    "offence_report",
    "criminal_complaint",
    "custody",
    "referral",
    "contact",
    "seizure",
)


def _assert_equals_records(balance: bal.Balance, area_id: int, period: Period, *, previous: bool) -> None:
    def value(key: str) -> float:
        line = balance.line(key)
        return (line.previous if previous else line.current) or 0.0

    for key in MEASURE_KEYS:
        assert value(key) == len(_measures(area_id, period, type=key)), key
    assert value("measures") == len(_measures(area_id, period))
    for kind in ("weapon", "cash", "drugs", "other"):
        assert value(f"seizure:{kind}") == len(_measures(area_id, period, type="seizure", seizure_kind=kind))
    cash = sum(_measures(area_id, period, type="seizure", seizure_kind="cash"), Decimal(0))
    assert Decimal(str(value("cash_total"))) == cash
    fees = sum(_measures(area_id, period, type="caution_fee"), Decimal(0))
    assert Decimal(str(value("caution_fee_total"))) == fees
    assert value("staff_hours") == pytest.approx(_staff_hours(area_id, period), abs=0.01)
    patrols = _patrols_in(area_id, period)
    assert value("patrols") == len(patrols)
    assert value("patrols_joint") == sum(p.joint for p in patrols)
    assert value("patrols_single") == sum(not p.joint for p in patrols)
    assert value("reports_received") == _reports(area_id, period, "requested_at")
    assert value("reports_closed") == _reports(area_id, period, "closed_at")
    assert value("reports_resolved") == _reports(area_id, period, "closed_at", status="resolved")


@pytest.mark.parametrize("area", ["city", "centre"])
def test_balance_equals_direct_counts_over_the_records(scenario, area):
    area_id = CITY_AREA if area == "city" else scenario["areas"]["centre"].pk
    period, previous = scenario["period"], scenario["previous"]
    balance = bal.build_balance(area_id, period.start, period.end)
    assert balance.previous == previous
    _assert_equals_records(balance, area_id, period, previous=False)
    _assert_equals_records(balance, area_id, previous, previous=True)
    # The scenario is not empty where it matters.
    assert balance.value("dispersal_order") >= 3 and balance.value("criminal_complaint") == 2
    assert balance.line("dispersal_order").previous == 2


def test_offence_reports_by_category_and_referrals_by_service(scenario, world):
    period = scenario["period"]
    balance = bal.build_balance(CITY_AREA, period.start, period.end)
    by_category = {
        line.label: line.current for line in balance.lines if line.key.startswith("offence_report:")
    }
    drugs, begging = world["categories"]["drugs"], world["categories"]["begging"]
    assert by_category[f"davon {drugs.name}"] == len(
        _measures(0, period, type="offence_report", incident__category=drugs)
    )
    assert by_category[f"davon {begging.name}"] == len(
        _measures(0, period, type="offence_report", incident__category=begging)
    )
    assert sum(v or 0 for v in by_category.values()) == balance.value("offence_report")
    assert balance.value("referral:addiction_help") == 1
    assert balance.line("referral:addiction_help").label == "davon Suchthilfe / Drogenberatung"


def test_staff_hours_and_platzverweise_by_authority(scenario, city, police):
    period = scenario["period"]
    balance = bal.build_balance(CITY_AREA, period.start, period.end)
    assert balance.value("staff_hours:city") == pytest.approx(_staff_hours(0, period, city.pk))
    assert balance.value("staff_hours:police") == pytest.approx(_staff_hours(0, period, police.pk))
    assert balance.value("staff_hours:city") + balance.value("staff_hours:police") == pytest.approx(
        balance.value("staff_hours")
    )
    assert balance.value("dispersal_order:city") == len(
        _measures(0, period, type="dispersal_order", authority=city)
    )
    assert balance.value("dispersal_order:police") == len(
        _measures(0, period, type="dispersal_order", authority=police)
    )
    # One partner only: its measures, its staff hours, its own and all joint patrols.
    police_only = bal.build_balance(CITY_AREA, period.start, period.end, authority="police")
    assert police_only.value("dispersal_order") == balance.value("dispersal_order:police")
    assert police_only.value("staff_hours") == pytest.approx(balance.value("staff_hours:police"))
    assert police_only.value("patrols") == 1 and police_only.value("patrols_joint") == 1
    assert not police_only.has("staff_hours:city")
    city_only = bal.build_balance(CITY_AREA, period.start, period.end, authority="city")
    assert city_only.value("patrols") == 2 and city_only.value("patrols_single") == 1
    assert city_only.value("criminal_complaint") == 0 and city_only.value("custody") == 0


def test_joint_and_single_patrols_with_actual_hours(scenario):
    period = scenario["period"]
    centre = scenario["areas"]["centre"].pk
    balance = bal.build_balance(centre, period.start, period.end)
    assert balance.value("patrols") == 2
    assert balance.value("patrols_joint") == 1  # KOD and police members
    assert balance.value("patrols_single") == 1
    # Joint: 2 members × 4 hours actually worked (not the 8 planned); single: 1 × 3 planned hours.
    assert balance.value("staff_hours") == pytest.approx(2 * 4 + 1 * 3)
    assert balance.line("patrols").previous == 1
    assert balance.line("staff_hours").previous == pytest.approx(2)


def test_cash_total_is_exact_in_euro(scenario):
    period = scenario["period"]
    balance = bal.build_balance(CITY_AREA, period.start, period.end)
    line = balance.line("cash_total")
    assert Decimal(str(line.current)) == Decimal("1234.56") + Decimal("0.45")
    assert line.current_text == "1.235,01 €"
    assert balance.value("seizure:cash") == 2
    # Exact in the table, worded like the published balances in the prose.
    assert "mehr als 1.200 € Bargeld" in balance.prose


def test_rates_per_100_staff_hours(scenario):
    period = scenario["period"]
    balance = bal.build_balance(scenario["areas"]["centre"].pk, period.start, period.end)
    hours = balance.value("staff_hours")
    assert hours > 0
    assert balance.value("rate_dispersal_order") == pytest.approx(
        balance.value("dispersal_order") / hours * 100
    )
    assert balance.value("rate_offence_report") == pytest.approx(
        balance.value("offence_report") / hours * 100
    )
    assert balance.value("rate_measures") == pytest.approx(balance.value("measures") / hours * 100)
    previous_hours = balance.line("staff_hours").previous or 0
    assert balance.line("rate_dispersal_order").previous == pytest.approx(
        (balance.line("dispersal_order").previous or 0) / previous_hours * 100
    )
    # Without staff hours there is no rate (not 0, not infinity).
    empty = bal.build_balance(scenario["areas"]["west"].pk, period.start, period.end)
    assert empty.value("dispersal_order") == 1 and empty.line("rate_dispersal_order").current is None
    assert empty.line("rate_dispersal_order").current_text == "–"


def test_comparison_with_the_previous_equal_period(scenario):
    period = scenario["period"]
    balance = bal.build_balance(CITY_AREA, period.start, period.end)
    assert balance.previous.days == period.days and balance.previous.end == period.start - dt.timedelta(
        days=1
    )
    line = balance.line("dispersal_order")
    current, prior = line.current, line.previous
    change = line.change
    assert change.delta == current - prior
    assert change.percent == pytest.approx((current - prior) / prior * 100)
    assert change.z == pytest.approx(2 * (math.sqrt(current) - math.sqrt(prior)))
    # Amounts and rates get no Poisson statistic.
    assert balance.line("staff_hours").change.z is None and balance.line("staff_hours").z_text == "–"
    assert balance.line("cash_total").change.z is None
    assert balance.line("rate_measures").change is None or balance.line("rate_measures").change.z is None
    assert balance.line("cash_total").percent_text == "–"  # nothing seized before: no percentage


def test_series_add_up_to_the_balance(scenario):
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday() + 35)
    for start in (today - dt.timedelta(days=13), today - dt.timedelta(days=44), monday):
        days = (today - start).days + 1
        balance = bal.build_balance(CITY_AREA, start, today)
        series = bal.balance_series(balance)
        assert series[0].start == start and series[-1].end == today
        assert sum(p.dispersal_orders for p in series) == balance.value("dispersal_order")
        assert sum(p.staff_hours for p in series) == pytest.approx(balance.value("staff_hours"))
        if days <= bal.DAILY_SERIES_MAX_DAYS:
            assert len(series) == days
        else:
            assert all(p.label.startswith("KW ") for p in series)
            assert all((p.end - p.start).days <= 6 for p in series)


# --- prose -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # The published balances: "fast 1000 Platzverweise", "fast 440 Straf- und OWi", "18 Waffen",
        # "50.000 Euro", "136 wegen aggressiven Bettelns"; the demo's 9.458,7 police staff hours.
        (985, "fast 1.000"),
        (981, "fast 1.000"),
        (436, "fast 440"),
        (18, "18"),
        (136, "136"),
        (50000, "50.000"),
        (400, "400"),
        (9458.71, "rund 9.500"),
        (8912, "fast 9.000"),
        (4512, "rund 4.500"),
        (782, "rund 780"),
        (3038.64, "mehr als 3.000"),
        (12.5, "12,5"),
    ],
)
def test_prose_rounds_like_the_published_balances(value, text):
    assert bal.approx_de(value) == text


def _published_police_balance() -> bal.Balance:
    """The police's eight weeks from 1 July as the demo plans them (calibration.POLICE_BLOCK)."""
    police, owi_weapons, owi_other, dealing = 2, 31, 32, 33
    current = {
        GroupKey("staff_hours", 0, "", "", police, False): (1136, 9458.71),
        GroupKey("patrol", 0, "", "", police, False): (480, 0.0),
        GroupKey("measure", dealing, "dispersal_order", "", police, False): (985, 0.0),
        GroupKey("measure", dealing, "seizure", "weapon", police, False): (18, 0.0),
        GroupKey("measure", dealing, "seizure", "cash", police, False): (23, 50000.0),
        GroupKey("measure", dealing, "criminal_complaint", "", police, False): (392, 0.0),
        GroupKey("measure", owi_weapons, "offence_report", "", police, False): (16, 0.0),
        GroupKey("measure", owi_other, "offence_report", "", police, False): (28, 0.0),
        GroupKey("measure", dealing, "contact", "", police, False): (830, 0.0),
    }
    period = Period(dt.date(2026, 7, 1), dt.date(2026, 8, 25))
    lines = bal.balance_lines(
        current,
        {},
        authority_ids=frozenset({police}),
        authority_kinds={police: "police"},
        category_names={owi_weapons: "Waffen / Messer", owi_other: "Belästigung"},
    )
    return bal.Balance(
        0, "Stadtgebiet Dortmund", "city", period, bal.previous_equal_period(period), "police", tuple(lines)
    )


def test_prose_reads_like_the_published_police_balance():
    prose = _published_police_balance().prose
    assert prose.startswith(
        "In den acht Wochen vom 01.07. bis 25.08.2026 leistete die Polizei im Stadtgebiet Dortmund "
        "rund 9.500 Personalstunden"
    )
    for published in (
        "fast 1.000 Platzverweise",
        "18 Waffen",
        "50.000 € Bargeld",
        "fast 440 Straf- und Ordnungswidrigkeiten-Anzeigen",
        "830 Gespräche mit Bürgerinnen und Bürgern",
    ):
        assert published in prose
    assert "Für den gleich langen Zeitraum davor (06.05.–30.06.2026) liegen keine" in prose


def test_prose_reads_like_the_published_kod_balance():
    city, drugs, begging = 1, 11, 12
    current = {
        GroupKey("staff_hours", 0, "", "", city, False): (400, 3038.64),
        GroupKey("measure", drugs, "dispersal_order", "", city, False): (782, 0.0),
        GroupKey("measure", drugs, "offence_report", "", city, False): (400, 0.0),
        GroupKey("measure", begging, "offence_report", "", city, False): (136, 0.0),
    }
    # The remaining 445 OWi reports spread over small categories (none reaches 10 %).
    current.update(
        {GroupKey("measure", 100 + i, "offence_report", "", city, False): (89, 0.0) for i in range(5)}
    )
    previous = {GroupKey("measure", drugs, "dispersal_order", "", city, False): (163, 0.0)}
    period = Period(dt.date(2026, 8, 17), dt.date(2026, 8, 30))
    names = {drugs: "Drogenkonsum öffentlich", begging: "Aggressives Betteln"}
    lines = bal.balance_lines(
        current,
        previous,
        authority_ids=frozenset({city}),
        authority_kinds={city: "city"},
        category_names=names,
    )
    balance = bal.Balance(
        14,
        "City (innerhalb des Wallrings)",
        "focus_area",
        period,
        bal.previous_equal_period(period),
        "city",
        tuple(lines),
    )
    prose = balance.prose
    assert prose.startswith(
        "In den zwei Wochen vom 17.08. bis 30.08.2026 leistete das Ordnungsamt (KOD) im Gebiet "
        "City (innerhalb des Wallrings) mehr als 3.000 Personalstunden."
    )
    assert "rund 780 Platzverweise" in prose
    assert (
        "fast 1.000 Ordnungswidrigkeiten-Anzeigen – davon 400 wegen „Drogenkonsum öffentlich“ und "
        "136 wegen „Aggressives Betteln“" in prose
    )
    assert "380 % mehr Platzverweise (stark auffällig, z = +30,4)" in prose  # 2(√782 − √163) = 30,4


def test_prose_of_recorded_data_names_dates_area_and_exact_small_numbers(scenario):
    period = scenario["period"]
    balance = bal.build_balance(scenario["areas"]["centre"].pk, period.start, period.end)
    prose = balance.prose
    assert prose.startswith(
        f"In den zwei Wochen {bal._short_range(period)} leisteten Ordnungsamt und Polizei"
    )
    assert "im Gebiet Zentrum 11 Personalstunden in 2 Streifen, davon 1 gemeinsame Doppelstreife." in prose
    dispersal = int(balance.value("dispersal_order"))
    assert f"{dispersal} Platzverweise" in prose
    assert "1 Waffe" in prose and "1 Aufenthaltsverbot" in prose
    assert f"Gegenüber dem gleich langen Zeitraum davor ({balance.previous.dates_label})" in prose
    rate = balance.value("rate_dispersal_order")
    assert f"{bal.doc.number_de(rate, 1)} Platzverweise" in prose


def test_period_phrases():
    assert bal.period_phrase(Period(dt.date(2026, 7, 1), dt.date(2026, 7, 31))) == "Im Juli 2026"
    assert bal.period_phrase(Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))) == "Im Jahr 2025"
    assert bal.period_phrase(Period(dt.date(2026, 7, 1), dt.date(2026, 7, 1))) == "Am 01.07.2026"
    assert (
        bal.period_phrase(Period(dt.date(2025, 12, 29), dt.date(2026, 1, 4)))
        == "In der Woche vom 29.12.2025 bis 04.01.2026"
    )
    assert (
        bal.period_phrase(Period(dt.date(2026, 7, 1), dt.date(2026, 7, 30)))
        == "In den 30 Tagen vom 01.07. bis 30.07.2026"
    )


# --- known operations (presets) ----------------------------------------------------------


def test_presets_resolve_to_the_demo_operations_for_any_build_date():
    entries = json.loads(bal.OPERATIONS_FILE.read_text(encoding="utf-8"))["operations"]
    for end_date in (
        dt.date(2026, 11, 22),
        dt.date(2026, 10, 26),
        dt.date(2026, 10, 25),
        dt.date(2027, 3, 1),
    ):
        resolved = {
            entry["code"]: period
            for entry, period in bal.resolve_operations(entries, end_date - dt.timedelta(days=1))
        }
        operation = cal.operation_period(cal.operation_start(end_date))
        police = cal.police_period(cal.police_window_start(operation.start))
        assert (resolved["kod-wallring"].start, resolved["kod-wallring"].end) == (
            operation.start,
            operation.end,
        )
        assert (resolved["polizei-sommer"].start, resolved["polizei-sommer"].end) == (
            police.start,
            police.end,
        )


def test_presets_on_the_page_link_to_their_balance(scenario, client, analyst):
    client.force_login(analyst)
    response = client.get(reverse("analytics:balance"))
    assert response.status_code == 200
    operations = response.context["operations"]
    # The test city has no "wallring" area: only the city-wide police operation is offered.
    assert [op.code for op in operations] == ["polizei-sommer"]
    assert f"?{operations[0].query.replace('&', '&amp;')}" in response.content.decode()
    # Following the preset (ISO dates in the link) shows its balance with German dates in the form.
    operation = operations[0]
    response = client.get(f"{reverse('analytics:balance')}?{operation.query}")
    balance = response.context["balance"]
    assert (balance.period.start, balance.period.end, balance.authority) == (
        operation.start,
        operation.end,
        "police",
    )
    assert f'value="{operation.start:%d.%m.%Y}"' in response.content.decode()


# --- page, PDF, XLSX ---------------------------------------------------------------------


def _query(period: Period, area_id: int, **extra: str) -> dict[str, str]:
    return {
        "area": str(area_id),
        "start": f"{period.start:%d.%m.%Y}",
        "end": f"{period.end:%d.%m.%Y}",
        **extra,
    }


def _table_html(content: bytes) -> str:
    html = content.decode()
    return html[html.index('<table class="data-table balance-table"') : html.index("</table>")]


def test_city_and_police_users_see_identical_figures(scenario, client, kod, polizei):
    period, centre = scenario["period"], scenario["areas"]["centre"].pk
    pages = {}
    for user in (kod, polizei):
        client.force_login(user)
        response = client.get(reverse("analytics:balance"), _query(period, centre))
        assert response.status_code == 200
        pages[user.username] = response
    city_page, police_page = pages["kod"], pages["polizei"]
    assert _table_html(city_page.content) == _table_html(police_page.content)
    assert city_page.context["prose"] == police_page.context["prose"]
    # The police-only case is counted for the city user too, but none of its details are shown.
    balance = city_page.context["balance"]
    assert balance.value("custody") == 1 and balance.value("seizure:weapon") == 1
    for response in (city_page, police_page):
        assert SECRET not in response.content.decode()
        assert str(scenario["police_case"].pk) not in re.findall(
            r"/feststellungen/(\d+)", response.content.decode()
        )


def test_page_shows_key_figures_prose_and_exact_table(scenario, client, analyst):
    period = scenario["period"]
    client.force_login(analyst)
    response = client.get(reverse("analytics:balance"), _query(period, CITY_AREA))
    html = response.content.decode()
    balance = response.context["balance"]
    assert "Personalstunden" in html and "Sichergestellte Waffen" in html and "Bilanz in Worten" in html
    assert '<th scope="rowgroup" colspan="6">Je 100 Personalstunden</th>' in html
    row = re.search(r'data-key="cash_total".*?</tr>', html, re.S).group(0)
    assert "1.235,01 €" in row
    assert f'href="{reverse("analytics:balance-pdf")}?' in html and "Bericht für Rat und Ausschuss" in html
    assert response.context["prose"] == balance.prose
    assert "lagebild/css/analytics-balance.css" in html


def test_default_is_the_last_28_days_of_the_whole_city(scenario, client, analyst, clock):
    clock.move_to(clock.now, tick=False)  # the page's today and the test's: midnight may pass between
    client.force_login(analyst)
    response = client.get(reverse("analytics:balance"))
    balance = response.context["balance"]
    today = timezone.localdate()
    assert balance.area_id == CITY_AREA
    assert (balance.period.start, balance.period.end) == (today - dt.timedelta(days=27), today)
    assert 'value="' + f"{today:%d.%m.%Y}" + '"' in response.content.decode()


def _pdf_text(data: bytes) -> str:
    """The content streams of a ReportLab PDF (ASCII85 + Flate encoded), decoded."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = stream.strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2])
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        chunks.append(raw.decode("latin-1"))
    return "\n".join(chunks)


def test_council_report_pdf(scenario, client, analyst):
    period = scenario["period"]
    client.force_login(analyst)
    response = client.get(reverse("analytics:balance-pdf"), _query(period, scenario["areas"]["centre"].pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="einsatzbilanz_zentrum_' in response["Content-Disposition"]
    data = response.content
    assert data.startswith(b"%PDF") and b"/MediaBox [ 0 0 595.2756 841.8898 ]" in data  # A4 portrait
    text = _pdf_text(data)
    for expected in ("Einsatzbilanz Zentrum", "Bilanz in Worten", "So sind die Zahlen zu lesen", "1.235,01"):
        assert expected in text
    assert "Personalstunden je Tag" in text and "Platzverweise je Tag" in text  # line charts (≤ 31 days)


def test_xlsx_holds_the_same_numbers(scenario, client, analyst):
    period = scenario["period"]
    client.force_login(analyst)
    query = _query(period, CITY_AREA)
    response = client.get(reverse("analytics:balance-xlsx"), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    balance = bal.build_balance(CITY_AREA, period.start, period.end)
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Bilanz", "Verlauf"]
    sheet = workbook["Bilanz"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows.index(
        ("Bereich", "Kennzahl", "Einheit", "Zeitraum", "Vorzeitraum", "Veränderung", "Veränderung in %", "z")
    )
    data = rows[header + 1 :]
    assert len(data) == len(balance.lines)
    for row, line in zip(data, balance.lines, strict=True):
        assert (row[0], row[1], row[2]) == (line.section, line.label, line.unit)
        assert row[3] == pytest.approx(line.current) if line.current is not None else row[3] is None
        assert row[4] == pytest.approx(line.previous) if line.previous is not None else row[4] is None
    cash = next(row for row in data if row[1] == "Bargeld (Summe)")
    assert cash[3] == pytest.approx(1235.01)
    series = list(workbook["Verlauf"].iter_rows(values_only=True))
    start = series.index(("Tag", "Von", "Bis", "Personalstunden", "Platzverweise")) + 1
    assert sum(r[4] for r in series[start:]) == balance.value("dispersal_order")
    assert sum(r[3] for r in series[start:]) == pytest.approx(balance.value("staff_hours"))
    assert series[start][1].date() == period.start


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "10.03.2026", "end": "01.03.2026"}, "Das Enddatum liegt vor dem Startdatum."),
        ({"start": "01.01.2010", "end": "01.01.2021"}, "Der Zeitraum darf höchstens 10 Jahre umfassen."),
        ({"area": "999999"}, "Bitte einen Eintrag aus der Liste wählen."),
        ({"area": "abc"}, "Bitte einen Eintrag aus der Liste wählen."),
        ({"start": "31.02.2026"}, "gibt es nicht im Kalender"),
        ({"end": "gestern"}, "ist kein Datum im Format TT.MM.JJJJ"),
        (
            {"start": "01.01.0001", "end": "02.01.0001"},
            "Bitte Daten zwischen 01.01.1990 und 31.12.2100 angeben.",
        ),
        ({"authority": "feuerwehr"}, "Bitte einen Eintrag aus der Liste wählen."),
    ],
)
@pytest.mark.parametrize("view", ["analytics:balance", "analytics:balance-pdf", "analytics:balance-xlsx"])
def test_bad_input_gives_german_messages_and_400(world, client, analyst, view, params, message):
    client.force_login(analyst)
    response = client.get(reverse(view), params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert message in html
    assert 'class="field-error"' in html and 'aria-invalid="true"' in html


def test_build_balance_rejects_bad_parameters(world):
    today = timezone.localdate()
    with pytest.raises(ValueError, match="Enddatum liegt vor dem Startdatum"):
        bal.build_balance(CITY_AREA, today, today - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="höchstens 10 Jahre"):
        bal.build_balance(CITY_AREA, dt.date(2000, 1, 1), dt.date(2015, 1, 1))
    with pytest.raises(ValueError, match="Gebiet gibt es nicht"):
        bal.build_balance(987654, today, today)
    with pytest.raises(ValueError, match="Gebiet gibt es nicht"):
        bal.build_balance(world["areas"]["city"].pk, today, today)  # areas of kind "city" are area 0
    with pytest.raises(ValueError, match="Behörde"):
        bal.build_balance(CITY_AREA, today, today, authority="feuerwehr")


def test_login_required(client):
    response = client.get(reverse("analytics:balance"))
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_an_empty_period_reads_sensibly(world, client, analyst):
    balance = bal.build_balance(CITY_AREA, dt.date(2001, 1, 1), dt.date(2001, 1, 28))
    assert all((line.current or 0) == 0 for line in balance.lines)
    assert balance.prose.startswith(
        "In den vier Wochen vom 01.01. bis 28.01.2001 erfassten Ordnungsamt und Polizei"
    )
    assert "keine Personalstunden" in balance.prose
    client.force_login(analyst)
    assert (
        client.get(reverse("analytics:balance-pdf"), {"start": "01.01.2001", "end": "28.01.2001"}).status_code
        == 200
    )


def test_measures_sum_with_staff_hours_of_records(scenario):
    """Cross-check with the patrol records' own staff-hours field (members × duration)."""
    period = scenario["period"]
    balance = bal.build_balance(CITY_AREA, period.start, period.end)
    with unscoped():
        stored = Patrol.objects.filter(pk__in=[p.pk for p in _patrols_in(CITY_AREA, period)]).aggregate(
            hours=Sum("staff_hours")
        )["hours"]
    assert Decimal(str(balance.value("staff_hours"))) == stored


def test_page_reads_the_areas_once_and_keeps_its_query_count(scenario, client, analyst):
    """The form, the balance and the presets share one read of the areas (with their geometry);
    the figures come from one statement over the count tables, not from queries per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    period, centre = scenario["period"], scenario["areas"]["centre"].pk
    client.force_login(analyst)
    client.get(reverse("analytics:balance"), _query(period, centre))  # session, permissions warm
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("analytics:balance"), _query(period, centre))
    assert response.status_code == 200 and response.context["balance"].value("measures") > 0
    # Reads only: PostgreSQL adds SAVEPOINT/RELEASE and SET LOCAL around the count statement.
    sqls = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    # area_choices() selects the names; the presets' code lookup selects code and id only.
    area_reads = [
        sql for sql in sqls if 'FROM "geo_area"' in sql and '"geo_area"."name"' in sql.split(" FROM ")[0]
    ]
    assert len(area_reads) == 1, area_reads
    # 17; it was 19 when the form, the balance and the presets each read the areas.
    assert len(sqls) <= 17, sqls


def test_indexed_sums_equal_a_scan_over_every_group():
    """The rows sum over an index of the totals; each sum must equal the full scan to the last bit."""
    import random

    rng = random.Random(7)
    facts = ("measure", "patrol", "staff_hours", "report_received", "report_closed")
    types = ("", "dispersal_order", "offence_report", "seizure", "referral", "caution_fee")
    details = ("", "cash", "weapon", "shelter", "resolved")
    totals = {}
    for _ in range(600):
        fact = rng.choice(facts)
        key = GroupKey(
            fact,
            rng.choice((None, 1, 2, 3)),
            rng.choice(types) if fact == "measure" else "",
            rng.choice(details),
            rng.choice((1, 2, 3)),
            rng.random() < 0.3,
        )
        totals[key] = (rng.randint(-3, 40), round(rng.uniform(-50, 900), 2))
    groups = bal._Groups(totals)
    for fact in facts:
        for measure_type in (None, *types):
            for extra in ({}, {"category_id": 2}, {"category_id": None}, {"detail": "cash"}, {"detail": ""}):
                for ids in (frozenset(), frozenset({1, 3})):
                    conditions = dict(fact=fact, authority_id=ids, **extra)
                    if measure_type is not None:
                        conditions["measure_type"] = measure_type
                    for position in (0, 1):
                        expected = bal._sum(totals, position=position, **conditions)
                        assert bal._sum(groups, position=position, **conditions) == expected, conditions


def test_table_rows_escape_every_text():
    line = bal.BalanceLine("offence_report:9", "davon <Lärm> & Müll", bal.SECTION_MEASURES, 3, 0, sub=True)
    from lagebild.analytics.views_balance import _line_rows

    html = str(_line_rows([line]))
    assert '<tr data-key="offence_report:9" class="sub-row">' in html
    assert '<th scope="row">davon &lt;Lärm&gt; &amp; Müll</th>' in html
