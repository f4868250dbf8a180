"""A meeting's agenda and figures: generated from the live data, frozen when the meeting opens.

The agenda of a planned meeting is computed on every view; opening the meeting stores it
(:class:`~lagebild.taskforce.models.AgendaItem`) together with every figure it shows
(:class:`~lagebild.taskforce.models.FrozenFigure`). A figure's key says how to compute it again,
so the meeting page can show where today's value differs from what the meeting saw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from lagebild.analytics.cockpit import Cockpit, build_cockpit
from lagebild.analytics.documents import number_de
from lagebild.analytics.models import CITY_AREA

from . import selectors
from .models import ActionItem, AgendaItem, FrozenFigure, Goal, Meeting, Operation
from .progress import STATUS_LABELS, Progress

COCKPIT_WINDOWS = ("week", "28d", "ytd")
FLAGGED_WINDOWS = ("week", "28d")  # what the agenda raises; the year to date moves slowly
LOOK_AHEAD_DAYS = 7  # milestones due before the next weekly meeting


@dataclass(frozen=True)
class Entry:
    kind: str
    title: str
    detail: str = ""
    object_id: int | None = None


@dataclass(frozen=True)
class FigureValue:
    key: str
    section: str
    label: str
    unit: str
    value: float | None
    prior: float | None = None
    flag: int = 0
    note: str = ""


def previous_meeting(meeting: Meeting) -> Meeting | None:
    return (
        Meeting.objects.filter(task_force=meeting.task_force, date__lt=meeting.date).order_by("-date").first()
    )


def _cockpit(meeting: Meeting) -> Cockpit | None:
    try:
        return build_cockpit(CITY_AREA, meeting.set_code, meeting.as_of)
    except ValueError:
        return None  # no indicator set of that name (yet): the agenda has no figures section


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:+.0f} %".replace("-", "−")


def cockpit_figures(meeting: Meeting, cockpit: Cockpit | None = None) -> list[FigureValue]:
    cockpit = cockpit if cockpit is not None else _cockpit(meeting)
    if cockpit is None:
        return []
    found = []
    for row in cockpit.rows:
        for window in cockpit.windows:
            if window.key not in COCKPIT_WINDOWS:
                continue
            figure = cockpit.figure(row.code, window.key)
            found.append(
                FigureValue(
                    key=f"cockpit:{meeting.set_code}:{CITY_AREA}:{row.code}:{window.key}",
                    section="Kennzahlen",
                    label=f"{row.name} – {window.label}",
                    unit=row.unit,
                    value=figure.current,
                    prior=figure.prior,
                    flag=figure.flag,
                    note=_percent(figure.percent),
                )
            )
    return found


def _goals(meeting: Meeting) -> list[Goal]:
    return list(
        Goal.objects.filter(working_group__task_force=meeting.task_force).select_related(
            "indicator", "working_group"
        )
    )


def goal_figures(
    meeting: Meeting, goals: Iterable[Goal] | None = None, progress: dict[int, Progress] | None = None
) -> list[FigureValue]:
    """Each quantitative goal's current value on the meeting's Stichtag (``progress``: computed already)."""
    found = []
    wanted = list(goals) if goals is not None else _goals(meeting)
    if progress is None:
        progress = selectors.goals_progress(wanted, as_of=meeting.as_of)
    for goal in wanted:
        result = progress.get(goal.pk)
        if result is None:
            continue
        found.append(
            FigureValue(
                key=f"goal:{goal.pk}",
                section="Ziele",
                label=goal.title,
                unit=goal.indicator.unit if goal.indicator else "",
                value=result.current,
                prior=goal.baseline_value,
                note=STATUS_LABELS[result.status],
            )
        )
    return found


def figures(
    meeting: Meeting, *, cockpit: Cockpit | None = None, progress: dict[int, Progress] | None = None
) -> list[FigureValue]:
    return cockpit_figures(meeting, cockpit) + goal_figures(meeting, progress=progress)


@dataclass(frozen=True)
class LiveData:
    """What the agenda and the figures of a meeting read from the count tables, read once per request."""

    cockpit: Cockpit | None
    progress: dict[int, Progress]  # by goal id
    goals: list[Goal]


def live_data(meeting: Meeting) -> LiveData:
    """The cockpit on the meeting's Stichtag and every goal's progress on it, from today's records."""
    goals = _goals(meeting)
    return LiveData(_cockpit(meeting), selectors.goals_progress(goals, as_of=meeting.as_of), goals)


def live_values(meeting: Meeting, live: LiveData | None = None) -> dict[str, float | None]:
    """Every frozen figure's key with its value computed today (same Stichtag, today's records)."""
    live = live if live is not None else live_data(meeting)
    found = cockpit_figures(meeting, live.cockpit) if live.cockpit is not None else []
    found += goal_figures(meeting, live.goals, live.progress)
    return {figure.key: figure.value for figure in found}


def operation_heading(evaluation: dict | None) -> str:
    """ "Auswertung" after the operation, "Auswertung vervollständigt" once the period after it has passed."""
    return "Auswertung vervollständigt" if (evaluation or {}).get("stage") == "final" else "Auswertung"


def build_figures(cockpit: Cockpit) -> list[Entry]:
    """Agenda items for the cockpit's indicators whose week or 28-day figure is flagged."""
    entries = []
    for row in cockpit.rows:
        flagged = [(w, cockpit.figure(row.code, w.key)) for w in cockpit.windows if w.key in FLAGGED_WINDOWS]
        flagged = [(w, f) for w, f in flagged if f.flag]
        if flagged:
            text = "; ".join(
                f"{w.label}: {number_de(f.current or 0)} gegenüber {number_de(f.prior or 0)} "
                f"({', '.join(part for part in (_percent(f.percent), f.flag_label) if part)})"
                for w, f in flagged
            )
            entries.append(Entry(AgendaItem.Kind.FIGURES, row.name, text))
    return entries


def build(meeting: Meeting, live: LiveData | None = None) -> list[Entry]:
    """The generated agenda, in the order the task force works through it (``live``: read already)."""
    task_force = meeting.task_force
    live = live if live is not None else live_data(meeting)
    cockpit = live.cockpit
    entries: list[Entry] = build_figures(cockpit) if cockpit is not None else []
    before = previous_meeting(meeting)
    since = before.date if before else meeting.date - dt.timedelta(days=7)
    operations = Operation.objects.filter(
        task_force=task_force, evaluated_at__date__gt=since, evaluated_at__date__lte=meeting.date
    ).order_by("end")
    for operation in operations:
        entries.append(
            Entry(
                AgendaItem.Kind.OPERATION,
                f"{operation_heading(operation.evaluation)}: {operation.name}",
                f"{operation.start:%d.%m.} – {operation.end:%d.%m.%Y}, {operation.area.name}",
                operation.pk,
            )
        )
    for goal in live.goals:
        result = live.progress.get(goal.pk)
        if result is not None and result.status in ("at_risk", "off_track"):
            entries.append(
                Entry(
                    AgendaItem.Kind.GOAL,
                    f"{goal.title} ({goal.working_group.name})",
                    f"{STATUS_LABELS[result.status]}: {result.reason_de}",
                    goal.pk,
                )
            )
    horizon = meeting.date + dt.timedelta(days=LOOK_AHEAD_DAYS)
    due = list(selectors.overdue_milestones(task_force, meeting.date)) + list(
        selectors.milestones_due(task_force, meeting.date, horizon)
    )
    for milestone in due:
        overdue = milestone.due < meeting.date
        entries.append(
            Entry(
                AgendaItem.Kind.MILESTONE,
                milestone.title,
                f"{'überfällig seit' if overdue else 'fällig am'} {milestone.due:%d.%m.%Y}, "
                f"{milestone.owner}, {milestone.working_group.name}",
                milestone.pk,
            )
        )
    for recommendation in selectors.awaiting_decision(task_force):
        entries.append(
            Entry(
                AgendaItem.Kind.RECOMMENDATION,
                f"{recommendation.number} {recommendation.title}",
                recommendation.working_group.name,
                recommendation.pk,
            )
        )
    open_actions = ActionItem.objects.filter(
        task_force=task_force, done_at__isnull=True, meeting__date__lt=meeting.date
    ).select_related("owner", "meeting")
    for action in open_actions:
        entries.append(
            Entry(
                AgendaItem.Kind.ACTION,
                action.title,
                f"{action.owner}, fällig {action.due:%d.%m.%Y} (aus der {action.meeting.number}. Sitzung)",
                action.pk,
            )
        )
    return entries


def differences(meeting: Meeting, live: LiveData | None = None) -> list[tuple[FrozenFigure, float | None]]:
    """Frozen figures whose value today (same Stichtag) differs from what the meeting saw."""
    today = live_values(meeting, live)
    changed = []
    for frozen in meeting.figures.all():
        now = today.get(frozen.key)
        if now != frozen.value:
            changed.append((frozen, now))
    return changed
