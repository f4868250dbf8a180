"""Writes of the task force: goals, milestones, recommendations and their workflow.

Every write checks who acts (:mod:`lagebild.taskforce.rules`), validates everything at once
(German messages per field) and writes all or nothing, with an audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from lagebild.analytics.balance import FIRST_DAY as EARLIEST_BASELINE
from lagebild.analytics.cockpit import Cockpit
from lagebild.analytics.models import Fact, Indicator
from lagebild.core import audit
from lagebild.geo.models import Area

from . import agenda, rules, selectors
from . import progress as progress_rules
from .models import (
    ActionItem,
    AgendaItem,
    Decision,
    FrozenFigure,
    Goal,
    Meeting,
    Milestone,
    Operation,
    Recommendation,
    RecommendationEvent,
    TaskForce,
    WorkingGroup,
)

MAX_GOAL_YEARS = 10
# A meeting's Stichtag (the day before it) no earlier than the cockpit's (analytics.views_cockpit),
# and meetings planned at most a year ahead: the cockpit's windows of a day near the end of the
# calendar would run out of dates.
EARLIEST_MEETING = dt.date(2000, 1, 2)
MAX_MEETING_AHEAD_DAYS = 366
# Due dates of milestones and action items: from 2000 and at most MAX_GOAL_YEARS ahead (the
# calendar feed and the notifications count days on from them).
EARLIEST_DUE = dt.date(2000, 1, 1)
PARTICIPLES = {Goal.Direction.DECREASE: "gesenkt", Goal.Direction.INCREASE: "gesteigert"}


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _date_de(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def _due_error(due: dt.date) -> str | None:
    """The German message for a due date outside what Lagebild plans with, else None."""
    if due < EARLIEST_DUE:
        return f"Das Fälligkeitsdatum kann nicht vor dem {_date_de(EARLIEST_DUE)} liegen."
    if due > timezone.localdate() + dt.timedelta(days=366 * MAX_GOAL_YEARS):
        return f"Das Fälligkeitsdatum darf höchstens {MAX_GOAL_YEARS} Jahre in der Zukunft liegen."
    return None


# --- goals -------------------------------------------------------------------------------------


def goal_create(
    group: WorkingGroup,
    user: Any,
    *,
    title: str,
    target_date: dt.date | None,
    kind: str = Goal.Kind.INDICATOR,
    indicator_code: str = "",
    area: Area | None = None,
    per_100_staff_hours: bool = False,
    direction: str = Goal.Direction.DECREASE,
    baseline_start: dt.date | None = None,
    baseline_end: dt.date | None = None,
    baseline_value: float | None = None,
    target_value: float | None = None,
) -> Goal:
    """A goal of ``group``. An indicator goal without a baseline value gets it from the count tables."""
    _require(rules.can_edit_group(user, group), "Nur Mitglieder der Arbeitsgruppe können ihre Ziele anlegen.")
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    title = (title or "").strip()
    if not title:
        error("title", "Bitte das Ziel in einem Satz benennen.")
    today = timezone.localdate()
    if target_date is None:
        error("target_date", "Bitte ein Zieldatum angeben.")
    elif target_date <= today:
        error("target_date", "Das Zieldatum muss in der Zukunft liegen.")
    elif target_date > today + dt.timedelta(days=366 * MAX_GOAL_YEARS):
        error("target_date", f"Das Zieldatum darf höchstens {MAX_GOAL_YEARS} Jahre in der Zukunft liegen.")
    if direction not in Goal.Direction.values:
        error("direction", "Bitte angeben, ob die Kennzahl gesenkt oder gesteigert werden soll.")
    indicator = None
    if kind == Goal.Kind.INDICATOR:
        indicator = Indicator.objects.filter(code=indicator_code).first() if indicator_code else None
        if indicator is None:
            error(
                "indicator",
                f"Die Kennzahl „{indicator_code}“ gibt es nicht."
                if indicator_code
                else "Bitte eine Kennzahl wählen.",
            )
        if indicator is not None and indicator.fact == Fact.PROCEEDINGS:
            # Shares and medians of the proceedings: whole city, no rate (``selectors.proceedings_values``).
            if area is not None and area.kind != Area.Kind.CITY:
                error("area", "Kennzahlen der Bußgeldverfahren gibt es nur für das ganze Stadtgebiet.")
            if per_100_staff_hours:
                error(
                    "per_100_staff_hours",
                    "Kennzahlen der Bußgeldverfahren lassen sich nicht je 100 Personalstunden rechnen.",
                )
        if baseline_start is None or baseline_end is None:
            error("baseline_start", "Bitte den Basiszeitraum angeben (von und bis).")
        elif baseline_end < baseline_start:
            error("baseline_end", "Der Basiszeitraum endet vor seinem Beginn.")
        elif baseline_start < EARLIEST_BASELINE:  # the count tables start there
            error(
                "baseline_start",
                f"Der Basiszeitraum darf nicht vor dem {EARLIEST_BASELINE:%d.%m.%Y} beginnen.",
            )
        elif baseline_end >= today:
            error("baseline_end", "Der Basiszeitraum muss abgeschlossen sein (spätestens gestern enden).")
        elif target_date is not None and target_date <= baseline_end:
            error("target_date", "Das Zieldatum muss nach dem Basiszeitraum liegen.")
        if target_value is None:
            error("target_value", "Bitte einen Zielwert angeben.")
        elif target_value < 0:
            error("target_value", "Der Zielwert kann nicht negativ sein.")
    elif kind != Goal.Kind.QUALITATIVE:
        error("kind", "Unbekannte Art von Ziel.")
    if errors:
        raise ValidationError(errors)

    goal = Goal(
        working_group=group,
        title=title,
        kind=kind,
        indicator=indicator,
        area=area,
        per_100_staff_hours=per_100_staff_hours,
        direction=direction,
        baseline_start=baseline_start if indicator else None,
        baseline_end=baseline_end if indicator else None,
        target_value=target_value if indicator else None,
        target_date=target_date,
        created_by=user,
    )
    if indicator is not None:
        assert baseline_start is not None and baseline_end is not None and target_value is not None
        if baseline_value is None:
            baseline_value = selectors.figure(goal, baseline_start, baseline_end)
        if baseline_value is None:
            raise ValidationError(
                {"baseline_start": "Für diesen Basiszeitraum gibt es keinen Wert der Kennzahl."}
            )
        if progress_rules.wrong_direction(baseline_value, target_value, direction):  # type: ignore[arg-type]
            verb = "unter" if direction == Goal.Direction.DECREASE else "über"
            raise ValidationError(
                {
                    "target_value": (
                        f"Der Zielwert muss {verb} dem Basiswert ({baseline_value:.1f}) liegen, "
                        f"wenn die Kennzahl {PARTICIPLES[direction]} werden soll."
                    )
                }
            )
        goal.baseline_value = baseline_value
    with transaction.atomic():
        goal.save()
        audit.log("taskforce.goal_create", user=user, obj=goal, group=group.code)
    return goal


# --- milestones --------------------------------------------------------------------------------


def milestone_create(
    group: WorkingGroup,
    user: Any,
    *,
    title: str,
    owner: Any,
    due: dt.date | None,
    goal: Goal | None = None,
) -> Milestone:
    _require(
        rules.can_edit_group(user, group), "Nur Mitglieder der Arbeitsgruppe können Meilensteine anlegen."
    )
    errors: dict[str, str] = {}
    if not (title or "").strip():
        errors["title"] = "Bitte den Meilenstein benennen."
    if owner is None:
        errors["owner"] = "Bitte angeben, wer verantwortlich ist."
    if due is None:
        errors["due"] = "Bitte ein Fälligkeitsdatum angeben."
    elif message := _due_error(due):
        errors["due"] = message
    if goal is not None and goal.working_group_id != group.pk:
        errors["goal"] = "Das Ziel gehört zu einer anderen Arbeitsgruppe."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        milestone = Milestone.objects.create(
            working_group=group, goal=goal, title=title.strip(), owner=owner, due=due
        )
        audit.log("taskforce.milestone_create", user=user, obj=milestone)
    return milestone


def milestone_update(
    milestone: Milestone,
    user: Any,
    *,
    status: str,
    evidence_note: str = "",
    evidence_file: UploadedFile | None = None,
) -> Milestone:
    """Report a milestone's status; "erledigt" needs evidence (a note or a file)."""
    group = milestone.working_group
    allowed = rules.can_edit_group(user, group) or milestone.owner_id == getattr(user, "pk", None)
    _require(allowed, "Nur die Verantwortlichen und die Arbeitsgruppe können den Meilenstein fortschreiben.")
    if status not in Milestone.Status.values:
        raise ValidationError({"status": "Unbekannter Stand."})
    note = (evidence_note or "").strip()
    if status == Milestone.Status.DONE and not (note or evidence_file or milestone.evidence_note):
        raise ValidationError({"evidence_note": "Bitte den Nachweis angeben: eine Notiz oder eine Datei."})
    with transaction.atomic():
        milestone.status = status
        milestone.done_on = timezone.localdate() if status == Milestone.Status.DONE else None
        if note:
            milestone.evidence_note = note
        if evidence_file is not None:
            milestone.evidence_file = evidence_file
        milestone.save()
        audit.log("taskforce.milestone_update", user=user, obj=milestone, status=status)
    return milestone


# --- recommendations ---------------------------------------------------------------------------


def _next_number(day: dt.date) -> str:
    prefix = f"E-{day.year}-"
    numbers = [
        int(n.removeprefix(prefix))
        for n in Recommendation.objects.filter(number__startswith=prefix).values_list("number", flat=True)
        if n.removeprefix(prefix).isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def _check_links(
    group: WorkingGroup,
    goals: Iterable[Goal],
    milestones: Iterable[Milestone],
    operations: Iterable[Operation],
) -> dict[str, str]:
    errors: dict[str, str] = {}
    task_force_id = group.task_force_id
    if any(g.working_group.task_force_id != task_force_id for g in goals):
        errors["goals"] = "Ein verknüpftes Ziel gehört zu einem anderen Sonderstab."
    if any(m.working_group.task_force_id != task_force_id for m in milestones):
        errors["milestones"] = "Ein verknüpfter Meilenstein gehört zu einem anderen Sonderstab."
    if any(o.task_force_id != task_force_id for o in operations):
        errors["operations"] = "Ein verknüpfter Einsatz gehört zu einem anderen Sonderstab."
    return errors


def recommendation_create(
    group: WorkingGroup,
    user: Any,
    *,
    title: str,
    text: str,
    goals: Iterable[Goal] = (),
    milestones: Iterable[Milestone] = (),
    operations: Iterable[Operation] = (),
    supersedes: Recommendation | None = None,
) -> Recommendation:
    """A draft recommendation; with ``supersedes`` it replaces a decided one (which stays as it was)."""
    _require(
        rules.can_edit_group(user, group), "Nur Mitglieder der Arbeitsgruppe können Empfehlungen entwerfen."
    )
    goals, milestones, operations = list(goals), list(milestones), list(operations)
    flow = selectors.workflow()
    errors: dict[str, str] = {}
    if not (title or "").strip():
        errors["title"] = "Bitte einen Titel angeben."
    if not (text or "").strip():
        errors["text"] = "Bitte den Beschlussvorschlag und die Begründung angeben."
    errors.update(_check_links(group, goals, milestones, operations))
    if supersedes is not None:
        if not flow.state(supersedes.state).decided:
            errors["supersedes"] = (
                "Ersetzt werden kann nur eine entschiedene Empfehlung; diese ist noch änderbar."
            )
        elif Recommendation.objects.filter(supersedes=supersedes).exists():
            errors["supersedes"] = "Diese Empfehlung wurde bereits ersetzt."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        recommendation = Recommendation.objects.create(
            working_group=group,
            number=_next_number(timezone.localdate()),
            title=title.strip(),
            text=text.strip(),
            state=flow.initial,
            supersedes=supersedes,
            created_by=user,
            created_at=now,
            updated_at=now,
        )
        recommendation.goals.set(goals)
        recommendation.milestones.set(milestones)
        recommendation.operations.set(operations)
        label = f"Angelegt (ersetzt {supersedes.number})" if supersedes else "Angelegt"
        _event(recommendation, user, "", flow.initial, label, "")
        audit.log("taskforce.recommendation_create", user=user, obj=recommendation)
    return recommendation


def _event(
    recommendation: Recommendation,
    user: Any,
    source: str,
    target: str,
    label: str,
    rationale: str,
    attachment: UploadedFile | None = None,
) -> RecommendationEvent:
    return RecommendationEvent.objects.create(
        recommendation=recommendation,
        from_state=source,
        to_state=target,
        label=label,
        by=user,
        at=timezone.now(),
        rationale=rationale,
        attachment=attachment or "",
        title_then=recommendation.title,
        text_then=recommendation.text,
    )


def recommendation_edit(
    recommendation: Recommendation,
    user: Any,
    *,
    title: str,
    text: str,
    goals: Iterable[Goal] | None = None,
    milestones: Iterable[Milestone] | None = None,
    operations: Iterable[Operation] | None = None,
) -> Recommendation:
    """Change a draft or a recommendation returned for revision; the old wording stays in the history."""
    group = recommendation.working_group
    _require(
        rules.can_edit_group(user, group), "Nur Mitglieder der Arbeitsgruppe können die Empfehlung ändern."
    )
    flow = selectors.workflow()
    errors: dict[str, str] = {}
    if not (title or "").strip():
        errors["title"] = "Bitte einen Titel angeben."
    if not (text or "").strip():
        errors["text"] = "Bitte den Beschlussvorschlag und die Begründung angeben."
    errors.update(_check_links(group, list(goals or ()), list(milestones or ()), list(operations or ())))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        state = flow.state(locked.state)
        if not state.editable:
            raise ValidationError(
                {
                    "__all__": (
                        f"Im Stand „{state.label}“ ist die Empfehlung nicht mehr änderbar. "
                        "Eine entschiedene Empfehlung kann nur durch eine neue ersetzt werden."
                    )
                }
            )
        locked.title, locked.text, locked.updated_at = title.strip(), text.strip(), timezone.now()
        locked.save(update_fields=["title", "text", "updated_at"])
        if goals is not None:
            locked.goals.set(list(goals))
        if milestones is not None:
            locked.milestones.set(list(milestones))
        if operations is not None:
            locked.operations.set(list(operations))
        _event(locked, user, locked.state, locked.state, "Überarbeitet", "")
        audit.log("taskforce.recommendation_edit", user=user, obj=locked)
    return locked


def recommendation_transition(
    recommendation: Recommendation,
    user: Any,
    *,
    target: str,
    rationale: str = "",
    attachment: UploadedFile | None = None,
) -> Recommendation:
    """Move a recommendation to ``target`` if the workflow allows it from its current state for ``user``."""
    flow = selectors.workflow()
    group = recommendation.working_group
    rationale = (rationale or "").strip()
    with transaction.atomic():
        locked = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        transition = flow.transition(locked.state, target)
        if transition is None:
            raise ValidationError(
                {
                    "target": (
                        f"Von „{flow.label(locked.state)}“ führt kein Schritt nach „{flow.label(target)}“."
                    )
                }
            )
        who = rules.actors(user, group.task_force, group)
        if not transition.actors & who:
            raise PermissionDenied(f"„{transition.label}“ ist Ihnen in diesem Sonderstab nicht erlaubt.")
        if transition.rationale_required and not rationale:
            raise ValidationError({"rationale": f"Für „{transition.label}“ ist eine Begründung nötig."})
        source = locked.state
        locked.state = target
        locked.updated_at = timezone.now()
        locked.save(update_fields=["state", "updated_at"])
        _event(locked, user, source, target, transition.label, rationale, attachment)
        audit.log("taskforce.recommendation_transition", user=user, obj=locked, source=source, target=target)
    return locked


# --- meetings ----------------------------------------------------------------------------------


def meeting_schedule(
    task_force: TaskForce,
    user: Any,
    *,
    date: dt.date | None,
    starts_at: dt.time | None = None,
    location: str = "",
    set_code: str = "wochenlage",
) -> Meeting:
    """A planned meeting; its figures run to the day before (the cockpit's default Stichtag)."""
    _require(rules.can_run_meetings(user, task_force), "Sitzungen planen nur Vorsitz und Geschäftsstelle.")
    if date is None:
        raise ValidationError({"date": "Bitte das Datum der Sitzung angeben."})
    if date < EARLIEST_MEETING:
        raise ValidationError(
            {"date": f"Eine Sitzung kann nicht vor dem {_date_de(EARLIEST_MEETING)} liegen."}
        )
    if date > timezone.localdate() + dt.timedelta(days=MAX_MEETING_AHEAD_DAYS):
        raise ValidationError({"date": "Eine Sitzung lässt sich höchstens ein Jahr im Voraus planen."})
    if Meeting.objects.filter(task_force=task_force, date=date).exists():
        raise ValidationError({"date": f"Am {_date_de(date)} ist bereits eine Sitzung geplant."})
    with transaction.atomic():
        number = (Meeting.objects.filter(task_force=task_force).aggregate(n=Max("number"))["n"] or 0) + 1
        meeting = Meeting.objects.create(
            task_force=task_force,
            number=number,
            date=date,
            starts_at=starts_at or dt.time(10, 0),
            location=location.strip(),
            set_code=set_code,
            as_of=date - dt.timedelta(days=1),
        )
        audit.log("taskforce.meeting_schedule", user=user, obj=meeting)
    return meeting


def meeting_freeze(
    meeting: Meeting,
    *,
    entries: list[agenda.Entry] | None = None,
    cockpit: Cockpit | None = None,
    progress: dict[int, progress_rules.Progress] | None = None,
) -> int:
    """Store the agenda and every figure it shows, as of now. Returns the number of figures.

    ``entries``, ``cockpit`` and ``progress`` are the agenda, the cockpit of the meeting's Stichtag and
    the goals' progress on it when the caller has them already (the demo freezes a year of meetings).
    """
    entries = agenda.build(meeting) if entries is None else entries
    values = agenda.figures(meeting, cockpit=cockpit, progress=progress)
    with transaction.atomic():
        meeting.agenda_items.all().delete()
        meeting.figures.all().delete()
        AgendaItem.objects.bulk_create(
            AgendaItem(
                meeting=meeting,
                position=position,
                kind=entry.kind,
                title=entry.title[:300],
                detail=entry.detail,
                object_id=entry.object_id,
            )
            for position, entry in enumerate(entries, start=1)
        )
        FrozenFigure.objects.bulk_create(
            FrozenFigure(
                meeting=meeting,
                key=value.key,
                section=value.section,
                label=value.label[:300],
                unit=value.unit,
                value=value.value,
                prior=value.prior,
                flag=value.flag,
                note=value.note[:300],
                position=position,
            )
            for position, value in enumerate(values, start=1)
        )
        meeting.frozen_at = timezone.now()
        meeting.save(update_fields=["frozen_at"])
    return len(values)


def meeting_open(meeting: Meeting, user: Any) -> Meeting:
    """Open the meeting: from now on its agenda and figures stay as they are."""
    _require(
        rules.can_run_meetings(user, meeting.task_force),
        "Sitzungen eröffnen nur Vorsitz und Geschäftsstelle.",
    )
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.state != Meeting.State.PLANNED:
            raise ValidationError({"__all__": f"Die Sitzung ist bereits {locked.get_state_display()}."})
        meeting_freeze(locked)
        locked.state = Meeting.State.OPEN
        locked.opened_at = timezone.now()
        locked.save(update_fields=["state", "opened_at"])
        audit.log("taskforce.meeting_open", user=user, obj=locked)
    return locked


def _require_open(meeting: Meeting, user: Any) -> None:
    _require(
        rules.can_run_meetings(user, meeting.task_force), "Das Protokoll führen Vorsitz und Geschäftsstelle."
    )
    # The state as stored, not as the caller's copy says: another user may have closed it.
    if Meeting.objects.filter(pk=meeting.pk).values_list("state", flat=True).first() != Meeting.State.OPEN:
        raise ValidationError(
            {"__all__": "Das geht nur während der Sitzung (eröffnet, noch nicht geschlossen)."}
        )


def meeting_close(meeting: Meeting, user: Any, *, minutes: str, attendees: Iterable[Any]) -> Meeting:
    attendees = list(attendees)
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        _require_open(locked, user)
        errors: dict[str, str] = {}
        if not (minutes or "").strip():
            errors["minutes"] = "Bitte das Protokoll eintragen, bevor die Sitzung geschlossen wird."
        if not attendees:
            errors["attendees"] = "Bitte die Anwesenden angeben."
        if errors:
            raise ValidationError(errors)
        locked.minutes = minutes.strip()
        locked.attendees.set(attendees)
        locked.state = Meeting.State.CLOSED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["minutes", "state", "closed_at"])
        audit.log("taskforce.meeting_close", user=user, obj=locked)
    return locked


def decision_record(
    meeting: Meeting, user: Any, *, text: str, recommendation: Recommendation | None = None
) -> Decision:
    _require_open(meeting, user)
    if not (text or "").strip():
        raise ValidationError({"text": "Bitte die Festlegung in einem Satz festhalten."})
    if recommendation is not None and recommendation.working_group.task_force_id != meeting.task_force_id:
        raise ValidationError({"recommendation": "Die Empfehlung gehört zu einem anderen Sonderstab."})
    with transaction.atomic():
        decision = Decision.objects.create(
            meeting=meeting, text=text.strip(), recommendation=recommendation, created_by=user
        )
        audit.log("taskforce.decision_record", user=user, obj=decision)
    return decision


def action_create(meeting: Meeting, user: Any, *, title: str, owner: Any, due: dt.date | None) -> ActionItem:
    _require_open(meeting, user)
    errors: dict[str, str] = {}
    if not (title or "").strip():
        errors["title"] = "Bitte die Aufgabe benennen."
    if owner is None:
        errors["owner"] = "Bitte angeben, wer die Aufgabe übernimmt."
    if due is None:
        errors["due"] = "Bitte ein Fälligkeitsdatum angeben."
    elif due < meeting.date:
        errors["due"] = "Die Aufgabe kann nicht vor der Sitzung fällig sein."
    elif message := _due_error(due):
        errors["due"] = message
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        action = ActionItem.objects.create(
            task_force=meeting.task_force, meeting=meeting, title=title.strip(), owner=owner, due=due
        )
        audit.log("taskforce.action_create", user=user, obj=action)
    return action


def action_done(
    action: ActionItem, user: Any, *, note: str = "", meeting: Meeting | None = None
) -> ActionItem:
    """Mark a task done (by its owner, or by the chair in a meeting); it leaves the next agendas."""
    allowed = action.owner_id == getattr(user, "pk", None) or rules.can_run_meetings(user, action.task_force)
    _require(allowed, "Als erledigt melden können die Verantwortlichen, der Vorsitz und die Geschäftsstelle.")
    if action.done_at is not None:
        raise ValidationError({"__all__": "Die Aufgabe ist bereits erledigt."})
    with transaction.atomic():
        action.done_at = timezone.now()
        action.done_in = meeting
        if note.strip():
            action.note = note.strip()
        action.save(update_fields=["done_at", "done_in", "note"])
        audit.log("taskforce.action_done", user=user, obj=action)
    return action
