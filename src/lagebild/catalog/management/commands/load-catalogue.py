import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.catalog.services import DORTMUND_CATALOGUE, load_catalogue


class Command(BaseCommand):
    help = "Lädt Sachverhalte und ihre Regeln aus einer JSON-Datei (Standard: Dortmunder Katalog)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, default=DORTMUND_CATALOGUE)

    def handle(self, *args: object, **options: object) -> None:
        path: Path = options["file"]  # type: ignore[assignment]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CommandError(f"Datei nicht gefunden: {path}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"Keine gültige JSON-Datei: {exc}") from exc
        result = load_catalogue(data)
        if result.errors:
            for error in result.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(result.errors)} Fehler – nichts geladen.")
        self.stdout.write(
            f"Sachverhalte: {result.categories_created} angelegt, {result.categories_updated} aktualisiert; "
            f"Regeln: {result.rules_created} angelegt, {result.rules_updated} aktualisiert; "
            f"{result.unchanged} unverändert."
        )
