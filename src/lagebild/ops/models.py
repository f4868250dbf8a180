"""What the scheduled jobs did: one row per run, and the overdue reminders already sent.

Neither holds personal data: a run names the job, its host and a German summary with counts;
a reminder names the report (by id) and when its office was told.
"""

from __future__ import annotations

from django.db import models
from django_celery_beat.models import PeriodicTask


class JobRun(models.Model):
    """One run of a scheduled job (``ops.jobs.run_job``), written when the run ends."""

    class Outcome(models.TextChoices):
        OK = "ok", "Erfolgreich"
        DIFFERENCES = "differences", "Abweichungen gefunden"
        SKIPPED = "skipped", "Übersprungen"
        FAILED = "failed", "Fehlgeschlagen"

    job = models.CharField("Aufgabe", max_length=60, db_index=True)
    started_at = models.DateTimeField("Begonnen")
    finished_at = models.DateTimeField("Beendet")
    duration = models.DurationField("Dauer")
    outcome = models.CharField("Ergebnis", max_length=12, choices=Outcome.choices)
    summary = models.CharField("Zusammenfassung", max_length=500, blank=True)
    details = models.JSONField("Einzelheiten", default=dict, blank=True)
    error = models.TextField("Fehler", blank=True)
    host = models.CharField("Rechner", max_length=120, blank=True)
    task_id = models.CharField("Task-ID", max_length=64, blank=True)
    request_id = models.CharField("Request-ID", max_length=64, blank=True)
    attempt = models.PositiveSmallIntegerField("Versuch", default=1)

    class Meta:
        verbose_name = "Lauf einer geplanten Aufgabe"
        verbose_name_plural = "Läufe der geplanten Aufgaben"
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-started_at"], name="ops_jobrun_job_started")]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M}: {self.get_outcome_display()}"


class OverdueReminder(models.Model):
    """A citizen report that was past its service level, flagged once per due date.

    The row is the flag: the office queue already sorts overdue reports first; this records
    that the responsible office was reminded, so a second run reminds nobody twice. A new due
    date (the report was reassigned or reopened) is a new occasion.
    """

    report = models.ForeignKey("citizen.Report", on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField("Fällig")
    flagged_at = models.DateTimeField("Als überfällig vermerkt")
    emailed_at = models.DateTimeField("Erinnerung versandt", null=True, blank=True)
    recipients = models.PositiveSmallIntegerField("Empfänger", default=0)

    class Meta:
        verbose_name = "Erinnerung an einen überfälligen Hinweis"
        verbose_name_plural = "Erinnerungen an überfällige Hinweise"
        constraints = [
            models.UniqueConstraint(fields=["report", "due_at"], name="ops_overdue_once_per_due_date")
        ]

    def __str__(self) -> str:
        return f"Hinweis {self.report_id} fällig {self.due_at:%Y-%m-%d}"


class ScheduledJob(PeriodicTask):
    """The schedule's entries (django-celery-beat) as the admin page „Geplante Aufgaben“."""

    class Meta:
        proxy = True
        verbose_name = "Geplante Aufgabe"
        verbose_name_plural = "Geplante Aufgaben"
