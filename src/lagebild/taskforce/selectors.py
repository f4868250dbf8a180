"""Reads for the task force: goal figures from the live count tables, progress, open items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from lagebild.analytics import indicators
from lagebild.analytics import selectors as analytics_selectors
from lagebild.analytics.cockpit import effort_normalised
from lagebild.analytics.indicators import STAFF_HOURS_FACT, IndicatorDef
from lagebild.analytics.models import Fact
from lagebild.core.scoping import unscoped
from lagebild.proceedings import figures_queries as proceedings_figures

from . import progress as progress_rules
from .models import Goal, Milestone, Recommendation, TaskForce, WorkingGroup
from .workflow import Workflow, load_workflow


def workflow() -> Workflow:
    """The recommendation workflow configured for this installation (checked on every load)."""
    return load_workflow(getattr(settings, "LAGEBILD_RECOMMENDATION_WORKFLOW", None) or None)


@dataclass(frozen=True)
class _Window:
    start: dt.date
    end: dt.date


def indicator_definition(goal: Goal) -> IndicatorDef | None:
    if goal.indicator_id is None:
        return None
    found = analytics_selectors.indicators_for(codes=[goal.indicator.code])
    if not found:
        return None
    definition = found[0]
    return effort_normalised(definition) if goal.per_100_staff_hours else definition


def figure(goal: Goal, start: dt.date, end: dt.date) -> float | None:
    """The goal's indicator over ``start``–``end`` (inclusive) in its area, from the count tables."""
    definition = indicator_definition(goal)
    if definition is None:
        return None
    if is_proceedings(definition):
        return proceedings_values(definition, {"w": (start, end)})["w"]
    facts = {definition.fact} | ({STAFF_HOURS_FACT} if definition.per_100_staff_hours else set())
    window = {"w": _Window(start, end)}
    totals = analytics_selectors.window_totals(goal.area_id_for_counts, window, facts=facts)
    return indicators.value(definition, totals["w"])


def figures(goal: Goal, windows: dict[str, tuple[dt.date, dt.date]]) -> dict[str, float | None]:
    """Several windows of the goal's indicator in one query."""
    definition = indicator_definition(goal)
    if definition is None or not windows:
        return {name: None for name in windows}
    if is_proceedings(definition):
        return proceedings_values(definition, windows)
    # Only the rows the indicator reads (and the staff hours of a rate): a year of windows at once.
    totals = analytics_selectors.window_totals(
        goal.area_id_for_counts,
        {name: _Window(*bounds) for name, bounds in windows.items()},
        facts=_facts(definition),
    )
    return {name: indicators.value(definition, totals[name]) for name in windows}


def last_complete_day() -> dt.date:
    """Figures run to yesterday: today is still being recorded."""
    return timezone.localdate() - dt.timedelta(days=1)


def goal_progress(goal: Goal, as_of: dt.date | None = None) -> progress_rules.Progress | None:
    """Status and projection of a quantitative goal on ``as_of`` (default: yesterday)."""
    day = as_of or last_complete_day()
    return goal_progress_on(goal, [day]).get(day)


def goal_progress_on(goal: Goal, days: Iterable[dt.date]) -> dict[dt.date, progress_rules.Progress]:
    """The goal's progress on each of ``days``, from one query (a year of weekly meetings at once)."""
    wanted = sorted(set(days))
    windows = _progress_windows(goal, wanted)
    if windows is None:
        return {}
    definition = indicator_definition(goal)
    return _assess(goal, definition, wanted, figures(goal, windows))


def goals_progress(goals: Iterable[Goal], as_of: dt.date | None = None) -> dict[int, progress_rules.Progress]:
    """Each quantitative goal's progress on ``as_of`` (default: yesterday), keyed by the goal's id.

    The same figures as :func:`goal_progress` goal by goal, but read together: one lookup of the
    indicators and one read of the count tables per area, however many goals there are (the
    goals of an area share their calendar weeks, so each window is read once).
    """
    day = as_of or last_complete_day()
    goals = list(goals)
    planned: dict[int, dict[str, tuple[dt.date, dt.date]]] = {}
    for goal in goals:
        windows = _progress_windows(goal, [day])
        if windows is not None:
            planned[goal.pk] = windows
    if not planned:
        return {}
    definitions = indicator_definitions([goal for goal in goals if goal.pk in planned])
    by_area: dict[int, dict[str, _Window]] = {}
    facts_by_area: dict[int, set[str]] = {}
    for goal in goals:
        definition = definitions.get(goal.pk)
        if goal.pk not in planned or definition is None or is_proceedings(definition):
            continue
        area = goal.area_id_for_counts
        for start, end in planned[goal.pk].values():
            by_area.setdefault(area, {})[_window_key(start, end)] = _Window(start, end)
        facts_by_area.setdefault(area, set()).update(_facts(definition))
    totals = {
        area: analytics_selectors.window_totals(area, windows, facts=facts_by_area[area])
        for area, windows in by_area.items()
    }
    found = {}
    for goal in goals:
        if goal.pk not in planned:
            continue
        definition = definitions.get(goal.pk)
        windows = planned[goal.pk]
        if definition is None:
            values: dict[str, float | None] = {name: None for name in windows}
        elif is_proceedings(definition):
            values = proceedings_values(definition, windows)
        else:
            area_totals = totals[goal.area_id_for_counts]
            values = {
                name: indicators.value(definition, area_totals[_window_key(*bounds)])
                for name, bounds in windows.items()
            }
        found[goal.pk] = _assess(goal, definition, [day], values)[day]
    return found


def indicator_definitions(goals: Iterable[Goal]) -> dict[int, IndicatorDef]:
    """:func:`indicator_definition` of each goal that has one, from one lookup of the indicators."""
    goals = [goal for goal in goals if goal.indicator_id is not None]
    codes = sorted({goal.indicator.code for goal in goals})
    by_code = {definition.code: definition for definition in analytics_selectors.indicators_for(codes=codes)}
    found = {}
    for goal in goals:
        definition = by_code.get(goal.indicator.code)
        if definition is not None:
            found[goal.pk] = effort_normalised(definition) if goal.per_100_staff_hours else definition
    return found


def is_proceedings(definition: IndicatorDef) -> bool:
    """Whether the indicator is a proceedings figure (not in the count tables; no area, no rate)."""
    return definition.fact == Fact.PROCEEDINGS


def proceedings_values(
    definition: IndicatorDef, windows: dict[str, tuple[dt.date, dt.date]]
) -> dict[str, float | None]:
    """A proceedings indicator over each window, for the whole city and the indicator's authorities.

    Read across the authority scopes (``unscoped``): the task force sees only these aggregate
    figures, never a case. A share or median is not additive, so each window is computed on its own.
    """
    measure = proceedings_figures.measure(definition.code, definition.details)
    if measure is None:
        return {name: None for name in windows}
    found: dict[str, float | None] = {}
    with unscoped():
        for name, (start, end) in windows.items():
            value = proceedings_figures.indicator_value(measure, start, end, definition.authority_ids)
            found[name] = None if value is None else round(value, 2)
    return found


def _window_key(start: dt.date, end: dt.date) -> str:
    return f"{start.isoformat()}/{end.isoformat()}"


def _facts(definition: IndicatorDef) -> set[str]:
    """The count rows the indicator reads (and the staff hours of a rate)."""
    return {definition.fact} | ({STAFF_HOURS_FACT} if definition.per_100_staff_hours else set())


def _progress_windows(goal: Goal, wanted: list[dt.date]) -> dict[str, tuple[dt.date, dt.date]] | None:
    """The windows a goal's progress on the (sorted) ``wanted`` days reads; ``None`` if it has no progress."""
    if goal.kind != Goal.Kind.INDICATOR or goal.baseline_value is None or goal.target_value is None:
        return None
    if goal.baseline_end is None or goal.window_days <= 0 or not wanted:
        return None
    length = goal.window_days
    windows = {f"current:{day.isoformat()}": (day - dt.timedelta(days=length - 1), day) for day in wanted}
    # Weekly values (Monday–Sunday) after the baseline, up to the last complete week; the trend
    # reads at most the last TREND_WEEKS of them, so earlier weeks are not fetched.
    monday = goal.baseline_end + dt.timedelta(days=7 - goal.baseline_end.weekday())
    earliest = wanted[0] - dt.timedelta(weeks=progress_rules.TREND_WEEKS + 1)
    if monday < earliest:
        monday += dt.timedelta(weeks=(earliest - monday).days // 7)
    while monday + dt.timedelta(days=6) <= wanted[-1]:
        windows[f"week:{monday.isoformat()}"] = (monday, monday + dt.timedelta(days=6))
        monday += dt.timedelta(days=7)
    return windows


def _assess(
    goal: Goal, definition: IndicatorDef | None, wanted: list[dt.date], values: dict[str, float | None]
) -> dict[dt.date, progress_rules.Progress]:
    assert goal.baseline_value is not None and goal.target_value is not None
    assert goal.baseline_end is not None
    length = goal.window_days
    # Counts are scaled from a week to the window length; rates, shares and medians are taken as they are.
    as_they_are = definition is not None and (definition.per_100_staff_hours or is_proceedings(definition))
    scale = 1.0 if as_they_are else length / 7
    weekly = sorted(
        (dt.date.fromisoformat(name.removeprefix("week:")) + dt.timedelta(days=6), value * scale)
        for name, value in values.items()
        if name.startswith("week:") and value is not None
    )
    return {
        day: progress_rules.assess(
            direction=goal.direction,  # type: ignore[arg-type]
            baseline=goal.baseline_value,
            target=goal.target_value,
            baseline_end=goal.baseline_end,
            target_date=goal.target_date,
            as_of=day,
            current=values[f"current:{day.isoformat()}"],
            weekly=[(sunday, value) for sunday, value in weekly if sunday <= day],
        )
        for day in wanted
    }


def milestone_share_done(goal: Goal) -> float | None:
    """A qualitative goal's progress: the share of its milestones done (dropped ones not counted)."""
    statuses = list(goal.milestones.exclude(status=Milestone.Status.DROPPED).values_list("status", flat=True))
    if not statuses:
        return None
    return sum(1 for s in statuses if s == Milestone.Status.DONE) / len(statuses)


def overdue_milestones(task_force: TaskForce, today: dt.date | None = None) -> QuerySet[Milestone]:
    day = today or timezone.localdate()
    return (
        Milestone.objects.filter(working_group__task_force=task_force, due__lt=day)
        .filter(status__in=(Milestone.Status.OPEN, Milestone.Status.IN_PROGRESS))
        .select_related("working_group", "owner", "goal")
        .order_by("due")
    )


def milestones_due(task_force: TaskForce, start: dt.date, end: dt.date) -> QuerySet[Milestone]:
    return (
        Milestone.objects.filter(working_group__task_force=task_force, due__range=(start, end))
        .filter(status__in=(Milestone.Status.OPEN, Milestone.Status.IN_PROGRESS))
        .select_related("working_group", "owner", "goal")
        .order_by("due")
    )


def awaiting_decision(task_force: TaskForce) -> QuerySet[Recommendation]:
    states = workflow().awaiting_decision
    return (
        Recommendation.objects.filter(working_group__task_force=task_force, state__in=states)
        .select_related("working_group")
        .order_by("created_at")
    )


def groups(task_force: TaskForce) -> QuerySet[WorkingGroup]:
    return task_force.working_groups.select_related("lead").prefetch_related("members")


def groups_of(user: Any, task_forces: Iterable[TaskForce]) -> QuerySet[WorkingGroup]:
    return WorkingGroup.objects.filter(
        Q(lead=user) | Q(members=user), task_force__in=list(task_forces)
    ).distinct()


def visible_task_forces(user: Any) -> QuerySet[TaskForce]:
    """The task forces whose workspace ``user`` sees (members of it or of its groups; observing roles)."""
    from .rules import OBSERVING_ROLES

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return TaskForce.objects.none()
    if user.role in OBSERVING_ROLES:
        return TaskForce.objects.all()
    return TaskForce.objects.filter(
        Q(members__user=user) | Q(working_groups__lead=user) | Q(working_groups__members=user)
    ).distinct()
