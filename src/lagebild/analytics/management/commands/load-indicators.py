from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.analytics.services import DEFAULT_INDICATORS, load_indicators


class Command(BaseCommand):
    help = "Lädt Kennzahlen und Kennzahlen-Sets aus einer JSON-Datei (Standard: Dortmund)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default=str(DEFAULT_INDICATORS))

    def handle(self, *args: object, **options: object) -> None:
        try:
            indicators, sets = load_indicators(Path(str(options["path"])))
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"Kennzahlen nicht geladen: {exc}") from exc
        self.stdout.write(f"{indicators} Kennzahlen und {sets} Sets geladen.")
