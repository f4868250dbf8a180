"""Documents of the Sonderstab: the brief for the mayor and the police president (PDF, two pages
at most) and the interim report to the council (Zwischenbilanz, PDF and DOCX) for any period.

Both read only; the pages that offer them check who may download them.

Brief (:func:`brief_pdf`)
    Lage in Zahlen
        The frozen figures of the latest meeting on or before the brief's day (what the task force
        saw); without such a meeting the cockpit of the whole city with the day before as Stichtag.
    Schwerpunkteinsätze
        Operations running, planned for the next :data:`UPCOMING_DAYS` days, or ended or evaluated
        since the last brief, with the headline and verdict of their automatic evaluation when
        there is one.
    Ziele
        Every goal with its status (figures up to the day before the brief), the ones off track
        and at risk first.
    Zu entscheiden
        Recommendations awaiting the executive board.
    Rückmeldungen seit dem letzten Kurzbericht
        Decisions of meetings, steps of the executive board and later steps of decided
        recommendations, milestones and action items done. "Since the last brief" means after
        the meeting before the latest one (so the latest meeting's decisions are in), or the last
        7 days without two meetings; ``since`` can say otherwise.

    Whatever the amount, the brief stays within two A4 pages: when it would run longer, the lists
    are shortened step by step (the most pressing entries first) and say how many more there are.

Zwischenbilanz (:func:`council_report_pdf`, :func:`council_report_docx`)
    Headline numbers, operation balances in the period (from the count tables, as the balance
    page shows them, for the part of each operation inside the period), goals with their status
    at the end of the period, milestones due or done in it, recommendations with the board's
    decisions, decisions of the meetings; with bar charts (ReportLab in the PDF, PNG images drawn
    with Pillow in the DOCX: :mod:`lagebild.taskforce.pngcharts`). A period must not end before
    it starts, be longer than :data:`MAX_REPORT_YEARS` years or end in the future.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from reportlab.platypus import Flowable

from lagebild.analytics import balance as balance_module
from lagebild.analytics import documents as doc
from lagebild.analytics.cockpit import FLAG_TEXT, build_cockpit
from lagebild.analytics.models import CITY_AREA
from lagebild.analytics.periods import Period
from lagebild.geo.models import Area

from . import pngcharts, selectors
from .models import (
    ActionItem,
    Decision,
    Goal,
    Meeting,
    Milestone,
    Operation,
    Recommendation,
    RecommendationEvent,
    TaskForce,
)
from .progress import STATUS_LABELS

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BRIEF_MAX_PAGES = 2
DEFAULT_SET = "wochenlage"
UPCOMING_DAYS = 14
FEEDBACK_DAYS_WITHOUT_MEETINGS = 7
MAX_REPORT_YEARS = 3
MAX_REPORT_DAYS = 3 * 365 + 1  # three calendar years, one leap day included
QUALITATIVE = "qualitative"
STATUS_ORDER = ("off_track", "at_risk", "on_track", "achieved", QUALITATIVE, "")
STATUS_TEXT = {**STATUS_LABELS, QUALITATIVE: "über Meilensteine", "": "noch ohne Wert"}
STATUS_COLOURS = {"off_track": "#fca5a5", "at_risk": "#fde68a", "achieved": "#bbf7d0", "on_track": "#dcfce7"}
FLAG_COLOURS = {3: "#fca5a5", 2: "#fde68a", -2: "#bfdbfe", -3: "#93c5fd"}
OPERATION_LINES = (
    ("staff_hours", "Personalstunden"),
    ("patrols", "Streifen"),
    ("dispersal_order", "Platzverweise"),
    ("offence_report", "OWi-Anzeigen"),
    ("criminal_complaint", "Strafanzeigen"),
    ("referral", "Vermittlungen ins Hilfesystem"),
    ("reports_received", "Bürgerhinweise"),
)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_start(day: dt.date) -> dt.datetime:
    """Local midnight as an aware instant (midnight exists on every day in Europe/Berlin)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=_zone())


def _short(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _percent(value: float | None, prior: float | None) -> float | None:
    if value is None or prior is None or prior <= 0:
        return None
    return (value - prior) / prior * 100


def _board_steps() -> set[tuple[str, str]]:
    flow = selectors.workflow()
    return {(t.source, t.target) for t in flow.transitions if "executive_board" in t.actors}


def _decided_states() -> set[str]:
    return {s.code for s in selectors.workflow().states if s.decided}


def _operation_authority(operation: Operation) -> str:
    """Balance filter: one partner's figures when only it takes part, else both."""
    kinds = {a.kind for a in operation.authorities.all()} & set(balance_module.AUTHORITY_KINDS)
    return next(iter(kinds)) if len(kinds) == 1 else ""


def _count_area(area: Area) -> int:
    return CITY_AREA if area.kind == Area.Kind.CITY else area.pk


# --- goals (shared) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalLine:
    group: str
    title: str
    status: str  # a key of STATUS_TEXT
    detail: str

    @property
    def status_label(self) -> str:
        return STATUS_TEXT[self.status]


def _value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    decimals = 0 if float(value).is_integer() or abs(value) >= 100 else 1
    return f"{doc.number_de(value, decimals)}{(' ' + unit) if unit and unit != 'Anzahl' else ''}"


def goal_lines(task_force: TaskForce, figures_day: dt.date) -> list[GoalLine]:
    """Every goal with its status on ``figures_day``: off track and at risk first, then by group."""
    found = []
    goals = (
        Goal.objects.filter(working_group__task_force=task_force)
        .select_related("indicator", "working_group")
        .prefetch_related("milestones")
        .order_by("working_group__position", "working_group__name", "target_date", "title")
    )
    for position, goal in enumerate(goals):
        group = goal.working_group.name
        if goal.kind == Goal.Kind.QUALITATIVE or goal.indicator_id is None:
            milestones = [m for m in goal.milestones.all() if m.status != Milestone.Status.DROPPED]
            done = sum(1 for m in milestones if m.status == Milestone.Status.DONE)
            if milestones and done == len(milestones):
                status, detail = "achieved", f"alle {done} Meilensteine erledigt"
            elif milestones:
                status, detail = QUALITATIVE, f"{done} von {len(milestones)} Meilensteinen erledigt"
            else:
                status, detail = QUALITATIVE, "noch keine Meilensteine"
            found.append((position, GoalLine(group, goal.title, status, detail)))
            continue
        unit = goal.indicator.unit if goal.indicator else ""
        progress = None
        if goal.baseline_end is not None and goal.baseline_end < figures_day:
            progress = selectors.goal_progress(goal, as_of=figures_day)
        target = f"Ziel {_value_text(goal.target_value, unit)} bis {doc.date_de(goal.target_date)}"
        if progress is None:
            found.append((position, GoalLine(group, goal.title, "", f"{target}; noch kein Vergleichswert")))
            continue
        detail = (
            f"{_value_text(progress.current, unit)} (Ausgang {_value_text(goal.baseline_value, unit)}); "
            f"{target}"
        )
        found.append((position, GoalLine(group, goal.title, progress.status, detail)))
    found.sort(key=lambda item: (STATUS_ORDER.index(item[1].status), item[0]))
    return [line for _position, line in found]


def status_counts(lines: Sequence[GoalLine]) -> dict[str, int]:
    counts = Counter(line.status for line in lines)
    return {status: counts.get(status, 0) for status in STATUS_ORDER if counts.get(status)}


def status_sentence(lines: Sequence[GoalLine]) -> str:
    if not lines:
        return "Der Sonderstab hat noch keine Ziele festgelegt."
    counts = status_counts(lines)
    parts = [f"{n} {STATUS_TEXT[s]}" for s, n in counts.items()]
    noun = "Ziel" if len(lines) == 1 else "Ziele"
    return f"{len(lines)} {noun}: {', '.join(parts)}."


# --- the brief ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadlineRow:
    name: str
    unit: str
    week: float | None
    week_prior: float | None
    d28: float | None
    d28_prior: float | None
    flag: int  # the stronger of the week and 28-day flags

    @property
    def percent_28(self) -> float | None:
        return _percent(self.d28, self.d28_prior)


@dataclass(frozen=True)
class OperationLine:
    name: str
    area: str
    dates: str
    state: str
    effect: str


@dataclass(frozen=True)
class PendingLine:
    number: str
    title: str
    group: str
    submitted: str


@dataclass(frozen=True)
class FeedbackLine:
    day: dt.date
    what: str
    rank: int = 1  # 0: decisions (meetings, executive board), 1: reports of work done


@dataclass(frozen=True)
class Brief:
    task_force: str
    day: dt.date  # the brief's date
    figures_day: dt.date  # the last day in the goal figures (the day before)
    since: dt.date  # feedback after this day
    headline_source: str
    week_label: str
    headline: tuple[HeadlineRow, ...]
    operations: tuple[OperationLine, ...]
    goals: tuple[GoalLine, ...]
    pending: tuple[PendingLine, ...]
    feedback: tuple[FeedbackLine, ...]
    stand: str = ""


def _headline_from_meeting(meeting: Meeting) -> tuple[list[HeadlineRow], str]:
    rows: dict[str, dict[str, Any]] = {}
    week_label = ""
    for figure in meeting.figures.filter(section="Kennzahlen").order_by("position"):
        parts = figure.key.split(":")
        if len(parts) != 5 or parts[0] != "cockpit":
            continue
        code, window = parts[3], parts[4]
        name, _sep, window_label = figure.label.rpartition(" – ")
        row = rows.setdefault(code, {"name": name or figure.label, "unit": figure.unit, "flag": 0})
        if window in ("week", "28d"):
            row[window] = (figure.value, figure.prior)
            if abs(figure.flag) > abs(row["flag"]):
                row["flag"] = figure.flag
        if window == "week" and not week_label:
            week_label = window_label
    result = [
        HeadlineRow(
            name=row["name"],
            unit=row["unit"],
            week=row.get("week", (None, None))[0],
            week_prior=row.get("week", (None, None))[1],
            d28=row.get("28d", (None, None))[0],
            d28_prior=row.get("28d", (None, None))[1],
            flag=row["flag"],
        )
        for row in rows.values()
    ]
    return result, week_label


def _headline_from_cockpit(set_code: str, as_of: dt.date) -> tuple[list[HeadlineRow], str]:
    try:
        cockpit = build_cockpit(CITY_AREA, set_code, as_of)
    except ValueError:
        return [], ""
    rows = []
    for row in cockpit.rows:
        week, d28 = cockpit.figure(row.code, "week"), cockpit.figure(row.code, "28d")
        flag = week.flag if abs(week.flag) > abs(d28.flag) else d28.flag
        rows.append(HeadlineRow(row.name, row.unit, week.current, week.prior, d28.current, d28.prior, flag))
    return rows, cockpit.window("week").label


def _default_since(task_force: TaskForce, day: dt.date) -> dt.date:
    dates = list(
        Meeting.objects.filter(task_force=task_force, date__lte=day)
        .order_by("-date")
        .values_list("date", flat=True)[:2]
    )
    if len(dates) == 2:
        return dates[1]
    if dates:
        return min(dates[0] - dt.timedelta(days=FEEDBACK_DAYS_WITHOUT_MEETINGS), day)
    return day - dt.timedelta(days=FEEDBACK_DAYS_WITHOUT_MEETINGS)


def _evaluation_effect(evaluation: Any) -> str:
    """Headline and verdict of a stored evaluation, when it has them (any other shape: nothing)."""
    if not isinstance(evaluation, Mapping):
        return ""
    parts: list[str] = []
    moved = evaluation.get("displacement")
    if isinstance(moved, Mapping) and moved.get("status", "ok") == "ok":
        for name in ("headline", "verdict"):
            text = moved.get(name)
            if isinstance(text, str) and text.strip() and text.strip() not in parts:
                parts.append(text.strip())
    for name in ("headline", "verdict"):
        text = evaluation.get(name)
        if isinstance(text, str) and text.strip() and text.strip() not in parts:
            parts.append(text.strip())
    summary = evaluation.get("summary")
    if isinstance(summary, list) and summary and isinstance(summary[0], str):
        parts.append(summary[0].strip())
    return " ".join(p if p.endswith(".") else p + "." for p in parts)


def _monday_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=7 - day.weekday())


def _operation_lines(task_force: TaskForce, day: dt.date, since: dt.date) -> list[OperationLine]:
    operations = (
        Operation.objects.filter(task_force=task_force, start__lte=day + dt.timedelta(days=UPCOMING_DAYS))
        .filter(Q(end__gt=since) | Q(evaluated_at__gte=_day_start(since + dt.timedelta(days=1))))
        .select_related("area")
        .order_by("start", "name")
    )
    lines = []
    for operation in operations:
        if operation.start > day:
            state = f"geplant ab {doc.date_de(operation.start)}"
        elif operation.end >= day:
            state = "läuft"
        else:
            state = "beendet"
        effect = _evaluation_effect(operation.evaluation)
        if not effect:
            if operation.end < day:
                effect = f"Auswertung folgt (ab {doc.date_de(_monday_after(operation.end))})."
            elif operation.start <= day:
                effect = "Auswertung nach Einsatzende."
            else:
                effect = ""
        lines.append(
            OperationLine(
                name=operation.name,
                area=operation.area.name,
                dates=f"{operation.start:%d.%m.} – {doc.date_de(operation.end)}",
                state=state,
                effect=effect,
            )
        )
    return lines


def _pending_lines(task_force: TaskForce) -> list[PendingLine]:
    lines = []
    for recommendation in selectors.awaiting_decision(task_force).prefetch_related("events"):
        arrived = [e.at for e in recommendation.events.all() if e.to_state == recommendation.state]
        submitted = timezone.localtime(max(arrived)).date() if arrived else None
        lines.append(
            PendingLine(
                number=recommendation.number,
                title=recommendation.title,
                group=recommendation.working_group.name,
                submitted=doc.date_de(submitted) if submitted else "–",
            )
        )
    return lines


def _feedback_lines(task_force: TaskForce, since: dt.date, day: dt.date) -> list[FeedbackLine]:
    start, stop = _day_start(since + dt.timedelta(days=1)), _day_start(day + dt.timedelta(days=1))
    lines: list[FeedbackLine] = []
    decisions = (
        Decision.objects.filter(
            meeting__task_force=task_force, meeting__date__gt=since, meeting__date__lte=day
        )
        .select_related("meeting", "recommendation")
        .order_by("meeting__date", "created_at", "pk")
    )
    for decision in decisions:
        about = f" (zu {decision.recommendation.number})" if decision.recommendation else ""
        lines.append(
            FeedbackLine(
                decision.meeting.date,
                f"Festlegung der {decision.meeting.number}. Sitzung{about}: {decision.text}",
                rank=0,
            )
        )
    flow = selectors.workflow()
    board, decided = _board_steps(), _decided_states()
    events = (
        RecommendationEvent.objects.filter(
            recommendation__working_group__task_force=task_force, at__gte=start, at__lt=stop
        )
        .exclude(from_state="")
        .select_related("recommendation")
        .order_by("at", "pk")
    )
    for event in events:
        if event.from_state == event.to_state:
            continue
        if (event.from_state, event.to_state) in board:
            who, rank = "Verwaltungsvorstand", 0
        elif event.to_state in decided:
            who, rank = "Rückmeldung der AG", 1
        else:
            continue
        text = (
            f"{who}: {event.recommendation.number} „{event.recommendation.title}“ – "
            f"{flow.label(event.to_state)}"
        )
        if event.rationale:
            text += f" ({event.rationale})"
        lines.append(FeedbackLine(timezone.localtime(event.at).date(), text, rank))
    milestones = Milestone.objects.filter(
        working_group__task_force=task_force,
        status=Milestone.Status.DONE,
        done_on__gt=since,
        done_on__lte=day,
    ).select_related("working_group")
    for milestone in milestones:
        lines.append(
            FeedbackLine(
                milestone.done_on,  # type: ignore[arg-type]
                f"Meilenstein erledigt: {milestone.title} ({milestone.working_group.name})",
            )
        )
    actions = ActionItem.objects.filter(task_force=task_force, done_at__gte=start, done_at__lt=stop)
    for action in actions.select_related("owner"):
        lines.append(
            FeedbackLine(
                timezone.localtime(action.done_at).date(),  # type: ignore[arg-type]
                f"Aufgabe erledigt: {action.title} ({action.owner})",
            )
        )
    lines.sort(key=lambda line: (line.rank, line.day))
    return lines


def build_brief(
    task_force: TaskForce, *, as_of: dt.date | None = None, since: dt.date | None = None
) -> Brief:
    """The brief's content on ``as_of`` (default today; figures up to the day before)."""
    for name, value in (("as_of", as_of), ("since", since)):
        if value is not None and (not isinstance(value, dt.date) or isinstance(value, dt.datetime)):
            raise _error(name, "Bitte ein Datum angeben.")
    day = as_of or timezone.localdate()
    if not balance_module.FIRST_DAY < day <= balance_module.LAST_DAY:
        raise _error("as_of", f"Bitte ein Datum nach dem {doc.date_de(balance_module.FIRST_DAY)} angeben.")
    figures_day = day - dt.timedelta(days=1)
    since_day = since if since is not None and since < day else _default_since(task_force, day)
    meeting = (
        Meeting.objects.filter(task_force=task_force, date__lte=day, frozen_at__isnull=False)
        .order_by("-date")
        .first()
    )
    rows: list[HeadlineRow] = []
    week_label = ""
    if meeting is not None:
        rows, week_label = _headline_from_meeting(meeting)
        source = (
            f"Eingefrorene Zahlen der {meeting.number}. Sitzung am {doc.date_de(meeting.date)} "
            f"(Stichtag {doc.date_de(meeting.as_of)}), ganzes Stadtgebiet, Vergleich mit dem Vorjahr."
        )
    if meeting is None or not rows:
        latest = Meeting.objects.filter(task_force=task_force).order_by("-date").first()
        set_code = latest.set_code if latest is not None else DEFAULT_SET
        rows, week_label = _headline_from_cockpit(set_code, figures_day)
        source = (
            f"Cockpit, ganzes Stadtgebiet, Stichtag {doc.date_de(figures_day)}, Vergleich mit dem Vorjahr."
            if rows
            else "Für den Stichtag gibt es keine Kennzahlen (kein Kennzahlen-Set eingerichtet)."
        )
    return Brief(
        task_force=task_force.name,
        day=day,
        figures_day=figures_day,
        since=since_day,
        headline_source=source,
        week_label=week_label,
        headline=tuple(rows),
        operations=tuple(_operation_lines(task_force, day, since_day)),
        goals=tuple(goal_lines(task_force, figures_day)),
        pending=tuple(_pending_lines(task_force)),
        feedback=tuple(_feedback_lines(task_force, since_day, day)),
        stand=doc.stand_de(),
    )


@dataclass(frozen=True)
class Limits:
    headline: int
    operations: int
    goals: int
    pending: int
    feedback: int
    text: int  # characters of a long cell


# From everything to the essentials: the brief takes the first level that fits on two pages.
LIMIT_LEVELS = (
    Limits(40, 12, 40, 20, 30, 260),
    Limits(17, 8, 24, 12, 16, 200),
    Limits(12, 6, 16, 8, 10, 150),
    Limits(8, 4, 10, 6, 6, 120),
    Limits(6, 3, 6, 4, 4, 100),
    Limits(4, 2, 4, 3, 3, 80),
)


class _PageCounter(Flowable):
    """Zero-size flowable at the end of the story: records the page it lands on."""

    def __init__(self) -> None:
        super().__init__()
        self.pages = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.pages = self.canv.getPageNumber()


def _more(count: int, what: str) -> Flowable:
    return doc.paragraph(f"… und {count} weitere {what} (vollständig in Lagebild).", small=True)


def _flag_text(flag: int) -> str:
    return f" {FLAG_TEXT[flag]}" if flag else ""


def _brief_story(brief: Brief, limits: Limits) -> list[Flowable]:
    source = brief.headline_source
    if brief.week_label:
        source += f" Woche: {brief.week_label.removeprefix('Woche ')}."
    story: list[Flowable] = [doc.heading("Lage in Zahlen"), doc.paragraph(source, small=True)]
    if brief.headline:
        flagged = [r for r in brief.headline if r.flag]
        shown = (flagged + [r for r in brief.headline if not r.flag])[: limits.headline]
        shown = [r for r in brief.headline if r in shown]  # back in the cockpit's order
        rows, highlight = [], {}
        for index, row in enumerate(shown):
            decimals = 0 if row.unit in ("", "Anzahl", "€") else 1
            if row.flag:
                highlight[(index, 5)] = FLAG_COLOURS.get(row.flag, "#fde68a")
            rows.append(
                [
                    _short(row.name, 60),
                    doc.number_de(row.week, decimals),
                    doc.number_de(row.week_prior, decimals),
                    doc.number_de(row.d28, decimals),
                    doc.number_de(row.d28_prior, decimals),
                    f"{doc.percent_de(row.percent_28)}{_flag_text(row.flag)}",
                ]
            )
        story.append(
            doc.table(
                ["Kennzahl", "Woche", "Vorjahr", "28 Tage", "Vorjahr", "Veränd. 28 T."],
                rows,
                col_widths_mm=[64, 26, 18, 20, 18, 34],
                highlight=highlight,
            )
        )
        if len(brief.headline) > len(shown):
            story.append(_more(len(brief.headline) - len(shown), "Kennzahlen ohne auffällige Veränderung"))
        story.append(
            doc.paragraph(
                "++/+ starker/auffälliger Anstieg, −−/− starker/auffälliger Rückgang gegenüber dem Vorjahr "
                "(Woche oder 28 Tage).",
                small=True,
            )
        )

    story.append(doc.heading("Schwerpunkteinsätze und ihre Wirkung"))
    if brief.operations:
        shown_ops = brief.operations[: limits.operations]
        story.append(
            doc.table(
                ["Einsatz", "Zeitraum", "Stand", "Wirkung (automatische Auswertung)"],
                [
                    [
                        _short(f"{o.name} ({o.area})", 70),
                        o.dates,
                        o.state,
                        _short(o.effect, limits.text) or "–",
                    ]
                    for o in shown_ops
                ],
                col_widths_mm=[44, 30, 24, 82],
                right_from=9,
            )
        )
        if len(brief.operations) > len(shown_ops):
            story.append(_more(len(brief.operations) - len(shown_ops), "Einsätze"))
    else:
        story.append(doc.paragraph("Kein Schwerpunkteinsatz läuft, ist geplant oder wurde seither beendet."))

    story.append(doc.heading("Ziele"))
    story.append(doc.paragraph(status_sentence(brief.goals)))
    if brief.goals:
        shown_goals = brief.goals[: limits.goals]
        highlight = {
            (i, 2): STATUS_COLOURS[g.status] for i, g in enumerate(shown_goals) if g.status in STATUS_COLOURS
        }
        story.append(
            doc.table(
                ["Arbeitsgruppe", "Ziel", "Stand", "Wert"],
                [
                    [_short(g.group, 40), _short(g.title, limits.text // 2), g.status_label, g.detail]
                    for g in shown_goals
                ],
                col_widths_mm=[32, 58, 28, 62],
                right_from=9,
                highlight=highlight,
            )
        )
        if len(brief.goals) > len(shown_goals):
            story.append(_more(len(brief.goals) - len(shown_goals), "Ziele"))

    story.append(doc.heading("Zu entscheiden (Verwaltungsvorstand)"))
    if brief.pending:
        shown_pending = brief.pending[: limits.pending]
        story.append(
            doc.table(
                ["Nr.", "Empfehlung", "Arbeitsgruppe", "Eingereicht"],
                [
                    [p.number, _short(p.title, limits.text), _short(p.group, 40), p.submitted]
                    for p in shown_pending
                ],
                col_widths_mm=[22, 90, 44, 24],
                right_from=9,
            )
        )
        if len(brief.pending) > len(shown_pending):
            story.append(_more(len(brief.pending) - len(shown_pending), "Empfehlungen"))
    else:
        story.append(doc.paragraph("Keine Empfehlung wartet auf eine Entscheidung."))

    story.append(doc.heading(f"Rückmeldungen seit dem {doc.date_de(brief.since + dt.timedelta(days=1))}"))
    if brief.feedback:
        # Decisions before reports of work done, the newest of each; shown in date order.
        keep = sorted(range(len(brief.feedback)), key=lambda i: (brief.feedback[i].rank, -i))
        kept = set(keep[: limits.feedback])
        shown_feedback = [f for i, f in enumerate(brief.feedback) if i in kept]
        story.append(
            doc.table(
                ["Datum", "Was geschah"],
                [[doc.date_de(f.day), _short(f.what, limits.text)] for f in shown_feedback],
                col_widths_mm=[22, 158],
                right_from=9,
            )
        )
        if len(brief.feedback) > len(shown_feedback):
            story.append(_more(len(brief.feedback) - len(shown_feedback), "Rückmeldungen"))
    else:
        story.append(doc.paragraph("Seitdem wurde nichts entschieden oder erledigt gemeldet."))
    return story


def render_brief_pdf(brief: Brief) -> tuple[bytes, int]:
    """The brief as PDF (A4) and its number of pages, shortened until it fits on two pages."""
    title = f"Kurzbericht {brief.task_force}"
    subtitle = (
        f"Für Oberbürgermeister und Polizeipräsidium · {doc.date_de(brief.day)} · "
        f"Ziele mit Zahlen bis {doc.date_de(brief.figures_day)}"
    )
    data, pages = b"", 0
    for limits in LIMIT_LEVELS:
        counter = _PageCounter()
        data = doc.pdf_document(title, subtitle, [*_brief_story(brief, limits), counter], stand=brief.stand)
        pages = counter.pages
        if pages <= BRIEF_MAX_PAGES:
            break
    return data, pages


def brief_pdf(task_force: TaskForce, *, as_of: dt.date | None = None, since: dt.date | None = None) -> bytes:
    """The brief for the mayor and the police president as PDF: A4, two pages at most."""
    data, _pages = render_brief_pdf(build_brief(task_force, as_of=as_of, since=since))
    return data


# --- the council interim report --------------------------------------------------------------------


@dataclass(frozen=True)
class OperationBalanceLine:
    name: str
    area: str
    period: Period
    authority: str
    values: dict[str, float | None]
    effect: str = ""
    note: str = ""


@dataclass(frozen=True)
class MilestoneLine:
    group: str
    title: str
    due: dt.date
    status: str


@dataclass(frozen=True)
class RecommendationLine:
    number: str
    title: str
    group: str
    steps: str  # what happened in the period
    state: str  # where it stands now
    board_decided: bool = False  # the executive board took a step on it in the period


@dataclass(frozen=True)
class DecisionLine:
    day: dt.date
    meeting: int
    text: str


@dataclass(frozen=True)
class CouncilReport:
    task_force: str
    remit: str
    period: Period
    figures_day: dt.date
    meetings: int
    operations: tuple[OperationBalanceLine, ...]
    goals: tuple[GoalLine, ...]
    milestones: tuple[MilestoneLine, ...]
    recommendations: tuple[RecommendationLine, ...]
    decisions: tuple[DecisionLine, ...]
    stand: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        return f"Zwischenbilanz {self.task_force}"

    @property
    def subtitle(self) -> str:
        return f"Bericht an den Rat · Zeitraum {self.period.dates_label} ({self.period.days} Tage)"

    def operation_total(self, key: str) -> float:
        return sum(o.values.get(key) or 0 for o in self.operations)

    @property
    def milestones_done(self) -> int:
        return sum(1 for m in self.milestones if m.status.startswith("erledigt"))

    @property
    def headline(self) -> list[tuple[str, str]]:
        """The headline numbers: the same in the PDF and the DOCX."""
        counts = status_counts(self.goals)
        decided = sum(1 for r in self.recommendations if r.board_decided)
        return [
            ("Sitzungen des Sonderstabs", doc.number_de(self.meetings)),
            ("Schwerpunkteinsätze", doc.number_de(len(self.operations))),
            ("Personalstunden in den Einsätzen", doc.number_de(self.operation_total("staff_hours"), 0)),
            ("Platzverweise in den Einsätzen", doc.number_de(self.operation_total("dispersal_order"))),
            ("Ziele insgesamt", doc.number_de(len(self.goals))),
            ("davon erreicht", doc.number_de(counts.get("achieved", 0))),
            ("davon im Plan", doc.number_de(counts.get("on_track", 0))),
            ("davon gefährdet", doc.number_de(counts.get("at_risk", 0))),
            ("davon nicht im Plan", doc.number_de(counts.get("off_track", 0))),
            ("Meilensteine erledigt", f"{self.milestones_done} von {len(self.milestones)}"),
            ("Empfehlungen vom Verwaltungsvorstand entschieden", doc.number_de(decided)),
            ("Festlegungen in Sitzungen", doc.number_de(len(self.decisions))),
        ]

    @property
    def summary(self) -> str:
        """The report in a few plain sentences."""
        sentences = [
            f"Im Zeitraum {self.period.dates_label} tagte der Sonderstab "
            f"{'einmal' if self.meetings == 1 else f'{self.meetings}-mal'}."
            if self.meetings
            else f"Im Zeitraum {self.period.dates_label} tagte der Sonderstab nicht."
        ]
        if self.operations:
            sentences.append(
                f"In {len(self.operations)} Schwerpunkteinsätzen leisteten Ordnungsamt und Polizei "
                f"{balance_module.approx_de(self.operation_total('staff_hours'))} Personalstunden und "
                f"sprachen {balance_module.approx_de(self.operation_total('dispersal_order'))} "
                "Platzverweise aus."
            )
        sentences.append(status_sentence(self.goals).replace(": ", " – Stand am Ende des Zeitraums: ", 1))
        if self.milestones:
            sentences.append(
                f"Von {len(self.milestones)} Meilensteinen, die im Zeitraum fällig waren oder erledigt "
                f"wurden, sind {self.milestones_done} erledigt."
            )
        decided = sum(1 for r in self.recommendations if r.board_decided)
        if self.recommendations:
            sentences.append(
                f"Der Verwaltungsvorstand entschied über {decided} Empfehlungen der Arbeitsgruppen."
                if decided != 1
                else "Der Verwaltungsvorstand entschied über eine Empfehlung der Arbeitsgruppen."
            )
        return " ".join(sentences)


def _error(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: message})


def check_report_period(start: Any, end: Any) -> Period:
    """The report period; German ValidationError at the field for anything unusable."""
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise _error("start", "Bitte den Beginn des Zeitraums als Datum angeben.")
    if not isinstance(end, dt.date) or isinstance(end, dt.datetime):
        raise _error("end", "Bitte das Ende des Zeitraums als Datum angeben.")
    if end < start:
        raise _error("end", "Das Ende des Zeitraums liegt vor seinem Beginn.")
    if end > timezone.localdate():
        raise _error("end", "Das Ende des Zeitraums liegt in der Zukunft; bitte spätestens heute wählen.")
    if start < balance_module.FIRST_DAY:
        raise _error("start", f"Bitte einen Beginn ab dem {doc.date_de(balance_module.FIRST_DAY)} wählen.")
    period = Period(start, end)
    if period.days > MAX_REPORT_DAYS:
        raise _error("end", f"Eine Zwischenbilanz umfasst höchstens {MAX_REPORT_YEARS} Jahre.")
    return period


def _operation_balances(
    task_force: TaskForce, period: Period, figures_day: dt.date
) -> list[OperationBalanceLine]:
    found = []
    operations = (
        Operation.objects.filter(task_force=task_force, start__lte=min(period.end, figures_day))
        .filter(end__gte=period.start)
        .select_related("area")
        .prefetch_related("authorities")
        .order_by("start", "name")
    )
    for operation in operations:
        part = Period(max(operation.start, period.start), min(operation.end, period.end, figures_day))
        authority = _operation_authority(operation)
        values: dict[str, float | None] = {}
        note = ""
        try:
            balance = balance_module.build_balance(
                _count_area(operation.area), part.start, part.end, authority=authority
            )
            values = {key: balance.line(key).current for key, _label in OPERATION_LINES if balance.has(key)}
        except ValueError as exc:
            note = f"Keine Bilanz: {exc}"
        found.append(
            OperationBalanceLine(
                name=operation.name,
                area=operation.area.name,
                period=part,
                authority=dict(balance_module.AUTHORITY_CHOICES)[authority],
                values=values,
                effect=_evaluation_effect(operation.evaluation),
                note=note,
            )
        )
    return found


def _milestone_lines(task_force: TaskForce, period: Period, today: dt.date) -> list[MilestoneLine]:
    milestones = (
        Milestone.objects.filter(working_group__task_force=task_force)
        .filter(Q(due__range=(period.start, period.end)) | Q(done_on__range=(period.start, period.end)))
        .select_related("working_group")
        .order_by("due", "title")
    )
    lines = []
    for milestone in milestones:
        if milestone.status == Milestone.Status.DONE:
            status = f"erledigt am {doc.date_de(milestone.done_on)}" if milestone.done_on else "erledigt"
        elif milestone.status == Milestone.Status.DROPPED:
            status = "entfallen"
        elif milestone.due < today:
            status = f"{milestone.get_status_display()}, überfällig"
        else:
            status = milestone.get_status_display()
        lines.append(MilestoneLine(milestone.working_group.name, milestone.title, milestone.due, status))
    return lines


def _recommendation_lines(task_force: TaskForce, period: Period) -> list[RecommendationLine]:
    flow = selectors.workflow()
    board = _board_steps()
    start, stop = _day_start(period.start), _day_start(period.end + dt.timedelta(days=1))
    recommendations = (
        Recommendation.objects.filter(
            working_group__task_force=task_force, events__at__gte=start, events__at__lt=stop
        )
        .distinct()
        .select_related("working_group")
        .prefetch_related("events")
        .order_by("number")
    )
    lines = []
    for recommendation in recommendations:
        steps = []
        board_decided = False
        for event in recommendation.events.all():
            if not (start <= event.at < stop) or event.from_state == event.to_state or not event.from_state:
                continue
            by_board = (event.from_state, event.to_state) in board
            board_decided = board_decided or by_board
            who = "Verwaltungsvorstand: " if by_board else ""
            day = timezone.localtime(event.at).date()
            steps.append(f"{who}{flow.label(event.to_state)} am {doc.date_de(day)}")
        lines.append(
            RecommendationLine(
                number=recommendation.number,
                title=recommendation.title,
                group=recommendation.working_group.name,
                steps="; ".join(steps) or "angelegt oder überarbeitet",
                state=flow.label(recommendation.state),
                board_decided=board_decided,
            )
        )
    return lines


def build_council_report(task_force: TaskForce, start: Any, end: Any) -> CouncilReport:
    """The interim report's content for ``start``–``end`` (inclusive local days)."""
    period = check_report_period(start, end)
    today = timezone.localdate()
    figures_day = min(period.end, today - dt.timedelta(days=1))
    notes = []
    if period.end >= today:
        notes.append(
            f"Die Zahlen reichen bis {doc.date_de(figures_day)}, dem letzten vollständigen Tag; "
            "der heutige Tag wird noch erfasst."
        )
    decisions = (
        Decision.objects.filter(
            meeting__task_force=task_force, meeting__date__range=(period.start, period.end)
        )
        .select_related("meeting")
        .order_by("meeting__date", "created_at", "pk")
    )
    return CouncilReport(
        task_force=task_force.name,
        remit=task_force.remit,
        period=period,
        figures_day=figures_day,
        meetings=Meeting.objects.filter(
            task_force=task_force, date__range=(period.start, period.end)
        ).count(),
        operations=tuple(_operation_balances(task_force, period, figures_day)),
        goals=tuple(goal_lines(task_force, figures_day)) if figures_day >= period.start else (),
        milestones=tuple(_milestone_lines(task_force, period, today)),
        recommendations=tuple(_recommendation_lines(task_force, period)),
        decisions=tuple(DecisionLine(d.meeting.date, d.meeting.number, d.text) for d in decisions),
        stand=doc.stand_de(),
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class _Chart:
    title: str
    labels: list[str]
    series: dict[str, list[float]]


def _charts(report: CouncilReport) -> list[_Chart]:
    charts = []
    if report.operations:
        charts.append(
            _Chart(
                "Maßnahmen je Schwerpunkteinsatz",
                [_short(o.name, 22) for o in report.operations],
                {
                    label: [o.values.get(key) or 0 for o in report.operations]
                    for key, label in OPERATION_LINES
                    if key in ("dispersal_order", "offence_report", "criminal_complaint")
                },
            )
        )
    counts = status_counts(report.goals)
    if counts:
        charts.append(
            _Chart(
                "Ziele nach Stand am Ende des Zeitraums",
                [STATUS_TEXT[s] for s in counts],
                {"Ziele": [float(n) for n in counts.values()]},
            )
        )
    if report.milestones:
        buckets = Counter(
            "erledigt"
            if m.status.startswith("erledigt")
            else ("überfällig" if "überfällig" in m.status else m.status)
            for m in report.milestones
        )
        charts.append(
            _Chart(
                "Meilensteine im Zeitraum",
                list(buckets),
                {"Meilensteine": [float(v) for v in buckets.values()]},
            )
        )
    return charts


def _operation_rows(report: CouncilReport) -> list[list[str]]:
    rows = []
    for o in report.operations:
        rows.append(
            [
                f"{o.name} ({o.area})",
                o.period.dates_label,
                *(
                    doc.number_de(o.values.get(key), 1 if key == "staff_hours" else 0)
                    for key, _label in OPERATION_LINES
                ),
            ]
        )
    return rows


OPERATION_HEADER = [
    "Einsatz",
    "Zeitraum",
    "Std.",
    "Streifen",
    "Platzv.",
    "OWi",
    "Straf.",
    "Hilfe",
    "Hinweise",
]
OPERATION_LEGEND = (
    "Std. = Personalstunden, Platzv. = Platzverweise, OWi = OWi-Anzeigen, Straf. = Strafanzeigen, "
    "Hilfe = Vermittlungen ins Hilfesystem, Hinweise = eingegangene Bürgerhinweise; Zahlen aus den "
    "Zähltabellen wie in der Einsatzbilanz, für den Teil jedes Einsatzes im Berichtszeitraum."
)


def council_report_pdf(report: CouncilReport) -> bytes:
    """The Zwischenbilanz as PDF (A4 portrait)."""
    story: list[Flowable] = [doc.heading("Das Wichtigste in Kürze"), doc.paragraph(report.summary)]
    for note in report.notes:
        story.append(doc.paragraph(note, small=True))
    story += [
        doc.heading("Zahlen im Überblick"),
        doc.table(["Kennzahl", "Wert"], report.headline, col_widths_mm=[120, 40]),
    ]
    charts = {c.title: c for c in _charts(report)}

    def chart(title: str) -> list[Flowable]:
        found = charts.get(title)
        if found is None:
            return []
        return [doc.spacer(2), doc.bar_chart(found.labels, found.series, title=found.title)]

    story.append(doc.heading("Schwerpunkteinsätze"))
    if report.operations:
        story.append(
            doc.table(
                OPERATION_HEADER,
                _operation_rows(report),
                col_widths_mm=[46, 30, 16, 16, 15, 13, 13, 13, 18],
                right_from=2,
            )
        )
        story.append(doc.paragraph(OPERATION_LEGEND, small=True))
        for o in report.operations:
            if o.effect or o.note:
                story.append(doc.paragraph(f"{o.name}: {o.effect or o.note}"))
        story += chart("Maßnahmen je Schwerpunkteinsatz")
    else:
        story.append(doc.paragraph("Im Zeitraum gab es keinen Schwerpunkteinsatz des Sonderstabs."))

    story.append(doc.heading("Ziele und ihr Stand"))
    story.append(doc.paragraph(status_sentence(report.goals)))
    if report.goals:
        highlight = {
            (i, 2): STATUS_COLOURS[g.status] for i, g in enumerate(report.goals) if g.status in STATUS_COLOURS
        }
        story.append(
            doc.table(
                ["Arbeitsgruppe", "Ziel", "Stand", "Wert"],
                [[g.group, g.title, g.status_label, g.detail] for g in report.goals],
                col_widths_mm=[32, 58, 28, 62],
                right_from=9,
                highlight=highlight,
            )
        )
        story += chart("Ziele nach Stand am Ende des Zeitraums")

    story.append(doc.heading("Meilensteine"))
    if report.milestones:
        story.append(
            doc.table(
                ["Arbeitsgruppe", "Meilenstein", "Fällig", "Stand"],
                [[m.group, m.title, doc.date_de(m.due), m.status] for m in report.milestones],
                col_widths_mm=[34, 86, 22, 38],
                right_from=9,
            )
        )
        story += chart("Meilensteine im Zeitraum")
    else:
        story.append(doc.paragraph("Im Zeitraum war kein Meilenstein fällig und keiner wurde erledigt."))

    story.append(doc.heading("Empfehlungen an den Verwaltungsvorstand"))
    if report.recommendations:
        story.append(
            doc.table(
                ["Nr.", "Empfehlung", "Arbeitsgruppe", "Im Zeitraum", "Stand heute"],
                [[r.number, r.title, r.group, r.steps, r.state] for r in report.recommendations],
                col_widths_mm=[20, 44, 30, 50, 36],
                right_from=9,
            )
        )
    else:
        story.append(doc.paragraph("Im Zeitraum wurde keine Empfehlung eingereicht oder entschieden."))

    story.append(doc.heading("Festlegungen der Sitzungen"))
    if report.decisions:
        story.append(
            doc.table(
                ["Datum", "Sitzung", "Festlegung"],
                [[doc.date_de(d.day), f"{d.meeting}.", d.text] for d in report.decisions],
                col_widths_mm=[22, 16, 142],
                right_from=9,
            )
        )
    else:
        story.append(doc.paragraph("Im Zeitraum wurden in den Sitzungen keine Festlegungen protokolliert."))
    return doc.pdf_document(report.title, report.subtitle, story, stand=report.stand)


def council_report_docx(report: CouncilReport) -> bytes:
    """The Zwischenbilanz as Word document, with the same numbers and the charts as images."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2))
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    properties = normal.element.get_or_add_rPr()
    language = properties.find(qn("w:lang"))
    if language is None:
        language = properties.makeelement(qn("w:lang"), {})
        properties.append(language)
    language.set(qn("w:val"), "de-DE")
    document.core_properties.title = report.title
    document.core_properties.subject = report.subtitle
    document.core_properties.author = f"Lagebild {getattr(settings, 'CITY_NAME', '')}".strip()
    document.core_properties.language = "de-DE"

    document.add_heading(report.title, level=0)
    document.add_paragraph(report.subtitle)
    document.add_paragraph(report.stand).runs[0].font.size = Pt(8)

    def table(header: Sequence[str], rows: Sequence[Sequence[object]], right_from: int = 99) -> None:
        grid = document.add_table(rows=1, cols=len(header))
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, header, strict=True):
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(text))
            run.bold = True
        for values in rows:
            cells = grid.add_row().cells
            for column, (cell, value) in enumerate(zip(cells, values, strict=True)):
                cell.text = str(value)
                if column >= right_from:
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        document.add_paragraph()

    charts = {c.title: c for c in _charts(report)}

    def chart(title: str) -> None:
        found = charts.get(title)
        if found is None:
            return
        image = pngcharts.bar_chart_png(found.labels, found.series, title=found.title)
        document.add_picture(io.BytesIO(image), width=Cm(16))

    def small(text: str) -> None:
        paragraph = document.add_paragraph(text)
        for run in paragraph.runs:
            run.font.size = Pt(8)

    document.add_heading("Das Wichtigste in Kürze", level=1)
    document.add_paragraph(report.summary)
    for note in report.notes:
        small(note)
    document.add_heading("Zahlen im Überblick", level=1)
    table(["Kennzahl", "Wert"], report.headline, right_from=1)

    document.add_heading("Schwerpunkteinsätze", level=1)
    if report.operations:
        table(OPERATION_HEADER, _operation_rows(report), right_from=2)
        small(OPERATION_LEGEND)
        for o in report.operations:
            if o.effect or o.note:
                document.add_paragraph(f"{o.name}: {o.effect or o.note}")
        chart("Maßnahmen je Schwerpunkteinsatz")
    else:
        document.add_paragraph("Im Zeitraum gab es keinen Schwerpunkteinsatz des Sonderstabs.")

    document.add_heading("Ziele und ihr Stand", level=1)
    document.add_paragraph(status_sentence(report.goals))
    if report.goals:
        table(
            ["Arbeitsgruppe", "Ziel", "Stand", "Wert"],
            [[g.group, g.title, g.status_label, g.detail] for g in report.goals],
        )
        chart("Ziele nach Stand am Ende des Zeitraums")

    document.add_heading("Meilensteine", level=1)
    if report.milestones:
        table(
            ["Arbeitsgruppe", "Meilenstein", "Fällig", "Stand"],
            [[m.group, m.title, doc.date_de(m.due), m.status] for m in report.milestones],
        )
        chart("Meilensteine im Zeitraum")
    else:
        document.add_paragraph("Im Zeitraum war kein Meilenstein fällig und keiner wurde erledigt.")

    document.add_heading("Empfehlungen an den Verwaltungsvorstand", level=1)
    if report.recommendations:
        table(
            ["Nr.", "Empfehlung", "Arbeitsgruppe", "Im Zeitraum", "Stand heute"],
            [[r.number, r.title, r.group, r.steps, r.state] for r in report.recommendations],
        )
    else:
        document.add_paragraph("Im Zeitraum wurde keine Empfehlung eingereicht oder entschieden.")

    document.add_heading("Festlegungen der Sitzungen", level=1)
    if report.decisions:
        table(
            ["Datum", "Sitzung", "Festlegung"],
            [[doc.date_de(d.day), f"{d.meeting}.", d.text] for d in report.decisions],
        )
    else:
        document.add_paragraph("Im Zeitraum wurden in den Sitzungen keine Festlegungen protokolliert.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def council_pdf(task_force: TaskForce, start: Any, end: Any) -> bytes:
    return council_report_pdf(build_council_report(task_force, start, end))


def council_docx(task_force: TaskForce, start: Any, end: Any) -> bytes:
    return council_report_docx(build_council_report(task_force, start, end))


__all__ = [
    "DOCX_TYPE",
    "Brief",
    "CouncilReport",
    "brief_pdf",
    "build_brief",
    "build_council_report",
    "check_report_period",
    "council_docx",
    "council_pdf",
    "council_report_docx",
    "council_report_pdf",
    "render_brief_pdf",
]
