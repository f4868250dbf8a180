import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from lagebild.catalog.models import Category
from lagebild.core.models import Authority, User
from lagebild.core.scoping import authority_scope
from lagebild.field import exporter
from lagebild.field.filters import filters_from_querydict
from lagebild.geo.models import Area


class Command(BaseCommand):
    help = (
        "Exportiert Feststellungen auf die Standardausgabe: csv = Importformat (wieder importierbar), "
        "tabelle = lesbare Tabelle für Excel (deutsche Spalten, Maßnahmen in Worten, Stadtbezirk), "
        "geojson = Punkte für Kartenprogramme. Es wird nur exportiert, was der angegebene Benutzer "
        "sehen darf."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", required=True, help="Benutzername; bestimmt die sichtbaren Feststellungen"
        )
        parser.add_argument(
            "--format",
            choices=exporter.FORMATS,
            default="csv",
            help="csv = Importformat, tabelle = lesbare Tabelle für Excel, geojson = Kartendaten",
        )
        parser.add_argument(
            "--delimiter",
            choices=["comma", "semicolon"],
            default="comma",
            help="Importformat: semicolon = für deutsches Excel (Semikolon, Dezimalkomma)",
        )
        parser.add_argument("--from", dest="date_from", help="Erster Tag (JJJJ-MM-TT)")
        parser.add_argument("--to", dest="date_to", help="Letzter Tag (JJJJ-MM-TT)")
        parser.add_argument(
            "--category", action="append", default=[], help="Sachverhalt (Kürzel oder ID), mehrfach"
        )
        parser.add_argument("--area", help="Gebiet (Kürzel oder ID)")
        parser.add_argument("--measure-type", help="Maßnahme, z. B. dispersal_order")
        parser.add_argument("--authority", help="Erfassende Behörde (Kürzel oder ID)")
        parser.add_argument("--source", help="Quelle, z. B. patrol")
        parser.add_argument("--joint", choices=["ja", "nein"], help="Nur gemeinsame bzw. nicht gemeinsame")
        parser.add_argument(
            "--output", "-o", type=Path, help="In diese Datei schreiben statt auf die Standardausgabe"
        )

    def handle(self, *args: object, **options: object) -> None:
        username = str(options["user"])
        user = User.objects.select_related("authority").filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"Kein aktiver Benutzer „{username}“.")
        if not user.has_perm("field.export_incidents"):
            raise CommandError(f"{username}: Ihre Rolle erlaubt keinen Export.")
        params = QueryDict(mutable=True)
        for key in ("date_from", "date_to", "measure_type", "source", "joint"):
            if options.get(key):
                params[key] = str(options[key])
        for value in options["category"]:  # type: ignore[attr-defined]
            params.appendlist("category", self._category_id(str(value)))
        if options.get("area"):
            params["area"] = self._area_id(str(options["area"]))
        if options.get("authority"):
            params["authority"] = self._authority_id(str(options["authority"]))
        filters, errors = filters_from_querydict(params)
        if errors:
            raise CommandError(" ".join(f"{key}: {message}" for key, message in errors.items()))
        fmt = str(options["format"])
        dialect = exporter.CsvDialect.from_param(str(options["delimiter"]))
        with authority_scope(user.authority):
            count = exporter.export_count(filters)
            exporter.log_export(user=user, filters=filters, fmt=fmt, count=count)
        chunks = exporter.export_chunks(user, filters, fmt, dialect)
        output: Path | None = options["output"]  # type: ignore[assignment]
        if output is None:
            # Bytes, so the file is UTF-8 whatever the locale of the shell.
            stream = sys.stdout.buffer
            for chunk in chunks:
                stream.write(chunk.encode("utf-8"))
            stream.flush()
        else:
            try:
                with output.open("w", encoding="utf-8", newline="") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
            except OSError as exc:
                raise CommandError(f"{output}: {exc.strerror}") from exc
        self.stderr.write(f"{count} Feststellungen exportiert.")

    @staticmethod
    def _category_id(value: str) -> str:
        if value.isdigit():
            return value
        pk = Category.objects.filter(code=value).values_list("pk", flat=True).first()
        if pk is None:
            raise CommandError(f"Unbekannter Sachverhalt „{value}“.")
        return str(pk)

    @staticmethod
    def _area_id(value: str) -> str:
        if value.isdigit():
            return value
        pks = list(Area.objects.filter(code=value).values_list("pk", flat=True)[:2])
        if len(pks) != 1:
            raise CommandError(f"Gebiet „{value}“ ist unbekannt oder nicht eindeutig; bitte die ID angeben.")
        return str(pks[0])

    @staticmethod
    def _authority_id(value: str) -> str:
        if value.isdigit():
            return value
        pk = Authority.objects.filter(code=value).values_list("pk", flat=True).first()
        if pk is None:
            raise CommandError(f"Unbekannte Behörde „{value}“.")
        return str(pk)
