"""Operations (Schwerpunkteinsätze) evaluated automatically: the balance, the displacement analysis,
problem figures before/during/after and the hotspot map equal what the records say; the command
evaluates on the Monday after the end and completes the figures once the period after has passed,
and a second run changes nothing; the evaluation lands on the next meeting's agenda; bad input gives
German notes, never an exception."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from lagebild.analytics import displacement_service
from lagebild.analytics.periods import Period
from lagebild.analytics.services import load_indicators
from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel, Report
from lagebild.core.models import Authority
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure, Patrol, PatrolMember
from lagebild.geo.models import Area
from lagebild.geo.services import area_save
from lagebild.taskforce import agenda, evaluation, operations
from lagebild.taskforce import services as taskforce_services
from lagebild.taskforce.models import Operation

from .citizen_fixtures import *  # noqa: F403
from .taskforce_fixtures import *  # noqa: F403

BERLIN = ZoneInfo("Europe/Berlin")
CENTRE = (51.514, 7.465)  # inside the focus area "centre"
RING = (51.514, 7.479)  # about 280 m east of the centre: ring 200–400 m
SOUTH = (51.488, 7.45)  # district "Süd", far from centre and rings
DAYS = 14


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)


def _box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> dict:
    ring = [
        [min_lon, min_lat],
        [max_lon, min_lat],
        [max_lon, max_lat],
        [min_lon, max_lat],
        [min_lon, min_lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def _record(user, category, at, *measures, where=CENTRE, **extra) -> Incident:
    with authority_scope(user.authority_id):
        return field.incident_create(
            user=user,
            category=category,
            occurred_at=at,
            lat=where[0],
            lon=where[1],
            measures=measures,
            **extra,
        )


def _patrol(lead, members, day, *, area, kind="early", worked_hours=None, planned_hours=4) -> Patrol:
    with authority_scope(lead.authority_id):
        shift = field.shift_create(user=lead, date=day, kind=kind)
        patrol = field.patrol_create(
            user=lead,
            shift=shift,
            name=f"Streife {day:%d.%m.} {kind}",
            members=members,
            area_id=area.pk,
            planned_start=_at(day, 9),
            planned_end=_at(day, 9) + dt.timedelta(hours=planned_hours),
        )
        if worked_hours is not None:
            field.patrol_start(user=lead, patrol=patrol, at=_at(day, 9))
            field.patrol_end(user=lead, patrol=patrol, at=_at(day, 9) + dt.timedelta(hours=worked_hours))
    return patrol


def _report(service, at, where=CENTRE) -> Report:
    return intake.report_create(
        service=service,
        channel=Channel.WEB,
        lat=where[0],
        lon=where[1],
        description="Aggressives Betteln vor dem Eingang.",
        attributes={"personen": "2"},
        requested_at=at,
    )


@pytest.fixture
def districts(world) -> dict[str, Area]:
    """Besides west and east (both overlap the centre): "Nah" reaches into the 800 m ring, "Süd" is
    far away. Created before any record, so records are linked to them."""
    near = area_save(
        area=Area(kind=Area.Kind.DISTRICT, code="nah", name="Bezirk Nah"),
        geometry=_box(7.48, 51.505, 7.50, 51.52),
    )
    south = area_save(
        area=Area(kind=Area.Kind.DISTRICT, code="sued", name="Bezirk Süd"),
        geometry=_box(7.40, 51.48, 7.52, 51.495),
    )
    return {**world["areas"], "near": near, "south": south}


@pytest.fixture
def plan() -> dict[str, object]:
    """An operation of 14 days that ended 20 days ago, and the periods around it."""
    today = timezone.localdate()
    end = today - dt.timedelta(days=20)
    start = end - dt.timedelta(days=DAYS - 1)
    return {
        "today": today,
        "start": start,
        "end": end,
        "before": Period(start - dt.timedelta(days=DAYS), start - dt.timedelta(days=1)),
        "during": Period(start, end),
        "after": Period(end + dt.timedelta(days=1), end + dt.timedelta(days=DAYS)),
        "monday": end + dt.timedelta(days=7 - end.weekday()),
    }


@pytest.fixture
def records(districts, plan, services, kod, kod_lead, polizei, police_lead, world) -> dict:
    """City and police records in the centre, its ring and the south district, before, during and after."""
    cats = world["categories"]
    before, during, after = plan["before"], plan["during"], plan["after"]
    b = lambda n: before.start + dt.timedelta(days=n)  # noqa: E731
    d = lambda n: during.start + dt.timedelta(days=n)  # noqa: E731
    a = lambda n: after.start + dt.timedelta(days=n)  # noqa: E731

    # Before: a little begging in the centre, one case in the ring, four in the south.
    _record(kod, cats["begging"], _at(b(1), 10), MeasureInput(type="dispersal_order"))
    _record(kod, cats["begging"], _at(b(3), 11))
    _record(polizei, cats["dealing"], _at(b(5), 22), MeasureInput(type="dispersal_order"))
    _record(kod, cats["begging"], _at(b(6), 12), where=RING)
    for n in range(4):
        _record(kod, cats["begging"], _at(b(n + 2), 15), where=SOUTH)
    _patrol(kod_lead, [kod], b(4), area=districts["centre"], planned_hours=3)
    _report(services["begging"], _at(b(2), 10))

    # During: both partners at work, a joint patrol, measures of both; the first and the last day
    # at the edges of the local days (midnight in Berlin is not midnight in UTC).
    _record(
        kod,
        cats["begging"],
        _at(d(0), 0, 5),
        MeasureInput(type="dispersal_order"),
        MeasureInput(type="caution_fee", amount=Decimal("35")),
        MeasureInput(type="offence_report"),
    )
    _record(
        kod, cats["drugs"], _at(d(2), 18), MeasureInput(type="offence_report"), MeasureInput(type="contact")
    )
    _record(
        polizei,
        cats["dealing"],
        _at(d(4), 23, 30),
        MeasureInput(type="dispersal_order"),
        MeasureInput(type="criminal_complaint"),
        MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("420.50")),
    )
    _record(kod, cats["begging"], _at(d(6), 15), MeasureInput(type="dispersal_order"), joint=True)
    _record(polizei, cats["begging"], _at(d(13), 23, 55), MeasureInput(type="dispersal_order"))
    _record(kod, cats["begging"], _at(d(7), 13), where=RING)
    _record(polizei, cats["begging"], _at(d(8), 13), where=RING)
    for n in range(3):
        _record(kod, cats["begging"], _at(d(n + 1), 15), where=SOUTH)
    _patrol(kod_lead, [kod, polizei], d(3), area=districts["centre"], worked_hours=5, planned_hours=8)
    _patrol(kod_lead, [kod], d(5), area=districts["centre"], kind="late", planned_hours=3)
    _patrol(police_lead, [polizei], d(9), area=districts["centre"], planned_hours=2)
    _report(services["begging"], _at(d(1), 10))
    _report(services["begging"], _at(d(10), 23))  # at night: routed to the police

    # After: less in the centre; the last case on the period's last day.
    _record(kod, cats["begging"], _at(a(2), 10), MeasureInput(type="dispersal_order"))
    _record(kod, cats["begging"], _at(a(DAYS - 1), 16))
    _report(services["begging"], _at(a(9), 10))
    return {"areas": districts}


def _operation(task_force, area, plan, *authorities: Authority, code: str = "wallring") -> Operation:
    operation = Operation.objects.create(
        task_force=task_force,
        code=code,
        name="Schwerpunkteinsatz Zentrum",
        area=area,
        start=plan["start"],
        end=plan["end"],
        planned_staff_per_day=12,
    )
    operation.authorities.set(authorities)
    return operation


# --- direct counts over the records ------------------------------------------------------------


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    return _at(period.start, 0), _at(period.end + dt.timedelta(days=1), 0)


def _measures(
    area: Area, period: Period, authority: Authority | None = None, **filters
) -> list[Decimal | None]:
    start, end = _bounds(period)
    with unscoped():
        queryset = Measure.objects.filter(
            taken_at__gte=start, taken_at__lt=end, incident__area_links__area_id=area.pk, **filters
        )
        if authority is not None:
            queryset = queryset.filter(authority=authority)
        return list(queryset.values_list("amount", flat=True))


def _patrols(area: Area, period: Period, authority: Authority | None = None) -> list[Patrol]:
    with unscoped():
        found = [
            p for p in Patrol.objects.filter(area=area) if period.contains(timezone.localtime(p.start).date())
        ]
    if authority is None:
        return found
    return [p for p in found if p.joint or p.authority_id == authority.pk]


def _staff_hours(area: Area, period: Period, authority: Authority | None = None) -> float:
    total = 0.0
    with unscoped():
        for patrol in _patrols(area, period):
            members = PatrolMember.objects.filter(patrol=patrol)
            if authority is not None:
                members = members.filter(authority=authority)
            total += members.count() * (patrol.end - patrol.start).total_seconds() / 3600
    return total


def _incidents(area: Area, period: Period, **filters) -> int:
    start, end = _bounds(period)
    with unscoped():
        return Incident.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, area_links__area_id=area.pk, **filters
        ).count()


def _reports(area: Area, period: Period, authority: Authority | None = None) -> int:
    start, end = _bounds(period)
    with unscoped():
        queryset = Report.objects.filter(
            requested_at__gte=start, requested_at__lt=end, area_links__area_id=area.pk
        )
        if authority is not None:
            queryset = queryset.filter(authority=authority)
        return queryset.count()


def _lines(snapshot: dict) -> dict[str, dict]:
    return {line["key"]: line for line in snapshot["balance"]["lines"]}


def _row(snapshot: dict, code: str) -> dict:
    return next(row for row in snapshot["indicators"]["rows"] if row["code"] == code)


# --- the snapshot ------------------------------------------------------------------------------


@pytest.mark.parametrize("partners", ["both", "city", "police"])
def test_balance_equals_direct_counts_for_the_participating_authorities(
    records, plan, task_force, city, police, partners
):
    centre = records["areas"]["centre"]
    taking_part = {"both": (city, police), "city": (city,), "police": (police,)}[partners]
    only = None if partners == "both" else taking_part[0]
    operation = _operation(task_force, centre, plan, *taking_part)
    snapshot = evaluation.build_evaluation(operation)
    balance = snapshot["balance"]
    assert balance["status"] == "ok"
    assert balance["authority"] == ("" if only is None else only.kind)
    assert balance["period"]["start"] == plan["start"].isoformat()
    assert balance["previous"]["end"] == (plan["start"] - dt.timedelta(days=1)).isoformat()
    lines = _lines(snapshot)
    for when, period in (("current", plan["during"]), ("previous", plan["before"])):
        for kind in ("dispersal_order", "offence_report", "criminal_complaint", "caution_fee", "contact"):
            assert lines[kind][when] == len(_measures(centre, period, only, type=kind)), (kind, when)
        assert lines["measures"][when] == len(_measures(centre, period, only))
        assert lines["staff_hours"][when] == pytest.approx(_staff_hours(centre, period, only))
        assert lines["patrols"][when] == len(_patrols(centre, period, only))
        assert lines["reports_received"][when] == _reports(centre, period, only)
    cash = sum(_measures(centre, plan["during"], only, type="seizure", seizure_kind="cash"), Decimal(0))
    assert Decimal(str(lines["cash_total"]["current"])) == cash
    # The scenario is not empty where it matters, and the partners' figures really differ.
    expected_orders = {"both": 4, "city": 2, "police": 2}[partners]
    assert lines["dispersal_order"]["current"] == expected_orders
    assert lines["staff_hours"]["current"] == pytest.approx({"both": 15, "city": 8, "police": 7}[partners])
    assert "Personalstunden" in balance["prose"]
    json.dumps(snapshot, allow_nan=False)


def test_displacement_periods_are_equal_and_controls_touch_neither_target_nor_rings(
    records, plan, task_force
):
    areas = records["areas"]
    operation = _operation(task_force, areas["centre"], plan)
    moved = evaluation.build_evaluation(operation)["displacement"]
    assert moved["status"] == "ok", moved.get("note")
    assert moved["pre"]["days"] == moved["post"]["days"] == DAYS
    assert moved["pre"]["end"] == (plan["start"] - dt.timedelta(days=1)).isoformat()
    assert (moved["post"]["start"], moved["post"]["end"]) == (
        plan["start"].isoformat(),
        plan["end"].isoformat(),
    )
    assert moved["time_weights"] == {"pre": 1.0, "post": 1.0}
    assert moved["rings_m"] == [200.0, 400.0, 800.0]
    # Control rule: west and east overlap the target, "Nah" the 800 m ring; only "Süd" is untouched.
    assert [c["name"] for c in moved["controls"]] == ["Bezirk Süd"]
    excluded = {e["name"]: e["reason"] for e in moved["excluded_districts"]}
    assert set(excluded) == {"Bezirk West", "Bezirk Ost", "Bezirk Nah"}
    assert "überschneidet" in excluded["Bezirk Nah"]
    counts = {c["key"]: c for c in moved["counts"]}
    assert (counts["target"]["pre"], counts["target"]["post"]) == (
        _incidents(areas["centre"], plan["before"]),
        _incidents(areas["centre"], plan["during"]),
    )
    assert (counts["control"]["pre"], counts["control"]["post"]) == (4, 3)
    assert (counts["buffer"]["pre"], counts["buffer"]["post"]) == (1, 2)
    # The same as the displacement page for this design.
    direct = displacement_service.analyse_displacement(
        displacement_service.DisplacementParams(
            target_id=areas["centre"].pk,
            control_ids=(areas["south"].pk,),
            pre=plan["before"],
            post=plan["during"],
            ring_distances_m=(200.0, 400.0, 800.0),
        )
    )
    assert moved["headline"] == direct.headline_de and moved["verdict"] == direct.verdict.text
    assert moved["wdd"]["estimate"] == pytest.approx(direct.wdd.total, abs=1e-4)
    assert moved["wdd"]["p"] == pytest.approx(direct.wdd.p_value, abs=1e-6)
    assert moved["effect"] in ("prevented", "more", "none")


def test_displacement_counts_citizen_reports_where_the_city_has_that_indicator(
    records, plan, task_force, tmp_path
):
    """Reports do not rise because more officers look; the incidents follow for comparison."""
    path = tmp_path / "indicators.json"
    reports_indicator = {
        "code": "citizen-complaints",
        "name": "Bürgerhinweise eingegangen",
        "kind": "problem",
    }
    path.write_text(
        json.dumps({"indicators": [{**reports_indicator, "fact": "report_received"}], "sets": []}),
        encoding="utf-8",
    )
    load_indicators(path)
    centre = records["areas"]["centre"]
    moved = evaluation.build_evaluation(_operation(task_force, centre, plan))["displacement"]
    assert moved["status"] == "ok" and moved["counted"] == "Bürgerhinweise eingegangen"
    assert "nicht davon ab, wie viel" in moved["counted_why"]
    target = next(c for c in moved["counts"] if c["key"] == "target")
    assert (
        (target["pre"], target["post"])
        == (
            _reports(centre, plan["before"]),
            _reports(centre, plan["during"]),
        )
        == (1, 2)
    )
    incidents = moved["incidents"]
    assert incidents["counted"] == "Feststellungen gesamt"
    target = next(c for c in incidents["counts"] if c["key"] == "target")
    assert (target["pre"], target["post"]) == (
        _incidents(centre, plan["before"]),
        _incidents(centre, plan["during"]),
    )
    assert incidents["headline"] and "wdd" in incidents


def test_problem_figures_before_during_after_and_the_hotspot_map(
    records, plan, task_force, indicators, world, clock
):
    centre = records["areas"]["centre"]
    operation = _operation(task_force, centre, plan)
    # On the Monday after the end the period after the operation has only just begun.
    clock.move_to(_at(plan["monday"], 6))
    first = evaluation.build_evaluation(operation)
    after = first["periods"]["after"]
    seen = Period(plan["after"].start, plan["monday"] - dt.timedelta(days=1))
    assert after["status"] == "partial" and after["observed_to"] == seen.end.isoformat()
    assert "unvollständig" in after["note"] and after["note"] in first["notes"]
    incidents = _row(first, "incidents-all")
    assert (incidents["before"], incidents["during"], incidents["after"]) == (
        _incidents(centre, plan["before"]),
        _incidents(centre, plan["during"]),
        _incidents(centre, seen),
    )
    reports = _row(first, "reports-all")
    assert (reports["before"], reports["during"]) == (
        _reports(centre, plan["before"]),
        _reports(centre, plan["during"]),
    )
    # The city's own problem indicators are included.
    begging = _incidents(centre, plan["during"], category=world["categories"]["begging"])
    assert _row(first, "begging-observed")["during"] == begging == 3
    # Once the period after has passed, "after" covers all of it.
    clock.move_to(_at(plan["after"].end + dt.timedelta(days=1), 6))
    final = evaluation.build_evaluation(operation)
    assert final["periods"]["after"]["status"] == "complete"
    assert _row(final, "incidents-all")["after"] == _incidents(centre, plan["after"]) == 2
    assert _row(final, "reports-all")["after"] == _reports(centre, plan["after"]) == 1

    spots = final["hotspots"]
    assert spots["status"] == "ok"
    # Target and rings: centre and ring cases, never the south district's.
    assert spots["before"]["points"] == _incidents(centre, plan["before"]) + 1
    assert spots["during"]["points"] == _incidents(centre, plan["during"]) + 2
    for period in ("before", "during"):
        cells = spots[period]["cells"]["features"]
        assert cells and all(f["geometry"]["type"] == "Point" for f in cells)
        densities = [f["properties"]["density"] for f in cells]
        assert densities == sorted(densities, reverse=True) and densities[0] == spots[period]["peak_density"]
        assert min(densities) >= spots["threshold_density"]
    assert spots["bandwidth_m"] > 0 and "höchste Dichte" in spots["sentence"]
    json.dumps(final, allow_nan=False)


OTHER = (51.511, 7.458)  # south-west in the centre, about 600 m from CENTRE


def _hotspot_scenario(kod, category, plan) -> dict[str, int]:
    """Incidents crowded at CENTRE before, a few there during, crowded there again after; one case
    in the ring (second day) in every period and one at OTHER (last day) before and after."""
    crowd = {"before": 8, "during": 2, "after": 8}
    for name, count in crowd.items():
        first = plan[name].start
        for n in range(count):
            _record(kod, category, _at(first + dt.timedelta(days=n % 7), 10 + n))
        _record(kod, category, _at(first + dt.timedelta(days=1), 20), where=RING)
        if name != "during":
            _record(kod, category, _at(plan[name].end, 20), where=OTHER)  # the last day: complete data
    return {name: count + (1 if name == "during" else 2) for name, count in crowd.items()}


def test_the_hotspot_maps_before_during_and_after_with_one_scale(
    districts, plan, task_force, world, kod, staff, indicators
):
    points = _hotspot_scenario(kod, world["categories"]["begging"], plan)
    operation = _operation(task_force, districts["centre"], plan)
    completion = plan["after"].end + dt.timedelta(days=1)
    final = evaluation.build_evaluation(operation, today=completion)
    assert final["stage"] == "final"
    spots = final["hotspots"]
    assert spots["status"] == "ok"
    before, during, after = spots["before"], spots["during"], spots["after"]
    assert (before["points"], during["points"], after["points"]) == (10, 3, 10) == tuple(points.values())
    assert after["status"] == "complete" and after["complete"] and after["note"] == ""
    assert after["period"]["start"] == plan["after"].start.isoformat()
    assert after["period"]["end"] == plan["after"].end.isoformat()
    # One radius, grid and threshold: the same crowd gives the same map before and after.
    assert after["peak_density"] == before["peak_density"] > during["peak_density"] > 0
    assert after["peak"] == before["peak"] == during["peak"]
    assert after["hotspot_cells"] == before["hotspot_cells"] > during["hotspot_cells"]
    assert after["cells"] == before["cells"]
    assert min(f["properties"]["density"] for f in after["cells"]["features"]) >= spots["threshold_density"]
    assert spots["peak_shift_after_m"] == 0 and "aller gezeigten Zeiträume" in spots["bandwidth_note"]
    sentence = spots["sentence"]
    assert f"Nach dem Einsatz ({plan['after'].dates_label})" in sentence
    assert f"({points['after']} Feststellungen); {after['hotspot_cells']} Zellen" in sentence
    assert "so viele wie vorher" in sentence
    assert "Der dichteste Punkt lag danach wieder an derselben Stelle wie vor dem Einsatz." in sentence

    # Evaluated on the Monday after the end: stage "first". On the operation's day after the
    # period "after" has not begun, three days later it is partial: a preliminary map and a note.
    missing = evaluation.build_evaluation(operation, today=plan["after"].start)
    assert missing["stage"] == "first"
    pending = missing["hotspots"]["after"]
    assert pending["status"] == "missing" and "cells" not in pending
    assert "steht noch aus" in pending["note"] and evaluation._date_de(completion) in pending["note"]
    assert "Die Karte für die Zeit nach dem Einsatz steht noch aus." in missing["hotspots"]["sentence"]
    assert missing["hotspots"]["before"]["points"] == 10 and missing["hotspots"]["peak_shift_after_m"] is None
    assert "beider Zeiträume" in missing["hotspots"]["bandwidth_note"]

    partial = evaluation.build_evaluation(operation, today=plan["after"].start + dt.timedelta(days=3))
    assert partial["stage"] == "first"
    early = partial["hotspots"]["after"]
    assert early["status"] == "partial" and not early["complete"] and early["period"]["days"] == 3
    assert early["full_period"]["days"] == DAYS
    assert early["points"] == 4 + 1  # days 0–2: four of the crowd (days 0, 1, 2, 0) and the ring
    assert "vorläufig" in early["note"] and "3 von 14 Tagen" in early["note"]
    assert "bisher 3 Tage" in partial["hotspots"]["sentence"]
    json.dumps(partial, allow_nan=False)

    # The page: three maps on the final evaluation, the pending note on the first.
    from django.test import Client

    client = Client()
    client.force_login(staff["mayor"])
    url = f"/sonderstab/einsaetze/{operation.pk}/"
    for snapshot, maps, text in (
        (final, 3, "Nach dem Einsatz"),
        (partial, 3, "ist vorläufig"),
        (missing, 2, "steht noch aus"),
    ):
        Operation.objects.filter(pk=operation.pk).update(evaluation=snapshot, evaluated_at=timezone.now())
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "Brennpunkte vorher, während und danach" in html and text in html
        assert html.count("<svg") == maps and 'id="karte-after"' in html


def test_an_older_snapshot_without_the_map_after_still_renders(
    districts, plan, task_force, world, kod, staff, indicators
):
    _hotspot_scenario(kod, world["categories"]["begging"], plan)
    operation = _operation(task_force, districts["centre"], plan)
    snapshot = evaluation.build_evaluation(operation, today=plan["after"].end + dt.timedelta(days=1))
    # As stored before there was a map after the operation.
    for key in ("after", "peak_shift_after_m"):
        del snapshot["hotspots"][key]
    Operation.objects.filter(pk=operation.pk).update(evaluation=snapshot, evaluated_at=timezone.now())
    from django.test import Client

    client = Client()
    client.force_login(staff["mayor"])
    page = client.get(f"/sonderstab/einsaetze/{operation.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") == 2 and "nicht verfügbar" in html
    assert "Karte nach dem Einsatz: nicht verfügbar" in html
    # Whatever else is stored: no map, no error.
    from lagebild.taskforce import hotspot_maps

    for junk in (None, [], {}, {"status": "unavailable"}, {"status": "ok", "outline": {"type": "Point"}}):
        assert hotspot_maps.panels(junk) == []
    Operation.objects.filter(pk=operation.pk).update(evaluation={"hotspots": {"status": "ok", "before": 3}})
    assert client.get(f"/sonderstab/einsaetze/{operation.pk}/").status_code == 200


# --- the command, idempotent, and the agenda ---------------------------------------------------


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("evaluate-operations", *args, stdout=out)
    return out.getvalue()


def test_command_evaluates_on_the_monday_after_the_end_completes_later_and_is_idempotent(
    records, plan, task_force, city, police, clock
):
    operation = _operation(task_force, records["areas"]["centre"], plan, city, police)
    monday = plan["monday"]
    clock.move_to(_at(monday - dt.timedelta(days=1), 23, 30))  # Sunday night: not yet
    output = _run()
    operation.refresh_from_db()
    assert operation.evaluation is None and operation.evaluated_at is None
    assert "0 ausgewertet" in output

    clock.move_to(_at(monday, 5))
    output = _run()
    operation.refresh_from_db()
    assert "„Schwerpunkteinsatz Zentrum“ (wallring) ausgewertet" in output and "1 ausgewertet" in output
    assert timezone.localtime(operation.evaluated_at).date() == monday
    assert operation.evaluation["stage"] == "first"
    assert operation.evaluation["periods"]["after"]["status"] == "partial"
    stamp, snapshot = operation.evaluated_at, operation.evaluation

    clock.shift(dt.timedelta(hours=2))
    output = _run()
    operation.refresh_from_db()
    assert (operation.evaluated_at, operation.evaluation) == (stamp, snapshot)
    assert "0 ausgewertet, 0 vervollständigt, 0 neu ausgewertet, 1 unverändert" in output
    assert "ist ausgewertet" in _run("--operation", "wallring")

    completion = plan["after"].end + dt.timedelta(days=1)
    clock.move_to(_at(completion - dt.timedelta(days=1), 23, 0))
    _run()
    operation.refresh_from_db()
    assert operation.evaluated_at == stamp
    clock.move_to(_at(completion, 5))
    output = _run()
    operation.refresh_from_db()
    assert "vervollständigt (Zeitraum nach dem Einsatz abgeschlossen)" in output
    assert operation.evaluation["stage"] == "final"
    assert operation.evaluation["periods"]["after"]["status"] == "complete"
    stamp, snapshot = operation.evaluated_at, operation.evaluation
    clock.shift(dt.timedelta(days=3))
    _run()
    operation.refresh_from_db()
    assert (operation.evaluated_at, operation.evaluation) == (stamp, snapshot)

    # --force evaluates again; a changed period is evaluated again by itself.
    assert "neu ausgewertet" in _run("--force")
    operation.refresh_from_db()
    assert operation.evaluated_at > stamp
    Operation.objects.filter(pk=operation.pk).update(start=plan["start"] + dt.timedelta(days=1))
    assert "wurden nach der Auswertung geändert" in _run()


def test_command_refuses_an_unknown_code_and_waits_for_a_running_operation(task_force, plan, world, clock):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="keinen Schwerpunkteinsatz mit dem Kürzel „gibtsnicht“"):
        _run("--operation", "gibtsnicht")
    running = _operation(task_force, world["areas"]["centre"], plan, code="laufend")
    Operation.objects.filter(pk=running.pk).update(end=plan["today"] + dt.timedelta(days=3))
    output = _run("--operation", "laufend", "--force")
    assert "läuft noch bis" in output
    running.refresh_from_db()
    assert running.evaluation is None


def test_an_operation_evaluated_on_its_monday_is_on_the_next_meetings_agenda(
    records, plan, task_force, staff, indicators, clock
):
    operation = _operation(task_force, records["areas"]["centre"], plan)
    monday = plan["monday"]
    # Weekly meetings on Tuesdays: the one before the Monday has already met.
    clock.move_to(_at(monday - dt.timedelta(days=6), 9))
    earlier = taskforce_services.meeting_schedule(
        task_force, staff["secretary"], date=monday - dt.timedelta(days=6)
    )
    taskforce_services.meeting_open(earlier, staff["mayor"])
    later = taskforce_services.meeting_schedule(
        task_force, staff["secretary"], date=monday + dt.timedelta(days=1)
    )
    assert not [e for e in agenda.build(later) if e.kind == "operation"]

    clock.move_to(_at(monday, 5))
    _run()
    clock.move_to(_at(monday + dt.timedelta(days=1), 10))
    taskforce_services.meeting_open(later, staff["mayor"])
    items = list(later.agenda_items.filter(kind="operation"))
    assert [(i.title, i.object_id) for i in items] == [
        ("Auswertung: Schwerpunkteinsatz Zentrum", operation.pk)
    ]
    assert not earlier.agenda_items.filter(kind="operation").exists()
    # The meeting after that no longer lists it (until the evaluation is completed).
    third = taskforce_services.meeting_schedule(
        task_force, staff["secretary"], date=monday + dt.timedelta(days=8)
    )
    assert not [e for e in agenda.build(third) if e.kind == "operation"]


def test_an_evaluation_dated_in_the_past_keeps_that_date(records, plan, task_force):
    operation = _operation(task_force, records["areas"]["centre"], plan)
    outcome = operations.evaluate_operation(operation, today=plan["monday"])
    assert outcome.action == "evaluated"
    assert timezone.localtime(operation.evaluated_at).date() == plan["monday"]
    assert operation.evaluation["stage"] == "first" and operation.evaluation["seconds"] >= 0
    again = operations.evaluate_operation(operation, today=plan["monday"])
    assert again.action == "up_to_date" and not again.written


# --- bad input -----------------------------------------------------------------------------------


def test_an_area_without_geometry_gives_german_notes_not_an_exception(task_force, plan, world, city):
    broken = Area.objects.create(kind=Area.Kind.CUSTOM, code="ohne", name="Ohne Fläche", geometry={})
    operation = _operation(task_force, broken, plan, city)
    outcome = operations.evaluate_operation(operation, today=plan["monday"])
    assert outcome.written
    snapshot = operation.evaluation
    assert snapshot["displacement"]["status"] == snapshot["hotspots"]["status"] == "unavailable"
    assert "keine gültige Fläche" in snapshot["displacement"]["note"]
    assert any("keine gültige Geometrie" in note for note in snapshot["notes"])
    assert snapshot["balance"]["status"] == "ok"  # the count tables need no geometry
    json.dumps(snapshot, allow_nan=False)


def test_no_data_at_all_gives_a_german_note(task_force, plan, districts):
    operation = _operation(task_force, districts["centre"], plan)
    snapshot = evaluation.build_evaluation(operation, today=plan["today"])
    assert any("keine Daten" in note for note in snapshot["notes"])
    assert snapshot["periods"]["after"]["status"] == "missing"
    assert snapshot["displacement"]["status"] == "unavailable"
    assert "Alle Zählwerte sind 0" in snapshot["displacement"]["note"]
    assert snapshot["hotspots"]["before"]["points"] == 0
    assert "Weder vor noch während" in snapshot["hotspots"]["sentence"]
    assert all(line["current"] in (0, None) for line in snapshot["balance"]["lines"])


def test_a_city_wide_operation_and_impossible_dates(task_force, plan, records, police):
    city_area = records["areas"]["city"]
    operation = _operation(task_force, city_area, plan, police, code="polizei-sommer")
    snapshot = evaluation.build_evaluation(operation)
    assert snapshot["balance"]["area_id"] == 0 and snapshot["balance"]["authority"] == "police"
    assert "ganze Stadtgebiet" in snapshot["displacement"]["note"]
    assert snapshot["hotspots"]["status"] == "ok" and snapshot["hotspots"]["study_area"] == "Stadtgebiet"
    start, end = _bounds(plan["during"])
    with unscoped():
        everywhere = Incident.objects.filter(occurred_at__gte=start, occurred_at__lt=end).count()
    assert _row(snapshot, "incidents-all")["during"] == everywhere == 10  # the whole city

    Operation.objects.filter(pk=operation.pk).update(start=dt.date(1985, 7, 1), end=dt.date(1985, 8, 25))
    operation.refresh_from_db()
    outcome = operations.evaluate_operation(operation)
    assert outcome.written
    assert "zwischen 01.01.1990" in operation.evaluation["notes"][0]
    assert operations.evaluate_operation(operation).action == "up_to_date"
