"""``lagebild proceedings-daily [--date JJJJ-MM-TT]``: the daily run of the offence proceedings.

Records what the calendar decides, explicitly and dated: served notices without objection become
final, cases past their limitation lapse, cautions not paid within the week become unpaid. Meant for
a daily scheduler (job ``proceedings_daily``); a second run on the same day changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lagebild.core.scoping import unscoped
from lagebild.proceedings import services


class Command(BaseCommand):
    help = (
        "Täglicher Lauf der Bußgeldverfahren: vermerkt Rechtskraft nach Ablauf der Einspruchsfrist, "
        "eingetretene Verjährung und nicht fristgerecht bezahlte Verwarnungsgelder. Ein zweiter Lauf "
        "am selben Tag ändert nichts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            default="",
            metavar="JJJJ-MM-TT",
            help="Stichtag (Standard: heute, Ortszeit); nicht in der Zukunft",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        text = (options.get("date") or "").strip()
        if text:
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise CommandError(f"„{text}“ ist kein gültiges Datum (JJJJ-MM-TT).") from None
            if day > today:
                raise CommandError("Der Stichtag darf nicht in der Zukunft liegen.")
        else:
            day = today
        with unscoped():
            result = services.daily_run(today=day)
        self.stdout.write(
            f"Täglicher Lauf zum {day:%d.%m.%Y}: {result.became_final} Verfahren rechtskräftig, "
            f"{result.lapsed} verjährt, {result.cautions_unpaid} Verwarnungsgelder "
            "nicht fristgerecht bezahlt."
        )
