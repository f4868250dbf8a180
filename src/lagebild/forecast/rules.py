"""Who sees which forecast (django-rules).

Forecasts and backtests are aggregates of both partners' incidents (expected events per 250 m
cell, hit figures per week): no single record, free text or person, so they are not scoped by
authority – a city officer and a police officer see the same map of the same zone. What differs
is the purpose of the role:

- field officers: the risk map (and its GeoJSON) of their own patrol area – the area of their
  current patrol, or of a patrol they were on in the shift that is running now;
- shift leads, analysts and the authority's administration: every zone, the city-wide map, the
  backtest report and its PDF (they plan and check the deployment);
- task force, leadership and executive board: the backtest report and the city-wide map, as
  aggregates (no zone maps: they do not plan patrols);
- everyone else (Bußgeldstelle, data-protection officer, platform administration): nothing.
"""

from __future__ import annotations

import datetime as dt

import rules
from django.utils import timezone

from lagebild.core.models import Role
from lagebild.core.rules import _has_role
from lagebild.geo.models import Area

PLANNERS = (Role.SHIFT_LEAD, Role.ANALYST, Role.ADMIN)
# Areas with a risk map for planners; a field officer's own patrol area may be of any kind.
PLANNER_KINDS = (Area.Kind.PATROL_ZONE, Area.Kind.FOCUS_AREA, Area.Kind.DISTRICT, Area.Kind.CITY)
AGGREGATE_READERS = (Role.TASKFORCE, Role.LEADERSHIP, Role.EXECUTIVE_BOARD)

is_field_officer = _has_role(Role.FIELD_OFFICER)
is_planner = _has_role(*PLANNERS)
is_aggregate_reader = _has_role(*AGGREGATE_READERS)
can_view_forecasts = _has_role(Role.FIELD_OFFICER, *PLANNERS, *AGGREGATE_READERS)
can_view_backtest = _has_role(*PLANNERS, *AGGREGATE_READERS)


def own_area_ids(user: object, at: dt.datetime | None = None) -> set[int]:
    """Areas of the officer's current patrol, or of the patrols the officer was on in the shift
    running at ``at`` (read in the user's authority scope, as a request runs)."""
    from lagebild.core.scoping import authority_scope
    from lagebild.field.models import Patrol
    from lagebild.field.selectors import current_patrol_for
    from lagebild.field.services import SHIFT_TIMES, shift_times

    at = at or timezone.now()
    authority_id = getattr(user, "authority_id", None)
    if authority_id is None:
        return set()
    with authority_scope(authority_id):
        current = current_patrol_for(user, at)  # type: ignore[arg-type]
        if current is not None and current.area_id:
            return {current.area_id}
        today = timezone.localdate(at)
        running = [
            (day, kind)
            for day in (today - dt.timedelta(days=1), today)
            for kind in SHIFT_TIMES
            if shift_times(day, kind)[0] <= at < shift_times(day, kind)[1]
        ]
        ids: set[int] = set()
        for day, kind in running:
            ids.update(
                Patrol.objects.filter(
                    memberships__user=user, shift__date=day, shift__kind=kind, area__isnull=False
                )
                .values_list("area_id", flat=True)
                .distinct()
            )
        return ids


@rules.predicate
def may_see_area(user: object, area: Area | None) -> bool:
    """The risk map of ``area`` for this user (see the module's docstring)."""
    if area is None or not getattr(user, "is_authenticated", False):
        return False
    role = getattr(user, "role", None)
    if role in PLANNERS:
        return area.kind in PLANNER_KINDS
    if role in AGGREGATE_READERS:
        return area.kind == Area.Kind.CITY
    if role == Role.FIELD_OFFICER:
        return area.pk in own_area_ids(user)
    return False


rules.add_perm("forecast.view_forecasts", can_view_forecasts)
rules.add_perm("forecast.view_risk_map", may_see_area)
rules.add_perm("forecast.view_all_zones", is_planner)
rules.add_perm("forecast.view_backtest", can_view_backtest)
