"""The nightly consistency check: a recount of yesterday against the count tables.

A clean database has no differences; a corrupted count row (hourly, daily, weekly, monthly,
yearly, either authority's) is reported with the stored and the expected figure and left as it
is; the clock-change days (23 and 25 local hours) are checked like any other day.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F

from lagebild.analytics.models import (
    CITY_AREA,
    DailyCount,
    HourlyCount,
    MonthlyCount,
    WeeklyCount,
    YearlyCount,
)
from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel
from lagebild.core.scoping import authority_scope
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput
from lagebild.ops import jobs
from lagebild.ops.consistency import check_day, compare, day_window
from lagebild.ops.models import JobRun

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE

BERLIN = ZoneInfo("Europe/Berlin")
WEST = (51.53, 7.43)
ORDINARY_DAY = dt.date(2026, 11, 18)  # a Wednesday
SPRING_FORWARD = dt.date(2026, 3, 29)  # 02:00 → 03:00, 23 hours
FALL_BACK = dt.date(2026, 10, 25)  # 03:00 → 02:00, 25 hours


def at(day: dt.date, hour: int, minute: int = 0, *, fold: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN, fold=fold)


def seed_day(day: dt.date, clock, *, kod, kod_lead, polizei, police_lead, world, services) -> None:
    """Records of both authorities on ``day``: incidents with measures (one with an amount),
    a patrol with staff hours, citizen reports received (city by day, police by night) and
    one closed; plus records of the days around it, which must not count for it."""
    begging, drugs = world["categories"]["begging"], world["categories"]["drugs"]
    clock.move_to(at(day, 16))
    with authority_scope(kod.authority_id):
        field.incident_create(
            user=kod, category=begging, occurred_at=at(day, 0, 10), lat=INSIDE[0], lon=INSIDE[1],
            measures=[MeasureInput(type="contact"), MeasureInput(type="dispersal_order")],
        )  # fmt: skip
        field.incident_create(
            user=kod, category=begging, occurred_at=at(day, 2, 30), lat=INSIDE[0], lon=INSIDE[1],
            measures=[MeasureInput(type="caution_fee", amount=Decimal("35.00"))],
        )  # fmt: skip
        field.incident_create(
            user=kod, category=begging, occurred_at=at(day, 0, 0) - dt.timedelta(minutes=5),
            lat=INSIDE[0], lon=INSIDE[1],
        )  # fmt: skip
    with authority_scope(polizei.authority_id):
        field.incident_create(
            user=polizei, category=drugs, occurred_at=at(day, 13, 45), lat=WEST[0], lon=WEST[1],
            measures=[MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("120.50"))],
        )  # fmt: skip
    with authority_scope(kod_lead.authority_id):
        shift = field.shift_create(user=kod_lead, date=day, kind="early")
        patrol = field.patrol_create(
            user=kod_lead, shift=shift, name="City 1", members=[kod, polizei],
            area_id=world["areas"]["centre"].pk, planned_start=at(day, 8), planned_end=at(day, 12),
        )  # fmt: skip
        field.patrol_start(user=kod_lead, patrol=patrol, at=at(day, 8, 15))
        field.patrol_end(user=kod_lead, patrol=patrol, at=at(day, 11, 15))
    by_day = intake.report_create(
        service=services["begging"], channel=Channel.PHONE, lat=INSIDE[0], lon=INSIDE[1],
        description="Betteln am Eingang.", attributes={"personen": "2"}, requested_at=at(day, 9, 30),
        entered_by=kod_lead,
    )  # fmt: skip
    lead = kod_lead if by_day.authority_id == kod_lead.authority_id else police_lead
    with authority_scope(lead.authority_id):
        intake.report_transition(user=lead, report=by_day, to_status="resolved", public_note="Erledigt.")
    clock.move_to(at(day + dt.timedelta(days=1), 3, 15))
    intake.report_create(
        service=services["begging"], channel=Channel.WEB, lat=WEST[0], lon=WEST[1],
        description="Nachts laut.", attributes={"personen": "4"}, requested_at=at(day, 23, 10),
    )  # fmt: skip
    with authority_scope(polizei.authority_id):
        field.incident_create(
            user=polizei, category=drugs, occurred_at=at(day + dt.timedelta(days=1), 0, 5),
            lat=WEST[0], lon=WEST[1],
        )  # fmt: skip


@pytest.fixture
def seeded(clock, kod, kod_lead, polizei, police_lead, world, services):
    def seed(day: dt.date) -> dt.date:
        seed_day(
            day, clock, kod=kod, kod_lead=kod_lead, polizei=polizei, police_lead=police_lead,
            world=world, services=services,
        )  # fmt: skip
        return day

    return seed


@pytest.mark.parametrize(
    "day", [ORDINARY_DAY, SPRING_FORWARD, FALL_BACK], ids=["ordinary", "spring", "autumn"]
)
def test_a_clean_database_has_no_differences_also_on_clock_change_days(seeded, kod, day):
    seeded(day)
    report = check_day(day)
    assert report.ok, report.details()
    assert report.compared["hourly"] >= 8 and report.compared["yearly"] > 0
    assert "keine Abweichungen" in report.summary_de()
    # What was counted: every record of the day, none of the day before or after.
    incidents = DailyCount.objects.get(
        area_id=CITY_AREA, day=day, fact="incident", authority_id=kod.authority_id
    )
    assert incidents.count == 2  # 00:10 and 02:30; 23:55 of the day before is not counted


def test_day_window_has_23_and_25_hours_on_the_clock_change_days():
    hours = {day: (day_window(day)[1] - day_window(day)[0]) / dt.timedelta(hours=1) for day in
             (ORDINARY_DAY, SPRING_FORWARD, FALL_BACK)}  # fmt: skip
    assert hours == {ORDINARY_DAY: 24, SPRING_FORWARD: 23, FALL_BACK: 25}


def test_the_repeated_autumn_hour_counts_both_times(seeded, kod, world):
    day = seeded(FALL_BACK)
    with authority_scope(kod.authority_id):
        for fold in (0, 1):  # 02:20 CEST and 02:20 CET: the same local hour 2
            field.incident_create(
                user=kod, category=world["categories"]["begging"], occurred_at=at(day, 2, 20, fold=fold),
                lat=INSIDE[0], lon=INSIDE[1],
            )  # fmt: skip
    assert check_day(day).ok
    hour_two = HourlyCount.objects.get(
        area_id=CITY_AREA, day=day, hour=2, fact="incident", authority_id=kod.authority_id
    )
    assert hour_two.count == 3  # 02:30 from the seed and both 02:20


@pytest.mark.parametrize(
    ("model", "period", "table"),
    [
        (HourlyCount, {"day": FALL_BACK, "hour": 2}, "hourly"),
        (DailyCount, {"day": FALL_BACK}, "daily"),
        (WeeklyCount, {"week": FALL_BACK - dt.timedelta(days=6)}, "weekly"),
        (MonthlyCount, {"month": FALL_BACK.replace(day=1)}, "monthly"),
        (YearlyCount, {"year": FALL_BACK.replace(month=1, day=1)}, "yearly"),
    ],
    ids=["hourly", "daily", "weekly", "monthly", "yearly"],
)
def test_a_corrupted_row_is_reported_and_not_fixed(seeded, kod, model, period, table):
    day = seeded(FALL_BACK)
    rows = model._base_manager.filter(
        area_id=CITY_AREA, fact="incident", authority_id=kod.authority_id, **period
    )
    assert rows.update(count=F("count") + 2) == 1
    report = check_day(day)
    assert [
        (d.table, d.key["authority_id"], d.expected[0] + 2 == d.stored[0]) for d in report.differences
    ] == [(table, kod.authority_id, True)]
    assert "1 Abweichung (" in report.summary_de() and "nicht korrigiert" in report.summary_de().lower()
    assert rows.get().count == report.differences[0].stored[0]  # still wrong: reported, not fixed


def test_a_missing_row_and_a_wrong_amount_of_the_other_authority_are_reported(seeded, kod, polizei):
    day = seeded(ORDINARY_DAY)
    DailyCount._base_manager.filter(day=day, fact="patrol", authority_id=kod.authority_id).delete()
    seized = DailyCount._base_manager.filter(
        day=day, area_id=CITY_AREA, fact="measure", detail="cash", authority_id=polizei.authority_id
    )
    assert seized.update(amount=Decimal("100.00")) == 1
    report = check_day(day)
    found = {(d.table, d.key["fact"], d.key["authority_id"]) for d in report.differences}
    assert ("daily", "measure", polizei.authority_id) in found
    assert ("daily", "patrol", kod.authority_id) in found
    # The city's figures and the police's incidents are untouched, so not reported.
    assert all(d.table == "daily" for d in report.differences)
    assert not any(d.key["fact"] == "incident" for d in report.differences)
    cash = next(d for d in report.differences if d.key["fact"] == "measure")
    assert cash.expected == (1, Decimal("120.50")) and cash.stored == (1, Decimal("100.00"))


def test_the_job_records_the_differences_and_logs_them_at_error(seeded, kod, caplog):
    day = seeded(ORDINARY_DAY)
    DailyCount._base_manager.filter(day=day, fact="incident", authority_id=kod.authority_id).update(count=0)
    with caplog.at_level(logging.ERROR, logger="lagebild.ops.jobs"):
        run = jobs.run_named("count_consistency")  # yesterday: the clock stands at day + 1, 03:15
    assert run.outcome == JobRun.Outcome.DIFFERENCES
    assert run.details["tag"] == day.isoformat() and run.details["abweichungen_gesamt"] >= 1
    assert run.details["abweichungen"][0]["gespeichert"]["anzahl"] == 0
    assert any("count_consistency" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    # A second run finds the same: nothing was corrected.
    again = jobs.run_named("count_consistency")
    assert again.details["abweichungen_gesamt"] == run.details["abweichungen_gesamt"]


def test_compare_treats_a_missing_row_as_zero():
    key = ("area_id", "day")
    expected = {(0, "a"): (1, Decimal("0.00")), (0, "b"): (0, Decimal("0.00"))}
    stored = {(0, "a"): (1, Decimal("0.00")), (0, "c"): (2, Decimal("1.50"))}
    differences = compare("daily", key, expected, stored)
    assert [(d.key, d.expected, d.stored) for d in differences] == [
        ({"area_id": 0, "day": "c"}, (0, Decimal(0)), (2, Decimal("1.50")))
    ]
