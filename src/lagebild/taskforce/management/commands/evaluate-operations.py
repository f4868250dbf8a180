"""``lagebild evaluate-operations [--force] [--operation CODE]``: the automatic operation evaluation.

Meant for a scheduler (daily, e.g. Monday 05:00 and every night): evaluates each operation once on
or after the Monday after it ends and once more when the period after it has passed; a second run
changes nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.taskforce import operations


class Command(BaseCommand):
    help = (
        "Wertet Schwerpunkteinsätze automatisch aus: am Montag nach dem Einsatzende (Einsatzbilanz, "
        "Verdrängungsanalyse, Problemzahlen vorher/während/danach, Brennpunkte) und noch einmal, wenn "
        "der gleich lange Zeitraum nach dem Einsatz vorbei ist. Für einen täglichen Lauf gedacht; "
        "ein zweiter Lauf ändert nichts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Beendete Einsätze neu auswerten, auch wenn sie schon ausgewertet sind",
        )
        parser.add_argument(
            "--operation", default="", metavar="KÜRZEL", help="Nur den Einsatz mit diesem Kürzel"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = (options["operation"] or "").strip()
        wanted = list(operations.candidates(code))
        if code and not wanted:
            raise CommandError(f"Es gibt keinen Schwerpunkteinsatz mit dem Kürzel „{code}“.")
        verbose = options["verbosity"] >= 2 or bool(code)
        tally: Counter[str] = Counter()
        failed = 0
        for operation in wanted:
            try:
                outcome = operations.evaluate_operation(operation, force=options["force"])
            except Exception as exc:  # one broken operation must not stop the others
                failed += 1
                self.stderr.write(
                    f"Fehler bei „{operation.name}“ ({operation.code}): {exc.__class__.__name__}: {exc}"
                )
                continue
            tally[outcome.action] += 1
            if outcome.written or verbose:
                self.stdout.write(outcome.message)
        written = sum(tally[action] for action in operations.WRITTEN)
        self.stdout.write(
            f"{len(wanted)} Schwerpunkteinsätze geprüft: {tally[operations.EVALUATED]} ausgewertet, "
            f"{tally[operations.COMPLETED]} vervollständigt, "
            f"{tally[operations.REEVALUATED]} neu ausgewertet, "
            f"{len(wanted) - written - failed} unverändert."
        )
        if failed:
            raise CommandError(f"{failed} Schwerpunkteinsätze konnten nicht ausgewertet werden.")
