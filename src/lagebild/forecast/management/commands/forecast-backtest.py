"""``lagebild forecast-backtest [--group G] [--weeks N] [--last-week JJJJ-MM-TT]``: one backtest.

Scores every model and baseline on the held-out weeks (rolling origin) and stores the report the
page /prognose/backtest/ and its PDF show; the next forecast uses the model it chose.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.forecast import services
from lagebild.forecast.models import ALL_GROUPS, GROUP_CHOICES


class Command(BaseCommand):
    help = "Backtest der Prognosemodelle für eine Sachverhaltsgruppe (rollierender Ursprung über N Wochen)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", default=ALL_GROUPS, help="Sachverhaltsgruppe (Standard: all)")
        parser.add_argument("--weeks", type=int, default=services.DEFAULT_BACKTEST_WEEKS, help="Prüfwochen")
        parser.add_argument(
            "--refit-every", type=int, default=1, help="ETAS nur jede n-te Woche neu anpassen"
        )
        parser.add_argument(
            "--last-week",
            default="",
            metavar="JJJJ-MM-TT",
            help="letzte Prüfwoche (Standard: letzte volle Woche)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        group = options["group"]
        if group not in dict(GROUP_CHOICES):
            raise CommandError(f"Unbekannte Gruppe „{group}“. Bekannt: {', '.join(dict(GROUP_CHOICES))}.")
        text = (options.get("last_week") or "").strip()
        try:
            last = dt.date.fromisoformat(text) if text else None
        except ValueError:
            raise CommandError(f"„{text}“ ist kein gültiges Datum (JJJJ-MM-TT).") from None
        if options["weeks"] < 1:
            raise CommandError("Mindestens eine Prüfwoche angeben.")
        report = services.run_backtest(
            group, weeks=options["weeks"], last_origin=last, refit_every=max(options["refit_every"], 1)
        )
        self.stdout.write(
            f"Backtest {group} ({report.weeks} Wochen, {report.seconds:.1f} s): {report.sentence}"
        )
