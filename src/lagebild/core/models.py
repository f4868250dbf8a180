"""Authorities, users with one role each, and the audit trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone


class Authority(models.Model):
    class Kind(models.TextChoices):
        CITY = "city", "Stadt (Ordnungsamt/KOD)"
        POLICE = "police", "Polizei"
        OTHER = "other", "Andere Stelle"

    code = models.SlugField("Kürzel", max_length=40, unique=True)
    name = models.CharField("Name", max_length=200)
    kind = models.CharField("Art", max_length=10, choices=Kind.choices)

    class Meta:
        verbose_name = "Behörde"
        verbose_name_plural = "Behörden"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_police(self) -> bool:
        return self.kind == self.Kind.POLICE


class Role(models.TextChoices):
    FIELD_OFFICER = "field_officer", "Außendienst"
    SHIFT_LEAD = "shift_lead", "Schichtleitung / Leitstelle"
    ANALYST = "analyst", "Analyse"
    TASKFORCE = "taskforce", "Sonderstab / Arbeitsgruppe"
    LEADERSHIP = "leadership", "Leitung (nur lesen)"
    EXECUTIVE_BOARD = "executive_board", "Verwaltungsvorstand (entscheidet Empfehlungen)"
    # Works on offence proceedings and reads the identity data of the persons concerned (issue 15).
    PROCEEDINGS = "proceedings", "Bußgeldstelle (Verfahren)"
    ADMIN = "admin", "Administration"
    DATA_PROTECTION_OFFICER = "dpo", "Datenschutzbeauftragte/r (Protokoll prüfen)"
    # Manages users and data of every authority; each of its acts is logged.
    PLATFORM_ADMIN = "platform_admin", "Plattform-Administration (behördenübergreifend)"


class LagebildUserManager(UserManager):
    """Creates users whose authority may be given by its id, as ``createsuperuser`` asks for it."""

    def _create_user_object(
        self, username: str, email: str | None, password: str | None, **extra_fields: Any
    ):  # type: ignore[no-untyped-def]
        authority = extra_fields.get("authority")
        if authority is not None and not isinstance(authority, Authority):
            extra_fields["authority"] = Authority.objects.get(pk=authority)
        return super()._create_user_object(username, email, password, **extra_fields)

    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra_fields: Any
    ):  # type: ignore[no-untyped-def]
        # The first administrator of an installation manages its authority (docs/operations.md).
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A member of exactly one authority, with exactly one role."""

    objects = LagebildUserManager()

    authority = models.ForeignKey(
        Authority, verbose_name="Behörde", on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField("Rolle", max_length=20, choices=Role.choices, default=Role.FIELD_OFFICER)
    service_number = models.CharField("Dienstnummer", max_length=40, blank=True)

    REQUIRED_FIELDS = ["email", "authority"]

    class Meta:
        verbose_name = "Benutzer"
        verbose_name_plural = "Benutzer"

    def __str__(self) -> str:
        full = self.get_full_name()
        return full or self.username

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.is_staff and self.role == Role.ADMIN and app_label in ADMIN_APPS:
            return True
        return super().has_module_perms(app_label)


ADMIN_APPS = frozenset({"core", "geo", "catalog", "citizen", "analytics", "taskforce"})


class AuditEvent(models.Model):
    """Append-only, hash-chained log of writes and of every access to personal data.

    Written only by ``core.audit.log``; ``seq`` is gapless, ``entry_hash`` covers the entry and
    the previous entry's hash (``core.audit_chain``). The actor is kept as frozen id
    (``user_id``, no database constraint, so deleting the user changes no entry) and name.
    """

    class Channel(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        COMMAND = "command", "Befehl / Hintergrund"

    seq = models.BigIntegerField("Laufnummer", unique=True)
    at = models.DateTimeField("Zeitpunkt", default=timezone.now, db_index=True)
    # DO_NOTHING without a constraint: the id stays when the user is deleted (frozen actor).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Benutzer",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField("Handelnde Person (Stand bei Eintrag)", max_length=200, blank=True)
    authority = models.ForeignKey(
        Authority,
        verbose_name="Behörde",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField("Aktion", max_length=80, db_index=True)
    object_type = models.CharField("Objekttyp", max_length=60, blank=True)
    object_id = models.CharField("Objekt-ID", max_length=40, blank=True)
    purpose = models.CharField("Zweck", max_length=200, blank=True)
    channel = models.CharField("Zugang", max_length=10, choices=Channel.choices, blank=True)
    ip = models.CharField("IP-Adresse", max_length=45, blank=True)
    detail = models.JSONField("Details", default=dict, blank=True)
    prev_hash = models.CharField("Vorheriger Hash", max_length=64)
    entry_hash = models.CharField("Hash", max_length=64)

    class Meta:
        verbose_name = "Protokolleintrag"
        verbose_name_plural = "Protokoll"
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["authority", "at"], name="core_audit_authority_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class AuditChainHead(models.Model):
    """The one row holding the audit chain's last sequence number and hash.

    Appending locks it (``SELECT … FOR UPDATE``), so entries are chained one after the other;
    ``audit verify`` also compares it with the last entry, which detects a cut-off tail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField("Letzte Laufnummer", default=0)
    entry_hash = models.CharField("Letzter Hash", max_length=64)
    # Where the chain starts after retention removed its oldest entries (core.audit_retention):
    # the last removed entry's number and hash (0 and the genesis hash while nothing was removed).
    start_seq = models.BigIntegerField("Gelöscht bis Laufnummer", default=0)
    start_hash = models.CharField("Hash des zuletzt gelöschten Eintrags", max_length=64, default="0" * 64)

    class Meta:
        verbose_name = "Protokollkopf"
        verbose_name_plural = "Protokollkopf"

    def __str__(self) -> str:
        return f"#{self.seq} {self.entry_hash[:12]}"


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` of a client and the answer its first request got (core.idempotency).

    The row is inserted (committed) before the request's work starts, so a second request with
    the same key finds it: still ``in_progress`` (409), or ``done`` with the stored answer, which
    it gets again instead of creating a second record. Kept 24 hours; the stored answer can hold
    personal data of the created record, so expired rows are deleted (``purge_expired``)."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "in Bearbeitung"
        DONE = "done", "abgeschlossen"

    # Whose key: "user:<id>" for logins and tokens, "open311:<client id>" for Open311 clients.
    scope = models.CharField("Geltungsbereich", max_length=100)
    key = models.CharField("Schlüssel", max_length=255)
    # SHA-256 of method, path, body and scope: the same key with another request is refused.
    fingerprint = models.CharField("Fingerabdruck der Anfrage", max_length=64)
    state = models.CharField("Zustand", max_length=20, choices=State.choices, default=State.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField("Statuscode der Antwort", null=True, blank=True)
    content_type = models.CharField("Inhaltstyp der Antwort", max_length=100, blank=True)
    location = models.CharField("Weiterleitung der Antwort", max_length=500, blank=True)
    body = models.TextField("Inhalt der Antwort", blank=True)
    created_at = models.DateTimeField("Angelegt", default=timezone.now)
    expires_at = models.DateTimeField("Gültig bis", db_index=True)

    class Meta:
        verbose_name = "Idempotenzschlüssel"
        verbose_name_plural = "Idempotenzschlüssel"
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="core_idempotency_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.state})"
