"""The retention engine's own tables: runs, the deletion log and holds.

Other apps' models are not changed: what a record would need for retention ("kept until"
because it is needed for proceedings) lives here, keyed by record type and object id.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from lagebild.core.models import Authority

from .records import RECORD_TYPES

RECORD_TYPE_CHOICES = [(rt.key, rt.name) for rt in RECORD_TYPES]


class RetentionRun(models.Model):
    """One ``lagebild retention run``; an unfinished run is continued by the next start."""

    started_at = models.DateTimeField("Begonnen")
    finished_at = models.DateTimeField("Beendet", null=True, blank=True)
    resumed_at = models.DateTimeField("Zuletzt fortgesetzt", null=True, blank=True)
    authority = models.ForeignKey(
        Authority,
        verbose_name="Nur Behörde",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    record_types = models.JSONField("Datensatztypen", default=list, blank=True)

    class Meta:
        verbose_name = "Löschlauf"
        verbose_name_plural = "Löschläufe"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Löschlauf {self.pk} vom {self.started_at:%d.%m.%Y %H:%M}"


class DeletionLogEntry(models.Model):
    """One record deleted or anonymised: which, by which run, when it was due and when it was done.

    Holds no personal data (type, id and the time the retention counted from). A resumed or
    repeated run skips what is anonymised already (the handlers recognise it by its state).
    """

    class Action(models.TextChoices):
        DELETED = "deleted", "gelöscht"
        ANONYMISED = "anonymised", "anonymisiert"

    run = models.ForeignKey(
        RetentionRun, verbose_name="Lauf", on_delete=models.PROTECT, related_name="entries"
    )
    record_type = models.CharField("Datensatztyp", max_length=40, choices=RECORD_TYPE_CHOICES)
    object_id = models.BigIntegerField("Objekt-ID")
    # What the retention counted from: with the id it names the record, also when a later
    # record is given the same id after a deletion.
    record_start = models.DateTimeField("Frist gezählt ab", null=True, blank=True)
    authority = models.ForeignKey(
        Authority, verbose_name="Behörde", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField("Aktion", max_length=12, choices=Action.choices)
    due_at = models.DateTimeField("Fällig seit")
    done_at = models.DateTimeField("Ausgeführt")

    class Meta:
        verbose_name = "Löschprotokoll-Eintrag"
        verbose_name_plural = "Löschprotokoll"
        ordering = ["-done_at", "-id"]
        indexes = [
            models.Index(fields=["run", "record_type"]),
            models.Index(fields=["record_type", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.record_type}#{self.object_id} {self.get_action_display()}"


class RetentionHold(models.Model):
    """A record kept past its retention, with a reason (e.g. needed as evidence in proceedings)."""

    record_type = models.CharField("Datensatztyp", max_length=40, choices=RECORD_TYPE_CHOICES)
    object_id = models.BigIntegerField("Objekt-ID")
    until = models.DateTimeField("Aufbewahren bis")
    reason = models.CharField("Grund (z. B. Aktenzeichen)", max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Angelegt von",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("Angelegt", auto_now_add=True)

    class Meta:
        verbose_name = "Aufbewahrung über die Frist hinaus"
        verbose_name_plural = "Aufbewahrungen über die Frist hinaus"
        indexes = [models.Index(fields=["record_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.record_type}#{self.object_id} bis {self.until:%d.%m.%Y}"
