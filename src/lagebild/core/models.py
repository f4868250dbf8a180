"""Authorities, users with one role each, and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


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
    ADMIN = "admin", "Administration"
    DATA_PROTECTION_OFFICER = "dpo", "Datenschutzbeauftragte/r (Protokoll prüfen)"
    # Manages users and data of every authority; each of its acts is logged.
    PLATFORM_ADMIN = "platform_admin", "Plattform-Administration (behördenübergreifend)"


class User(AbstractUser):
    """A member of exactly one authority, with exactly one role."""

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
    """Append-only log of writes and of every access to personal data."""

    at = models.DateTimeField("Zeitpunkt", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Benutzer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    authority = models.ForeignKey(
        Authority, verbose_name="Behörde", null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField("Aktion", max_length=80, db_index=True)
    object_type = models.CharField("Objekttyp", max_length=60, blank=True)
    object_id = models.CharField("Objekt-ID", max_length=40, blank=True)
    detail = models.JSONField("Details", default=dict, blank=True)

    class Meta:
        verbose_name = "Protokolleintrag"
        verbose_name_plural = "Protokoll"
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"
