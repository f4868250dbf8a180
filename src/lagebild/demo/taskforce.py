"""The demo Sonderstab "Ordnung und Stadtleben": five working groups with goals on the demo's
figures, milestones, recommendations to the executive board and a year of weekly meetings.

Runs after the count tables are built. Every meeting's figures are frozen from the cockpit of the
day before the meeting (its default Stichtag) and the goals' progress on that day, exactly as a
meeting opened on that day would have frozen them; a test recomputes them. Deterministic: the
same last day gives the same Sonderstab.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction

from lagebild.analytics.cockpit import Cockpit, build_cockpit
from lagebild.analytics.models import CITY_AREA, Indicator
from lagebild.core.models import Authority, User
from lagebild.geo.models import Area
from lagebild.taskforce import agenda, selectors, services
from lagebild.taskforce.models import (
    ActionItem,
    AgendaItem,
    Decision,
    Goal,
    Meeting,
    Milestone,
    Operation,
    Recommendation,
    RecommendationEvent,
    TaskForce,
    TaskForceMember,
    WorkingGroup,
)
from lagebild.taskforce.progress import STATUS_LABELS, Progress

from . import calibration as cal

BERLIN = ZoneInfo("Europe/Berlin")
TASK_FORCE_CODE = "ordnung-und-stadtleben"
MEETING_TIME = dt.time(10, 0)
WEEKS = 52

# code, name, remit, lead, members (usernames of the demo logins and staff accounts)
GROUPS = [
    (
        "stadtbild",
        "Stadtbild verschönern",
        "Sauberkeit, Beleuchtung und Gestaltung der Plätze in City und Nordstadt.",
        "kod-004",
        ["kod-011", "sonderstab"],
    ),
    (
        "campieren",
        "Campieren reduzieren",
        "Wildes Campieren im öffentlichen Raum beenden, ohne Menschen ohne Wohnung zu verdrängen.",
        "kod-007",
        ["kod-015", "pol-009"],
    ),
    (
        "belaestigungen",
        "Belästigungen bekämpfen",
        "Aggressives Betteln, Pöbeleien und Bedrängen von Passantinnen und Passanten.",
        "ag-polizei",
        ["kod-002", "pol-004", "kod"],
    ),
    (
        "sucht-vermeiden",
        "Sucht vermeiden",
        "Offene Drogenszene und öffentlichen Konsum in der City zurückdrängen.",
        "pol-002",
        ["kod-005", "pol-012"],
    ),
    (
        "suchthilfe",
        "Suchthilfe weiterentwickeln",
        "Hilfeangebote erreichbar machen: Konsumräume, Streetwork, Vermittlung.",
        "kod-009",
        ["sonderstab", "pol-017"],
    ),
]


@dataclass
class TaskForceResult:
    skipped: bool = False
    groups: int = 0
    goals: int = 0
    milestones: int = 0
    recommendations: int = 0
    operations: int = 0
    meetings: int = 0
    figures: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        if self.skipped:
            return "Sonderstab: bereits vorhanden – nichts hinzugefügt."
        return (
            f"Sonderstab „Ordnung und Stadtleben“: {self.groups} Arbeitsgruppen, {self.goals} Ziele, "
            f"{self.milestones} Meilensteine, {self.recommendations} Empfehlungen, "
            f"{self.operations} Einsätze, "
            f"{self.meetings} Sitzungen mit {self.figures} eingefrorenen Zahlen in {self.seconds:.1f} s."
        )


def _at(day: dt.date, time_of_day: dt.time = MEETING_TIME) -> dt.datetime:
    return dt.datetime.combine(day, time_of_day, tzinfo=BERLIN)


def _monday_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=7 - day.weekday())


def _goal(
    group: WorkingGroup,
    creator: User,
    title: str,
    *,
    indicator: str = "",
    area: Area | None,
    created: dt.date,
    target_date: dt.date,
    reduction: float = 0.0,
) -> Goal:
    """A goal as set a year ago: baseline = the 28 days before, target = baseline × (1 − reduction)."""
    if not indicator:
        return Goal.objects.create(
            working_group=group,
            title=title,
            kind=Goal.Kind.QUALITATIVE,
            target_date=target_date,
            created_by=creator,
        )
    goal = Goal(
        working_group=group,
        title=title,
        kind=Goal.Kind.INDICATOR,
        indicator=Indicator.objects.get(code=indicator),
        area=area,
        direction=Goal.Direction.DECREASE,
        baseline_start=created - dt.timedelta(days=28),
        baseline_end=created - dt.timedelta(days=1),
        target_date=target_date,
        created_by=creator,
    )
    baseline = selectors.figure(goal, goal.baseline_start, goal.baseline_end) or 0.0  # type: ignore[arg-type]
    goal.baseline_value = baseline
    goal.target_value = round(baseline * (1 - reduction), 1)
    goal.save()
    return goal


def _history(
    recommendation: Recommendation, steps: list[tuple[str, str, User, dt.date, str]]
) -> list[RecommendationEvent]:
    """Past steps of a demo recommendation (label, target state, who, day, rationale)."""
    flow = selectors.workflow()
    events, state = [], ""
    for label, target, user, day, rationale in steps:
        events.append(
            RecommendationEvent(
                recommendation=recommendation,
                from_state=state,
                to_state=target,
                label=label,
                by=user,
                at=_at(day, dt.time(11, 30)),
                rationale=rationale,
                title_then=recommendation.title,
                text_then=recommendation.text,
            )
        )
        state = target
    RecommendationEvent.objects.bulk_create(events)
    recommendation.state = state
    recommendation.updated_at = events[-1].at
    recommendation.save(update_fields=["state", "updated_at"])
    assert flow.state(state)
    return events


def generate_task_force(
    last_day: dt.date,
    *,
    operation: cal.Period | None = None,
    police_window: cal.Period | None = None,
    november_operation: cal.Period | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> TaskForceResult:
    """The demo Sonderstab up to ``last_day`` (the last day with data); nothing if it exists."""
    started = time.perf_counter()
    result = TaskForceResult()
    if TaskForce.objects.filter(code=TASK_FORCE_CODE).exists():
        result.skipped = True
        return result
    log("Sonderstab mit Arbeitsgruppen, Zielen und einem Jahr Sitzungen …")
    people = {u.username: u for u in User.objects.select_related("authority")}
    with transaction.atomic():
        task_force = TaskForce.objects.create(
            code=TASK_FORCE_CODE,
            name="Sonderstab „Ordnung und Stadtleben“",
            remit=(
                "Unter Vorsitz des Oberbürgermeisters und der Polizeipräsidentin: belastbare Kennzahlen, "
                "konkrete Ziele und realistische Meilensteine für eine sichere und saubere Innenstadt; "
                "Empfehlungen an den Verwaltungsvorstand."
            ),
        )
        for username, function in (
            ("ob", "chair"),
            ("pp", "chair"),
            ("sonderstab", "secretary"),
            ("vorstand", "member"),
        ):
            TaskForceMember.objects.create(task_force=task_force, user=people[username], function=function)
        groups = {}
        for position, (code, name, remit, lead, members) in enumerate(GROUPS, start=1):
            group = WorkingGroup.objects.create(
                task_force=task_force, code=code, name=name, remit=remit, lead=people[lead], position=position
            )
            group.members.set([people[m] for m in members])
            groups[code] = group
        result.groups = len(groups)

        first_meeting = _monday_after(last_day - dt.timedelta(days=7 * WEEKS))
        created = first_meeting - dt.timedelta(days=7)
        wallring = Area.objects.filter(code=cal.OPERATION_AREA).first()
        goals = [
            _goal(
                groups["belaestigungen"],
                people["ag-polizei"],
                "Aggressives Betteln im Wallring um ein Viertel senken",
                indicator="begging-observed",
                area=wallring,
                created=created,
                target_date=last_day + dt.timedelta(days=90),
                reduction=0.25,
            ),
            _goal(
                groups["sucht-vermeiden"],
                people["pol-002"],
                "Öffentlichen Drogenkonsum im Wallring um ein Fünftel senken",
                indicator="drug-consumption-observed",
                area=wallring,
                created=created,
                target_date=last_day + dt.timedelta(days=60),
                reduction=0.20,
            ),
            _goal(
                groups["stadtbild"],
                people["kod-004"],
                "Bürgerhinweise in der ganzen Stadt um 10 % senken",
                indicator="citizen-complaints",
                area=None,
                created=created,
                target_date=last_day + dt.timedelta(days=120),
                reduction=0.10,
            ),
            _goal(
                groups["campieren"],
                people["kod-007"],
                "Platzkonzept für Menschen ohne Wohnung beschlossen",
                area=None,
                created=created,
                target_date=last_day + dt.timedelta(days=45),
            ),
            _goal(
                groups["suchthilfe"],
                people["kod-009"],
                "Konzept für dezentrale Drogenkonsumräume beschlossen",
                area=None,
                created=created,
                target_date=last_day + dt.timedelta(days=150),
            ),
        ]
        result.goals = len(goals)
        goal_of = {goal.working_group.code: goal for goal in goals}

        def day(weeks: int) -> dt.date:
            return first_meeting + dt.timedelta(days=7 * weeks)

        milestone_specs = [
            ("stadtbild", "Beleuchtungskonzept Nordmarkt vorgelegt", "kod-011", day(8), True),
            ("stadtbild", "Reinigungsintervalle Katharinentreppe verdoppelt", "kod-004", day(20), True),
            ("stadtbild", "Graffiti-Sofortprogramm ausgeschrieben", "kod-011", day(50), False),
            (
                "campieren",
                "Bestandsaufnahme der Schlafplätze mit der Wohnungslosenhilfe",
                "kod-015",
                day(6),
                True,
            ),
            ("campieren", "Entwurf Platzkonzept im Sozialausschuss", "kod-007", day(30), True),
            ("campieren", "Ratsbeschluss Platzkonzept", "kod-007", day(54), False),
            (
                "belaestigungen",
                "Allgemeinverfügung aggressives Betteln vorbereitet",
                "ag-polizei",
                day(10),
                True,
            ),
            ("belaestigungen", "Gemeinsame Schwerpunktstreifen an Wochenenden", "pol-004", day(24), True),
            (
                "belaestigungen",
                "Auswertung der Allgemeinverfügung nach sechs Monaten",
                "kod-002",
                day(49),
                False,
            ),
            ("sucht-vermeiden", "Videobeobachtung Nordmarkt geprüft", "pol-012", day(12), True),
            (
                "sucht-vermeiden",
                "Aufenthaltsbereich für die Szene abseits der City",
                "kod-005",
                day(47),
                False,
            ),
            ("suchthilfe", "Bedarfsanalyse Drogenkonsumräume", "kod-009", day(16), True),
            ("suchthilfe", "Standortsuche zweiter Konsumraum", "pol-017", day(44), False),
            ("suchthilfe", "Konzept im Verwaltungsvorstand", "kod-009", day(60), False),
        ]
        milestones = []
        for code, title, owner, due, done in milestone_specs:
            finished = done and due <= last_day
            milestones.append(
                Milestone(
                    working_group=groups[code],
                    goal=goal_of.get(code),
                    title=title,
                    owner=people[owner],
                    due=due,
                    status=Milestone.Status.DONE if finished else Milestone.Status.OPEN,
                    done_on=due - dt.timedelta(days=3) if finished else None,
                    evidence_note="Protokoll der Arbeitsgruppe" if finished else "",
                )
            )
        Milestone.objects.bulk_create(milestones)
        result.milestones = len(milestones)

        operations = []
        # code, name, description, period, authority, area, working group, planned staff per day
        for code, name, description, period, authority_kind, area, group, staff in (
            (
                "kod-wallring",
                "Sondereinsatz KOD im Wallring",
                "",
                operation,
                Authority.Kind.CITY,
                wallring,
                "belaestigungen",
                30,
            ),
            (
                "polizei-sommer",
                "Polizei: acht Wochen verstärkte Präsenz ab 1. Juli",
                "",
                police_window,
                Authority.Kind.POLICE,
                Area.objects.filter(kind=Area.Kind.CITY).first(),
                "sucht-vermeiden",
                45,
            ),
            (
                "kod-city-november",
                "Sondereinsatz KOD in der City (November)",
                "Verstärkte Streifen des KOD in der Innenstadt, bis zu 45 Kräfte täglich in zwei Schichten, "
                "in Uniform und teilweise in zivil: gegen aggressives Betteln, offenen Drogenkonsum und "
                "unerlaubtes Lagern im öffentlichen Raum.",
                november_operation,
                Authority.Kind.CITY,
                Area.objects.filter(code=cal.NOVEMBER_AREA).first(),
                "belaestigungen",
                max(cal.NOVEMBER_STAFF_PER_WEEKDAY),
            ),
        ):
            if period is None or area is None:
                continue
            item = Operation.objects.create(
                task_force=task_force,
                working_group=groups[group],
                code=code,
                name=name,
                description=description,
                area=area,
                start=period.start,
                end=period.end,
                planned_staff_per_day=staff,
            )
            item.authorities.set(Authority.objects.filter(kind=authority_kind))
            operations.append(item)
        result.operations = len(operations)

        recommendations = _recommendations(groups, goals, operations, people, day, last_day)
        result.recommendations = len(recommendations)
        evaluated = _evaluate(operations, last_day, log)
        result.meetings, result.figures = _meetings(
            task_force, goals, people, first_meeting, last_day, evaluated, log
        )
    result.seconds = time.perf_counter() - started
    return result


def _recommendations(
    groups: dict[str, WorkingGroup],
    goals: list[Goal],
    operations: list[Operation],
    people: dict[str, User],
    day: Callable[[int], dt.date],
    last_day: dt.date,
) -> list[Recommendation]:
    ob, vorstand = people["ob"], people["vorstand"]
    specs = [
        (
            "belaestigungen",
            "Allgemeinverfügung gegen aggressives Betteln in der City",
            "Der Verwaltungsvorstand möge eine Allgemeinverfügung beschließen, "
            "die aggressives Betteln im Wallring untersagt.",
            [
                ("Angelegt", "draft", "ag-polizei", day(3), ""),
                ("Beim Verwaltungsvorstand einreichen", "submitted", "ag-polizei", day(5), ""),
                ("Beschließen", "approved", "vorstand", day(6), ""),
                ("Umsetzung beginnen", "in_progress", "ag-polizei", day(7), ""),
                ("Als umgesetzt melden", "implemented", "ag-polizei", day(11), "Allgemeinverfügung in Kraft"),
            ],
        ),
        (
            "sucht-vermeiden",
            "Videobeobachtung am Nordmarkt",
            "Der Verwaltungsvorstand möge die Polizei bitten, eine Videobeobachtung am Nordmarkt "
            "nach § 15a PolG NRW zu prüfen.",
            [
                ("Angelegt", "draft", "pol-002", day(9), ""),
                ("Beim Verwaltungsvorstand einreichen", "submitted", "pol-002", day(11), ""),
                (
                    "Zur Überarbeitung zurückgeben",
                    "revision",
                    "vorstand",
                    day(12),
                    "Datenschutz-Folgenabschätzung fehlt",
                ),
                ("Überarbeitet erneut einreichen", "submitted", "pol-002", day(15), ""),
                ("Beschließen", "approved", "ob", day(16), ""),
                ("Umsetzung beginnen", "in_progress", "pol-002", day(18), ""),
            ],
        ),
        (
            "campieren",
            "Räumung der Lager ohne Ersatzangebot",
            "Der Verwaltungsvorstand möge die Räumung aller Lager im Stadtgarten beschließen.",
            [
                ("Angelegt", "draft", "kod-007", day(14), ""),
                ("Beim Verwaltungsvorstand einreichen", "submitted", "kod-007", day(15), ""),
                (
                    "Ablehnen",
                    "rejected",
                    "ob",
                    day(16),
                    "Ohne Ersatzangebot nicht vertretbar; bitte Platzkonzept abwarten",
                ),
            ],
        ),
        (
            "suchthilfe",
            "Zweiter Drogenkonsumraum in der Nordstadt",
            "Der Verwaltungsvorstand möge die Verwaltung beauftragen, "
            "einen zweiten Drogenkonsumraum zu planen.",
            [
                ("Angelegt", "draft", "kod-009", day(40), ""),
                ("Beim Verwaltungsvorstand einreichen", "submitted", "kod-009", day(48), ""),
            ],
        ),
        (
            "stadtbild",
            "Mehr Papierkörbe und Beleuchtung an der Katharinentreppe",
            "Der Verwaltungsvorstand möge 120.000 € für Papierkörbe und Beleuchtung bereitstellen.",
            [("Angelegt", "draft", "kod-004", day(49), "")],
        ),
    ]
    created = []
    number = 0
    for code, title, text, steps in specs:
        if steps[-1][3] > last_day:
            continue
        number += 1
        recommendation = Recommendation.objects.create(
            working_group=groups[code],
            number=f"E-{steps[0][3].year}-{number:03d}",
            title=title,
            text=text,
            state=steps[0][1],
            created_by=people[steps[0][2]],
            created_at=_at(steps[0][3], dt.time(11, 30)),
            updated_at=_at(steps[0][3], dt.time(11, 30)),
        )
        _history(
            recommendation, [(label, state, people[who], when, why) for label, state, who, when, why in steps]
        )
        recommendation.goals.set([g for g in goals if g.working_group.code == code])
        if code == "belaestigungen" and operations:
            recommendation.operations.set(operations[:1])
        created.append(recommendation)
    assert ob and vorstand
    return created


def _meetings(
    task_force: TaskForce,
    goals: list[Goal],
    people: dict[str, User],
    first_meeting: dt.date,
    last_day: dt.date,
    evaluated: list[tuple[Operation, dt.date, str]],
    log: Callable[[str], None],
) -> tuple[int, int]:
    """A closed meeting every Monday to the last day, figures frozen as on that day; the next one planned."""
    days = []
    meeting_day = first_meeting
    while meeting_day <= last_day + dt.timedelta(days=7):  # the next one is planned, not yet held
        days.append(meeting_day)
        meeting_day += dt.timedelta(days=7)
    progress_by_goal = {
        goal.pk: selectors.goal_progress_on(goal, [d - dt.timedelta(days=1) for d in days]) for goal in goals
    }
    attendees = [
        people[u]
        for u in ("ob", "pp", "sonderstab", "ag-polizei", "kod-004", "kod-007", "pol-002", "kod-009")
    ]
    milestones = list(
        Milestone.objects.filter(working_group__task_force=task_force).select_related(
            "owner", "working_group"
        )
    )
    events = list(
        RecommendationEvent.objects.filter(
            recommendation__working_group__task_force=task_force
        ).select_related("recommendation")
    )
    figures = 0
    open_actions: list[ActionItem] = []
    for number, meeting_day in enumerate(days, start=1):
        as_of = meeting_day - dt.timedelta(days=1)
        meeting = Meeting.objects.create(
            task_force=task_force,
            number=number,
            date=meeting_day,
            starts_at=MEETING_TIME,
            location="Rathaus Dortmund, Sitzungszimmer 1",
            as_of=as_of,
        )
        if meeting_day > last_day:
            continue  # the next meeting: planned; its agenda is generated until it opens
        cockpit = build_cockpit(CITY_AREA, meeting.set_code, as_of)
        progress = {pk: by_day[as_of] for pk, by_day in progress_by_goal.items() if as_of in by_day}
        previous = meeting_day - dt.timedelta(days=7)
        operation_entries = [
            agenda.Entry(
                AgendaItem.Kind.OPERATION,
                f"{heading}: {item.name}",
                f"{item.start:%d.%m.} – {item.end:%d.%m.%Y}, {item.area.name}",
                item.pk,
            )
            for item, day, heading in evaluated
            if previous < day <= meeting_day
        ]
        entries = _historical_agenda(
            meeting, cockpit, goals, progress, milestones, events, open_actions, operation_entries
        )
        figures += services.meeting_freeze(meeting, entries=entries, cockpit=cockpit, progress=progress)
        opened = _at(meeting_day)
        done_now = [a for a in open_actions if a.due <= meeting_day]
        for action in done_now:
            action.done_at = opened + dt.timedelta(minutes=20)
            action.done_in = meeting
            action.save(update_fields=["done_at", "done_in"])
            open_actions.remove(action)
        decided = [
            e
            for e in events
            if e.to_state in ("approved", "rejected", "revision")
            and as_of - dt.timedelta(days=6) <= e.at.date() <= meeting_day
        ]
        for event in decided:
            Decision.objects.create(
                meeting=meeting,
                text=f"{event.recommendation.number}: {event.label} – {event.recommendation.title}",
                recommendation=event.recommendation,
                created_by=people["sonderstab"],
                created_at=opened + dt.timedelta(minutes=40),
            )
        if number % 3 == 1:
            owner = attendees[3 + (number // 3) % 5]
            open_actions.append(
                ActionItem.objects.create(
                    task_force=task_force,
                    meeting=meeting,
                    title=f"Lagebericht für die {number + 2}. Sitzung vorbereiten",
                    owner=owner,
                    due=meeting_day + dt.timedelta(days=14 if number % 2 else 21),
                )
            )
        topics = "; ".join(
            f"TOP {i}: {item.title}" for i, item in enumerate(meeting.agenda_items.all()[:6], start=1)
        )
        meeting.minutes = f"Lage nach Stichtag {as_of:%d.%m.%Y} besprochen. {topics}".strip()
        meeting.state = Meeting.State.CLOSED
        meeting.opened_at, meeting.frozen_at = opened, opened
        meeting.closed_at = opened + dt.timedelta(minutes=90)
        meeting.save(update_fields=["minutes", "state", "opened_at", "frozen_at", "closed_at"])
        meeting.attendees.set(attendees)
    log(f"{len(days)} Sitzungen mit eingefrorenen Zahlen.")
    return len(days), figures


def _historical_agenda(
    meeting: Meeting,
    cockpit: Cockpit,
    goals: list[Goal],
    progress: dict[int, Progress],
    milestones: list[Milestone],
    events: list[RecommendationEvent],
    open_actions: list[ActionItem],
    operation_entries: list[agenda.Entry],
) -> list[agenda.Entry]:
    """The agenda as it would have been generated on the meeting's day (not from today's states)."""
    entries = agenda.build_figures(cockpit) + operation_entries
    for goal in goals:
        result = progress.get(goal.pk)
        if result is not None and result.status in ("at_risk", "off_track"):
            entries.append(
                agenda.Entry(
                    AgendaItem.Kind.GOAL,
                    f"{goal.title} ({goal.working_group.name})",
                    f"{STATUS_LABELS[result.status]}: {result.reason_de}",
                    goal.pk,
                )
            )
    horizon = meeting.date + dt.timedelta(days=agenda.LOOK_AHEAD_DAYS)
    for milestone in milestones:
        still_open = milestone.done_on is None or milestone.done_on >= meeting.date
        if still_open and milestone.due <= horizon and milestone.due >= meeting.date - dt.timedelta(days=28):
            overdue = milestone.due < meeting.date
            entries.append(
                agenda.Entry(
                    AgendaItem.Kind.MILESTONE,
                    milestone.title,
                    f"{'überfällig seit' if overdue else 'fällig am'} {milestone.due:%d.%m.%Y}, "
                    f"{milestone.owner}, {milestone.working_group.name}",
                    milestone.pk,
                )
            )
    latest: dict[int, RecommendationEvent] = {}
    for event in events:
        if event.at.date() < meeting.date:
            latest[event.recommendation_id] = event
    for event in latest.values():
        if event.to_state == "submitted":
            entries.append(
                agenda.Entry(
                    AgendaItem.Kind.RECOMMENDATION,
                    f"{event.recommendation.number} {event.recommendation.title}",
                    "",
                    event.recommendation_id,
                )
            )
    for action in open_actions:
        entries.append(
            agenda.Entry(
                AgendaItem.Kind.ACTION,
                action.title,
                f"{action.owner}, fällig {action.due:%d.%m.%Y} (aus der {action.meeting.number}. Sitzung)",
                action.pk,
            )
        )
    return entries


def _evaluate(
    operations: list[Operation], last_day: dt.date, log: Callable[[str], None]
) -> list[tuple[Operation, dt.date, str]]:
    """Evaluate the demo operations on the days the scheduler would have: the Monday after each
    ends, and again once the period after it has passed. Returns (operation, day, agenda heading)."""
    from lagebild.taskforce import evaluation as ev
    from lagebild.taskforce.operations import evaluate_operation

    done = []
    for item in operations:
        log(f"Auswertung: {item.name} …")
        for day, stage in (
            (ev.evaluation_day(item.end), ev.STAGE_FIRST),
            (ev.completion_day(item.start, item.end), ev.STAGE_FINAL),
        ):
            if day > last_day + dt.timedelta(days=1):
                continue
            evaluate_operation(item, today=day, force=True)
            done.append((item, day, agenda.operation_heading({"stage": stage})))
    return done
