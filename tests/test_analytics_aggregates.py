"""The pre-aggregated counts stay equal to a rebuild from the records after every kind of write."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from lagebild.analytics import aggregates, selectors
from lagebild.analytics.models import (
    CITY_AREA,
    DailyCount,
    HourlyCount,
    MonthlyCount,
    PendingCounts,
    WeeklyCount,
    YearlyCount,
)
from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import importer
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE

BERLIN = ZoneInfo("Europe/Berlin")
CENTRE = (51.514, 7.465)  # inside the focus area "centre" and district "east"
WEST = (51.53, 7.43)  # district "west", outside the focus area


def _snapshot() -> dict[str, set[tuple]]:
    """All non-zero rows of the count tables."""
    result = {}
    tables = (
        ("daily", DailyCount),
        ("weekly", WeeklyCount),
        ("monthly", MonthlyCount),
        ("yearly", YearlyCount),
        ("hourly", HourlyCount),
    )
    for name, model in tables:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        rows = model.objects.exclude(count=0, amount=0).values_list(*fields)
        result[name] = {
            tuple(Decimal(str(v)).normalize() if f == "amount" else v for f, v in zip(fields, r, strict=True))
            for r in rows
        }
    return result


def _assert_incremental_equals_rebuild() -> dict[str, set[tuple]]:
    incremental = _snapshot()
    aggregates.rebuild()
    rebuilt = _snapshot()
    for table in incremental:
        only_incremental = sorted(incremental[table] - rebuilt[table], key=str)[:5]
        only_rebuilt = sorted(rebuilt[table] - incremental[table], key=str)[:5]
        assert not only_incremental and not only_rebuilt, f"{table}: {only_incremental} != {only_rebuilt}"
    return rebuilt


def _record(user, category, at, *measures, lat_lon=INSIDE, **extra) -> Incident:
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


def _daily_total(fact: str, area_id: int = CITY_AREA, **filters: object) -> int:
    return sum(
        DailyCount.objects.filter(fact=fact, area_id=area_id, **filters).values_list("count", flat=True)
    )


def test_every_write_path_keeps_counts_equal_to_a_rebuild(
    world, services, kod, kod_lead, polizei, police_lead, now
):
    begging, drugs = world["categories"]["begging"], world["categories"]["drugs"]
    yesterday = now - dt.timedelta(days=1)
    first = _record(
        kod, begging, yesterday, MeasureInput(type="contact"), MeasureInput(type="dispersal_order")
    )
    _record(polizei, drugs, now - dt.timedelta(hours=3), MeasureInput(type="dispersal_order"), lat_lon=CENTRE)
    _record(
        polizei,
        drugs,
        now - dt.timedelta(days=8),
        MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("120.50")),
        MeasureInput(type="seizure", seizure_kind="weapon"),
        lat_lon=WEST,
    )
    with authority_scope(kod.authority_id):
        field.measure_add(user=kod, incident=first, measure=MeasureInput(type="offence_report"))
    with authority_scope(kod_lead.authority_id):
        shift = field.shift_create(user=kod_lead, date=dt.date.today(), kind="late")
        patrol = field.patrol_create(
            user=kod_lead,
            shift=shift,
            name="City 1",
            members=[kod, polizei],
            area_id=world["areas"]["centre"].pk,
            planned_start=now - dt.timedelta(hours=4),
            planned_end=now + dt.timedelta(hours=2),
        )
        field.patrol_start(user=kod_lead, patrol=patrol, at=now - dt.timedelta(hours=3))
        field.patrol_end(user=kod_lead, patrol=patrol, at=now - dt.timedelta(hours=1))
    report = intake.report_create(
        service=services["begging"],
        channel=Channel.WEB,
        lat=CENTRE[0],
        lon=CENTRE[1],
        description="Personen betteln aggressiv.",
        attributes={"personen": "3"},
        reporter_email="",
    )
    triage = kod_lead if report.authority_id == kod_lead.authority_id else police_lead
    with authority_scope(triage.authority_id):
        intake.report_transition(user=triage, report=report, to_status="resolved", public_note="Erledigt.")
        intake.report_transition(user=triage, report=report, to_status="triage")
        intake.report_transition(user=triage, report=report, to_status="resolved", public_note="Erledigt.")

    rebuilt = _assert_incremental_equals_rebuild()
    assert rebuilt["daily"], "the writes must have produced counts"

    with unscoped():
        assert _daily_total("incident") == Incident.objects.count() == 3
        assert _daily_total("measure") == Measure.objects.count() == 6
    # The police see the same shared figures as the city: aggregates carry no authority scope.
    assert _daily_total("measure", authority_id=polizei.authority_id) == 3
    assert _daily_total("measure", authority_id=kod.authority_id) == 3
    cash = DailyCount.objects.filter(area_id=CITY_AREA, fact="measure", detail="cash").get()
    assert cash.amount == Decimal("120.50") and cash.count == 1
    assert _daily_total("incident", area_id=world["areas"]["centre"].pk) == 2
    assert _daily_total("incident", area_id=world["areas"]["west"].pk) == 1
    assert not DailyCount.objects.filter(area_id=world["areas"]["city"].pk).exists()  # area 0 is the city
    staff = DailyCount.objects.filter(area_id=world["areas"]["centre"].pk, fact="staff_hours")
    assert sum(r.amount for r in staff) == Decimal("4.00")  # 2 members × 2 hours actually worked
    assert _daily_total("report_received") == 1
    assert _daily_total("report_closed", detail="resolved") == 1


def test_csv_import_adds_its_records_to_the_counts(world, kod_lead, now):
    day = (now - dt.timedelta(days=2)).astimezone(BERLIN)
    # 60 rows: more than aggregates.BULK, so the import takes the temporary-table path.
    rows = "\n".join(
        f"{day:%d.%m.%Y} {hour:02d}:{minute:02d};aggressive-begging;{INSIDE[0]};{INSIDE[1]};dispersal_order"
        for hour in (9, 10, 11)
        for minute in range(20)
    )
    data = f"occurred_at;category;lat;lon;measures\n{rows}\n"
    result = importer.import_incidents(user=kod_lead, data=data)
    assert result.ok, result.errors
    # A large import leaves its counts pending; the first read of the counts applies them.
    assert PendingCounts.objects.count() == 2  # incidents and measures
    assert _daily_total("incident") == 60 > aggregates.BULK
    assert not PendingCounts.objects.exists()
    assert _daily_total("measure", measure_type="dispersal_order") == 60
    assert (
        sum(MonthlyCount.objects.filter(area_id=CITY_AREA, fact="incident").values_list("count", flat=True))
        == 60
    )
    hours = set(HourlyCount.objects.filter(area_id=CITY_AREA, fact="incident").values_list("hour", flat=True))
    assert hours == {9, 10, 11}
    _assert_incremental_equals_rebuild()


def _csv_rows(day: dt.datetime, n: int, lat_lon: tuple[float, float] = INSIDE) -> str:
    rows = "\n".join(
        f"{day:%d.%m.%Y} {10 + i // 60:02d}:{i % 60:02d};aggressive-begging;{lat_lon[0]};{lat_lon[1]};"
        "dispersal_order"
        for i in range(n)
    )
    return f"occurred_at;category;lat;lon;measures\n{rows}\n"


def test_pending_import_counts_are_applied_before_a_later_change_and_by_window_reads(
    world, kod, kod_lead, polizei, police_lead, now
):
    day = (now - dt.timedelta(days=3)).astimezone(BERLIN)
    assert importer.import_incidents(user=kod_lead, data=_csv_rows(day, 70)).ok
    assert importer.import_incidents(user=police_lead, data=_csv_rows(day, 55, WEST)).ok
    assert PendingCounts.objects.count() == 4
    # A later write to an imported incident first applies the pending counts, so its own
    # change is counted after the incident's first contribution, not instead of it.
    with authority_scope(kod_lead.authority_id):
        incident = Incident.objects.order_by("pk").first()
        field.measure_add(user=kod, incident=incident, measure=MeasureInput(type="contact"))
    assert not PendingCounts.objects.exists()
    rebuilt = _assert_incremental_equals_rebuild()
    assert sum(row[-2] for row in rebuilt["yearly"] if row[2] == "incident" and row[1] == CITY_AREA) == 125

    # Raw-SQL window reads catch up as well; the police import is counted for the police only.
    assert importer.import_incidents(user=police_lead, data=_csv_rows(day, 60, WEST)).ok
    assert PendingCounts.objects.count() == 2
    window = selectors.DayRange(day.date(), day.date())
    totals = selectors.window_totals(CITY_AREA, {"day": window})["day"]
    by_authority = defaultdict(int)
    for key, (count, _amount) in totals.items():
        if key.fact == "incident":
            by_authority[key.authority_id] += count
    assert dict(by_authority) == {kod_lead.authority_id: 70, police_lead.authority_id: 115}
    assert not PendingCounts.objects.exists()


@pytest.mark.parametrize(
    ("utc", "local_day", "local_hour"),
    [
        # Spring forward in Europe/Berlin: 02:00 CET becomes 03:00 CEST on 29 March 2026.
        (dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC), dt.date(2026, 3, 29), 1),
        (dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC), dt.date(2026, 3, 29), 3),
        # Fall back on 25 October 2026: 02:30 happens twice.
        (dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), dt.date(2026, 10, 25), 2),
        (dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC), dt.date(2026, 10, 25), 2),
        # Just before local midnight in summer and winter: the local day, not the UTC day.
        (dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC), dt.date(2026, 7, 2), 0),
        (dt.datetime(2026, 1, 1, 23, 10, tzinfo=dt.UTC), dt.date(2026, 1, 2), 0),
    ],
)
def test_days_and_hours_are_local_time_across_daylight_saving(world, kod, utc, local_day, local_hour):
    _record(kod, world["categories"]["begging"], utc)
    row = HourlyCount.objects.get(area_id=CITY_AREA, fact="incident")
    assert (row.day, row.hour) == (local_day, local_hour)
    assert DailyCount.objects.get(area_id=CITY_AREA, fact="incident").day == local_day
    monday = local_day - dt.timedelta(days=local_day.weekday())
    assert WeeklyCount.objects.get(area_id=CITY_AREA, fact="incident").week == monday
    _assert_incremental_equals_rebuild()


def test_rebuild_command_restores_deleted_counts(world, kod, polizei, now):
    _record(kod, world["categories"]["begging"], now, MeasureInput(type="contact"))
    _record(polizei, world["categories"]["drugs"], now, MeasureInput(type="dispersal_order"))
    before = _snapshot()
    DailyCount.objects.all().delete()
    HourlyCount.objects.all().delete()
    call_command("rebuild-aggregates", verbosity=0)
    assert _snapshot() == before


def _days_of(parts: selectors.PeriodParts) -> list[dt.date]:
    days = []
    for first, last in parts.months:
        month = first
        while month <= last:
            day = month
            while day.month == month.month:
                days.append(day)
                day += dt.timedelta(days=1)
            month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    for first, last in parts.weeks:
        assert first.weekday() == last.weekday() == 0
        days.extend(first + dt.timedelta(days=i) for i in range((last - first).days + 7))
    for edge in parts.days:
        days.extend(edge.start + dt.timedelta(days=i) for i in range((edge.end - edge.start).days + 1))
    return days


def test_window_split_covers_every_day_exactly_once():
    rng = random.Random(7)
    starts = [dt.date(2024, 2, 29), dt.date(2026, 12, 28), dt.date(2025, 1, 1)]
    starts += [dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 900)) for _ in range(2000)]
    for start in starts:
        end = start + dt.timedelta(days=rng.randint(0, 500))
        days = _days_of(selectors.split_period(start, end))
        assert sorted(days) == [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    year = selectors.split_period(dt.date(2026, 1, 1), dt.date(2026, 11, 22))
    assert year.months == [(dt.date(2026, 1, 1), dt.date(2026, 10, 1))]


def _signed_coverage(parts: list[selectors.Part]) -> dict[dt.date, int]:
    coverage: dict[dt.date, int] = {}
    for part in parts:
        if part.unit == "year":
            first, last = part.first, dt.date(part.last.year, 12, 31)
        elif part.unit == "month":
            first = part.first
            last = (part.last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        elif part.unit == "week":
            assert part.first.weekday() == part.last.weekday() == 0
            first, last = part.first, part.last + dt.timedelta(days=6)
        else:
            first, last = part.first, part.last
        day = first
        while day <= last:
            coverage[day] = coverage.get(day, 0) + part.sign
            day += dt.timedelta(days=1)
    return {day: n for day, n in coverage.items() if n}


def test_signed_window_parts_count_every_day_of_the_window_once_and_no_other_day():
    rng = random.Random(11)
    cases = [(dt.date(2026, 1, 1), dt.date(2026, 11, 21)), (dt.date(2025, 1, 2), dt.date(2025, 11, 22))]
    for _ in range(1500):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 900))
        cases.append((start, start + dt.timedelta(days=rng.choice([0, 3, 6, 27, 90, 200, 364, 500]))))
    for start, end in cases:
        today = start + dt.timedelta(days=rng.randint(-30, 600))
        parts = selectors.window_parts(start, end, today)
        expected = {start + dt.timedelta(days=i): 1 for i in range((end - start).days + 1)}
        assert _signed_coverage(parts) == expected, (start, end, today, parts)
    # A year to date with the rest of the year still empty is read as the year minus that rest.
    ytd = selectors.window_parts(dt.date(2026, 1, 1), dt.date(2026, 11, 21), dt.date(2026, 11, 22))
    assert ytd[0] == selectors.Part("year", dt.date(2026, 1, 1), dt.date(2026, 1, 1), 1)
    assert all(part.sign == -1 and part.first > dt.date(2026, 11, 21) for part in ytd[1:])


def test_window_totals_equal_direct_counts_across_month_week_and_day_parts(world, kod, polizei):
    begging = world["categories"]["begging"]
    days = [dt.date(2026, 1, 1), dt.date(2026, 1, 31), dt.date(2026, 2, 2), dt.date(2026, 3, 15),
            dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 4, 30)]  # fmt: skip
    for position, day in enumerate(days):
        user = kod if position % 2 else polizei
        at = dt.datetime.combine(day, dt.time(23, 30), tzinfo=BERLIN)
        _record(user, begging, at, MeasureInput(type="dispersal_order"))
    windows = {
        "all": selectors.DayRange(dt.date(2026, 1, 1), dt.date(2026, 4, 30)),
        "inner": selectors.DayRange(dt.date(2026, 1, 31), dt.date(2026, 4, 1)),
        "one": selectors.DayRange(dt.date(2026, 3, 31), dt.date(2026, 3, 31)),
    }
    totals = selectors.window_totals(CITY_AREA, windows)
    for name, window in windows.items():
        expected = sum(window.start <= day <= window.end for day in days)
        incidents = sum(count for key, (count, _) in totals[name].items() if key.fact == "incident")
        measures = sum(count for key, (count, _) in totals[name].items() if key.fact == "measure")
        assert incidents == measures == expected, name
    by_area = selectors.totals_by_area([CITY_AREA], windows["inner"].start, windows["inner"].end)
    assert by_area[CITY_AREA] == totals["inner"]


def test_import_command_brings_the_counts_up_to_date_after_a_large_import(
    world, kod_lead, now, tmp_path, capsys
):
    path = tmp_path / "gross.csv"
    path.write_text(_csv_rows((now - dt.timedelta(days=1)).astimezone(BERLIN), 80), encoding="utf-8")
    call_command("import-incidents", str(path), user=kod_lead.username)
    assert "Zähltabellen der Auswertung aktualisiert" in capsys.readouterr().err
    assert not PendingCounts.objects.exists()
    with unscoped():
        assert Incident.objects.count() == 80
    assert _daily_total("incident") == 80


def test_web_upload_brings_the_counts_up_to_date_before_answering(client, world, kod_lead, now):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(kod_lead)
    content = _csv_rows((now - dt.timedelta(days=1)).astimezone(BERLIN), 70).encode()
    response = client.post(
        reverse("field:incident-import"), {"file": SimpleUploadedFile("gross.csv", content, "text/csv")}
    )
    assert response.status_code == 200
    assert "<strong>70</strong> Feststellungen" in response.content.decode()
    # Applied by the upload itself: the next reader does not have to (nor take SQLite's write lock).
    assert not PendingCounts.objects.exists()
    assert (
        sum(
            DailyCount._base_manager.filter(area_id=CITY_AREA, fact="incident").values_list(
                "count", flat=True
            )
        )
        == 70
    )
