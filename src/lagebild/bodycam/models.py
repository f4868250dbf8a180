"""Bodycam evidence register: devices, recordings, four-eyes retention, chain of custody.

Legal frame (docs/bodycam.md, research notes §3): § 15c PolG NRW for the police, § 24 Abs. 1
Nr. 6 OBG NRW i. V. m. § 15c PolG NRW for the KOD. Recordings are deleted after 14 days unless
the wearer and a supervisor together keep them as evidence. The files live in
``LAGEBILD_RECORDINGS_DIR`` (never under STATIC/MEDIA) and are only streamed to authorised
users with a logged reason. A deleted recording stays as a tombstone row with its hash and
its custody chain, so the deletion itself remains provable.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from lagebild.core.models import Authority
from lagebild.core.scoping import AuthorityScopedManager, own_only

RETENTION_DAYS = 14


def legal_basis_for(authority: Authority) -> str:
    if authority.kind == Authority.Kind.POLICE:
        return "§ 15c PolG NRW"
    return "§ 24 Abs. 1 Nr. 6 OBG NRW i. V. m. § 15c PolG NRW"


class Device(models.Model):
    """A body-worn camera of one authority."""

    authority = models.ForeignKey(Authority, verbose_name="Behörde", on_delete=models.PROTECT)
    serial = models.CharField("Seriennummer", max_length=80)
    label = models.CharField("Bezeichnung", max_length=80, blank=True)
    created_at = models.DateTimeField("Angelegt", auto_now_add=True)

    objects = AuthorityScopedManager(own_only())

    class Meta:
        verbose_name = "Bodycam"
        verbose_name_plural = "Bodycams"
        ordering = ["serial"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "serial"], name="bodycam_device_serial_unique")
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.serial})" if self.label else self.serial


class ActivationReason(models.TextChoices):
    """Why the camera was switched on (§ 15c Abs. 1–3 PolG NRW, via § 24 OBG NRW for the KOD)."""

    DANGER = "danger", "Konkrete Gefahr für Leib oder Leben (§ 15c Abs. 1 PolG NRW)"
    DANGER_DWELLING = (
        "danger_dwelling",
        "Dringende Gefahr für Leib oder Leben in einer Wohnung (§ 15c Abs. 2 PolG NRW)",
    )
    IMMINENT = "imminent", "Gefahr im Verzug, ohne vorherige Ankündigung (§ 15c Abs. 3 PolG NRW)"
    OTHER = "other", "Sonstiger Grund (bitte beschreiben)"


class RetentionState(models.TextChoices):
    STORED = "stored", "Gespeichert – Löschfrist läuft"
    RETAINED = "retained", "Als Beweismittel gesichert"
    DELETED = "deleted", "Gelöscht"


class Recording(models.Model):
    authority = models.ForeignKey(Authority, verbose_name="Behörde", on_delete=models.PROTECT)
    device = models.ForeignKey(
        Device, verbose_name="Bodycam", on_delete=models.PROTECT, related_name="recordings"
    )
    wearer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Trägerin / Träger",
        on_delete=models.PROTECT,
        related_name="bodycam_recordings",
    )
    started_at = models.DateTimeField("Beginn")
    ended_at = models.DateTimeField("Ende")
    incident = models.ForeignKey(
        "field.Incident",
        verbose_name="Feststellung",
        null=True,
        blank=True,
        # The incident may be deleted by its own retention; the recording keeps its own clock.
        on_delete=models.SET_NULL,
        related_name="+",
    )
    activation_reason = models.CharField(
        "Anlass der Aktivierung", max_length=20, choices=ActivationReason.choices
    )
    activation_note = models.TextField("Anlass (Beschreibung)", blank=True, max_length=2000)
    announced = models.BooleanField("Aufnahme angekündigt", default=True)
    location_text = models.CharField("Ort", max_length=200, blank=True)
    legal_basis = models.CharField("Rechtsgrundlage", max_length=80)
    sha256 = models.CharField("SHA-256", max_length=64)
    size_bytes = models.BigIntegerField("Größe (Byte)")
    media_type = models.CharField("Format", max_length=40)
    storage_path = models.CharField("Ablageort (relativ)", max_length=300)
    delete_after = models.DateTimeField("Löschen ab", db_index=True)
    state = models.CharField(
        "Status", max_length=10, choices=RetentionState.choices, default=RetentionState.STORED
    )
    registered_at = models.DateTimeField("Registriert")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Registriert von",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deleted_at = models.DateTimeField("Gelöscht am", null=True, blank=True)

    objects = AuthorityScopedManager(own_only())

    class Meta:
        verbose_name = "Bodycam-Aufnahme"
        verbose_name_plural = "Bodycam-Aufnahmen"
        ordering = ["-started_at"]
        constraints = [
            # A file is registered once per authority, also after its deletion (tombstone).
            models.UniqueConstraint(fields=["authority", "sha256"], name="bodycam_recording_hash_unique")
        ]
        indexes = [models.Index(fields=["state", "delete_after"])]

    def __str__(self) -> str:
        return f"Aufnahme Nr. {self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.state == RetentionState.DELETED

    @property
    def duration_text(self) -> str:
        seconds = max(0, int((self.ended_at - self.started_at).total_seconds()))
        hours, rest = divmod(seconds, 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d} min"


class RetentionReason(models.TextChoices):
    OWI = "owi", "Ordnungswidrigkeitenverfahren"
    CRIMINAL = "criminal", "Strafverfahren"
    SUBJECT_REQUEST = "subject", "Antrag der betroffenen Person (Überprüfung der Rechtmäßigkeit)"
    DANGER_PREVENTION = "danger", "Gefahrenabwehr"


class RetentionDecision(models.Model):
    """Keeping a recording as evidence: the wearer and a supervisor must both confirm.

    Whoever starts it fills their own slot; the other person confirms. A person fills at
    most one slot, so one person alone can never keep a recording.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Wartet auf Bestätigung"
        CONFIRMED = "confirmed", "Bestätigt (vier Augen)"
        REJECTED = "rejected", "Abgelehnt"
        LAPSED = "lapsed", "Verfallen (Aufnahme gelöscht)"

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="retentions")
    reason = models.CharField("Grund", max_length=20, choices=RetentionReason.choices)
    reference = models.CharField("Aktenzeichen / Bezug", max_length=120, blank=True)
    note = models.TextField("Begründung", max_length=2000)
    delete_after = models.DateTimeField("Neues Löschdatum")
    status = models.CharField("Status", max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("Beantragt")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="Beantragt von"
    )
    wearer_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wearer_confirmed_at = models.DateTimeField(null=True, blank=True)
    supervisor_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supervisor_confirmed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "Sicherung als Beweismittel"
        verbose_name_plural = "Sicherungen als Beweismittel"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(wearer_confirmed_by=models.F("supervisor_confirmed_by")),
                name="bodycam_retention_four_eyes",
            )
        ]

    def __str__(self) -> str:
        return f"Sicherung {self.pk} von Aufnahme {self.recording_id}"


class CustodyEvent(models.Model):
    """One link of a recording's chain of custody; append-only and hash-chained per recording."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", "Registriert"
        VIEWED = "viewed", "Angesehen"
        COPIED = "copied", "Kopie / Export"
        HANDED_OVER = "handed_over", "Übergeben"
        RETENTION_REQUESTED = "retention_requested", "Sicherung beantragt"
        RETENTION_CONFIRMED = "retention_confirmed", "Sicherung bestätigt"
        RETENTION_REJECTED = "retention_rejected", "Sicherung abgelehnt"
        RETAINED = "retained", "Als Beweismittel gesichert"
        DELETED = "deleted", "Gelöscht"
        VERIFIED = "verified", "Prüfsumme geprüft"

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="custody")
    at = models.DateTimeField("Zeitpunkt")
    kind = models.CharField("Vorgang", max_length=30, choices=Kind.choices)
    # No database constraint and nothing done on deletion: the chain is append-only (on
    # PostgreSQL a trigger refuses UPDATE and DELETE), so deleting an account must not touch it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Person",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Frozen at the time of the event: the chain must still name the person if the account goes.
    actor_name = models.CharField("Person (Name)", max_length=200, blank=True)
    reason = models.TextField("Grund", max_length=2000, blank=True)
    recipient = models.CharField("Empfänger", max_length=200, blank=True)
    detail = models.JSONField("Einzelheiten", default=dict, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "Verwahrungsnachweis"
        verbose_name_plural = "Verwahrungsnachweise"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%d.%m.%Y %H:%M}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValidationError("Einträge der Verwahrkette können nicht geändert werden.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        raise ValidationError("Einträge der Verwahrkette können nicht gelöscht werden.")

    def compute_hash(self) -> str:
        # The frozen name, not the account id: deleting an account must not break the chain.
        payload = {
            "recording": self.recording_id,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "actor_name": self.actor_name,
            "reason": self.reason,
            "recipient": self.recipient,
            "detail": self.detail,
            "previous": self.previous_hash,
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()
