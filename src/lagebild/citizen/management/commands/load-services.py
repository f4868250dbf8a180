import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.citizen.services_catalog import DORTMUND_SERVICES, load_services


class Command(BaseCommand):
    help = (
        "Lädt die Meldekategorien für Bürgerinnen und Bürger mit ihren Zusatzfragen aus einer "
        "JSON-Datei (Standard: Dortmunder Kategorien). Vorhandene Kategorien bleiben unverändert, "
        "außer mit --update."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, default=DORTMUND_SERVICES)
        parser.add_argument(
            "--update",
            action="store_true",
            help="Vorhandene Kategorien und Fragen mit der Datei überschreiben",
        )

    def handle(self, *args: object, **options: object) -> None:
        path: Path = options["file"]  # type: ignore[assignment]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CommandError(f"Datei nicht gefunden: {path}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"Keine gültige JSON-Datei: {exc}") from exc
        result = load_services(data, update=bool(options["update"]))
        if result.errors:
            for error in result.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(result.errors)} Fehler – nichts geladen.")
        self.stdout.write(
            f"Meldekategorien: {result.services_created} angelegt, {result.services_updated} aktualisiert, "
            f"{result.unchanged} unverändert; Zusatzfragen: {result.attributes_created} angelegt, "
            f"{result.attributes_updated} aktualisiert."
        )
        if result.missing_categories:
            self.stdout.write(
                "Hinweis: Sachverhalte nicht im Katalog (erst `lagebild load-catalogue` ausführen): "
                + ", ".join(sorted(set(result.missing_categories)))
            )
