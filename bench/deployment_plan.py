"""Benchmark: deployment plan for a week of shifts (``lagebild.deployment.optimise``).

``python -m bench.deployment_plan [--zones 12,16,20] [--repeat 5] [--seed 1]``; pure numpy/scipy,
no Django and no database. One JSON line per zone count on stdout, progress on stderr.

A Dortmund-like week: 21 shifts (early 6–14, late 14–22, night 22–6 h, Monday to Sunday), each
split into two halves of 4 h; ``--zones`` patrol zones (12, 16 and 20) scattered over 12 km × 10 km
with travel time 4 min + 2.5 min per km of straight-line distance; expected events per zone and
half-shift = a zone level (gamma) × a time-of-week profile (quiet early shifts, busy late shifts,
Friday/Saturday nights high); KOD 6–10 teams per shift, police 4–8, 2 joint teams; three focus
areas needing two teams in every half of the late and night shifts on Thursday to Saturday;
weekly caps of 75 % of the available team-hours for KOD and police; KOD may not patrol the
quietest (industrial) zone, the whole week. Target: median of
``--repeat`` solves under 5 s at HiGHS's relative gap 1e-4; reported: seconds (min, median),
the objective, HiGHS's gap and dual bound, and the variable counts.
"""

from __future__ import annotations

import argparse
import os
import statistics

import numpy as np

from lagebild.deployment.optimise import PlanInput, Slot, ZoneInput, optimise

from .common import emit, log

TARGET_SECONDS = 5.0
SHIFTS = (("frueh", "Frühschicht", 6), ("spaet", "Spätschicht", 14), ("nacht", "Nachtschicht", 22))
DAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
# Expected events per half-shift relative to the mean: early quiet, late busy, nights vary by day.
SHIFT_LEVEL = {"frueh": (0.6, 0.9), "spaet": (1.3, 1.6), "nacht": (1.1, 0.5)}
WEEKEND_NIGHT = {4: 1.8, 5: 2.0}  # Friday and Saturday nights


def dortmund_like_week(zones: int, seed: int, mip_rel_gap: float = 1e-4) -> PlanInput:
    rng = np.random.default_rng(seed)
    slots, profile = [], []
    for day, day_label in enumerate(DAYS):
        for key, label, hour in SHIFTS:
            start = day + hour / 24
            slots.append(Slot(f"{day_label.lower()}-{key}", f"{label} {day_label}", start, start + 8 / 24))
            factor = WEEKEND_NIGHT.get(day, 1.0) if key == "nacht" else 1.0
            profile.append([level * factor for level in SHIFT_LEVEL[key]])
    profile_array = np.array(profile)  # (slots, 2)
    names = [f"Bezirk {index + 1}" for index in range(zones)]
    focus = set(rng.choice(zones, size=3, replace=False).tolist())
    evening = frozenset(slot.key for slot in slots if slot.key.split("-")[0] in ("do", "fr", "sa"))
    evening = frozenset(key for key in evening if not key.endswith("frueh"))
    zone_inputs = [
        ZoneInput(
            code=f"z{index:02d}", name=name, focus=index in focus, min_teams=2 if index in focus else 0,
            focus_slots=evening if index in focus else None,
        )
        for index, name in enumerate(names)
    ]  # fmt: skip
    level = rng.gamma(2.0, 0.6, size=zones)
    level[list(focus)] *= 2.5  # focus areas are focus areas because much happens there
    noise = rng.gamma(8.0, 1 / 8, size=(zones, len(slots), 2))
    part_risk = level[:, None, None] * profile_array[None, :, :] * noise
    positions = rng.uniform([0, 0], [12, 10], size=(zones, 2))
    distance = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=2)
    travel = np.where(np.eye(zones, dtype=bool), 0.0, 4.0 + 2.5 * distance)
    kod = rng.integers(6, 11, size=len(slots))
    police = rng.integers(4, 9, size=len(slots))
    joint = np.full(len(slots), 2)
    caps = {"kod": 0.75 * 8 * float(kod.sum()), "police": 0.75 * 8 * float(police.sum())}
    industrial = f"z{int(np.argmin(level)):02d}"
    return PlanInput(
        zones=zone_inputs, slots=slots, risk=part_risk.sum(axis=2), part_risk=part_risk,
        kod_teams=kod.tolist(), police_teams=police.tolist(), joint_teams=joint.tolist(),
        travel_minutes=travel, max_team_hours=caps, forbidden_zones={"kod": {industrial}},
        mip_rel_gap=mip_rel_gap, time_limit_seconds=60.0,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zones", default="12,16,20", help="zone counts, comma-separated (one line each)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gap", type=float, default=1e-4, help="HiGHS relative MIP gap")
    args = parser.parse_args()
    for zones in [int(value) for value in args.zones.split(",") if value.strip()]:
        bench_week(zones, args)


def bench_week(zones: int, args: argparse.Namespace) -> None:
    plan_input = dortmund_like_week(zones, args.seed, args.gap)
    load_before = os.getloadavg()[0]
    results = [optimise(plan_input) for _ in range(args.repeat)]
    seconds = [result.seconds for result in results]
    plan = results[-1]
    log(f"{plan.message} median {statistics.median(seconds):.2f} s")
    teams = sum(row.teams for row in plan.assignments)
    moves = sum(row.teams for row in plan.assignments if row.from_zone not in (None, row.zone))
    emit(
        bench="deployment_plan",
        zones=zones,
        slots=len(plan_input.slots),
        parts_per_slot=plan_input.parts_per_slot,
        kod_teams_per_shift=f"{min(plan_input.kod_teams)}-{max(plan_input.kod_teams)}",
        police_teams_per_shift=f"{min(plan_input.police_teams)}-{max(plan_input.police_teams)}",
        joint_teams_per_shift=max(plan_input.joint_teams),
        focus_areas=sum(zone.focus for zone in plan_input.zones),
        runs=args.repeat,
        seconds_min=round(min(seconds), 3),
        seconds_median=round(statistics.median(seconds), 3),
        status=plan.status,
        objective=round(plan.objective, 3),
        total_risk=round(plan.total_risk, 3),
        covered_share=round(plan.objective / plan.total_risk, 4),
        dual_bound=None if plan.dual_bound is None else round(plan.dual_bound, 3),
        mip_gap=plan.mip_gap,
        mip_rel_gap_setting=args.gap,
        team_parts_planned=teams,
        zone_changes=moves,
        team_hours={key: round(value, 1) for key, value in plan.team_hours.items()},
        load_1min=round(load_before, 2),
        target_seconds=TARGET_SECONDS,
        ok=plan.status == "optimal" and statistics.median(seconds) < TARGET_SECONDS,
    )


if __name__ == "__main__":
    main()
