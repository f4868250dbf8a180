"""Stored forecasts and backtests (issue 16).

Neither model is scoped by authority: a forecast is a model's expectation per 250 m cell computed
from the incidents of both partners together, and a backtest holds only hit figures per week.
Aggregates are shared between city and police (docs/architecture.md, "Authority separation"),
and neither holds a single incident, a free text or a person: places and times only
(BVerfG 1 BvR 1547/19). Who may see which map is decided in ``rules.py``.
"""

from __future__ import annotations

from django.db import models

from lagebild.catalog.models import Category

ALL_GROUPS = "all"
GROUP_CHOICES = [(ALL_GROUPS, "Alle Sachverhalte"), *Category.Group.choices]


class ForecastRun(models.Model):
    """One forecast: expected events per grid cell for a week or a shift."""

    class Horizon(models.TextChoices):
        WEEK = "week", "Woche"
        SHIFT = "shift", "Schicht"

    group = models.CharField("Sachverhaltsgruppe", max_length=20, choices=GROUP_CHOICES, db_index=True)
    model = models.CharField("Modell", max_length=40)
    horizon = models.CharField("Zeitraum", max_length=10, choices=Horizon.choices, default=Horizon.WEEK)
    # The Monday of the week the forecast belongs to (local date).
    origin = models.DateField("Woche ab (Montag)")
    # Shift forecasts: the shift's date and kind (field.Shift.Kind); empty for weeks.
    shift_date = models.DateField("Schichtdatum", null=True, blank=True)
    shift_kind = models.CharField("Schicht", max_length=10, blank=True)
    starts_at = models.DateTimeField("Beginn")
    ends_at = models.DateTimeField("Ende")
    parameters = models.JSONField("Parameter", default=dict)
    fit_summary = models.JSONField("Anpassung (z. B. ETAS-Parameter, Likelihood)", default=dict)
    # The grid (EPSG:25832, row 0 south) the cells refer to.
    x0 = models.FloatField()
    y0 = models.FloatField()
    cell_size = models.FloatField("Zellgröße (m)")
    nrows = models.PositiveIntegerField()
    ncols = models.PositiveIntegerField()
    # Compact: [[row, col, expected], …] for every cell with expected > 0, largest first.
    cells = models.JSONField("Zellen", default=list)
    total_expected = models.FloatField("Erwartete Ereignisse gesamt", default=0.0)
    history_events = models.PositiveIntegerField("Ereignisse in der Vorgeschichte", default=0)
    seconds = models.FloatField("Rechenzeit (s)", default=0.0)
    created_at = models.DateTimeField("Berechnet am")

    class Meta:
        verbose_name = "Prognose"
        verbose_name_plural = "Prognosen"
        ordering = ["-starts_at", "group"]
        indexes = [models.Index(fields=["group", "horizon", "starts_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "horizon", "starts_at"], name="forecast_run_unique_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_group_display()} · {self.model} · {self.starts_at:%d.%m.%Y %H:%M}"


class BacktestReport(models.Model):
    """A rolling-origin backtest of every model for one category group (BacktestResult.to_dict())."""

    group = models.CharField("Sachverhaltsgruppe", max_length=20, choices=GROUP_CHOICES, db_index=True)
    created_at = models.DateTimeField("Berechnet am")
    last_origin = models.DateField("Letzte Prüfwoche ab (Montag)")
    weeks = models.PositiveSmallIntegerField("Prüfwochen")
    result = models.JSONField("Ergebnis")
    chosen_model = models.CharField("Gewähltes Modell", max_length=40)
    beats_baseline = models.BooleanField("Schlägt die beste Vergleichsprognose", default=False)
    sentence = models.TextField("Aussage")
    events = models.PositiveIntegerField("Ereignisse in den Daten", default=0)
    seconds = models.FloatField("Rechenzeit (s)", default=0.0)

    class Meta:
        verbose_name = "Backtest"
        verbose_name_plural = "Backtests"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["group", "-created_at"])]

    def __str__(self) -> str:
        return f"Backtest {self.get_group_display()} {self.created_at:%d.%m.%Y}"
