"""``lagebild data-protection-table [--write PATH | --check PATH]``: the Art. 30 table from the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.privacy import document


class Command(BaseCommand):
    help = (
        "Gibt die Tabelle der Datensatztypen (Zweck, Rechtsregime, Rechtsgrundlage, Frist, Zugriff, "
        "Löschregel) aus dem Register aus, schreibt sie in docs/data-protection.md oder prüft, ob das "
        "Dokument mit dem Register übereinstimmt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--write", metavar="DATEI", nargs="?", const="", help="Tabelle im Dokument ersetzen"
        )
        group.add_argument("--check", metavar="DATEI", nargs="?", const="", help="Abweichung melden (Exit 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        default = Path(settings.PACKAGE_DIR).parent.parent / "docs" / "data-protection.md"
        if options["write"] is not None:
            path = Path(options["write"] or default)
            try:
                document.write(path)
            except (FileNotFoundError, ValueError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Tabelle in {path} aktualisiert.")
        elif options["check"] is not None:
            path = Path(options["check"] or default)
            if not document.matches(path):
                raise CommandError(
                    f"{path} weicht vom Register ab: lagebild data-protection-table --write {path}"
                )
            self.stdout.write(f"{path} stimmt mit dem Register überein.")
        else:
            self.stdout.write(document.table())
