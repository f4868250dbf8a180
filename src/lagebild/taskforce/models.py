"""The Sonderstab's workbench: task force, working groups, operations, goals, milestones, recommendations.

These records belong to the task force, not to one authority: every member sees them, whatever
authority they work for. The figures they show come from the shared count tables (aggregates
only), so the authority rules of the incidents behind them stay untouched.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from lagebild.analytics.models import Indicator
from lagebild.core.models import Authority
from lagebild.geo.models import Area


class TaskForce(models.Model):
    code = models.SlugField("Kürzel", max_length=60, unique=True)
    name = models.CharField("Name", max_length=200)
    remit = models.TextField("Auftrag", blank=True)
    created_at = models.DateTimeField("Angelegt", auto_now_add=True)

    class Meta:
        verbose_name = "Sonderstab"
        verbose_name_plural = "Sonderstäbe"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TaskForceMember(models.Model):
    class Function(models.TextChoices):
        CHAIR = "chair", "Vorsitz"
        SECRETARY = "secretary", "Geschäftsstelle"
        MEMBER = "member", "Mitglied"

    task_force = models.ForeignKey(TaskForce, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="Person", on_delete=models.CASCADE, related_name="task_forces"
    )
    function = models.CharField("Funktion", max_length=20, choices=Function.choices, default=Function.MEMBER)

    class Meta:
        verbose_name = "Mitglied des Sonderstabs"
        verbose_name_plural = "Mitglieder des Sonderstabs"
        constraints = [models.UniqueConstraint(fields=["task_force", "user"], name="taskforce_member_once")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_function_display()})"


class WorkingGroup(models.Model):
    task_force = models.ForeignKey(TaskForce, on_delete=models.CASCADE, related_name="working_groups")
    code = models.SlugField("Kürzel", max_length=60)
    name = models.CharField("Name", max_length=200)
    remit = models.TextField("Auftrag", blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Leitung",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_working_groups",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="Mitglieder", blank=True, related_name="working_groups"
    )
    position = models.PositiveSmallIntegerField("Reihenfolge", default=0)

    class Meta:
        verbose_name = "Arbeitsgruppe"
        verbose_name_plural = "Arbeitsgruppen"
        ordering = ["task_force", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["task_force", "code"], name="taskforce_group_code")]

    def __str__(self) -> str:
        return self.name


class Operation(models.Model):
    """A special operation (Schwerpunkteinsatz) in one area and period, evaluated after it ends."""

    task_force = models.ForeignKey(TaskForce, on_delete=models.CASCADE, related_name="operations")
    working_group = models.ForeignKey(
        WorkingGroup,
        verbose_name="Arbeitsgruppe",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="operations",
    )
    code = models.SlugField("Kürzel", max_length=80)
    name = models.CharField("Name", max_length=200)
    description = models.TextField("Beschreibung", blank=True)
    area = models.ForeignKey(Area, verbose_name="Zielgebiet", on_delete=models.PROTECT, related_name="+")
    start = models.DateField("Beginn")
    end = models.DateField("Ende")
    authorities = models.ManyToManyField(Authority, verbose_name="Beteiligte Behörden", related_name="+")
    planned_staff_per_day = models.PositiveIntegerField("Geplante Kräfte je Tag", null=True, blank=True)
    evaluated_at = models.DateTimeField("Ausgewertet am", null=True, blank=True)
    evaluation = models.JSONField("Auswertung (eingefroren)", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "Schwerpunkteinsatz"
        verbose_name_plural = "Schwerpunkteinsätze"
        ordering = ["-start", "name"]
        constraints = [
            models.UniqueConstraint(fields=["task_force", "code"], name="taskforce_operation_code"),
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="operation_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class Goal(models.Model):
    class Direction(models.TextChoices):
        DECREASE = "decrease", "senken"
        INCREASE = "increase", "steigern"

    class Kind(models.TextChoices):
        INDICATOR = "indicator", "Kennzahl"
        QUALITATIVE = "qualitative", "Qualitativ (über Meilensteine)"

    working_group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="goals")
    title = models.CharField("Ziel", max_length=300)
    kind = models.CharField("Art", max_length=20, choices=Kind.choices, default=Kind.INDICATOR)
    indicator = models.ForeignKey(
        Indicator, verbose_name="Kennzahl", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    per_100_staff_hours = models.BooleanField("Je 100 Personalstunden", default=False)
    area = models.ForeignKey(
        Area,
        verbose_name="Gebiet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Leer: das ganze Stadtgebiet.",
    )
    direction = models.CharField(
        "Richtung", max_length=10, choices=Direction.choices, default=Direction.DECREASE
    )
    baseline_start = models.DateField("Basiszeitraum von", null=True, blank=True)
    baseline_end = models.DateField("Basiszeitraum bis", null=True, blank=True)
    baseline_value = models.FloatField("Basiswert", null=True, blank=True)
    target_value = models.FloatField("Zielwert", null=True, blank=True)
    target_date = models.DateField("Zieldatum")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("Angelegt", auto_now_add=True)

    class Meta:
        verbose_name = "Ziel"
        verbose_name_plural = "Ziele"
        ordering = ["working_group", "target_date", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def area_id_for_counts(self) -> int:
        """Area 0 is the whole city in the count tables."""
        return self.area_id or 0

    @property
    def window_days(self) -> int:
        if self.baseline_start and self.baseline_end:
            return (self.baseline_end - self.baseline_start).days + 1
        return 0


class Milestone(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "offen"
        IN_PROGRESS = "in_progress", "in Arbeit"
        DONE = "done", "erledigt"
        DROPPED = "dropped", "entfallen"

    working_group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="milestones")
    goal = models.ForeignKey(
        Goal, verbose_name="Ziel", null=True, blank=True, on_delete=models.SET_NULL, related_name="milestones"
    )
    title = models.CharField("Meilenstein", max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="Verantwortlich", on_delete=models.PROTECT, related_name="+"
    )
    due = models.DateField("Fällig am")
    status = models.CharField("Stand", max_length=20, choices=Status.choices, default=Status.OPEN)
    done_on = models.DateField("Erledigt am", null=True, blank=True)
    evidence_note = models.TextField("Nachweis", blank=True)
    evidence_file = models.FileField("Nachweis (Datei)", upload_to="taskforce/evidence/", blank=True)

    class Meta:
        verbose_name = "Meilenstein"
        verbose_name_plural = "Meilensteine"
        ordering = ["due", "title"]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: dt.date | None = None) -> bool:
        day = today or timezone.localdate()
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS) and self.due < day


class Recommendation(models.Model):
    """A recommendation of a working group to the executive board (Verwaltungsvorstand).

    ``state`` follows the configured workflow (:mod:`lagebild.taskforce.workflow`); every change
    is a :class:`RecommendationEvent`. Once decided it is never edited: a new recommendation
    supersedes it.
    """

    working_group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="recommendations")
    number = models.CharField("Nummer", max_length=30, unique=True)
    title = models.CharField("Titel", max_length=300)
    text = models.TextField("Beschlussvorschlag und Begründung")
    state = models.CharField("Stand", max_length=40)
    goals = models.ManyToManyField(Goal, verbose_name="Ziele", blank=True, related_name="recommendations")
    milestones = models.ManyToManyField(
        Milestone, verbose_name="Meilensteine", blank=True, related_name="recommendations"
    )
    operations = models.ManyToManyField(
        Operation, verbose_name="Schwerpunkteinsätze", blank=True, related_name="recommendations"
    )
    supersedes = models.OneToOneField(
        "self",
        verbose_name="Ersetzt",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("Angelegt", default=timezone.now)
    updated_at = models.DateTimeField("Geändert", default=timezone.now)

    class Meta:
        verbose_name = "Empfehlung"
        verbose_name_plural = "Empfehlungen"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class RecommendationEvent(models.Model):
    """One step of a recommendation's history (append-only)."""

    recommendation = models.ForeignKey(Recommendation, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField("Von", max_length=40, blank=True)
    to_state = models.CharField("Nach", max_length=40)
    label = models.CharField("Schritt", max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="Durch", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("Zeitpunkt", default=timezone.now)
    rationale = models.TextField("Begründung", blank=True)
    attachment = models.FileField("Anlage", upload_to="taskforce/decisions/", blank=True)
    title_then = models.CharField("Titel zu diesem Zeitpunkt", max_length=300)
    text_then = models.TextField("Text zu diesem Zeitpunkt")

    class Meta:
        verbose_name = "Schritt einer Empfehlung"
        verbose_name_plural = "Verlauf der Empfehlungen"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.recommendation.number}: {self.label}"


class Meeting(models.Model):
    """A weekly meeting. Its figures are frozen when it opens: later corrections of records change
    today's figures, never what the meeting saw."""

    class State(models.TextChoices):
        PLANNED = "planned", "geplant"
        OPEN = "open", "läuft"
        CLOSED = "closed", "abgeschlossen"

    task_force = models.ForeignKey(TaskForce, on_delete=models.CASCADE, related_name="meetings")
    number = models.PositiveIntegerField("Nummer")
    date = models.DateField("Datum")
    starts_at = models.TimeField("Beginn", default=dt.time(10, 0))
    location = models.CharField("Ort", max_length=200, blank=True)
    state = models.CharField("Stand", max_length=10, choices=State.choices, default=State.PLANNED)
    set_code = models.CharField("Kennzahlen-Set", max_length=60, default="wochenlage")
    as_of = models.DateField("Stichtag der Zahlen", help_text="Der letzte Tag, der in die Zahlen eingeht.")
    opened_at = models.DateTimeField("Eröffnet", null=True, blank=True)
    closed_at = models.DateTimeField("Geschlossen", null=True, blank=True)
    frozen_at = models.DateTimeField("Zahlen eingefroren", null=True, blank=True)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="Anwesend", blank=True, related_name="meetings_attended"
    )
    minutes = models.TextField("Protokoll", blank=True)

    class Meta:
        verbose_name = "Sitzung"
        verbose_name_plural = "Sitzungen"
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["task_force", "number"], name="taskforce_meeting_number"),
            models.UniqueConstraint(fields=["task_force", "date"], name="taskforce_meeting_date"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. Sitzung am {self.date:%d.%m.%Y}"


class AgendaItem(models.Model):
    class Kind(models.TextChoices):
        FIGURES = "figures", "Kennzahlen mit auffälliger Veränderung"
        OPERATION = "operation", "Ausgewertete Schwerpunkteinsätze"
        GOAL = "goal", "Ziele gefährdet oder nicht im Plan"
        MILESTONE = "milestone", "Meilensteine fällig oder überfällig"
        RECOMMENDATION = "recommendation", "Empfehlungen zur Entscheidung"
        ACTION = "action", "Offene Aufgaben aus früheren Sitzungen"
        OTHER = "other", "Weitere Punkte"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveSmallIntegerField("Reihenfolge")
    kind = models.CharField("Art", max_length=20, choices=Kind.choices)
    title = models.CharField("Punkt", max_length=300)
    detail = models.TextField("Erläuterung", blank=True)
    object_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "Tagesordnungspunkt"
        verbose_name_plural = "Tagesordnung"
        ordering = ["meeting", "position"]

    def __str__(self) -> str:
        return self.title


class FrozenFigure(models.Model):
    """A figure as the meeting saw it. ``key`` names how to compute it again (see selectors)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="figures")
    key = models.CharField(max_length=200)
    section = models.CharField("Abschnitt", max_length=40)
    label = models.CharField("Kennzahl", max_length=300)
    unit = models.CharField("Einheit", max_length=40, blank=True)
    value = models.FloatField("Wert", null=True, blank=True)
    prior = models.FloatField("Vergleichswert", null=True, blank=True)
    flag = models.SmallIntegerField("Auffälligkeit", default=0)
    note = models.CharField("Hinweis", max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "Eingefrorene Zahl"
        verbose_name_plural = "Eingefrorene Zahlen"
        ordering = ["meeting", "position"]
        constraints = [models.UniqueConstraint(fields=["meeting", "key"], name="taskforce_frozen_key")]

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"


class Decision(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    text = models.TextField("Beschluss / Festlegung")
    recommendation = models.ForeignKey(
        Recommendation,
        verbose_name="Empfehlung",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Festlegung der Sitzung"
        verbose_name_plural = "Festlegungen der Sitzungen"
        ordering = ["meeting", "created_at", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class ActionItem(models.Model):
    """A task agreed in a meeting; it stays on every agenda until it is done."""

    task_force = models.ForeignKey(TaskForce, on_delete=models.CASCADE, related_name="action_items")
    meeting = models.ForeignKey(
        Meeting, verbose_name="Beschlossen in", on_delete=models.PROTECT, related_name="actions"
    )
    title = models.CharField("Aufgabe", max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="Verantwortlich", on_delete=models.PROTECT, related_name="+"
    )
    due = models.DateField("Fällig am")
    done_at = models.DateTimeField("Erledigt am", null=True, blank=True)
    done_in = models.ForeignKey(
        Meeting,
        verbose_name="Erledigt gemeldet in",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField("Vermerk", blank=True)

    class Meta:
        verbose_name = "Aufgabe"
        verbose_name_plural = "Aufgaben"
        ordering = ["due", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.done_at is None


# --- calendar feed and notifications (issue 12, points 6 and 8) --------------------------------


class CalendarToken(models.Model):
    """The secret in a user's calendar feed URL (``/sonderstab/kalender/<token>.ics``); no login there."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="Person",
        on_delete=models.CASCADE,
        related_name="calendar_token",
    )
    token = models.CharField("Schlüssel", max_length=64, unique=True)
    created = models.DateTimeField("Angelegt", default=timezone.now)

    class Meta:
        verbose_name = "Kalender-Abo"
        verbose_name_plural = "Kalender-Abos"

    def __str__(self) -> str:
        return f"Kalender von {self.user}"


class NotificationKind(models.TextChoices):
    MILESTONE = "milestone", "Meilensteine fällig oder überfällig"
    GOAL_STATUS = "goal_status", "Ziele mit neuem Stand"
    DECISION = "decision", "Entscheidungen des Verwaltungsvorstands"
    ACTION = "action", "Aufgaben aus Sitzungen"


class Notification(models.Model):
    """One message to one user; ``key`` names its occasion, so nothing is sent twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Person",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    task_force = models.ForeignKey(
        TaskForce, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField("Art", max_length=20, choices=NotificationKind.choices)
    key = models.CharField("Anlass", max_length=200)
    subject = models.CharField("Betreff", max_length=300)
    body = models.TextField("Text")
    url = models.CharField("Link", max_length=300, blank=True)
    in_app = models.BooleanField("In Lagebild anzeigen", default=True)
    email = models.BooleanField("Per E-Mail", default=False)
    created_at = models.DateTimeField("Erstellt", default=timezone.now)
    read_at = models.DateTimeField("Gelesen", null=True, blank=True)
    emailed_at = models.DateTimeField("Gemailt", null=True, blank=True)

    class Meta:
        verbose_name = "Benachrichtigung"
        verbose_name_plural = "Benachrichtigungen"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="taskforce_notification_once")]
        indexes = [models.Index(fields=["user", "read_at"], name="taskforce_notif_unread")]

    def __str__(self) -> str:
        return self.subject


class NotificationPreference(models.Model):
    """What a user wants of one kind; without a row both in-app and e-mail are on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Person",
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField("Art", max_length=20, choices=NotificationKind.choices)
    in_app = models.BooleanField("In Lagebild", default=True)
    email = models.BooleanField("Per E-Mail", default=True)

    class Meta:
        verbose_name = "Benachrichtigungswunsch"
        verbose_name_plural = "Benachrichtigungswünsche"
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="taskforce_notification_pref")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()}"


class NotifiedGoalStatus(models.Model):
    """The status of a goal as last notified; a different status is a change worth a message."""

    goal = models.OneToOneField(Goal, on_delete=models.CASCADE, related_name="notified_status")
    status = models.CharField("Stand", max_length=20)
    changes = models.PositiveIntegerField("Wechsel", default=0)
    as_of = models.DateField("Stichtag")
    updated_at = models.DateTimeField("Geändert", default=timezone.now)

    class Meta:
        verbose_name = "Gemeldeter Stand eines Ziels"
        verbose_name_plural = "Gemeldete Stände der Ziele"

    def __str__(self) -> str:
        return f"{self.goal}: {self.status}"
