"""Notifications of the Sonderstab, in Lagebild and by e-mail (``lagebild notify``).

Occasions (each a :class:`~lagebild.taskforce.models.NotificationKind` the user can switch on or
off, separately for Lagebild and e-mail; without a choice both are on):

``milestone``
    A milestone (open or in progress) is due within :data:`DUE_SOON_DAYS` days, and again once it
    is overdue. To its owner and the lead of its working group.
``goal_status``
    An indicator goal's status (erreicht, im Plan, gefährdet, nicht im Plan; figures up to
    yesterday) differs from the status last notified for it. The first time a goal is seen its
    status is only noted. To the group's lead and members, the chairs and the secretariat.
``decision``
    The executive board took a step on a recommendation (beschlossen, abgelehnt, zur
    Überarbeitung zurück) in the last :data:`LOOKBACK_DAYS` days. To the group, the author, the
    chairs and the secretariat, not to the board member who decided.
``action``
    An action item from a meeting of the last :data:`LOOKBACK_DAYS` days is open. To its owner.

Only people who see the task force receive anything (membership, not authority: a police officer
in a working group is notified like a city member). Every notification has a key naming its
occasion, unique per user: running the command twice, or two runs at once, creates and sends
nothing twice. The occasion is stored even when the user switched that kind off, so switching it
on later does not bring back old news. E-mails go out as one digest per user and run; a failed
mail is tried again by the next runs for :data:`EMAIL_RETRY_DAYS` days.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from lagebild.analytics.documents import number_de
from lagebild.core import tasking

from . import links, rules, selectors
from .models import (
    ActionItem,
    Goal,
    Milestone,
    Notification,
    NotificationKind,
    NotificationPreference,
    NotifiedGoalStatus,
    RecommendationEvent,
    TaskForce,
    TaskForceMember,
    WorkingGroup,
)
from .progress import STATUS_LABELS

logger = logging.getLogger(__name__)

DUE_SOON_DAYS = 3
LOOKBACK_DAYS = 14
EMAIL_RETRY_DAYS = 7
KIND_LABELS = dict(NotificationKind.choices)
SHORT_LABELS = {
    NotificationKind.MILESTONE: "Meilensteine",
    NotificationKind.GOAL_STATUS: "Ziele",
    NotificationKind.DECISION: "Entscheidungen",
    NotificationKind.ACTION: "Aufgaben",
}


@dataclass(frozen=True)
class Draft:
    """A notification to be created (unless one with the same user and key exists)."""

    user: Any
    task_force_id: int
    kind: str
    key: str
    subject: str
    body: str
    url: str = ""


@dataclass
class RunResult:
    """What one run did, for the command's German summary."""

    created: Counter[str] = field(default_factory=Counter)  # per kind
    muted: int = 0  # stored, but the user switched both channels off
    people: set[int] = field(default_factory=set)
    emails_sent: int = 0
    emails_failed: int = 0
    goals_noted: int = 0  # goals seen for the first time (status noted, no message)
    dry_run: bool = False
    emails_queued: bool = False  # handed to a worker (with a broker) instead of sent here

    @property
    def total(self) -> int:
        return sum(self.created.values())

    def summary_de(self) -> str:
        parts = ", ".join(
            f"{SHORT_LABELS[kind]} {count}" for kind, count in sorted(self.created.items()) if count
        )
        people = "Person" if len(self.people) == 1 else "Personen"
        if not self.total:
            text = "Keine neuen Benachrichtigungen."
        elif self.dry_run:
            text = f"{self.total} neue Benachrichtigungen für {len(self.people)} {people} ({parts})."
        else:
            text = f"Benachrichtigungen: {self.total} neu für {len(self.people)} {people} ({parts})."
        if self.muted:
            text += f" Davon {self.muted} nur vermerkt (abbestellt)."
        if self.goals_noted:
            goals = "1 Ziel" if self.goals_noted == 1 else f"{self.goals_noted} Ziele"
            text += f" {goals} erstmals erfasst (ohne Nachricht)."
        if self.dry_run:
            return f"Probelauf: {text} Nichts gespeichert, keine E-Mails versandt."
        if self.emails_queued:
            return text + " E-Mails werden im Hintergrund versandt."
        mails = "E-Mail" if self.emails_sent == 1 else "E-Mails"
        text += f" {self.emails_sent} {mails} versandt"
        if self.emails_failed:
            text += f", {self.emails_failed} nicht zustellbar (der nächste Lauf versucht es erneut)"
        return text + "."


# --- who receives what -----------------------------------------------------------------------------


class _Audience:
    """Recipients per task force, keeping only active people who see its workspace."""

    def __init__(self, task_force: TaskForce) -> None:
        self.task_force = task_force
        self._sees: dict[int, bool] = {}
        self.leading = [
            m.user
            for m in TaskForceMember.objects.filter(
                task_force=task_force,
                function__in=(TaskForceMember.Function.CHAIR, TaskForceMember.Function.SECRETARY),
            ).select_related("user")
        ]
        self.groups: dict[int, WorkingGroup] = {
            g.pk: g for g in WorkingGroup.objects.filter(task_force=task_force).select_related("lead")
        }
        self._members: dict[int, list[Any]] = {}

    def sees(self, user: Any) -> bool:
        if user is None:
            return False
        if user.pk not in self._sees:
            self._sees[user.pk] = bool(user.is_active) and rules.is_member(user, self.task_force)
        return self._sees[user.pk]

    def group_people(self, group_id: int) -> list[Any]:
        if group_id not in self._members:
            group = self.groups.get(group_id)
            people = [group.lead] if group is not None and group.lead is not None else []
            if group is not None:
                people += list(group.members.all())
            self._members[group_id] = people
        return self._members[group_id]

    def pick(self, *users: Any, leave_out: Iterable[int] = ()) -> list[Any]:
        skip = set(leave_out)
        found: dict[int, Any] = {}
        for user in users:
            if user is not None and user.pk not in skip and user.pk not in found and self.sees(user):
                found[user.pk] = user
        return list(found.values())


def _date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def _days(n: int) -> str:
    return "einem Tag" if n == 1 else f"{n} Tagen"


# --- occasions --------------------------------------------------------------------------------------


def _milestone_drafts(audience: _Audience, today: dt.date) -> list[Draft]:
    drafts = []
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    milestones = (
        Milestone.objects.filter(working_group__task_force=audience.task_force, due__lte=soon)
        .filter(status__in=(Milestone.Status.OPEN, Milestone.Status.IN_PROGRESS))
        .select_related("working_group", "owner")
    )
    for milestone in milestones:
        group = milestone.working_group
        url = links.path_to("milestone-update", milestone.pk)
        if milestone.due < today:
            key = f"milestone_overdue:{milestone.pk}:{milestone.due.isoformat()}"
            subject = f"Meilenstein überfällig: {milestone.title}"
            body = (
                f"Der Meilenstein „{milestone.title}“ der Arbeitsgruppe {group.name} war am "
                f"{_date(milestone.due)} fällig und ist noch {milestone.get_status_display()}. "
                f"Verantwortlich: {milestone.owner}. Bitte den Stand melden (erledigt mit Nachweis) "
                "oder einen neuen Termin vereinbaren."
            )
        else:
            left = (milestone.due - today).days
            when = "heute" if left == 0 else f"in {_days(left)}"
            key = f"milestone_due:{milestone.pk}:{milestone.due.isoformat()}"
            subject = f"Meilenstein fällig am {_date(milestone.due)}: {milestone.title}"
            body = (
                f"Der Meilenstein „{milestone.title}“ der Arbeitsgruppe {group.name} ist {when} fällig "
                f"({_date(milestone.due)}). Verantwortlich: {milestone.owner}. "
                f"Stand: {milestone.get_status_display()}."
            )
        for user in audience.pick(milestone.owner, group.lead):
            drafts.append(
                Draft(user, audience.task_force.pk, NotificationKind.MILESTONE, key, subject, body, url)
            )
    return drafts


def _goal_text(goal: Goal, old: str, new: str, progress: Any) -> tuple[str, str]:
    unit = f" {goal.indicator.unit}" if goal.indicator and goal.indicator.unit else ""
    subject = f"Ziel jetzt „{STATUS_LABELS.get(new, new)}“: {goal.title}"
    current = "–" if progress.current is None else number_de(progress.current, 1)
    body = (
        f"Das Ziel „{goal.title}“ der Arbeitsgruppe {goal.working_group.name} steht jetzt auf "
        f"„{STATUS_LABELS.get(new, new)}“ (bisher „{STATUS_LABELS.get(old, old)}“). "
        f"{progress.reason_de} Aktueller Wert: {current}{unit}; Ausgangswert "
        f"{number_de(goal.baseline_value, 1)}{unit}, Zielwert {number_de(goal.target_value, 1)}{unit} "
        f"bis {_date(goal.target_date)} (Zahlen bis {_date(progress.as_of)})."
    )
    return subject, body


def _goal_changes(audience: _Audience, as_of: dt.date, *, dry_run: bool, result: RunResult) -> list[Draft]:
    """Goals whose status differs from the one last notified; the new status is recorded."""
    drafts: list[Draft] = []
    goals = Goal.objects.filter(
        working_group__task_force=audience.task_force, kind=Goal.Kind.INDICATOR
    ).select_related("indicator", "working_group")
    for goal in goals:
        progress = selectors.goal_progress(goal, as_of=as_of)
        if progress is None:
            continue
        status = progress.status
        with transaction.atomic():
            record = NotifiedGoalStatus.objects.select_for_update().filter(goal=goal).first()
            if record is None:
                result.goals_noted += 1
                if not dry_run:
                    NotifiedGoalStatus.objects.create(goal=goal, status=status, as_of=as_of)
                continue
            if record.status == status:
                continue
            changes = record.changes + 1
            subject, body = _goal_text(goal, record.status, status, progress)
            url = links.path_to("goal-detail", goal.pk)
            key = f"goal_status:{goal.pk}:{changes}"
            found = [
                Draft(user, audience.task_force.pk, NotificationKind.GOAL_STATUS, key, subject, body, url)
                for user in audience.pick(*audience.group_people(goal.working_group_id), *audience.leading)
            ]
            if not dry_run:
                record.status, record.changes, record.as_of = status, changes, as_of
                record.updated_at = timezone.now()
                record.save(update_fields=["status", "changes", "as_of", "updated_at"])
                _store(found, result)  # with the new status, in one transaction
            else:
                drafts += found
    return drafts


def _decision_drafts(audience: _Audience, since: dt.datetime) -> list[Draft]:
    flow = selectors.workflow()
    board_steps = {(t.source, t.target) for t in flow.transitions if "executive_board" in t.actors}
    drafts = []
    events = (
        RecommendationEvent.objects.filter(
            recommendation__working_group__task_force=audience.task_force, at__gte=since
        )
        .exclude(from_state="")
        .select_related("recommendation", "recommendation__working_group", "recommendation__created_by", "by")
        .order_by("at", "pk")
    )
    for event in events:
        if (event.from_state, event.to_state) not in board_steps:
            continue
        recommendation = event.recommendation
        group = recommendation.working_group
        outcome = flow.label(event.to_state)
        subject = f"Verwaltungsvorstand: {recommendation.number} – {outcome}"
        body = (
            f"Der Verwaltungsvorstand hat am {_date(timezone.localtime(event.at).date())} über die "
            f"Empfehlung {recommendation.number} „{recommendation.title}“ der Arbeitsgruppe {group.name} "
            f"entschieden: {outcome}."
        )
        if event.rationale:
            body += f" Begründung: {event.rationale}"
        url = links.path_to("recommendation-detail", recommendation.pk)
        for user in audience.pick(
            *audience.group_people(group.pk),
            recommendation.created_by,
            *audience.leading,
            leave_out=[event.by_id],
        ):
            drafts.append(
                Draft(
                    user,
                    audience.task_force.pk,
                    NotificationKind.DECISION,
                    f"decision:{event.pk}",
                    subject,
                    body,
                    url,
                )
            )
    return drafts


def _action_drafts(audience: _Audience, today: dt.date) -> list[Draft]:
    drafts = []
    actions = ActionItem.objects.filter(
        task_force=audience.task_force,
        done_at__isnull=True,
        meeting__date__gte=today - dt.timedelta(days=LOOKBACK_DAYS),
    ).select_related("meeting", "owner")
    for action in actions:
        meeting = action.meeting
        subject = f"Neue Aufgabe bis {_date(action.due)}: {action.title}"
        body = (
            f"In der {meeting.number}. Sitzung des {audience.task_force.name} am {_date(meeting.date)} "
            f"wurde Ihnen eine Aufgabe übertragen: „{action.title}“, fällig am {_date(action.due)}. "
            "Sie bleibt auf der Tagesordnung, bis Sie sie als erledigt melden."
        )
        url = links.path_to("meeting-detail", meeting.pk)
        for user in audience.pick(action.owner):
            drafts.append(
                Draft(
                    user,
                    audience.task_force.pk,
                    NotificationKind.ACTION,
                    f"action:{action.pk}",
                    subject,
                    body,
                    url,
                )
            )
    return drafts


# --- storing and sending ----------------------------------------------------------------------------


def _wishes(user_ids: Iterable[int]) -> dict[tuple[int, str], tuple[bool, bool]]:
    return {
        (p.user_id, p.kind): (p.in_app, p.email)
        for p in NotificationPreference.objects.filter(user_id__in=set(user_ids))
    }


def _store(drafts: list[Draft], result: RunResult) -> None:
    """Create the notifications that do not exist yet (same user and key), as each user wishes."""
    if not drafts:
        return
    existing = set(
        Notification.objects.filter(
            user_id__in={d.user.pk for d in drafts}, key__in={d.key for d in drafts}
        ).values_list("user_id", "key")
    )
    wishes = _wishes(d.user.pk for d in drafts)
    now = timezone.now()
    new: list[Notification] = []
    for draft in drafts:
        if (draft.user.pk, draft.key) in existing:
            continue
        existing.add((draft.user.pk, draft.key))
        in_app, email = wishes.get((draft.user.pk, draft.kind), (True, True))
        email = email and bool(draft.user.email)
        new.append(
            Notification(
                user=draft.user,
                task_force_id=draft.task_force_id,
                kind=draft.kind,
                key=draft.key[:200],
                subject=draft.subject[:300],
                body=draft.body,
                url=draft.url[:300],
                in_app=in_app,
                email=email,
                created_at=now,
            )
        )
        result.created[draft.kind] += 1
        result.people.add(draft.user.pk)
        if not (in_app or email):
            result.muted += 1
    # A run at the same moment may have created some of them: the unique key keeps one.
    Notification.objects.bulk_create(new, ignore_conflicts=True)


def _mail_body(user: Any, notifications: list[Notification]) -> str:
    name = user.get_full_name() or user.username
    lines = [f"Guten Tag {name},", "", "aus dem Sonderstab gibt es Neues für Sie:", ""]
    for notification in notifications:
        lines.append(f"• {notification.subject}")
        lines.append(f"  {notification.body}")
        if notification.url:
            url = links.absolute(notification.url)
            lines.append(f"  {url}" if url.startswith("http") else f"  In Lagebild: {url}")
        lines.append("")
    lines += [
        "Welche Benachrichtigungen Sie in Lagebild und per E-Mail erhalten, legen Sie in Lagebild "
        "selbst fest.",
        "Diese Nachricht wurde automatisch erstellt.",
    ]
    return "\n".join(lines)


def send_pending_emails(result: RunResult | None = None) -> RunResult:
    """One digest per user of every notification wanted by e-mail and not yet sent."""
    result = result or RunResult()
    now = timezone.now()
    pending = (
        Notification.objects.filter(
            email=True,
            emailed_at__isnull=True,
            created_at__gte=now - dt.timedelta(days=EMAIL_RETRY_DAYS),
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user_id", "created_at", "pk")
    )
    by_user: dict[int, list[Notification]] = {}
    for notification in pending:
        by_user.setdefault(notification.user_id, []).append(notification)
    connection = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 10)
    for notifications in by_user.values():
        # Claim each one first, so that a run at the same time cannot send it too.
        mine = [
            n
            for n in notifications
            if Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(emailed_at=now) == 1
        ]
        if not mine:
            continue
        user = mine[0].user
        subject = (
            f"Sonderstab – {mine[0].subject}"
            if len(mine) == 1
            else f"Sonderstab: {len(mine)} neue Benachrichtigungen"
        )
        try:
            send_mail(
                subject[:250],
                _mail_body(user, mine),
                getattr(settings, "DEFAULT_FROM_EMAIL", None),
                [user.email],
                fail_silently=False,
                connection=connection,
            )
        except Exception:  # relay down, refused address: the next run tries again
            logger.exception("Notification mail to user %s could not be sent", user.pk)
            Notification.objects.filter(pk__in=[n.pk for n in mine]).update(emailed_at=None)
            result.emails_failed += 1
            continue
        result.emails_sent += 1
    return result


def run(*, today: dt.date | None = None, dry_run: bool = False, send_emails: bool = True) -> RunResult:
    """Find every occasion, create what is new, send the e-mails. Safe to run at any time, often."""
    day = today or timezone.localdate()
    as_of = day - dt.timedelta(days=1)
    since = timezone.now() - dt.timedelta(days=LOOKBACK_DAYS)
    result = RunResult(dry_run=dry_run)
    for task_force in TaskForce.objects.order_by("pk"):
        audience = _Audience(task_force)
        drafts = _milestone_drafts(audience, day)
        drafts += _decision_drafts(audience, since)
        drafts += _action_drafts(audience, day)
        drafts += _goal_changes(audience, as_of, dry_run=dry_run, result=result)
        if dry_run:
            _count_only(drafts, result)
        else:
            with transaction.atomic():
                _store(drafts, result)
    if not dry_run and send_emails:
        if tasking.broker_configured():
            from .tasks import send_notification_emails

            tasking.enqueue(send_notification_emails)
            result.emails_queued = True
        else:
            send_pending_emails(result)
    return result


def _count_only(drafts: list[Draft], result: RunResult) -> None:
    existing = set(
        Notification.objects.filter(
            user_id__in={d.user.pk for d in drafts}, key__in={d.key for d in drafts}
        ).values_list("user_id", "key")
    )
    for draft in drafts:
        if (draft.user.pk, draft.key) not in existing:
            existing.add((draft.user.pk, draft.key))
            result.created[draft.kind] += 1
            result.people.add(draft.user.pk)


# --- reading and marking (for the pages) ------------------------------------------------------------


def unread(user: Any) -> QuerySet[Notification]:
    """The user's unread notifications shown in Lagebild, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).order_by(
        "-created_at", "-pk"
    )


def recent(user: Any, limit: int = 50) -> list[Notification]:
    """The user's latest notifications shown in Lagebild, read or not."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Notification.objects.filter(user=user, in_app=True).order_by("-created_at", "-pk")[:limit])


def mark_read(user: Any, ids: Iterable[object] | None = None) -> int:
    """Mark the user's notifications read (all, or those of ``ids``); others' ids are ignored."""
    if not getattr(user, "is_authenticated", False):
        return 0
    found = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        wanted = set()
        for value in ids:
            try:
                wanted.add(int(str(value)))
            except (TypeError, ValueError):
                continue  # a tampered form field: ignore it, never fail
        found = found.filter(pk__in=wanted)
    return found.update(read_at=timezone.now())


def preferences(user: Any) -> dict[str, tuple[bool, bool]]:
    """Per kind (in Lagebild, by e-mail); kinds without a choice are both on."""
    chosen = {p.kind: (p.in_app, p.email) for p in NotificationPreference.objects.filter(user_id=user.pk)}
    return {kind: chosen.get(kind, (True, True)) for kind in NotificationKind.values}


def preference_set(user: Any, kind: str, *, in_app: bool, email: bool) -> NotificationPreference:
    """The user's choice for one kind of notification."""
    if kind not in NotificationKind.values:
        raise ValidationError({"kind": "Diese Art von Benachrichtigung gibt es nicht."})
    if not getattr(user, "pk", None) or not get_user_model().objects.filter(pk=user.pk).exists():
        raise ValidationError({"user": "Unbekannte Person."})
    preference, _created = NotificationPreference.objects.update_or_create(
        user_id=user.pk, kind=kind, defaults={"in_app": bool(in_app), "email": bool(email)}
    )
    return preference
