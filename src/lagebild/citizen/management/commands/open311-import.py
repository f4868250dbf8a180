import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lagebild.citizen import tasks
from lagebild.citizen.open311.client import Open311ClientError, parse_remote_datetime
from lagebild.core import tasking


def _since(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        parsed = parse_remote_datetime(value)
        if parsed is None:
            raise CommandError(f"Ungültiges Datum {value!r} (JJJJ-MM-TT oder W3C-Datum).") from None
        return parsed
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def _mapping(values: list[str]) -> dict[str, str]:
    result = {}
    for value in values:
        remote, sep, local = value.partition("=")
        if not sep or not remote.strip() or not local.strip():
            raise CommandError(f"--map erwartet FREMDCODE=CODE, nicht {value!r}.")
        result[remote.strip()] = local.strip()
    return result


class Command(BaseCommand):
    help = (
        "Holt Meldungen von einem anderen Open311-GeoReport-v2-Server (z. B. einer Melde-App der Stadt) "
        "in die Hinweis-Warteschlange. Mehrfach ausführbar: keine Doppelungen, Statusänderungen "
        "(offen/erledigt) werden übernommen."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="Basisadresse des Servers, z. B. https://example.org/open311/v2")
        parser.add_argument(
            "--service-code",
            action="append",
            default=[],
            dest="service_codes",
            metavar="CODE",
            help="Nur diese Kategorien des anderen Servers holen (mehrfach angebbar)",
        )
        parser.add_argument(
            "--api-key", default="", help="API-Key, falls der Server ihn auch zum Lesen verlangt"
        )
        parser.add_argument("--jurisdiction-id", default="", help="jurisdiction_id des anderen Servers")
        parser.add_argument(
            "--since", type=_since, default=None, help="Meldungen ab diesem Datum (Standard: letzte 90 Tage)"
        )
        parser.add_argument(
            "--default-service",
            default="",
            metavar="CODE",
            help="Eigene Kategorie für unbekannte service_codes (sonst werden sie übersprungen)",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FREMD=EIGEN",
            help="service_code des anderen Servers einer eigenen Kategorie zuordnen (mehrfach angebbar)",
        )
        parser.add_argument(
            "--page-size", type=int, default=1000, help="Seitengröße (page_size), Standard 1000"
        )
        parser.add_argument("--timeout", type=float, default=30.0, help="Zeitlimit je Abruf in Sekunden")
        parser.add_argument(
            "--background",
            action="store_true",
            help="Einem Worker übergeben statt selbst ausführen (nur mit LAGEBILD_BROKER_URL)",
        )

    def handle(self, *args: object, **options: object) -> None:
        page_size = int(options["page_size"])  # type: ignore[arg-type]
        if not 1 <= page_size <= 1000:
            raise CommandError("--page-size muss zwischen 1 und 1000 liegen.")
        since = options["since"]
        if since is not None and since > timezone.now():
            raise CommandError("--since liegt in der Zukunft.")
        options_for_import = {
            "service_codes": list(options["service_codes"]),  # type: ignore[call-overload]
            "api_key": str(options["api_key"]),
            "jurisdiction": str(options["jurisdiction_id"]),
            "default_service": str(options["default_service"]),
            "code_map": _mapping(list(options["map"])),  # type: ignore[call-overload]
            "page_size": page_size,
            "timeout": float(options["timeout"]),  # type: ignore[arg-type]
        }
        if options["background"]:
            if not tasking.broker_configured():
                raise CommandError("--background braucht einen Broker (LAGEBILD_BROKER_URL).")
            tasking.enqueue(
                tasks.open311_import,
                str(options["url"]),
                since=since.isoformat() if since else "",  # type: ignore[attr-defined]
                **options_for_import,
            )
            self.stdout.write("Import an einen Worker übergeben; das Ergebnis steht in dessen Protokoll.")
            return
        try:
            result = tasks.import_exclusively(
                str(options["url"]), since=since, log=self.stdout.write, **options_for_import
            )
        except Open311ClientError as exc:
            raise CommandError(str(exc)) from exc
        if result is None:
            raise CommandError("Ein Import von diesem Server läuft gerade schon; nichts getan.")
        fmt = result.format or "–"
        self.stdout.write(
            f"{result.fetched} Meldungen abgerufen ({result.requests_made} Abrufe, Format {fmt}): "
            f"{result.created} neu, {result.updated} Status aktualisiert, {result.unchanged} unverändert, "
            f"{sum(result.unknown_services.values())} mit unbekannter Kategorie übersprungen, "
            f"{len(result.invalid)} fehlerhaft."
        )
        for code, count in sorted(result.unknown_services.items()):
            self.stdout.write(
                f"  Unbekannter service_code {code!r}: {count} (Zuordnung mit --map oder --default-service)"
            )
        for message in result.invalid[:50]:
            self.stdout.write(f"  Fehlerhaft: {message}")
        if len(result.invalid) > 50:
            self.stdout.write(f"  … und {len(result.invalid) - 50} weitere.")
