"""Deployment plans: a week of shifts, the optimiser's proposal, the shift lead's changes.

A plan belongs to one authority and is visible to that authority only (like ``field.Shift``).
Its assignments say which zone gets how many teams in which shift and why; its changes are an
append-only log of every edit, approval, application and recorded deviation, with the covered
risk an edit costs compared with the optimiser's plan.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from lagebild.core.models import Authority
from lagebild.core.scoping import AuthorityScopedManager, own_only
from lagebild.field.models import Patrol, Shift
from lagebild.geo.models import Area

ALL_GROUPS = "all"


class DeploymentPlan(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Entwurf"
        APPROVED = "approved", "Freigegeben"
        APPLIED = "applied", "Umgesetzt (Streifen angelegt)"

    authority = models.ForeignKey(Authority, verbose_name="Behörde", on_delete=models.PROTECT)
    week = models.DateField("Woche (Montag)")
    category_group = models.CharField("Deliktsgruppe", max_length=20, default=ALL_GROUPS)
    state = models.CharField("Stand", max_length=10, choices=State.choices, default=State.DRAFT)
    # Staff per shift and kind, joint availability, focus minimums, maximum hours, travel matrix
    # source and the complete optimiser input (so an edit can be evaluated against the same input).
    inputs = models.JSONField("Eingaben", default=dict)
    # Objective, solver status, solve seconds, risk source.
    result = models.JSONField("Ergebnis", default=dict)
    # The last recorded comparison of plan and patrols done (deviations_record).
    deviations = models.JSONField("Festgehaltene Abweichungen", default=list, blank=True)
    deviations_recorded_at = models.DateTimeField("Abweichungen festgehalten am", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Berechnet von",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("Berechnet am")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Freigegeben von",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField("Freigegeben am", null=True, blank=True)
    applied_at = models.DateTimeField("Umgesetzt am", null=True, blank=True)

    objects = AuthorityScopedManager(own_only())

    class Meta:
        verbose_name = "Einsatzplan"
        verbose_name_plural = "Einsatzpläne"
        ordering = ["-week", "-created_at"]
        indexes = [models.Index(fields=["authority", "week"])]

    def __str__(self) -> str:
        year, number, _ = self.week.isocalendar()
        return f"Einsatzplan KW {number}/{year}"

    @property
    def iso_week(self) -> int:
        return self.week.isocalendar()[1]


class PlanAssignment(models.Model):
    class Kind(models.TextChoices):
        KOD = "kod", "KOD (Stadt)"
        POLICE = "police", "Polizei"
        JOINT = "joint", "Doppelstreife"

    class Source(models.TextChoices):
        OPTIMISER = "optimiser", "Optimierung"
        EDITED = "edited", "Geändert"

    plan = models.ForeignKey(DeploymentPlan, on_delete=models.CASCADE, related_name="assignments")
    slot_key = models.CharField("Schicht-Schlüssel", max_length=40)
    date = models.DateField("Datum")
    shift_kind = models.CharField("Schicht", max_length=10, choices=Shift.Kind.choices)
    zone = models.ForeignKey(Area, verbose_name="Einsatzraum", on_delete=models.PROTECT, related_name="+")
    # Part of the shift (1 = first half, …; 0 = the whole shift) and, from the second part on,
    # the zone the teams come from (the same zone when they stay; null when they start now).
    part = models.PositiveSmallIntegerField("Abschnitt", default=0)
    from_zone = models.ForeignKey(
        Area, verbose_name="Kommt aus", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("Art", max_length=10, choices=Kind.choices)
    teams = models.PositiveSmallIntegerField("Teams")
    starts_at = models.DateTimeField("Beginn")
    ends_at = models.DateTimeField("Ende")
    expected_risk = models.FloatField("Erwartete Ereignisse im Raum", default=0)
    covered_risk = models.FloatField("Abgedecktes Risiko", default=0)
    reason = models.TextField("Begründung", blank=True)
    source = models.CharField("Herkunft", max_length=10, choices=Source.choices, default=Source.OPTIMISER)
    # One patrol per team once the plan is applied (more than one when teams > 1).
    patrols = models.ManyToManyField(Patrol, blank=True, related_name="+", verbose_name="Streifen")

    objects = AuthorityScopedManager(own_only("plan__"))

    class Meta:
        verbose_name = "Planeinteilung"
        verbose_name_plural = "Planeinteilungen"
        ordering = ["date", "starts_at", "part", "zone__name", "kind"]

    def __str__(self) -> str:
        return f"{self.zone.name} {self.date:%d.%m.} {self.get_shift_kind_display()} ({self.teams})"


class PlanChange(models.Model):
    """Append-only: what happened to a plan, by whom, why, and what an edit cost."""

    class Action(models.TextChoices):
        CREATED = "created", "Berechnet"
        EDITED = "edited", "Geändert"
        APPROVED = "approved", "Freigegeben"
        APPLIED = "applied", "Umgesetzt"
        DEVIATIONS = "deviations", "Abweichungen festgehalten"

    plan = models.ForeignKey(DeploymentPlan, on_delete=models.CASCADE, related_name="changes")
    assignment = models.ForeignKey(
        PlanAssignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    action = models.CharField("Vorgang", max_length=12, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="Von", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField("Zeitpunkt")
    before = models.JSONField("Vorher", default=dict, blank=True)
    after = models.JSONField("Nachher", default=dict, blank=True)
    reason = models.TextField("Begründung", blank=True)
    # Covered risk (expected events) the plan loses by this edit against the plan before it;
    # negative when the edit covers more.
    cost = models.FloatField("Kosten (abgedecktes Risiko)", null=True, blank=True)
    violations = models.JSONField("Verletzte Vorgaben", default=list, blank=True)

    objects = AuthorityScopedManager(own_only("plan__"))

    class Meta:
        verbose_name = "Planänderung"
        verbose_name_plural = "Planänderungen"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%d.%m.%Y %H:%M}"
