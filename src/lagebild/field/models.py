"""Field records of the Ordnungspartnerschaft: shifts, patrols, incidents and measures.

Every record belongs to the authority that recorded it; ``joint`` records are visible
to both partners. Default managers are authority-scoped (see ``core.scoping``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from lagebild.catalog.models import Category, CategoryRule
from lagebild.core.models import Authority
from lagebild.core.scoping import AuthorityScopedManager, own_only, own_or_joint
from lagebild.geo.models import Area


class Person(models.Model):
    """A pseudonymous reference to a person; no name or address is stored here."""

    class AgeGroup(models.TextChoices):
        UNKNOWN = "", "unbekannt"
        UNDER_14 = "u14", "unter 14"
        FROM_14_TO_17 = "14-17", "14–17"
        FROM_18_TO_20 = "18-20", "18–20"
        FROM_21 = "21+", "21 und älter"

    authority = models.ForeignKey(Authority, verbose_name="Behörde", on_delete=models.PROTECT)
    pseudonym = models.CharField("Pseudonym", max_length=40, unique=True)
    age_group = models.CharField("Altersgruppe", max_length=5, choices=AgeGroup.choices, blank=True)
    created_at = models.DateTimeField("Angelegt", auto_now_add=True)

    objects = AuthorityScopedManager(own_only())

    class Meta:
        verbose_name = "Person (pseudonym)"
        verbose_name_plural = "Personen (pseudonym)"

    def __str__(self) -> str:
        return self.pseudonym


class Shift(models.Model):
    class Kind(models.TextChoices):
        EARLY = "early", "Frühschicht"
        LATE = "late", "Spätschicht"
        NIGHT = "night", "Nachtschicht"

    authority = models.ForeignKey(Authority, verbose_name="Behörde", on_delete=models.PROTECT)
    date = models.DateField("Datum")
    kind = models.CharField("Schicht", max_length=10, choices=Kind.choices)
    starts_at = models.DateTimeField("Beginn")
    ends_at = models.DateTimeField("Ende")
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Schichtleitung",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField("Bemerkung", blank=True, max_length=2000)

    objects = AuthorityScopedManager(own_only())

    class Meta:
        verbose_name = "Schicht"
        verbose_name_plural = "Schichten"
        ordering = ["-date", "starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "date", "kind"], name="shift_unique_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date:%d.%m.%Y}"


class Patrol(models.Model):
    class Clothing(models.TextChoices):
        UNIFORM = "uniform", "Uniform"
        PLAIN = "plain", "Zivil"

    authority = models.ForeignKey(Authority, verbose_name="Planende Behörde", on_delete=models.PROTECT)
    shift = models.ForeignKey(Shift, verbose_name="Schicht", on_delete=models.PROTECT, related_name="patrols")
    name = models.CharField("Funkrufname / Bezeichnung", max_length=80)
    area = models.ForeignKey(
        Area, verbose_name="Einsatzraum", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    joint = models.BooleanField("Doppelstreife (Stadt und Polizei)", default=False, editable=False)
    clothing = models.CharField("Kleidung", max_length=10, choices=Clothing.choices, default=Clothing.UNIFORM)
    planned_start = models.DateTimeField("Geplanter Beginn")
    planned_end = models.DateTimeField("Geplantes Ende")
    actual_start = models.DateTimeField("Tatsächlicher Beginn", null=True, blank=True)
    actual_end = models.DateTimeField("Tatsächliches Ende", null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="PatrolMember", verbose_name="Mitglieder", related_name="patrols"
    )
    member_count = models.PositiveSmallIntegerField("Anzahl Kräfte", default=0, editable=False)
    staff_hours = models.DecimalField(
        "Personalstunden", max_digits=8, decimal_places=2, default=Decimal("0"), editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuthorityScopedManager(own_or_joint())

    class Meta:
        verbose_name = "Streife"
        verbose_name_plural = "Streifen"
        ordering = ["-planned_start"]
        indexes = [models.Index(fields=["planned_start"]), models.Index(fields=["area", "planned_start"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.planned_start:%d.%m.%Y})"

    @property
    def start(self):  # type: ignore[no-untyped-def]
        return self.actual_start or self.planned_start

    @property
    def end(self):  # type: ignore[no-untyped-def]
        return self.actual_end or self.planned_end


class PatrolMember(models.Model):
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrol_memberships"
    )
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "Streifenmitglied"
        verbose_name_plural = "Streifenmitglieder"
        constraints = [models.UniqueConstraint(fields=["patrol", "user"], name="patrol_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.patrol_id}"


class Incident(models.Model):
    """A Feststellung: what was observed, when and where."""

    class Source(models.TextChoices):
        PATROL = "patrol", "Streife"
        CITIZEN_REPORT = "citizen_report", "Bürgerhinweis"
        CONTROL_ROOM = "control_room", "Leitstelle"
        CAMERA = "camera", "Videobeobachtung"
        OTHER = "other", "Sonstige"

    # Single-column FK indexes are left out where a composite index below starts with the
    # column or the column is never filtered on: every index costs time on bulk imports.
    authority = models.ForeignKey(
        Authority, verbose_name="Erfassende Behörde", on_delete=models.PROTECT, db_index=False
    )
    joint = models.BooleanField("Gemeinsamer Vorgang", default=False)
    occurred_at = models.DateTimeField("Zeitpunkt")
    recorded_at = models.DateTimeField("Erfasst am", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Erfasst von",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    patrol = models.ForeignKey(
        Patrol,
        verbose_name="Streife",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
    )
    category = models.ForeignKey(
        Category, verbose_name="Sachverhalt", on_delete=models.PROTECT, db_index=False
    )
    category_rule = models.ForeignKey(
        CategoryRule,
        verbose_name="Geltende Regel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
    )
    source = models.CharField("Quelle", max_length=20, choices=Source.choices, default=Source.PATROL)
    description = models.TextField("Beschreibung", blank=True, max_length=4000)
    address_text = models.CharField("Ortsangabe", max_length=200, blank=True)
    lat = models.FloatField("Breite (WGS84)")
    lon = models.FloatField("Länge (WGS84)")
    x_utm = models.FloatField("Rechtswert (ETRS89/UTM32N)")
    y_utm = models.FloatField("Hochwert (ETRS89/UTM32N)")
    h3_cell = models.CharField("H3-Zelle", max_length=16)
    areas = models.ManyToManyField(Area, through="IncidentArea", verbose_name="Gebiete", related_name="+")
    external_id = models.CharField("Externe Kennung", max_length=64, blank=True)

    objects = AuthorityScopedManager(own_or_joint())

    class Meta:
        verbose_name = "Feststellung"
        verbose_name_plural = "Feststellungen"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["authority", "occurred_at"]),
            models.Index(fields=["joint", "occurred_at"]),
            models.Index(fields=["category", "occurred_at"]),
            models.Index(fields=["h3_cell"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "external_id"],
                condition=~models.Q(external_id=""),
                name="incident_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} – {self.occurred_at:%d.%m.%Y %H:%M}"


class IncidentArea(models.Model):
    """Which areas an incident lies in, computed at write time for indexed analytics."""

    # Derived from the point and the area geometries and rebuildable, so the unique pair
    # and the (area, incident) index are all it needs, and the database skips the
    # per-row foreign-key checks (Django still cascades deletes): on PostgreSQL these
    # checks were most of the server time of a bulk import.
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="area_links", db_index=False, db_constraint=False
    )
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="incident_links", db_index=False, db_constraint=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "area"], name="incident_area_unique")]
        indexes = [models.Index(fields=["area", "incident"])]

    def __str__(self) -> str:
        return f"{self.incident_id} in {self.area_id}"


class MeasureType(models.TextChoices):
    CONTACT = "contact", "Ansprache / Bürgergespräch"
    DISPERSAL_ORDER = "dispersal_order", "Platzverweis"
    EXCLUSION_ORDER = "exclusion_order", "Aufenthaltsverbot"
    CAUTION = "caution", "Mündliche Verwarnung"
    CAUTION_FEE = "caution_fee", "Verwarnung mit Verwarnungsgeld"
    OFFENCE_REPORT = "offence_report", "OWi-Anzeige"
    CRIMINAL_COMPLAINT = "criminal_complaint", "Strafanzeige"
    SEIZURE = "seizure", "Sicherstellung / Beschlagnahme"
    CUSTODY = "custody", "Ingewahrsamnahme"
    REFERRAL = "referral", "Vermittlung ins Hilfesystem"


POLICE_ONLY_MEASURES = frozenset({MeasureType.EXCLUSION_ORDER, MeasureType.CUSTODY})


class Measure(models.Model):
    class SeizureKind(models.TextChoices):
        WEAPON = "weapon", "Waffe"
        CASH = "cash", "Bargeld"
        DRUGS = "drugs", "Betäubungsmittel"
        OTHER = "other", "Sonstiges"

    class ReferralService(models.TextChoices):
        ADDICTION_HELP = "addiction_help", "Suchthilfe / Drogenberatung"
        STREET_SOCIAL_WORK = "street_social_work", "Straßensozialarbeit"
        SHELTER = "shelter", "Notschlafstelle / Wohnungslosenhilfe"
        MEDICAL = "medical", "Medizinische Hilfe"
        OTHER = "other", "Sonstige Hilfe"

    incident = models.ForeignKey(
        Incident, verbose_name="Feststellung", on_delete=models.CASCADE, related_name="measures"
    )
    type = models.CharField("Maßnahme", max_length=20, choices=MeasureType.choices)
    # A copy of the taker's authority (set by the services), so no database check per row.
    authority = models.ForeignKey(
        Authority,
        verbose_name="Behörde",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Durchgeführt von",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    taken_at = models.DateTimeField("Zeitpunkt")
    person = models.ForeignKey(
        Person,
        verbose_name="Person (pseudonym)",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="measures",
    )
    amount = models.DecimalField("Betrag (€)", max_digits=12, decimal_places=2, null=True, blank=True)
    seizure_kind = models.CharField(
        "Art der Sicherstellung", max_length=10, choices=SeizureKind.choices, blank=True
    )
    quantity = models.DecimalField("Menge", max_digits=12, decimal_places=3, null=True, blank=True)
    quantity_unit = models.CharField("Einheit", max_length=20, blank=True)
    referral_service = models.CharField(
        "Hilfeangebot", max_length=20, choices=ReferralService.choices, blank=True
    )
    note = models.CharField("Bemerkung", max_length=500, blank=True)

    objects = AuthorityScopedManager(own_or_joint("incident__"))

    class Meta:
        verbose_name = "Maßnahme"
        verbose_name_plural = "Maßnahmen"
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["type", "taken_at"]), models.Index(fields=["taken_at"])]

    def __str__(self) -> str:
        return self.get_type_display()
