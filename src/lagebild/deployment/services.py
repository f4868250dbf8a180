"""Writes of deployment plans: compute, edit (with reason and cost), approve, apply, record deviations.

Every write checks the role (``deployment.edit_plans``), works on plans of the user's own
authority only (the scoped manager answers "does not exist" for the partner's plans), writes a
``PlanChange`` and an audit entry in the same transaction, and refuses bad input with German
messages per field (``ValidationError``).

The optimiser (``optimise.py``, pure) gets a ``PlanInput`` built here from the database:
zones, the 21 shifts of the week, the expected events per zone and shift, staff, travel times.
The complete input is stored with the plan, so an edit is evaluated against the very input the
optimum was computed for.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from lagebild.analytics import aggregates
from lagebild.catalog.models import Category
from lagebild.core import audit
from lagebild.core.localtime import elapsed, later, monday_of
from lagebild.core.models import Authority, User
from lagebild.core.scoping import unscoped
from lagebild.field import services as field_services
from lagebild.field.models import IncidentArea, Patrol, Shift
from lagebild.geo.geometry import parse_polygon
from lagebild.geo.models import Area
from lagebild.geo.points import to_utm32

from . import optimise
from .models import ALL_GROUPS, DeploymentPlan, PlanAssignment, PlanChange

SHIFT_KINDS = (Shift.Kind.EARLY, Shift.Kind.LATE, Shift.Kind.NIGHT)
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
WEEKDAYS_SHORT = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
STAFF_KINDS = ("kod", "police", "joint")
MAX_TEAMS_PER_SHIFT = 50
MAX_FOCUS_MINIMUM = 10
PLANNING_RANGE = dt.timedelta(days=366)
# Travel between zones: straight line between the zones' centroids times a detour factor for the
# street network, at an urban driving speed with stops (settings LAGEBILD_DEPLOYMENT_TRAVEL_KMH,
# LAGEBILD_DEPLOYMENT_DETOUR). Coarse on purpose: it only has to rank near and far zones.
DEFAULT_TRAVEL_KMH = 20.0
DEFAULT_DETOUR = 1.3
MAX_WEEK_HOURS = 5000
# A patrol that lasted this much shorter or longer than planned is a deviation.
DURATION_TOLERANCE = dt.timedelta(minutes=30)
RISK_WEEKS = 4
# Each shift is planned in two halves, so a team can change zone once per shift.
PARTS_PER_SLOT = 2

GROUP_CHOICES = ((ALL_GROUPS, "Alle Deliktsgruppen"), *Category.Group.choices)
GROUP_LABELS = dict(GROUP_CHOICES)
OWN_KIND = {Authority.Kind.CITY: "kod", Authority.Kind.POLICE: "police"}


def _require(user: User) -> None:
    if not user.has_perm("deployment.edit_plans"):
        raise PermissionDenied("Einsatzpläne bearbeitet nur die Schichtleitung der eigenen Behörde.")


def staff_key(weekday: int, kind: str) -> str:
    return f"{weekday}-{kind}"


def slot_key(day: dt.date, kind: str) -> str:
    return f"{day.isoformat()}-{kind}"


# --- risk per zone and shift ------------------------------------------------------------------


def _shift_of(local: dt.datetime) -> tuple[dt.date, str]:
    """The shift (day it starts, kind) an instant on the local wall clock belongs to."""
    if local.hour < 6:
        return local.date() - dt.timedelta(days=1), Shift.Kind.NIGHT
    if local.hour < 14:
        return local.date(), Shift.Kind.EARLY
    if local.hour < 22:
        return local.date(), Shift.Kind.LATE
    return local.date(), Shift.Kind.NIGHT


def _recent_incident_risk(group: str, week: dt.date, zone_ids: list[int]) -> dict[tuple[int, str], float]:
    """Expected events per (zone, slot) from the last four complete weeks' incidents.

    For each zone, weekday and shift kind: 80 % the mean count of the same shift in the four
    weeks before, 20 % the zone's mean per shift over those weeks (so a zone with events never
    gets zero only because they fell into other shifts). Places and times only, all authorities
    as an aggregate (like the forecast).
    """
    reference = min(week, monday_of(timezone.localdate()))
    first = reference - dt.timedelta(weeks=RISK_WEEKS)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time(6), tzinfo=zone)
    end = dt.datetime.combine(reference, dt.time(6), tzinfo=zone)
    links = IncidentArea.objects.filter(
        area_id__in=zone_ids, incident__occurred_at__gte=start, incident__occurred_at__lt=end
    )
    if group != ALL_GROUPS:
        links = links.filter(incident__category__group=group)
    same_shift: dict[tuple[int, int, str], int] = defaultdict(int)
    per_zone: dict[int, int] = defaultdict(int)
    with unscoped():
        rows = list(links.values_list("area_id", "incident__occurred_at"))
    for area_id, occurred_at in rows:
        day, kind = _shift_of(timezone.localtime(occurred_at, zone))
        same_shift[(area_id, day.weekday(), kind)] += 1
        per_zone[area_id] += 1
    risk: dict[tuple[int, str], float] = {}
    shifts_in_window = RISK_WEEKS * 7 * len(SHIFT_KINDS)
    for area_id in zone_ids:
        zone_mean = per_zone[area_id] / shifts_in_window
        for offset in range(7):
            day = week + dt.timedelta(days=offset)
            for kind in SHIFT_KINDS:
                slot_mean = same_shift[(area_id, offset, kind)] / RISK_WEEKS
                risk[(area_id, slot_key(day, kind))] = 0.8 * slot_mean + 0.2 * zone_mean
    return risk


def zone_risk_by_slot(
    group: str, week: dt.date, zone_ids: list[int]
) -> tuple[dict[tuple[int, str], float], str]:
    """Expected events per (zone id, slot key) and a German name of the source.

    The one place the plan's risk comes from: the forecast app's ``zone_risk`` when it exists
    and has a forecast, else the last four weeks' incidents.
    """
    try:
        from lagebild.forecast.selectors import zone_risk  # type: ignore[attr-defined]
    except ImportError:
        zone_risk = None
    recent = _recent_incident_risk(group, week, zone_ids)
    if zone_risk is not None:
        risk: dict[tuple[int, str], float] = {}
        forecast_total = 0.0
        for offset in range(7):
            day = week + dt.timedelta(days=offset)
            for kind in SHIFT_KINDS:
                start, end = field_services.shift_times(day, kind)
                values = zone_risk(group, start, end) or {}
                for area_id in zone_ids:
                    key = (area_id, slot_key(day, kind))
                    # The forecast covers patrol zones; focus areas keep the recent incidents.
                    risk[key] = float(values[area_id]) if area_id in values else recent[key]
                    forecast_total += float(values.get(area_id, 0.0))
        if forecast_total > 0:
            return risk, "Prognose (Risikokarte der Woche)"
    return recent, "Feststellungen der letzten vier Wochen"


# --- building the optimiser input --------------------------------------------------------------


def _travel_minutes(areas: list[Area]) -> np.ndarray:
    speed = float(getattr(settings, "LAGEBILD_DEPLOYMENT_TRAVEL_KMH", DEFAULT_TRAVEL_KMH))
    detour = float(getattr(settings, "LAGEBILD_DEPLOYMENT_DETOUR", DEFAULT_DETOUR))
    points = []
    for area in areas:
        centroid = parse_polygon(area.geometry).centroid
        points.append(to_utm32(centroid.y, centroid.x))
    size = len(areas)
    minutes = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            metres = math.dist(points[i], points[j]) * detour
            minutes[i, j] = round(metres / 1000 / speed * 60, 1)
    return minutes


def _slots(week: dt.date) -> list[optimise.Slot]:
    """The 21 shifts of the week, in days since the week's Monday on the local wall clock."""
    slots = []
    for offset in range(7):
        day = week + dt.timedelta(days=offset)
        for kind in SHIFT_KINDS:
            start_time, end_time = field_services.SHIFT_TIMES[kind]
            start = offset + start_time.hour / 24
            end = offset + end_time.hour / 24 + (1 if end_time <= start_time else 0)
            label = f"{Shift.Kind(kind).label} {WEEKDAYS_SHORT[offset]} {day:%d.%m.}"
            slots.append(optimise.Slot(key=slot_key(day, kind), label=label, start=start, end=end))
    return slots


def _plan_input_to_json(plan_input: optimise.PlanInput) -> dict[str, Any]:
    return {
        "zones": [
            {"code": z.code, "name": z.name, "focus": z.focus, "min_teams": z.min_teams}
            for z in plan_input.zones
        ],
        "slots": [{"key": s.key, "label": s.label, "start": s.start, "end": s.end} for s in plan_input.slots],
        "risk": np.asarray(plan_input.risk, dtype=float).round(6).tolist(),
        "kod_teams": list(plan_input.kod_teams),
        "police_teams": list(plan_input.police_teams),
        "joint_teams": list(plan_input.joint_teams),
        "travel_minutes": np.asarray(plan_input.travel_minutes, dtype=float).tolist(),
        "max_team_hours": dict(plan_input.max_team_hours),
        "parts_per_slot": plan_input.parts_per_slot,
    }


def plan_input_from_json(data: Mapping[str, Any]) -> optimise.PlanInput:
    """The optimiser input stored with a plan (risk rounded to 6 digits, as stored)."""
    return optimise.PlanInput(
        zones=[optimise.ZoneInput(**z) for z in data["zones"]],
        slots=[optimise.Slot(**s) for s in data["slots"]],
        risk=np.asarray(data["risk"], dtype=float),
        kod_teams=[int(v) for v in data["kod_teams"]],
        police_teams=[int(v) for v in data["police_teams"]],
        joint_teams=[int(v) for v in data["joint_teams"]],
        travel_minutes=np.asarray(data["travel_minutes"], dtype=float),
        max_team_hours={k: float(v) for k, v in data["max_team_hours"].items()},
        parts_per_slot=int(data.get("parts_per_slot", PARTS_PER_SLOT)),
    )


def part_times(day: dt.date, kind: str, part: int, parts: int) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of part ``part`` (1-based; 0 = whole shift) of a shift, split in absolute time.

    On the nights the clocks change a night shift lasts 7 or 9 hours; its parts are equal shares
    of the real duration, so no boundary falls on a wall-clock time that occurs twice or never.
    """
    start, end = field_services.shift_times(day, kind)
    if part == 0 or parts <= 1:
        return start, end
    length = elapsed(start, end) / parts
    return later(start, length * (part - 1)), later(start, length * part)


@dataclass(frozen=True)
class StaffInput:
    """Teams available per weekday (0 = Monday) and shift kind, for each kind of team."""

    kod: Mapping[str, int]
    police: Mapping[str, int]
    joint: Mapping[str, int]

    @classmethod
    def uniform(cls, kod: int = 0, police: int = 0, joint: int = 0) -> StaffInput:
        keys = [staff_key(d, k) for d in range(7) for k in SHIFT_KINDS]
        return cls(
            kod=dict.fromkeys(keys, kod), police=dict.fromkeys(keys, police), joint=dict.fromkeys(keys, joint)
        )

    def get(self, team_kind: str, weekday: int, shift_kind: str) -> int:
        return int(getattr(self, team_kind).get(staff_key(weekday, shift_kind), 0) or 0)

    def to_json(self) -> dict[str, dict[str, int]]:
        return {
            kind: {staff_key(d, k): self.get(kind, d, k) for d in range(7) for k in SHIFT_KINDS}
            for kind in STAFF_KINDS
        }


def _check_create(
    user: User,
    week: dt.date,
    group: str,
    staff: StaffInput,
    focus_minimum: int,
    max_hours: Mapping[str, float],
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    today = timezone.localdate()
    if not (today - PLANNING_RANGE <= week <= today + PLANNING_RANGE):
        errors["week"].append(
            "Die Woche liegt außerhalb des planbaren Zeitraums (ein Jahr zurück oder voraus)."
        )
    if group not in GROUP_LABELS:
        errors["category_group"].append("Unbekannte Deliktsgruppe.")
    for kind in STAFF_KINDS:
        for d in range(7):
            for shift_kind in SHIFT_KINDS:
                value = staff.get(kind, d, shift_kind)
                if not 0 <= value <= MAX_TEAMS_PER_SHIFT:
                    errors[f"{kind}_{d}_{shift_kind}"].append(
                        f"Bitte eine Zahl von 0 bis {MAX_TEAMS_PER_SHIFT} angeben."
                    )
    if not 0 <= focus_minimum <= MAX_FOCUS_MINIMUM:
        errors["focus_minimum"].append(f"Bitte eine Zahl von 0 bis {MAX_FOCUS_MINIMUM} angeben.")
    for kind, hours in max_hours.items():
        if kind not in STAFF_KINDS:
            errors["__all__"].append(f"Unbekannte Art für Höchststunden: {kind}.")
        elif not (isinstance(hours, int | float) and 0 <= hours <= MAX_WEEK_HOURS):
            errors[f"max_hours_{kind}"].append(f"Bitte eine Stundenzahl von 0 bis {MAX_WEEK_HOURS} angeben.")
    return errors


@transaction.atomic
def plan_create(
    *,
    user: User,
    week: dt.date,
    category_group: str = ALL_GROUPS,
    staff: StaffInput,
    focus_minimum: int = 0,
    max_hours: Mapping[str, float | None] | None = None,
) -> DeploymentPlan:
    """Compute a plan for the week containing ``week`` and store it as a draft.

    ``max_hours``: weekly team-hours per kind ("kod", "police", "joint"; None = no cap), the
    optimiser's ``max_team_hours``.
    """
    _require(user)
    week = monday_of(week)
    caps = {k: float(v) for k, v in (max_hours or {}).items() if v is not None}
    errors = _check_create(user, week, category_group, staff, focus_minimum, caps)
    if errors:
        raise ValidationError(dict(errors))
    zones = list(Area.objects.filter(kind=Area.Kind.PATROL_ZONE, active=True).order_by("name", "pk"))
    if not zones:
        raise ValidationError("Es sind keine Streifenbereiche angelegt; ohne sie kann nichts geplant werden.")
    focus_areas = (
        list(Area.objects.filter(kind=Area.Kind.FOCUS_AREA, active=True).order_by("name", "pk"))
        if focus_minimum
        else []
    )
    areas = zones + focus_areas
    slots = _slots(week)
    for index, slot in enumerate(slots):
        weekday, kind = index // 3, SHIFT_KINDS[index % 3]
        available = sum(staff.get(k, weekday, kind) for k in STAFF_KINDS)
        needed = focus_minimum * len(focus_areas)
        if available < needed:
            raise ValidationError(
                {
                    "focus_minimum": (
                        f"{slot.label}: {available} Streifen reichen nicht für die Mindestpräsenz von "
                        f"{focus_minimum} Streife(n) in {len(focus_areas)} Schwerpunkträumen."
                    )
                }
            )
    risk_by_slot, risk_source = zone_risk_by_slot(category_group, week, [a.pk for a in areas])
    risk = np.array([[risk_by_slot.get((a.pk, s.key), 0.0) for s in slots] for a in areas], dtype=float)
    plan_input = optimise.PlanInput(
        zones=[
            optimise.ZoneInput(
                code=str(a.pk),
                name=a.name,
                focus=a.kind == Area.Kind.FOCUS_AREA,
                min_teams=focus_minimum if a.kind == Area.Kind.FOCUS_AREA else 0,
            )
            for a in areas
        ],
        slots=slots,
        risk=risk.round(6),
        kod_teams=[staff.get("kod", i // 3, SHIFT_KINDS[i % 3]) for i in range(len(slots))],
        police_teams=[staff.get("police", i // 3, SHIFT_KINDS[i % 3]) for i in range(len(slots))],
        joint_teams=[staff.get("joint", i // 3, SHIFT_KINDS[i % 3]) for i in range(len(slots))],
        travel_minutes=_travel_minutes(areas),
        max_team_hours=caps,
        parts_per_slot=PARTS_PER_SLOT,
    )
    result = optimise.optimise(plan_input)
    if result.status in ("invalid", "error"):
        raise ValidationError(result.message or "Die Optimierung ist fehlgeschlagen.")
    now = timezone.now()
    by_code = {str(a.pk): a for a in areas}
    plan = DeploymentPlan.objects.create(
        authority_id=user.authority_id,
        week=week,
        category_group=category_group,
        inputs={
            "staff": staff.to_json(),
            "focus_minimum": focus_minimum,
            "max_hours": caps,
            "travel": {
                "source": "Luftlinie zwischen den Schwerpunkten der Räume × Umwegfaktor",
                "speed_kmh": float(getattr(settings, "LAGEBILD_DEPLOYMENT_TRAVEL_KMH", DEFAULT_TRAVEL_KMH)),
                "detour": float(getattr(settings, "LAGEBILD_DEPLOYMENT_DETOUR", DEFAULT_DETOUR)),
            },
            "plan_input": _plan_input_to_json(plan_input),
        },
        result={
            "objective": float(result.objective),
            "covered_risk": float(result.objective),
            "total_risk": round(float(result.total_risk), 6),
            "status": result.status,
            "message": result.message,
            "seconds": round(float(result.seconds), 3),
            "mip_gap": result.mip_gap,
            "shortfalls": list(result.shortfalls),
            "team_hours": {k: round(v, 2) for k, v in result.team_hours.items()},
            "risk_source": risk_source,
            "unassigned": [
                {
                    "slot": u.slot,
                    "part": u.part,
                    "zone": u.zone,
                    "zone_name": by_code[u.zone].name,
                    "reason": u.reason,
                }
                for u in result.unassigned
            ],
        },
        created_by=user,
        created_at=now,
    )
    zone_row = {z.code: i for i, z in enumerate(plan_input.zones)}
    slot_column = {s.key: i for i, s in enumerate(slots)}
    rows = []
    for item in result.assignments:
        day, kind = dt.date.fromisoformat(item.slot[:10]), item.slot[11:]
        starts_at, ends_at = part_times(day, kind, item.part, PARTS_PER_SLOT)
        rows.append(
            PlanAssignment(
                plan=plan,
                slot_key=item.slot,
                date=day,
                shift_kind=kind,
                part=item.part,
                zone=by_code[item.zone],
                from_zone=by_code[item.from_zone] if item.from_zone else None,
                kind=item.kind,
                teams=item.teams,
                starts_at=starts_at,
                ends_at=ends_at,
                expected_risk=float(risk[zone_row[item.zone], slot_column[item.slot]])
                / (PARTS_PER_SLOT if item.part else 1),
                covered_risk=float(item.covered_risk),
                reason=item.reason,
            )
        )
    PlanAssignment.objects.bulk_create(rows)
    PlanChange.objects.create(
        plan=plan,
        action=PlanChange.Action.CREATED,
        user=user,
        at=now,
        after={"objective": plan.result["objective"], "status": result.status, "assignments": len(rows)},
    )
    audit.log(
        "deployment.plan.created",
        user=user,
        obj=plan,
        week=week.isoformat(),
        group=category_group,
        assignments=len(rows),
        status=result.status,
    )
    return plan


# --- editing ----------------------------------------------------------------------------------


def _consistent_rows(assignments: list[PlanAssignment]) -> list[optimise.Assignment]:
    """The plan's rows for the optimiser, with the hand-over between parts made consistent.

    After an edit, teams of a later part may still say they come from a zone that now has fewer
    teams. Per shift and kind, a later part takes its teams first from the same zone (they stay),
    then from the zone it said, then from any zone with teams left; the rest start fresh (and then
    count against the shift's staff, which ``evaluate`` reports).
    """
    grouped: dict[tuple[str, str], dict[int, list[PlanAssignment]]] = defaultdict(lambda: defaultdict(list))
    rows: list[optimise.Assignment] = []
    for a in assignments:
        if a.teams <= 0:
            continue
        if a.part == 0:
            rows.append(optimise.Assignment(slot=a.slot_key, zone=str(a.zone_id), kind=a.kind, teams=a.teams))
        else:
            grouped[(a.slot_key, a.kind)][a.part].append(a)
    for (slot, kind), parts in grouped.items():
        left: dict[str, int] = {}
        for part in sorted(parts):
            here: dict[str, int] = defaultdict(int)
            for a in sorted(parts[part], key=lambda a: a.pk or 0):
                zone = str(a.zone_id)
                need = a.teams
                if part > 1:
                    wanted = [zone, str(a.from_zone_id) if a.from_zone_id else None, *sorted(left)]
                    for source in wanted:
                        if need and source and left.get(source, 0):
                            take = min(need, left[source])
                            left[source] -= take
                            need -= take
                            rows.append(
                                optimise.Assignment(
                                    slot=slot, zone=zone, kind=kind, teams=take, part=part, from_zone=source
                                )
                            )
                if need:
                    rows.append(optimise.Assignment(slot=slot, zone=zone, kind=kind, teams=need, part=part))
                here[zone] += a.teams
            left = dict(here)
    return rows


def evaluate_plan(plan: DeploymentPlan) -> optimise.Evaluation:
    """Covered risk and violated rules of the plan as it stands, against its stored input."""
    plan_input = plan_input_from_json(plan.inputs["plan_input"])
    return optimise.evaluate(plan_input, _consistent_rows(list(plan.assignments.all())))


def _snapshot(assignment: PlanAssignment) -> dict[str, Any]:
    return {"zone": assignment.zone_id, "zone_name": assignment.zone.name, "teams": assignment.teams}


@transaction.atomic
def plan_edit(
    *,
    user: User,
    assignment: PlanAssignment,
    zone_id: int | None = None,
    teams: int | None = None,
    reason: str = "",
) -> PlanChange:
    """Change the zone or the number of teams of an assignment; the reason is mandatory.

    Every edit deviates from the computed optimum, so each needs a reason. The change records
    the plan's covered risk before and after (``cost`` = covered risk lost by this edit) and the
    rules the edited plan breaks (e.g. a focus minimum), which the shift lead may accept.
    """
    _require(user)
    plan = DeploymentPlan.objects.select_for_update().filter(pk=assignment.plan_id).first()
    if plan is None or not plan.assignments.filter(pk=assignment.pk).exists():
        raise PermissionDenied("Dieser Plan ist nicht sichtbar.")
    if plan.state == DeploymentPlan.State.APPLIED:
        raise ValidationError(
            "Der Plan ist bereits umgesetzt; ändern Sie die Streifen direkt in der Schicht."
        )
    errors: dict[str, list[str]] = defaultdict(list)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"].append("Bitte begründen Sie die Abweichung vom berechneten Plan.")
    plan_input = plan.inputs["plan_input"]
    zone_codes = [z["code"] for z in plan_input["zones"]]
    new_zone = assignment.zone_id if zone_id is None else zone_id
    if str(new_zone) not in zone_codes:
        errors["zone"].append("Dieser Raum gehört nicht zu den Räumen des Plans.")
    new_teams = assignment.teams if teams is None else teams
    if not isinstance(new_teams, int) or not 0 <= new_teams <= MAX_TEAMS_PER_SHIFT:
        errors["teams"].append(f"Bitte eine Zahl von 0 bis {MAX_TEAMS_PER_SHIFT} angeben.")
    if not errors and new_zone == assignment.zone_id and new_teams == assignment.teams:
        errors["teams"].append("Raum und Zahl der Streifen sind unverändert.")
    if errors:
        raise ValidationError(dict(errors))
    before_covered = evaluate_plan(plan).covered_risk
    before = _snapshot(assignment)
    assignment.zone_id = new_zone
    assignment.teams = new_teams
    assignment.source = PlanAssignment.Source.EDITED
    risk = plan_input["risk"][zone_codes.index(str(new_zone))][
        [s["key"] for s in plan_input["slots"]].index(assignment.slot_key)
    ]
    assignment.expected_risk = float(risk) / (plan_input.get("parts_per_slot", 1) if assignment.part else 1)
    assignment.save(update_fields=["zone", "teams", "source", "expected_risk"])
    assignment.refresh_from_db()
    evaluation = evaluate_plan(plan)
    # The rows' shares of the covered risk after the edit (they change for every row of the zone).
    share: dict[tuple[str, int, str, str], float] = defaultdict(float)
    for row in evaluation.rows:
        share[(row.slot, row.part, row.zone, row.kind)] += row.covered_risk
    for a in plan.assignments.filter(slot_key=assignment.slot_key):
        covered = share.get((a.slot_key, a.part, str(a.zone_id), a.kind), 0.0) if a.teams else 0.0
        if abs(covered - a.covered_risk) > 1e-9:
            a.covered_risk = covered
            a.save(update_fields=["covered_risk"])
    after_covered = evaluation.covered_risk
    now = timezone.now()
    change = PlanChange.objects.create(
        plan=plan,
        assignment=assignment,
        action=PlanChange.Action.EDITED,
        user=user,
        at=now,
        before=before | {"covered_risk": round(before_covered, 6)},
        after=_snapshot(assignment) | {"covered_risk": round(after_covered, 6)},
        reason=reason,
        cost=round(before_covered - after_covered, 6),
        violations=list(evaluation.violations),
    )
    plan.result = {**plan.result, "covered_risk": after_covered, "violations": list(evaluation.violations)}
    update = ["result"]
    if plan.state == DeploymentPlan.State.APPROVED:
        # A changed plan needs a new approval.
        plan.state, plan.approved_by, plan.approved_at = DeploymentPlan.State.DRAFT, None, None
        update += ["state", "approved_by", "approved_at"]
    plan.save(update_fields=update)
    audit.log(
        "deployment.plan.edited",
        user=user,
        obj=plan,
        assignment=assignment.pk,
        before=before,
        after=_snapshot(assignment),
        cost=change.cost,
    )
    return change


@transaction.atomic
def plan_approve(*, user: User, plan: DeploymentPlan) -> DeploymentPlan:
    _require(user)
    plan = DeploymentPlan.objects.select_for_update().filter(pk=plan.pk).first()
    if plan is None:
        raise PermissionDenied("Dieser Plan ist nicht sichtbar.")
    if plan.state != DeploymentPlan.State.DRAFT:
        raise ValidationError("Nur ein Entwurf kann freigegeben werden.")
    now = timezone.now()
    plan.state, plan.approved_by, plan.approved_at = DeploymentPlan.State.APPROVED, user, now
    plan.save(update_fields=["state", "approved_by", "approved_at"])
    PlanChange.objects.create(plan=plan, action=PlanChange.Action.APPROVED, user=user, at=now)
    audit.log("deployment.plan.approved", user=user, obj=plan)
    return plan


def patrol_name(plan: DeploymentPlan, zone: Area, number: int, joint: bool) -> str:
    name = f"Plan KW {plan.iso_week} – {zone.name} {number}"
    suffix = " (Doppelstreife angefragt)" if joint else ""
    return name[: 80 - len(suffix)] + suffix


@transaction.atomic
def plan_apply(*, user: User, plan: DeploymentPlan) -> list[Patrol]:
    """Turn an approved plan into the shifts' patrols, all or nothing.

    One patrol per planned team and zone: a team that stays in its zone for the next part of the
    shift keeps its patrol (the planned end moves on), a team that changes zone gets a new patrol
    for the new zone (a patrol has one area). The plan's authority creates patrols for its own
    staff (KOD for the city, police for the police) and for joint patrols, named
    "… (Doppelstreife angefragt)" because the partner names its officer; the partner's own teams
    stay requests on the plan page. Missing shifts of the authority are created. Patrols get no
    members here: the shift lead names them in the shift as usual.
    """
    _require(user)
    plan = DeploymentPlan.objects.select_for_update().filter(pk=plan.pk).first()
    if plan is None:
        raise PermissionDenied("Dieser Plan ist nicht sichtbar.")
    if plan.state != DeploymentPlan.State.APPROVED:
        raise ValidationError("Nur ein freigegebener Plan kann umgesetzt werden.")
    own_kind = OWN_KIND.get(plan.authority.kind, "kod")
    shifts: dict[tuple[dt.date, str], Shift] = {
        (s.date, s.kind): s
        for s in Shift.objects.filter(
            authority_id=plan.authority_id, date__gte=plan.week, date__lt=plan.week + dt.timedelta(days=7)
        )
    }
    created: list[Patrol] = []
    numbers: dict[tuple[str, int], int] = defaultdict(int)
    assignments = list(
        plan.assignments.select_related("zone")
        .filter(teams__gt=0, kind__in=[own_kind, "joint"])
        .order_by("date", "shift_kind", "kind", "part", "zone__name", "pk")
    )
    grouped: dict[tuple[str, str], list[PlanAssignment]] = defaultdict(list)
    for a in assignments:
        grouped[(a.slot_key, a.kind)].append(a)
    for (slot, _kind), rows in sorted(grouped.items(), key=lambda item: (item[1][0].starts_at, item[0])):
        key = (rows[0].date, rows[0].shift_kind)
        if key not in shifts:
            shifts[key] = field_services.shift_create(
                user=user, date=rows[0].date, kind=rows[0].shift_kind, note=f"Aus {plan}"
            )
        shift = shifts[key]
        previous: dict[int, list[Patrol]] = {}  # zone id → patrols of the previous part, to continue
        for part in sorted({a.part for a in rows}):
            current: dict[int, list[Patrol]] = defaultdict(list)
            for a in (r for r in rows if r.part == part):
                stays = part > 1 and a.from_zone_id == a.zone_id
                staying = previous.get(a.zone_id, []) if stays else []
                for _ in range(a.teams):
                    if staying:
                        patrol = staying.pop(0)
                        patrol.planned_end = a.ends_at
                        patrol.save(update_fields=["planned_end"])
                    else:
                        numbers[(slot, a.zone_id)] += 1
                        patrol = Patrol.objects.create(
                            authority_id=plan.authority_id,
                            shift=shift,
                            name=patrol_name(plan, a.zone, numbers[(slot, a.zone_id)], a.kind == "joint"),
                            area=a.zone,
                            planned_start=a.starts_at,
                            planned_end=a.ends_at,
                        )
                        created.append(patrol)
                    a.patrols.add(patrol)
                    current[a.zone_id].append(patrol)
            previous = current
    aggregates.apply_patrols([p.pk for p in created])
    now = timezone.now()
    plan.state, plan.applied_at = DeploymentPlan.State.APPLIED, now
    plan.save(update_fields=["state", "applied_at"])
    PlanChange.objects.create(
        plan=plan,
        action=PlanChange.Action.APPLIED,
        user=user,
        at=now,
        after={"patrols": [p.pk for p in created]},
    )
    audit.log("deployment.plan.applied", user=user, obj=plan, patrols=len(created))
    return created


# --- deviations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    kind: str  # missing, not_started, other_area, shorter, longer, extra
    text: str
    date: dt.date
    shift_kind: str
    assignment_id: int | None = None
    patrol_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "date": self.date.isoformat(),
            "shift_kind": self.shift_kind,
            "assignment": self.assignment_id,
            "patrol": self.patrol_id,
        }


def _minutes(delta: dt.timedelta) -> int:
    return round(abs(delta.total_seconds()) / 60)


def deviations(plan: DeploymentPlan, *, now: dt.datetime | None = None) -> list[Deviation]:
    """What was done differently from an applied plan, for the parts that have begun by ``now``.

    Per planned team: patrol deleted, not started (after its planned end), patrolled another
    area, or lasted more than 30 minutes shorter or longer than planned; plus patrols in the
    plan's shifts that the plan did not create.
    """
    if plan.state != DeploymentPlan.State.APPLIED:
        return []
    now = now or timezone.now()
    found: list[Deviation] = []
    linked: set[int] = set()
    checked: set[int] = set()
    own_kind = OWN_KIND.get(plan.authority.kind, "kod")
    assignments = (
        plan.assignments.select_related("zone")
        .prefetch_related("patrols__area")
        .filter(teams__gt=0, kind__in=[own_kind, "joint"])
        .order_by("date", "starts_at", "part", "zone__name", "pk")
    )
    for a in assignments:
        patrols = list(a.patrols.all())
        linked.update(p.pk for p in patrols)
        if now < a.starts_at:
            continue
        where = (
            f"{WEEKDAYS[a.date.weekday()]} {a.date:%d.%m.}, {Shift.Kind(a.shift_kind).label}, {a.zone.name}"
        )
        if len(patrols) < a.teams:
            missing = a.teams - len(patrols)
            found.append(
                Deviation(
                    "missing", f"{where}: {missing} geplante Streife(n) gelöscht.", a.date, a.shift_kind, a.pk
                )
            )
        for p in patrols:
            if p.pk in checked:
                continue
            checked.add(p.pk)
            if p.actual_start is None:
                if now >= p.planned_end:
                    found.append(
                        Deviation(
                            "not_started",
                            f"{where}: {p.name} nicht angetreten.",
                            a.date,
                            a.shift_kind,
                            a.pk,
                            p.pk,
                        )
                    )
                continue
            if p.area_id != a.zone_id:
                other = p.area.name if p.area else "ohne Einsatzraum"
                text = f"{where}: {p.name} in anderem Raum ({other})."
                found.append(Deviation("other_area", text, a.date, a.shift_kind, a.pk, p.pk))
            if p.actual_end is not None:
                planned = elapsed(p.planned_start, p.planned_end)
                done = elapsed(p.actual_start, p.actual_end)
                if done < planned - DURATION_TOLERANCE:
                    text = f"{where}: {p.name} {_minutes(planned - done)} Minuten kürzer als geplant."
                    found.append(Deviation("shorter", text, a.date, a.shift_kind, a.pk, p.pk))
                elif done > planned + DURATION_TOLERANCE:
                    text = f"{where}: {p.name} {_minutes(done - planned)} Minuten länger als geplant."
                    found.append(Deviation("longer", text, a.date, a.shift_kind, a.pk, p.pk))
    extra = (
        Patrol.objects.filter(
            shift__authority_id=plan.authority_id,
            shift__date__gte=plan.week,
            shift__date__lt=plan.week + dt.timedelta(days=7),
            planned_start__lte=now,
        )
        .exclude(pk__in=linked)
        .select_related("shift", "area")
        .order_by("planned_start", "pk")
    )
    for p in extra:
        area = p.area.name if p.area else "ohne Einsatzraum"
        day = p.shift.date
        text = (
            f"{WEEKDAYS[day.weekday()]} {day:%d.%m.}, {p.shift.get_kind_display()}: "
            f"zusätzliche Streife {p.name} ({area}), nicht im Plan."
        )
        found.append(Deviation("extra", text, day, p.shift.kind, None, p.pk))
    return found


AUTOMATIC_DEVIATIONS_REASON = "Automatisch festgehalten nach Ende der Planwoche."


def _keep_deviations(
    plan: DeploymentPlan, *, user: User | None, now: dt.datetime, reason: str = ""
) -> list[Deviation]:
    found = deviations(plan, now=now)
    plan.deviations = [d.to_json() for d in found]
    plan.deviations_recorded_at = now
    plan.save(update_fields=["deviations", "deviations_recorded_at"])
    PlanChange.objects.create(
        plan=plan,
        action=PlanChange.Action.DEVIATIONS,
        user=user,
        at=now,
        after={"deviations": plan.deviations},
        reason=reason,
    )
    audit.log("deployment.plan.deviations_recorded", user=user, obj=plan, deviations=len(found))
    return found


@transaction.atomic
def deviations_record(*, user: User, plan: DeploymentPlan) -> list[Deviation]:
    """Keep the current comparison of plan and patrols with the plan (and in the change log)."""
    _require(user)
    plan = DeploymentPlan.objects.select_for_update().filter(pk=plan.pk).first()
    if plan is None:
        raise PermissionDenied("Dieser Plan ist nicht sichtbar.")
    if plan.state != DeploymentPlan.State.APPLIED:
        raise ValidationError("Abweichungen gibt es erst, wenn der Plan umgesetzt ist.")
    return _keep_deviations(plan, user=user, now=timezone.now())


def deviations_record_ended_weeks(*, now: dt.datetime | None = None) -> dict[int, int]:
    """The weekly job: every applied plan (of every authority) whose last shift is over and whose
    deviations were not kept since gets them kept, by the system, so no week goes unrecorded
    because nobody pressed the button. Returns plan id → deviations; a second run does nothing.
    Must run inside ``unscoped()``."""
    now = now or timezone.now()
    kept: dict[int, int] = {}
    # Over means after its last planned part: Sunday's night shift ends on Monday morning.
    candidates = (
        DeploymentPlan.objects.filter(state=DeploymentPlan.State.APPLIED)
        .annotate(last_end=Max("assignments__ends_at"))
        .filter(last_end__lte=now)
        .filter(Q(deviations_recorded_at__isnull=True) | Q(deviations_recorded_at__lt=F("last_end")))
        .order_by("week", "pk")
    )
    for candidate in candidates:
        end = candidate.last_end
        with transaction.atomic():
            plan = DeploymentPlan.objects.select_for_update().get(pk=candidate.pk)
            if plan.deviations_recorded_at and plan.deviations_recorded_at >= end:
                continue  # kept meanwhile by the shift lead
            found = _keep_deviations(plan, user=None, now=now, reason=AUTOMATIC_DEVIATIONS_REASON)
            kept[plan.pk] = len(found)
    return kept
