import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.geo.models import Area
from lagebild.geo.services import import_areas_geojson, import_places_geojson


class Command(BaseCommand):
    help = "Importiert Gebiete (Polygone) oder Orte (Punkte) aus einer GeoJSON-Datei."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--kind", choices=Area.Kind.values, help="Gebietsart, falls nicht in den Eigenschaften"
        )
        parser.add_argument("--source", default="", help="Quellenangabe für alle Gebiete")
        parser.add_argument("--places", action="store_true", help="Datei enthält Orte (Punkte) statt Gebiete")

    def handle(self, *args: object, **options: object) -> None:
        path: Path = options["file"]  # type: ignore[assignment]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CommandError(f"Datei nicht gefunden: {path}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"Keine gültige GeoJSON-Datei: {exc}") from exc
        if options["places"]:
            result = import_places_geojson(data)
        else:
            result = import_areas_geojson(
                data,
                default_kind=options["kind"],
                source=options["source"],  # type: ignore[arg-type]
            )
        if result.errors:
            for error in result.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(result.errors)} fehlerhafte Objekte – nichts importiert.")
        self.stdout.write(f"{result.created} angelegt, {result.updated} aktualisiert.")
