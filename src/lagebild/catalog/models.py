"""Categories of incidents (Sachverhalte) and their versioned legal rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

CAUTION_MIN = Decimal("5")
CAUTION_MAX = Decimal("55")


class Category(models.Model):
    class Competence(models.TextChoices):
        CITY = "city", "Stadt (Ordnungsamt/KOD)"
        POLICE = "police", "Polizei"
        BOTH = "both", "Stadt und Polizei"

    class Group(models.TextChoices):
        ORDER = "order", "Ordnung und Stadtbild"
        DRUGS = "drugs", "Drogen und Sucht"
        NUISANCE = "nuisance", "Belästigung und Verhalten"
        ENVIRONMENT = "environment", "Umwelt und Sauberkeit"
        PROTECTION = "protection", "Jugend- und Tierschutz"
        CRIME = "crime", "Kriminalität"
        TRAFFIC = "traffic", "Verkehr"
        OTHER = "other", "Sonstiges"

    code = models.SlugField("Kürzel", max_length=60, unique=True)
    name = models.CharField("Bezeichnung", max_length=200)
    group = models.CharField("Gruppe", max_length=20, choices=Group.choices, default=Group.ORDER)
    competent_authority = models.CharField(
        "Zuständigkeit", max_length=10, choices=Competence.choices, default=Competence.CITY
    )
    description = models.TextField("Beschreibung", blank=True)
    sort_order = models.PositiveIntegerField("Reihenfolge", default=100)
    active = models.BooleanField("Aktiv", default=True)
    # The city's choice (issue 15, item 7): an OWi-Anzeige from the field opens a case by itself.
    opens_proceedings = models.BooleanField(
        "OWi-Anzeige eröffnet Bußgeldverfahren",
        default=False,
        help_text="Eine OWi-Anzeige im Außendienst legt automatisch ein Bußgeldverfahren an.",
    )

    class Meta:
        verbose_name = "Sachverhalt"
        verbose_name_plural = "Sachverhalte"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


def limitation_months(max_fine: Decimal | None) -> int | None:
    """Prosecution limitation period under § 31 Abs. 2 OWiG, from the maximum fine."""
    if max_fine is None:
        return None
    if max_fine > 15000:
        return 36
    if max_fine > 2500:
        return 24
    if max_fine > 1000:
        return 12
    return 6


class CategoryRule(models.Model):
    """The legal rule of a category for a validity period (§§ 3, 4 OWiG: law at time of act)."""

    category = models.ForeignKey(
        Category, verbose_name="Sachverhalt", on_delete=models.CASCADE, related_name="rules"
    )
    valid_from = models.DateField("Gültig ab")
    valid_to = models.DateField("Gültig bis", null=True, blank=True, help_text="Leer = unbefristet")
    legal_basis = models.CharField("Rechtsgrundlage", max_length=300)
    is_offence = models.BooleanField(
        "Ordnungswidrigkeit", default=True, help_text="Mit Geldbuße bedroht (OWi)."
    )
    is_crime = models.BooleanField(
        "Straftat möglich", default=False, help_text="Strafanzeige an Polizei/StA."
    )
    caution_allowed = models.BooleanField("Verwarnung mit Verwarnungsgeld zulässig", default=False)
    caution_amount = models.DecimalField(
        "Regelsatz Verwarnungsgeld (€)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(CAUTION_MIN), MaxValueValidator(CAUTION_MAX)],
    )
    max_fine = models.DecimalField(
        "Höchstbetrag Geldbuße (€)", max_digits=10, decimal_places=2, null=True, blank=True
    )
    limitation_override_months = models.PositiveSmallIntegerField(
        "Verjährung abweichend (Monate)", null=True, blank=True
    )
    is_demo_value = models.BooleanField(
        "Demo-Wert", default=False, help_text="Wert nicht amtlich bestätigt – vor Echtbetrieb prüfen."
    )
    source = models.CharField("Quelle", max_length=400, blank=True)

    class Meta:
        verbose_name = "Regel eines Sachverhalts"
        verbose_name_plural = "Regeln der Sachverhalte"
        ordering = ["category", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["category", "valid_from"], name="rule_category_from_unique"),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="rule_valid_range",
            ),
        ]

    def __str__(self) -> str:
        until = f" bis {self.valid_to:%d.%m.%Y}" if self.valid_to else ""
        return f"{self.category} (ab {self.valid_from:%d.%m.%Y}{until})"

    @property
    def limitation_months(self) -> int | None:
        if self.limitation_override_months:
            return self.limitation_override_months
        return limitation_months(self.max_fine) if self.is_offence else None

    @property
    def limitation_label(self) -> str:
        months = self.limitation_months
        if months is None:
            return "–"
        return f"{months} Monate" if months < 12 else f"{months // 12} Jahr{'e' if months >= 24 else ''}"

    def applies_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def clean(self) -> None:
        if self.caution_allowed and self.caution_amount is None:
            raise ValidationError({"caution_amount": "Bitte einen Regelsatz zwischen 5 und 55 € angeben."})
        if not self.caution_allowed and self.caution_amount is not None:
            raise ValidationError({"caution_amount": "Ohne zulässige Verwarnung kein Regelsatz."})
        if self.category_id and self.valid_from:
            overlapping = CategoryRule.objects.filter(category_id=self.category_id).exclude(pk=self.pk)
            for other in overlapping:
                other_end = other.valid_to or dt.date.max
                own_end = self.valid_to or dt.date.max
                if other.valid_from <= own_end and self.valid_from <= other_end:
                    raise ValidationError(
                        {"valid_from": f"Der Zeitraum überschneidet sich mit der Regel {other}."}
                    )
