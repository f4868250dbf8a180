"""Deployment optimisation (pure): the MILP reaches the brute-force optimum, keeps every rule, explains."""

from __future__ import annotations

import numpy as np
import pytest

from lagebild.deployment.optimise import (
    KINDS,
    Assignment,
    PlanInput,
    Slot,
    ZoneInput,
    brute_force,
    coverage,
    evaluate,
    optimise,
)

INSTANCES = 36


def small_instance(seed: int) -> PlanInput:
    """2–3 zones, 2–3 shifts, at most 3 teams per shift, random caps, focus, travel and bans."""
    rng = np.random.default_rng(seed)
    n_zones, n_slots = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    parts = int(rng.integers(1, 3))
    slots = [
        Slot(key=f"s{i}", label=f"Schicht {i + 1}", start=i / 3 + 6 / 24, end=i / 3 + 14 / 24)
        for i in range(n_slots)
    ]
    teams = np.zeros((3, n_slots), dtype=int)
    for s in range(n_slots):
        total = int(rng.integers(1, 4))
        for _ in range(total):
            teams[rng.integers(0, 3), s] += 1
    focus_zone = int(rng.integers(0, n_zones))
    zones = [
        ZoneInput(
            code=f"z{i}",
            name=("Nordmarkt", "Hafen", "Kreuzviertel")[i],
            focus=i == focus_zone and seed % 3 == 0,
            min_teams=(1 + (seed % 9 == 0)) if i == focus_zone and seed % 3 == 0 else 0,
            focus_slots=frozenset({"s0"}) if seed % 2 else None,
        )
        for i in range(n_zones)
    ]
    travel = rng.choice([0, 10, 25, 40, 90], size=(n_zones, n_zones)).astype(float)
    travel = np.triu(travel, 1) + np.triu(travel, 1).T
    caps = {}
    if seed % 4 == 1:
        caps = {"kod": float(rng.choice([4, 8, 16])), "police": float(rng.choice([4, 8, 16]))}
        if seed % 8 == 5:
            caps["joint"] = 4.0
    forbidden = {"kod": {f"z{n_zones - 1}"}} if seed % 5 == 2 else {}
    return PlanInput(
        zones=zones,
        slots=slots,
        risk=rng.gamma(1.5, 2.0, size=(n_zones, n_slots)).round(2),
        kod_teams=list(teams[0]),
        police_teams=list(teams[1]),
        joint_teams=list(teams[2]),
        travel_minutes=travel,
        max_team_hours=caps,
        max_slot_team_hours={"kod": 12.0} if seed % 6 == 5 else {},
        forbidden_zones=forbidden,
        parts_per_slot=parts,
        part_risk=rng.gamma(1.0, 1.5, size=(n_zones, n_slots, parts)).round(2) if seed % 2 == 0 else None,
        mip_rel_gap=0.0,
    )


@pytest.mark.parametrize("seed", range(INSTANCES))
def test_milp_reaches_the_brute_force_optimum_and_keeps_every_rule(seed):
    plan_input = small_instance(seed)
    exact = brute_force(plan_input)
    plan = optimise(plan_input)
    assert plan.status == exact.status, (plan.message, exact.message)
    if exact.status != "optimal":
        return
    assert plan.objective == pytest.approx(exact.objective, rel=1e-6, abs=1e-9)
    assert plan.solver_objective == pytest.approx(plan.objective, rel=1e-6, abs=1e-9)
    # The brute-force plan itself is feasible and worth what it claims.
    exact_check = evaluate(plan_input, exact.assignments)
    assert exact_check.violations == []
    assert exact_check.covered_risk == pytest.approx(exact.objective)
    # Our plan keeps every rule, and evaluate() agrees with its objective.
    check = evaluate(plan_input, plan.assignments)
    assert check.violations == []
    assert check.covered_risk == pytest.approx(plan.objective, rel=1e-9)
    assert sum(row.covered_risk for row in plan.assignments) == pytest.approx(plan.objective)
    assert_rules_hold(plan_input, plan.assignments)


def assert_rules_hold(plan_input: PlanInput, assignments: list[Assignment]) -> None:
    """The constraints, checked here directly (not through evaluate())."""
    slot_of = {slot.key: s for s, slot in enumerate(plan_input.slots)}
    parts = plan_input.parts_per_slot
    available = [plan_input.kod_teams, plan_input.police_teams, plan_input.joint_teams]
    travel = plan_input.travel_minutes
    zone_of = {zone.code: z for z, zone in enumerate(plan_input.zones)}
    teams_in_part: dict[tuple[str, str, int], int] = {}
    fresh: dict[tuple[str, str], int] = {}
    hours = {"kod": 0.0, "police": 0.0, "joint": 0.0}
    for row in assignments:
        assert row.part >= 1 and row.teams >= 1
        assert row.zone not in plan_input.forbidden_zones.get(row.kind, set())
        key = (row.kind, row.slot, row.part)
        teams_in_part[key] = teams_in_part.get(key, 0) + row.teams
        if row.from_zone is None:
            fresh[(row.kind, row.slot)] = fresh.get((row.kind, row.slot), 0) + row.teams
        elif row.from_zone != row.zone:
            minutes = travel[zone_of[row.from_zone], zone_of[row.zone]]
            assert minutes <= plan_input.max_move_minutes
            slot = plan_input.slots[slot_of[row.slot]]
            assert row.hours == pytest.approx(row.teams * (slot.hours / parts - minutes / 60))
        part_hours = plan_input.slots[slot_of[row.slot]].hours / parts
        hours[row.kind] += row.teams * part_hours
    for (kind, slot_key), count in fresh.items():
        assert count <= available[KINDS.index(kind)][slot_of[slot_key]]
    for (kind, slot_key, _part), count in teams_in_part.items():
        assert count <= available[KINDS.index(kind)][slot_of[slot_key]]
    for key, cap in plan_input.max_team_hours.items():
        assert hours[key] <= cap + 1e-6
    for zone in plan_input.zones:
        if zone.focus:
            for slot in plan_input.slots:
                if zone.focus_slots is None or slot.key in zone.focus_slots:
                    for part in range(1, parts + 1):
                        present = sum(
                            row.teams
                            for row in assignments
                            if (row.slot, row.zone, row.part) == (slot.key, zone.code, part)
                        )
                        assert present >= zone.min_teams


def tiny_week(**changes) -> PlanInput:
    zones = [
        ZoneInput("nord", "Nordstadt", focus=True, min_teams=2, focus_slots=frozenset({"fr-spaet"})),
        ZoneInput("city", "Innenstadt"),
        ZoneInput("hoerde", "Hörde"),
    ]
    slots = [
        Slot("fr-frueh", "Frühschicht Fr", 4 + 6 / 24, 4 + 14 / 24),
        Slot("fr-spaet", "Spätschicht Fr", 4 + 14 / 24, 4 + 22 / 24),
    ]
    values = dict(
        zones=zones,
        slots=slots,
        risk=np.array([[2.0, 6.2], [3.0, 4.0], [0.5, 1.0]]),
        kod_teams=[1, 2],
        police_teams=[1, 1],
        joint_teams=[0, 1],
        travel_minutes=np.array([[0, 12, 25], [12, 0, 20], [25, 20, 0]], dtype=float),
    )
    values.update(changes)
    return PlanInput(**values)


def test_explanations_name_the_zone_the_expected_count_and_the_focus_minimum():
    plan = optimise(tiny_week())
    assert plan.status == "optimal"
    nord_late = [row for row in plan.assignments if row.zone == "nord" and row.slot == "fr-spaet"]
    assert nord_late and sum(row.teams for row in nord_late if row.part == 1) >= 2
    reason = nord_late[0].reason
    assert reason.startswith(
        "Zone Nordstadt, Spätschicht Fr, 14–18 Uhr: 3,1 erwartete Vorfälle (Rang 1 von 3"
    )
    assert "Schwerpunktraum mit Mindestpräsenz 2 Streifen" in reason
    assert "die zweite Streife deckt weitere 25 % ab" in reason
    for row in plan.assignments:
        zone = {"nord": "Nordstadt", "city": "Innenstadt", "hoerde": "Hörde"}[row.zone]
        assert f"Zone {zone}" in row.reason and "erwartete Vorfälle" in row.reason
    assert plan.message.startswith("Optimaler Plan:") and "erwarteten Vorfällen abgedeckt" in plan.message


def test_unassigned_high_risk_zone_says_staff_is_exhausted():
    plan_input = tiny_week(kod_teams=[1, 0], police_teams=[0, 0], joint_teams=[0, 2])
    plan = optimise(plan_input)
    assert plan.status == "optimal"
    early_city = [u for u in plan.unassigned if u.slot == "fr-frueh" and u.zone == "nord"]
    assert early_city, plan.unassigned
    assert "Alle verfügbaren Streifen dieser Schicht sind eingesetzt" in early_city[0].reason
    assert "Zone Nordstadt" in early_city[0].reason


def test_unassigned_zone_says_the_weekly_hours_are_used_up():
    plan = optimise(tiny_week(max_team_hours={"kod": 12.0, "police": 12.0}))
    assert plan.status == "optimal"
    assert plan.team_hours["kod"] <= 12.0 and plan.team_hours["police"] <= 12.0
    reasons = " ".join(u.reason for u in plan.unassigned)
    assert "Wochenhöchststunden ausgeschöpft" in reasons


def test_focus_minimum_that_staff_cannot_meet_gives_a_german_message_naming_shift_and_zone():
    plan = optimise(tiny_week(kod_teams=[1, 1], police_teams=[1, 0], joint_teams=[0, 0]))
    assert plan.status == "infeasible"
    assert "Kein zulässiger Plan" in plan.message
    assert "Spätschicht Fr" in plan.message and "Zone Nordstadt" in plan.message
    assert "Mindestpräsenz 2 Streifen nicht erreichbar, möglich sind 1" in plan.message
    # A best-effort plan still comes back for the shift lead.
    assert any(row.zone == "nord" and row.slot == "fr-spaet" for row in plan.assignments)


def test_focus_minimum_blocked_by_a_ban_says_who_may_go_there():
    plan = optimise(tiny_week(forbidden_zones={"kod": {"nord"}}, police_teams=[1, 0], joint_teams=[0, 1]))
    assert plan.status == "infeasible"
    assert "dürfen dort nur 1 Streifen eingesetzt werden" in plan.message


@pytest.mark.parametrize(
    "changes",
    [
        {"risk": np.ones((2, 2))},
        {"kod_teams": [1]},
        {"coverage_shares": (0.2, 0.5)},
        {"zones": []},
        {"max_team_hours": {"feuerwehr": 10.0}},
        {"risk": np.array([[1.0, np.nan], [1.0, 1.0], [1.0, 1.0]])},
    ],
)
def test_invalid_input_is_reported_in_german_without_an_exception(changes):
    plan = optimise(tiny_week(**changes))
    assert plan.status == "invalid"
    assert plan.message.startswith("Eingaben unvollständig:")
    assert plan.assignments == []


def test_changing_zone_costs_the_travel_time_and_happens_when_the_risk_moves():
    # Risk in the first half in the city, in the second in the north; one team only.
    plan_input = tiny_week(
        slots=[Slot("fr-spaet", "Spätschicht Fr", 4 + 14 / 24, 4 + 22 / 24)],
        risk=np.array([[4.0], [4.0], [0.0]]),
        part_risk=np.array([[[0.0, 4.0]], [[4.0, 0.0]], [[0.0, 0.0]]]),
        zones=[ZoneInput("nord", "Nordstadt"), ZoneInput("city", "Innenstadt"), ZoneInput("hoerde", "Hörde")],
        kod_teams=[1],
        police_teams=[0],
        joint_teams=[0],
    )
    plan = optimise(plan_input)
    moved = [row for row in plan.assignments if row.from_zone == "city" and row.zone == "nord"]
    assert len(moved) == 1
    assert moved[0].hours == pytest.approx(4 - 12 / 60)
    assert "Wechselt aus Zone Innenstadt (12 Min. Fahrt" in moved[0].reason
    # 4 events × 50 % in the first half, 4 × 50 % × (1 − 12/240) in the second.
    assert plan.objective == pytest.approx(2.0 + 2.0 * (1 - 12 / 240))


def test_evaluate_prices_a_hand_edit_and_lists_what_it_breaks():
    plan_input = tiny_week()
    plan = optimise(plan_input)
    # The shift lead sends every late team to Hörde for the whole shift.
    edit = [Assignment(slot="fr-spaet", zone="hoerde", kind="kod", teams=3, part=0)]
    result = evaluate(plan_input, edit)
    assert result.covered_risk < plan.objective
    assert "Spätschicht Fr: 3 Streifen KOD eingeplant, verfügbar sind nur 2." in result.violations
    assert any(
        "Schwerpunktraum Nordstadt braucht mindestens 2 Streifen, eingeplant 0" in v
        for v in result.violations
    )
    assert float(result) == result.covered_risk
    # A whole-shift row equals the same teams in both halves.
    whole = evaluate(plan_input, [Assignment(slot="fr-frueh", zone="city", kind="kod", teams=1)])
    halves = evaluate(
        plan_input,
        [
            Assignment(slot="fr-frueh", zone="city", kind="kod", teams=1, part=1),
            Assignment(slot="fr-frueh", zone="city", kind="kod", teams=1, part=2, from_zone="city"),
        ],
    )
    assert whole.covered_risk == pytest.approx(halves.covered_risk) == pytest.approx(3.0 * 0.5)


def test_joint_team_counts_with_its_bonus():
    plan_input = tiny_week(
        slots=[Slot("fr-spaet", "Spätschicht Fr", 4 + 14 / 24, 4 + 22 / 24)],
        zones=[ZoneInput("nord", "Nordstadt"), ZoneInput("city", "Innenstadt"), ZoneInput("hoerde", "Hörde")],
        risk=np.array([[8.0], [0.0], [0.0]]),
        kod_teams=[0],
        police_teams=[0],
        joint_teams=[1],
        parts_per_slot=1,
    )
    plan = optimise(plan_input)
    # One team covers 50 %; the joint bonus adds 25 % of the first team's 50 %.
    assert plan.objective == pytest.approx(8.0 * (0.5 + 0.25 * 0.5))
    assert (
        "Doppelstreife: Maßnahmen beider Behörden möglich, Bonus 12,5 % Abdeckung."
        in plan.assignments[0].reason
    )


def test_coverage_has_diminishing_returns():
    shares = np.array([0.5, 0.25, 0.125, 0.0625])
    assert coverage(np.array([0.0, 1.0, 2.0, 1.5, 10.0]), shares).tolist() == pytest.approx(
        [0.0, 0.5, 0.75, 0.625, 0.9375]
    )


def test_bench_reports_seconds_objective_and_the_gap(capsys):
    import argparse
    import json

    from bench import deployment_plan

    deployment_plan.bench_week(6, argparse.Namespace(seed=1, gap=1e-4, repeat=1))
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["bench"] == "deployment_plan" and line["slots"] == 21 and line["focus_areas"] == 3
    assert line["status"] == "optimal" and 0 < line["objective"] <= line["total_risk"]
    assert line["mip_gap"] is not None and line["mip_gap"] <= 1e-4
    assert line["team_hours"]["kod"] <= 0.75 * 8 * 10 * 21 + 1e-6


def test_a_shift_without_any_team_gives_an_empty_plan_or_a_german_shortfall():
    empty = tiny_week(kod_teams=[0, 0], police_teams=[0, 0], joint_teams=[0, 0])
    plan = optimise(empty)
    assert plan.status == "infeasible"
    assert "keine Streife verfügbar, die dort eingesetzt werden darf" in plan.message
    quiet = tiny_week(
        kod_teams=[0, 0], police_teams=[0, 0], joint_teams=[0, 0], zones=[ZoneInput("nord", "Nordstadt"),
        ZoneInput("city", "Innenstadt"), ZoneInput("hoerde", "Hörde")], risk=np.zeros((3, 2)),
    )  # fmt: skip
    plan = optimise(quiet)
    assert plan.status == "optimal" and plan.assignments == [] and plan.objective == 0.0
