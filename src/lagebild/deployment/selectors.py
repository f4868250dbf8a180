"""Reads of deployment plans: the list, one plan, its grid of days × shifts, its change log.

Plans are scoped to the user's own authority by the default manager; a plan of the partner
authority and a plan that does not exist both raise ``PlanNotFound``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet

from lagebild.core.models import Authority
from lagebild.field.models import Shift

from .models import DeploymentPlan, PlanAssignment, PlanChange
from .services import GROUP_LABELS, OWN_KIND, SHIFT_KINDS, WEEKDAYS


class PlanNotFound(Exception):
    pass


def plan_list() -> QuerySet[DeploymentPlan]:
    return DeploymentPlan.objects.select_related("created_by", "approved_by").order_by("-week", "-created_at")


def plan_get(pk: int) -> DeploymentPlan:
    plan = (
        DeploymentPlan.objects.select_related("authority", "created_by", "approved_by").filter(pk=pk).first()
    )
    if plan is None:
        raise PlanNotFound(pk)
    return plan


def assignment_get(plan: DeploymentPlan, pk: object) -> PlanAssignment:
    try:
        number = int(str(pk))
    except (TypeError, ValueError):
        raise PlanNotFound(pk) from None
    assignment = plan.assignments.select_related("zone").filter(pk=number).first()
    if assignment is None:
        raise PlanNotFound(pk)
    return assignment


@dataclass
class GridCell:
    kind: str
    label: str
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    assignments: list[PlanAssignment] = field(default_factory=list)
    # Why high-risk zones got no team (the optimiser's explanation), per part of the shift.
    not_chosen: list[dict] = field(default_factory=list)

    @property
    def teams(self) -> int:
        return sum(a.teams for a in self.assignments)


@dataclass
class GridDay:
    date: dt.date
    label: str
    cells: list[GridCell]


def plan_grid(plan: DeploymentPlan) -> list[GridDay]:
    """Days × shifts with the assignments of each shift (teams > 0 and dropped ones alike)."""
    by_slot: dict[tuple[dt.date, str], list[PlanAssignment]] = defaultdict(list)
    for a in (
        plan.assignments.select_related("zone", "from_zone")
        .prefetch_related("patrols")
        .order_by("date", "starts_at", "part", "-covered_risk", "zone__name", "pk")
    ):
        by_slot[(a.date, a.shift_kind)].append(a)
    not_chosen: dict[str, list[dict]] = defaultdict(list)
    for item in plan.result.get("unassigned", []):
        not_chosen[item.get("slot", "")].append(item)
    days = []
    for offset in range(7):
        day = plan.week + dt.timedelta(days=offset)
        cells = []
        for kind in SHIFT_KINDS:
            items = by_slot.get((day, kind), [])
            cells.append(
                GridCell(
                    kind=kind,
                    label=Shift.Kind(kind).label,
                    starts_at=items[0].starts_at if items else None,
                    ends_at=items[0].ends_at if items else None,
                    assignments=items,
                    not_chosen=not_chosen.get(f"{day.isoformat()}-{kind}", []),
                )
            )
        days.append(GridDay(date=day, label=f"{WEEKDAYS[offset]} {day:%d.%m.}", cells=cells))
    return days


def plan_changes(plan: DeploymentPlan) -> QuerySet[PlanChange]:
    return plan.changes.select_related("user", "assignment__zone").order_by("at", "pk")


def partner_requests(plan: DeploymentPlan) -> QuerySet[PlanAssignment]:
    """Assignments of the partner's own teams: requests, not patrols of this authority."""
    own = OWN_KIND.get(plan.authority.kind, "kod")
    partner = "police" if own == "kod" else "kod"
    return (
        plan.assignments.filter(kind=partner, teams__gt=0)
        .select_related("zone")
        .order_by("date", "starts_at")
    )


def group_label(plan: DeploymentPlan) -> str:
    return GROUP_LABELS.get(plan.category_group, plan.category_group)


def partner_name(plan: DeploymentPlan) -> str:
    return "Polizei" if plan.authority.kind == Authority.Kind.CITY else "KOD (Stadt)"
