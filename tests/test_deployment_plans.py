"""Deployment plans (services): compute, edit with reason and cost, approve, apply to patrols, deviations.

A small seeded world: three patrol zones and the focus area "Zentrum" of the test city,
incidents concentrated in the Innenstadt on late shifts. The week planned is the one in which
summer time ends (2026-10-19 to 2026-10-25), so the night shift from Saturday to Sunday lasts
nine hours.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from lagebild.core.localtime import elapsed
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.deployment import services
from lagebild.deployment.models import DeploymentPlan, PlanAssignment, PlanChange
from lagebild.deployment.services import StaffInput
from lagebild.field import services as field_services
from lagebild.field.models import Patrol, Shift
from lagebild.geo.models import Area
from lagebild.geo.services import area_save

from .conftest import _box

WEEK = dt.date(2026, 10, 19)  # Monday of the week in which summer time ends (Sunday 25 October)
BEFORE = "2026-10-14T10:00:00+02:00"  # planning on the Wednesday before
AFTER_WEEK = "2026-10-27T10:00:00+01:00"
INNENSTADT = (51.5147, 7.4636)
NORDSTADT = (51.54, 7.46)


@pytest.fixture
def zones(geography) -> dict[str, Area]:
    made = {
        "nord": Area(kind=Area.Kind.PATROL_ZONE, code="nordstadt", name="Nordstadt"),
        "innen": Area(kind=Area.Kind.PATROL_ZONE, code="innenstadt", name="Innenstadt"),
        "hafen": Area(kind=Area.Kind.PATROL_ZONE, code="hafen", name="Hafen"),
    }
    area_save(area=made["nord"], geometry=_box(7.44, 51.525, 7.48, 51.55))
    area_save(area=made["innen"], geometry=_box(7.45, 51.505, 7.48, 51.52))
    area_save(area=made["hafen"], geometry=_box(7.41, 51.49, 7.44, 51.51))
    made["centre"] = geography["centre"]
    return made


@pytest.fixture
def seeded(clock, world, zones, kod):
    """Incidents in the four weeks before: Innenstadt on late shifts, Nordstadt at night."""
    clock.move_to(BEFORE)
    cats = world["categories"]
    berlin = dt.timezone(dt.timedelta(hours=2))
    with authority_scope(kod.authority_id):
        for day in range(21, 31):  # 21.–30. September 2026
            for lat_lon, hour in ((INNENSTADT, 18), (INNENSTADT, 19), (NORDSTADT, 23)):
                field_services.incident_create(
                    user=kod,
                    category=cats["begging"],
                    occurred_at=dt.datetime(2026, 9, day, hour, 15, tzinfo=berlin),
                    lat=lat_lon[0],
                    lon=lat_lon[1],
                )
    return zones


def _create(user, *, kod=2, police=0, joint=0, focus_minimum=0, **kwargs) -> DeploymentPlan:
    with authority_scope(user.authority_id):
        return services.plan_create(
            user=user,
            week=kwargs.pop("week", WEEK),
            staff=StaffInput.uniform(kod=kod, police=police, joint=joint),
            focus_minimum=focus_minimum,
            **kwargs,
        )


def _assignments(plan: DeploymentPlan) -> list[PlanAssignment]:
    with unscoped():
        return list(plan.assignments.select_related("zone").order_by("date", "starts_at", "part", "pk"))


def test_plan_respects_staff_and_focus_minimum(seeded, kod_lead):
    plan = _create(kod_lead, kod=2, joint=1, focus_minimum=1)
    rows = _assignments(plan)
    assert rows and plan.result["status"] == "optimal"
    # Every shift part: at most the teams available of each kind, at least one team in the focus area.
    per_part: dict[tuple[str, int, str], int] = defaultdict(int)
    focus: dict[tuple[str, int], int] = defaultdict(int)
    for a in rows:
        per_part[(a.slot_key, a.part, a.kind)] += a.teams
        if a.zone == seeded["centre"]:
            focus[(a.slot_key, a.part)] += a.teams
    assert all(
        teams <= {"kod": 2, "joint": 1, "police": 0}[kind] for (_s, _p, kind), teams in per_part.items()
    )
    slots = {a.slot_key for a in rows}
    assert len(slots) == 21
    assert all(focus[(slot, part)] >= 1 for slot in slots for part in (1, 2))
    with authority_scope(kod_lead.authority_id):
        assert services.evaluate_plan(plan).violations == []
    # The late shifts go to the Innenstadt, where the incidents were; each says why in German.
    late = [a for a in rows if a.shift_kind == Shift.Kind.LATE and a.zone == seeded["innen"]]
    assert len({a.date for a in late}) == 7
    assert all("erwartete Vorfälle" in a.reason for a in rows)
    assert plan.result["risk_source"]
    assert plan.state == DeploymentPlan.State.DRAFT


def test_focus_minimum_beyond_staff_is_refused_at_the_field(seeded, kod_lead):
    with pytest.raises(ValidationError) as refused:
        _create(kod_lead, kod=0, focus_minimum=1)
    assert "Mindestpräsenz" in refused.value.message_dict["focus_minimum"][0]
    with authority_scope(kod_lead.authority_id):
        assert not DeploymentPlan.objects.exists()


def test_bad_inputs_get_german_messages(seeded, kod_lead):
    with pytest.raises(ValidationError) as refused:
        _create(kod_lead, kod=-1, category_group="gibt-es-nicht", week=dt.date(2030, 1, 7))
    errors = refused.value.message_dict
    assert "Deliktsgruppe" in errors["category_group"][0]
    assert "Zeitraum" in errors["week"][0]
    assert "0 bis" in errors["kod_0_early"][0]


def test_only_shift_leads_compute_plans(seeded, kod, analyst):
    for user in (kod, analyst):
        with pytest.raises(PermissionDenied):
            _create(user)


def test_edit_needs_a_reason_and_records_its_cost(seeded, kod_lead):
    plan = _create(kod_lead, kod=1)
    rows = _assignments(plan)
    target = next(a for a in rows if a.zone == seeded["innen"] and a.shift_kind == Shift.Kind.LATE)
    with authority_scope(kod_lead.authority_id):
        with pytest.raises(ValidationError) as refused:
            services.plan_edit(user=kod_lead, assignment=target, zone_id=seeded["hafen"].pk, reason=" ")
        assert "begründen" in refused.value.message_dict["reason"][0]
        assert not PlanChange.objects.filter(action=PlanChange.Action.EDITED).exists()
        change = services.plan_edit(
            user=kod_lead, assignment=target, zone_id=seeded["hafen"].pk, reason="Veranstaltung am Hafen"
        )
        plan.refresh_from_db()
        target.refresh_from_db()
    assert change.reason == "Veranstaltung am Hafen"
    assert change.cost > 0  # the Innenstadt had the late-shift incidents, the Hafen none
    # The other half of the shift takes its team from where it now is: no team is counted twice.
    assert change.violations == []
    assert change.before["zone_name"] == "Innenstadt" and change.after["zone_name"] == "Hafen"
    assert plan.result["covered_risk"] == pytest.approx(plan.result["objective"] - change.cost, abs=1e-4)
    assert target.source == PlanAssignment.Source.EDITED and target.zone == seeded["hafen"]


def test_edit_of_an_approved_plan_needs_a_new_approval(seeded, kod_lead):
    plan = _create(kod_lead, kod=1)
    target = _assignments(plan)[0]
    with authority_scope(kod_lead.authority_id):
        services.plan_approve(user=kod_lead, plan=plan)
        services.plan_edit(user=kod_lead, assignment=target, teams=0, reason="Krankheit")
        plan.refresh_from_db()
        assert plan.state == DeploymentPlan.State.DRAFT
        with pytest.raises(ValidationError):
            services.plan_apply(user=kod_lead, plan=plan)


def _expected_patrols(rows: list[PlanAssignment]) -> int:
    """Teams of the first part plus teams that change zone or start fresh in a later part."""
    count = 0
    for a in rows:
        if a.kind == "police":
            continue
        if a.part <= 1 or a.from_zone_id != a.zone_id:
            count += a.teams
    return count


def test_apply_creates_exactly_the_planned_patrols(seeded, kod_lead, clock):
    plan = _create(kod_lead, kod=2, police=1, joint=1)
    rows = _assignments(plan)
    with authority_scope(kod_lead.authority_id):
        with pytest.raises(ValidationError):  # not approved yet
            services.plan_apply(user=kod_lead, plan=plan)
        services.plan_approve(user=kod_lead, plan=plan)
        patrols = services.plan_apply(user=kod_lead, plan=plan)
        plan.refresh_from_db()
        shifts = {(s.date, s.kind): s for s in Shift.objects.all()}
        all_patrols = list(Patrol.objects.select_related("shift", "area"))
    assert plan.state == DeploymentPlan.State.APPLIED
    assert len(patrols) == _expected_patrols(rows) == len(all_patrols)
    assert len(shifts) == 21  # the missing shifts were created for the city
    with unscoped():
        linked = {
            p.pk: a
            for a in PlanAssignment.objects.filter(plan=plan).prefetch_related("patrols")
            for p in a.patrols.all()
        }
    for patrol in all_patrols:
        a = linked[patrol.pk]
        assert patrol.shift == shifts[(a.date, a.shift_kind)]
        assert patrol.area == a.zone
        assert patrol.name.startswith(f"Plan KW 43 – {a.zone.name} ")
        assert (patrol.name.endswith("(Doppelstreife angefragt)")) == (a.kind == "joint")
        start, end = field_services.shift_times(a.date, a.shift_kind)
        assert start <= patrol.planned_start < patrol.planned_end <= end
    # No patrols for the police's own teams: they are requests to the partner.
    assert not any(a.kind == "police" and a.patrols.exists() for a in linked.values())
    # The night from Saturday to Sunday lasts nine hours (summer time ends); its patrols fit in it.
    dst_night = shifts[(dt.date(2026, 10, 24), Shift.Kind.NIGHT)]
    assert elapsed(dst_night.starts_at, dst_night.ends_at) == dt.timedelta(hours=9)
    night_patrols = [p for p in all_patrols if p.shift == dst_night]
    assert night_patrols
    for p in night_patrols:
        assert elapsed(p.planned_start, p.planned_end) in (dt.timedelta(hours=4.5), dt.timedelta(hours=9))
    with authority_scope(kod_lead.authority_id), pytest.raises(ValidationError):
        services.plan_apply(user=kod_lead, plan=plan)  # only once


def test_apply_is_all_or_nothing_and_reuses_existing_shifts(seeded, kod_lead):
    with authority_scope(kod_lead.authority_id):
        existing = field_services.shift_create(user=kod_lead, date=WEEK, kind=Shift.Kind.EARLY)
    plan = _create(kod_lead, kod=1)
    with authority_scope(kod_lead.authority_id):
        services.plan_approve(user=kod_lead, plan=plan)
        services.plan_apply(user=kod_lead, plan=plan)
        assert Shift.objects.filter(date=WEEK, kind=Shift.Kind.EARLY).get() == existing
        assert Patrol.objects.filter(shift=existing).exists()


def test_deviations_are_found_and_recorded(seeded, kod_lead, kod, clock):
    plan = _create(kod_lead, kod=1)
    with authority_scope(kod_lead.authority_id):
        services.plan_approve(user=kod_lead, plan=plan)
        patrols = services.plan_apply(user=kod_lead, plan=plan)
        plan.refresh_from_db()
        assert services.deviations(plan) == []  # the week has not begun
    monday_early = sorted(
        (p for p in patrols if p.shift.date == WEEK and p.shift.kind == Shift.Kind.EARLY),
        key=lambda p: p.planned_start,
    )[0]
    clock.move_to("2026-10-19T16:00:00+02:00")
    with authority_scope(kod_lead.authority_id):
        # Started on time, but in another area and ended three hours early.
        field_services.patrol_start(user=kod_lead, patrol=monday_early, at=monday_early.planned_start)
        field_services.patrol_end(
            user=kod_lead, patrol=monday_early, at=monday_early.planned_end - dt.timedelta(hours=3)
        )
        Patrol.objects.filter(pk=monday_early.pk).update(
            area=seeded["hafen"] if monday_early.area != seeded["hafen"] else seeded["nord"]
        )
        late = Shift.objects.get(date=WEEK, kind=Shift.Kind.LATE)
        field_services.patrol_create(user=kod_lead, shift=late, name="Zusatzstreife", members=[kod])
    clock.move_to(AFTER_WEEK)
    with authority_scope(kod_lead.authority_id):
        found = services.deviations(plan)
        kinds = defaultdict(list)
        for d in found:
            kinds[d.kind].append(d)
        assert [d.patrol_id for d in kinds["other_area"]] == [monday_early.pk]
        assert [d.patrol_id for d in kinds["shorter"]] == [monday_early.pk]
        assert "180 Minuten kürzer" in kinds["shorter"][0].text
        assert len(kinds["extra"]) == 1 and "Zusatzstreife" in kinds["extra"][0].text
        # Every other planned patrol was never started.
        assert len(kinds["not_started"]) == len(patrols) - 1
        recorded = services.deviations_record(user=kod_lead, plan=plan)
        plan.refresh_from_db()
    assert len(plan.deviations) == len(recorded) == len(found)
    assert plan.deviations_recorded_at is not None
    with unscoped():
        assert plan.changes.filter(action=PlanChange.Action.DEVIATIONS).count() == 1


def test_the_weekly_job_keeps_every_ended_weeks_deviations_once_for_both_authorities(
    seeded, kod_lead, police_lead, clock
):
    """Nobody pressed the button for the police's plan: the Monday job keeps its deviations.
    The city's shift lead kept hers after the week: the job leaves that plan alone."""
    from lagebild.ops import jobs

    plans = {}
    for lead, staff in ((kod_lead, {"kod": 1}), (police_lead, {"kod": 0, "police": 1})):
        plan = _create(lead, **staff)
        with authority_scope(lead.authority_id):
            services.plan_approve(user=lead, plan=plan)
            services.plan_apply(user=lead, plan=plan)
        plans[lead] = plan

    def run() -> object:
        return jobs.run_job("deployment_deviations", jobs.JOB_FUNCTIONS["deployment_deviations"])

    clock.move_to("2026-10-25T23:30:00+01:00")  # Sunday night of the 25-hour day: not over yet
    assert run().outcome == "skipped"
    clock.move_to("2026-10-26T05:30:00+01:00")  # Sunday's night shift runs until 06:00
    assert run().outcome == "skipped"
    clock.move_to("2026-10-26T06:30:00+01:00")
    with authority_scope(kod_lead.authority_id):
        services.deviations_record(user=kod_lead, plan=plans[kod_lead])
    clock.move_to("2026-10-26T07:30:00+01:00")
    first = run()
    assert first.outcome == "ok", first.summary
    assert "Abweichungen von 1 Einsatzplänen festgehalten" in first.summary
    with unscoped():
        police_plan = DeploymentPlan.objects.get(pk=plans[police_lead].pk)
        police_kept = list(police_plan.changes.filter(action=PlanChange.Action.DEVIATIONS))
        city_kept = list(plans[kod_lead].changes.filter(action=PlanChange.Action.DEVIATIONS))
        links = PlanAssignment.patrols.through.objects.filter(planassignment__plan_id=police_plan.pk)
        planned_patrols = links.values("patrol_id").distinct().count()
    assert [(c.user_id, c.reason) for c in police_kept] == [(None, services.AUTOMATIC_DEVIATIONS_REASON)]
    assert [c.user_id for c in city_kept] == [kod_lead.pk]
    # No police patrol was started: each is a deviation, kept with the plan.
    assert planned_patrols > 0
    assert len(police_plan.deviations) == planned_patrols
    assert {d["kind"] for d in police_plan.deviations} == {"not_started"}
    assert run().outcome == "skipped"  # the second run finds nothing
    with unscoped():
        assert PlanChange.objects.filter(action=PlanChange.Action.DEVIATIONS).count() == 2


def test_the_police_does_not_see_or_change_the_citys_plan(seeded, kod_lead, police_lead):
    plan = _create(kod_lead, kod=1)
    target = _assignments(plan)[0]
    with authority_scope(police_lead.authority_id):
        assert not DeploymentPlan.objects.filter(pk=plan.pk).exists()
        assert not PlanAssignment.objects.filter(pk=target.pk).exists()
        for action in (
            lambda: services.plan_approve(user=police_lead, plan=plan),
            lambda: services.plan_apply(user=police_lead, plan=plan),
            lambda: services.plan_edit(user=police_lead, assignment=target, teams=0, reason="x"),
            lambda: services.deviations_record(user=police_lead, plan=plan),
        ):
            with pytest.raises(PermissionDenied):
                action()
    plan.refresh_from_db()
    assert plan.state == DeploymentPlan.State.DRAFT


def test_the_forecast_is_the_risk_source_when_there_is_one(seeded, kod_lead):
    from lagebild.forecast import services as forecast

    with unscoped():
        forecast.run_forecast("all", WEEK, model="last_4_weeks")
    plan = _create(kod_lead, kod=1)
    assert plan.result["risk_source"] == "Prognose (Risikokarte der Woche)"
    rows = _assignments(plan)
    # The week forecast spreads the Innenstadt's incidents over the week: it leads every shift.
    assert {a.zone for a in rows if a.part == 1} == {seeded["innen"]}


def test_an_edit_that_breaks_a_focus_minimum_is_recorded_with_the_broken_rule(seeded, kod_lead):
    plan = _create(kod_lead, kod=2, focus_minimum=1)
    rows = [a for a in _assignments(plan) if a.zone == seeded["centre"]]
    per_part = defaultdict(list)
    for a in rows:
        per_part[(a.slot_key, a.part)].append(a)
    target = next(items[0] for items in per_part.values() if len(items) == 1 and items[0].teams == 1)
    with authority_scope(kod_lead.authority_id):
        change = services.plan_edit(user=kod_lead, assignment=target, teams=0, reason="Einsatz Stadion")
        plan.refresh_from_db()
    assert any("Schwerpunktraum Zentrum braucht mindestens 1 Streife" in v for v in change.violations)
    assert plan.result["violations"] == change.violations


def test_weekly_hour_caps_are_kept(seeded, kod_lead):
    plan = _create(kod_lead, kod=2, joint=1, max_hours={"kod": 40, "police": None, "joint": 16})
    assert plan.inputs["max_hours"] == {"kod": 40.0, "joint": 16.0}
    assert plan.result["team_hours"]["kod"] <= 40 + 1e-6
    assert plan.result["team_hours"]["joint"] <= 16 + 1e-6
    with authority_scope(kod_lead.authority_id):
        assert services.evaluate_plan(plan).violations == []
