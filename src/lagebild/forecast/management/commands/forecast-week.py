"""``lagebild forecast-week [--week JJJJ-MM-TT] [--backtest-weeks N] [--group G]``.

Backtests every category group with data, then computes the forecast of the week and of each of
its 21 shifts with the model the backtest chose (the weekly job ``forecast_weekly`` does the
same on Monday morning). A second run for the same week replaces its forecasts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.forecast import jobs, services


class Command(BaseCommand):
    help = (
        "Prognosen der Woche: Backtest je Sachverhaltsgruppe, dann Wochen- und Schichtprognosen mit dem "
        "gewählten Modell. Ein zweiter Lauf für dieselbe Woche ersetzt deren Prognosen."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--week", default="", metavar="JJJJ-MM-TT", help="ein Tag der Woche (Standard: diese Woche)"
        )
        parser.add_argument(
            "--backtest-weeks", type=int, default=None, help="Prüfwochen des Backtests (0: keinen rechnen)"
        )
        parser.add_argument(
            "--group", action="append", default=[], help="nur diese Gruppe(n), z. B. all, drugs"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = (options.get("week") or "").strip()
        try:
            week = dt.date.fromisoformat(text) if text else None
        except ValueError:
            raise CommandError(f"„{text}“ ist kein gültiges Datum (JJJJ-MM-TT).") from None
        weeks = options.get("backtest_weeks")
        if weeks is None:
            weeks = jobs.backtest_weeks()
        if weeks < 0:
            raise CommandError("Die Zahl der Prüfwochen darf nicht negativ sein.")
        result = services.forecast_week(week, groups=options["group"] or None, backtest_weeks=weeks or None)
        self.stdout.write(result.summary_de())
        for group, model in result.weeks.items():
            self.stdout.write(f"  {group}: {model}")
        for group, error in result.failed.items():
            self.stderr.write(f"  {group}: {error}")
