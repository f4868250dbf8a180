"""``lagebild recordings verify`` and ``lagebild recordings purge [--dry-run]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from lagebild.bodycam.retention import purge_due, verify_all


class Command(BaseCommand):
    help = "Bodycam-Aufnahmen: Prüfsummen prüfen (verify) oder fällige Aufnahmen löschen (purge)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{verify,purge}")
        verify = sub.add_parser(
            "verify",
            help="Alle gespeicherten Dateien neu hashen; Abweichungen und fehlende Dateien melden (Exit 1).",
        )
        verify.add_argument(
            "--no-record", action="store_true", help="Die Prüfung nicht in der Verwahrkette vermerken"
        )
        purge = sub.add_parser("purge", help="Aufnahmen löschen, deren Löschdatum erreicht ist.")
        purge.add_argument("--dry-run", action="store_true", help="Nur zählen, nichts löschen")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify(record=not options["no_record"])
        else:
            self._purge(dry_run=options["dry_run"])

    def _verify(self, *, record: bool) -> None:
        checked, problems = verify_all(record=record)
        for problem in problems:
            self.stderr.write(f"Aufnahme Nr. {problem.recording_id}: {problem.message}")
        if problems:
            self.stderr.write(f"{checked} Dateien geprüft, {len(problems)} Probleme gefunden.")
            raise SystemExit(1)
        self.stdout.write(f"{checked} Dateien geprüft, alle Prüfsummen stimmen.")

    def _purge(self, *, dry_run: bool) -> None:
        now = timezone.now()
        count = purge_due(now, dry_run=dry_run)
        if dry_run:
            self.stdout.write(
                f"Probelauf: {count} Aufnahmen sind fällig und würden gelöscht. Nichts geändert."
            )
        else:
            self.stdout.write(f"{count} fällige Aufnahmen gelöscht (Nachweis mit Prüfsumme bleibt erhalten).")
