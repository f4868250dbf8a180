"""Indicator definitions and the pre-aggregated counts every analytic page reads.

The count tables are derived data: ``analytics.aggregates`` keeps them consistent on every
write and ``lagebild rebuild-aggregates`` rebuilds them from the records. They are shared
between the partners (the brief: "aggregates are shared"), so they carry authority and
joint flag as dimensions instead of an authority scope. Area ``0`` is the whole city.
"""

from __future__ import annotations

from django.db import models

from lagebild.catalog.models import Category

CITY_AREA = 0


class Fact(models.TextChoices):
    """What a count row counts."""

    INCIDENT = "incident", "Feststellungen"
    MEASURE = "measure", "Maßnahmen"
    REPORT_RECEIVED = "report_received", "Bürgerhinweise eingegangen"
    REPORT_CLOSED = "report_closed", "Bürgerhinweise abgeschlossen"
    PATROL = "patrol", "Streifen"
    STAFF_HOURS = "staff_hours", "Personalstunden"
    # Not in the count tables: read from the proceedings (``proceedings.figures_queries``), city-wide.
    PROCEEDINGS = "proceedings", "Bußgeldverfahren (Kennzahl)"


class CountManager(models.Manager):
    """Brings the count tables up to date with deferred bulk writes before any read.

    Large imports leave their records in :class:`PendingCounts` (see ``aggregates``); a read
    through this manager applies them first, so no query can see counts without them.
    """

    def get_queryset(self) -> models.QuerySet:
        from .aggregates import catch_up

        catch_up()
        return super().get_queryset()


class PendingCounts(models.Model):
    """A run of records whose counts are not in the count tables yet.

    A bulk import commits its records with one such row instead of updating five count tables
    (about 2–3 s per 50,000 rows on SQLite); the next read of the counts, or the next write to
    them, applies it first (``aggregates.catch_up``), in order, exactly once.
    """

    class Kind(models.TextChoices):
        INCIDENTS = "incidents", "Feststellungen"
        MEASURES = "measures", "Maßnahmen"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.first_id}–{self.last_id}"


class DailyCount(models.Model):
    """Counts per local day (Europe/Berlin) and dimension set.

    ``detail`` is the incident source, the seizure kind or help service of a measure, the
    channel of a received report or the final status of a closed one.
    """

    day = models.DateField()
    area_id = models.IntegerField()
    fact = models.CharField(max_length=20, choices=Fact.choices)
    category_id = models.IntegerField(default=0)
    measure_type = models.CharField(max_length=20, blank=True, default="")
    detail = models.CharField(max_length=20, blank=True, default="")
    authority_id = models.IntegerField()
    joint = models.BooleanField(default=False)
    count = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    objects = CountManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "area_id", "day", "fact", "category_id", "measure_type", "detail", "authority_id", "joint"
                ],
                name="dailycount_key",
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.fact} {self.day} Gebiet {self.area_id}: {self.count}"


class WeeklyCount(models.Model):
    """The daily counts rolled up per ISO week (``week`` is its Monday): long windows and series."""

    week = models.DateField()
    area_id = models.IntegerField()
    fact = models.CharField(max_length=20, choices=Fact.choices)
    category_id = models.IntegerField(default=0)
    measure_type = models.CharField(max_length=20, blank=True, default="")
    detail = models.CharField(max_length=20, blank=True, default="")
    authority_id = models.IntegerField()
    joint = models.BooleanField(default=False)
    count = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    objects = CountManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "area_id", "week", "fact", "category_id", "measure_type", "detail", "authority_id",
                    "joint",
                ],
                name="weeklycount_key",
            )
        ]  # fmt: skip
        # Covering: the long windows read only this index (no table lookups), the analytic
        # read path's main cost on SQLite. Not on the daily table, which takes most writes
        # and serves only the few edge days of a window.
        indexes = [
            models.Index(
                fields=[
                    "area_id", "week", "fact", "category_id", "measure_type", "detail", "authority_id",
                    "joint", "count", "amount",
                ],
                name="weeklycount_cover",
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.fact} Woche {self.week} Gebiet {self.area_id}: {self.count}"


class MonthlyCount(models.Model):
    """The daily counts rolled up per calendar month (``month`` is its first day): years to date."""

    month = models.DateField()
    area_id = models.IntegerField()
    fact = models.CharField(max_length=20, choices=Fact.choices)
    category_id = models.IntegerField(default=0)
    measure_type = models.CharField(max_length=20, blank=True, default="")
    detail = models.CharField(max_length=20, blank=True, default="")
    authority_id = models.IntegerField()
    joint = models.BooleanField(default=False)
    count = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    objects = CountManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "area_id", "month", "fact", "category_id", "measure_type", "detail", "authority_id",
                    "joint",
                ],
                name="monthlycount_key",
            )
        ]  # fmt: skip
        # Covering: the long windows read only this index (no table lookups), the analytic
        # read path's main cost on SQLite. Not on the daily table, which takes most writes
        # and serves only the few edge days of a window.
        indexes = [
            models.Index(
                fields=[
                    "area_id", "month", "fact", "category_id", "measure_type", "detail", "authority_id",
                    "joint", "count", "amount",
                ],
                name="monthlycount_cover",
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.fact} Monat {self.month} Gebiet {self.area_id}: {self.count}"


class YearlyCount(models.Model):
    """The daily counts rolled up per calendar year (``year`` is 1 January).

    A year to date is read as the year minus the rest of the year when that is shorter: the
    rest of the current year is mostly still empty, so the window costs one year's rows
    instead of up to eleven months'.
    """

    year = models.DateField()
    area_id = models.IntegerField()
    fact = models.CharField(max_length=20, choices=Fact.choices)
    category_id = models.IntegerField(default=0)
    measure_type = models.CharField(max_length=20, blank=True, default="")
    detail = models.CharField(max_length=20, blank=True, default="")
    authority_id = models.IntegerField()
    joint = models.BooleanField(default=False)
    count = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    objects = CountManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "area_id", "year", "fact", "category_id", "measure_type", "detail", "authority_id",
                    "joint",
                ],
                name="yearlycount_key",
            )
        ]  # fmt: skip
        indexes = [
            models.Index(
                fields=[
                    "area_id", "year", "fact", "category_id", "measure_type", "detail", "authority_id",
                    "joint", "count", "amount",
                ],
                name="yearlycount_cover",
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.fact} Jahr {self.year.year} Gebiet {self.area_id}: {self.count}"


class HourlyCount(models.Model):
    """Counts per local day and hour, for hour × weekday tables and hour-of-day profiles."""

    day = models.DateField()
    hour = models.SmallIntegerField()
    area_id = models.IntegerField()
    fact = models.CharField(max_length=20, choices=Fact.choices)
    category_id = models.IntegerField(default=0)
    measure_type = models.CharField(max_length=20, blank=True, default="")
    detail = models.CharField(max_length=20, blank=True, default="")
    authority_id = models.IntegerField()
    joint = models.BooleanField(default=False)
    count = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    objects = CountManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "area_id", "day", "hour", "fact", "category_id", "measure_type", "detail", "authority_id",
                    "joint",
                ],
                name="hourlycount_key",
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.fact} {self.day} {self.hour} Uhr Gebiet {self.area_id}: {self.count}"


class Indicator(models.Model):
    """A figure the task force steers by, defined as data (what is counted, which filters, unit)."""

    class Kind(models.TextChoices):
        ACTIVITY = "activity", "Aktivität (was wir getan haben)"
        PROBLEM = "problem", "Problem (was geschieht)"
        OUTCOME = "outcome", "Wirkung (was sich verändert hat)"

    class Value(models.TextChoices):
        COUNT = "count", "Anzahl"
        AMOUNT = "amount", "Summe des Betrags / der Stunden"

    code = models.SlugField("Kürzel", max_length=60, unique=True)
    name = models.CharField("Bezeichnung", max_length=120)
    description = models.CharField("Erläuterung", max_length=400, blank=True)
    kind = models.CharField("Art", max_length=10, choices=Kind.choices)
    fact = models.CharField("Gezählt wird", max_length=20, choices=Fact.choices)
    value = models.CharField("Wert", max_length=10, choices=Value.choices, default=Value.COUNT)
    categories = models.ManyToManyField(
        Category, verbose_name="Nur diese Sachverhalte", blank=True, related_name="+"
    )
    measure_types = models.JSONField("Nur diese Maßnahmen", default=list, blank=True)
    details = models.JSONField(
        "Nur diese Merkmale",
        default=list,
        blank=True,
        help_text=(
            "Quelle der Feststellung, Art der Sicherstellung, Hilfeangebot, Eingangsweg oder Abschlussstatus."
        ),
    )
    authority_kinds = models.JSONField(
        "Nur diese Behörden",
        default=list,
        blank=True,
        help_text='Leer = alle; sonst "city" und/oder "police".',
    )
    per_100_staff_hours = models.BooleanField(
        "Je 100 Personalstunden",
        default=False,
        help_text="Teilt durch die Personalstunden der Streifen im selben Gebiet und Zeitraum.",
    )
    unit = models.CharField("Einheit", max_length=30, default="Anzahl")
    active = models.BooleanField("Aktiv", default=True)
    sort_order = models.PositiveIntegerField("Reihenfolge", default=100)

    class Meta:
        verbose_name = "Kennzahl"
        verbose_name_plural = "Kennzahlen"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from lagebild.field.models import MeasureType

        errors: dict[str, str] = {}
        for name in ("measure_types", "details", "authority_kinds"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[name] = 'Bitte eine Liste von Kürzeln angeben, z. B. ["dispersal_order"].'
        if "measure_types" not in errors:
            unknown = sorted(set(self.measure_types) - set(MeasureType.values))
            if unknown:
                errors["measure_types"] = f"Unbekannte Maßnahmen: {', '.join(unknown)}."
            elif self.measure_types and self.fact != Fact.MEASURE:
                errors["measure_types"] = "Maßnahmen lassen sich nur filtern, wenn Maßnahmen gezählt werden."
        if "authority_kinds" not in errors:
            unknown = sorted(set(self.authority_kinds) - {"city", "police"})
            if unknown:
                errors["authority_kinds"] = 'Erlaubt sind nur "city" und "police".'
        if self.fact == Fact.PROCEEDINGS:
            self._clean_proceedings(errors)
        elif self.value == self.Value.AMOUNT and self.fact not in (Fact.MEASURE, Fact.STAFF_HOURS):
            errors["value"] = "Summen gibt es nur für Maßnahmen (Beträge) und Personalstunden."
        if errors:
            raise ValidationError(errors)

    def _clean_proceedings(self, errors: dict[str, str]) -> None:
        """A proceedings figure is a share or a median for the whole city: no count, no rate."""
        from lagebild.proceedings.figures_queries import INDICATORS, measure

        details = self.details if isinstance(self.details, list) else []
        if measure(self.code, details) is None:
            errors["details"] = (
                "Für Bußgeldverfahren muss das Kürzel oder das einzige Merkmal eine dieser Kennzahlen "
                f"sein: {', '.join(INDICATORS)}."
            )
        if self.value != self.Value.AMOUNT:
            errors["value"] = "Kennzahlen der Bußgeldverfahren sind Anteile oder Mediane, keine Anzahlen."
        if self.measure_types:
            errors["measure_types"] = "Maßnahmen lassen sich nur filtern, wenn Maßnahmen gezählt werden."
        if self.per_100_staff_hours:
            errors["per_100_staff_hours"] = (
                "Kennzahlen der Bußgeldverfahren lassen sich nicht je Personalstunde rechnen."
            )


class IndicatorSet(models.Model):
    """A named, ordered selection of indicators (e.g. the weekly Sonderstab report)."""

    code = models.SlugField("Kürzel", max_length=60, unique=True)
    name = models.CharField("Bezeichnung", max_length=120)
    indicators = models.ManyToManyField(Indicator, through="IndicatorSetEntry", verbose_name="Kennzahlen")
    sort_order = models.PositiveIntegerField("Reihenfolge", default=100)

    class Meta:
        verbose_name = "Kennzahlen-Set"
        verbose_name_plural = "Kennzahlen-Sets"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class IndicatorSetEntry(models.Model):
    indicator_set = models.ForeignKey(IndicatorSet, on_delete=models.CASCADE, related_name="entries")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["indicator_set", "indicator"], name="indicator_set_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.indicator_set_id}/{self.position}"
