"""Transfers between authorities: a frozen snapshot of exactly what was sent, and its events.

Both tables are append-only: a transfer is never edited, its acknowledgement by the
receiving authority and a withdrawal by the sender are new :class:`TransferEvent` rows.
A transfer is visible to the sending and the receiving authority only (scoped manager);
the receiving authority reads the snapshot, never the live source record.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from lagebild.core.models import Authority
from lagebild.core.scoping import AuthorityScopedManager

from .catalogue import LegalBasis, Purpose, RecordType, Regime


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a row of the transfer log."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Weitergaben werden nie geändert; ein Widerruf ist ein neues Ereignis.")


def _sender_or_recipient(authority_id: int) -> Q:
    return Q(sender_authority_id=authority_id) | Q(recipient_authority_id=authority_id)


def _via_transfer(authority_id: int) -> Q:
    return Q(transfer__sender_authority_id=authority_id) | Q(transfer__recipient_authority_id=authority_id)


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name} wird nie geändert.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"{self._meta.verbose_name} wird nicht einzeln gelöscht.")


class Transfer(AppendOnlyModel):
    sender_authority = models.ForeignKey(
        Authority, verbose_name="Übermittelnde Behörde", on_delete=models.PROTECT, related_name="+"
    )
    recipient_authority = models.ForeignKey(
        Authority, verbose_name="Empfangende Behörde", on_delete=models.PROTECT, related_name="+"
    )
    record_type = models.CharField("Art des Vorgangs", max_length=20, choices=RecordType.choices)
    # The source's id only (no foreign key): the source stays the sender's, may be anonymised
    # or deleted by retention, and is never joined for the recipient.
    record_id = models.PositiveBigIntegerField("Nummer des Vorgangs")
    purpose = models.CharField("Zweck", max_length=30, choices=Purpose.choices)
    legal_basis = models.CharField("Rechtsgrundlage", max_length=20, choices=LegalBasis.choices)
    legal_basis_text = models.CharField("Rechtsgrundlage (Wortlaut)", max_length=300, blank=True)
    regime = models.CharField("Datenschutzrechtlicher Rahmen", max_length=20, choices=Regime.choices)
    included = models.JSONField("Ausgewählte Angaben", default=list)
    snapshot = models.JSONField("Übermittelte Angaben")
    note = models.TextField("Mitteilung an die empfangende Behörde", max_length=1000, blank=True)
    created_at = models.DateTimeField("Weitergegeben am", db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Weitergegeben von",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept when the user account is deleted: the log must still say who it was.
    created_by_name = models.CharField("Weitergegeben von (Name)", max_length=200)
    created_by_ref = models.CharField("Benutzerkennung", max_length=200)

    objects = AuthorityScopedManager.from_queryset(AppendOnlyQuerySet)(_sender_or_recipient)

    class Meta:
        verbose_name = "Weitergabe"
        verbose_name_plural = "Weitergaben"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient_authority", "created_at"]),
            models.Index(fields=["sender_authority", "created_at"]),
            models.Index(fields=["record_type", "record_id"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(sender_authority=models.F("recipient_authority")),
                name="transfer_between_two_authorities",
            )
        ]

    def __str__(self) -> str:
        return f"Weitergabe Nr. {self.pk}"


class TransferEvent(AppendOnlyModel):
    class Kind(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", "Empfang bestätigt"
        WITHDRAWN = "withdrawn", "Zurückgezogen"

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("Ereignis", max_length=20, choices=Kind.choices)
    at = models.DateTimeField("Zeitpunkt")
    authority = models.ForeignKey(
        Authority, verbose_name="Behörde", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Benutzer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    user_name = models.CharField("Benutzer (Name)", max_length=200)
    user_ref = models.CharField("Benutzerkennung", max_length=200)
    reason = models.CharField("Begründung", max_length=1000, blank=True)

    objects = AuthorityScopedManager.from_queryset(AppendOnlyQuerySet)(_via_transfer)

    class Meta:
        verbose_name = "Ereignis einer Weitergabe"
        verbose_name_plural = "Ereignisse von Weitergaben"
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "kind"], name="transfer_event_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.transfer_id})"
