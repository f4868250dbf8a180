import sys
import time
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.analytics import tasks as analytics_tasks
from lagebild.core import tasking
from lagebild.core.models import User
from lagebild.core.scoping import authority_scope
from lagebild.field.importer import import_incidents


def german_number(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


class Command(BaseCommand):
    help = (
        "Importiert Feststellungen mit Maßnahmen aus einer CSV-Datei (Format: docs/import-export.md). "
        "Die Feststellungen gehören zur Behörde des angegebenen Benutzers. Enthält eine Zeile einen "
        "Fehler, wird nichts importiert (außer mit --skip-invalid)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help="CSV-Datei (UTF-8, Trennzeichen , oder ;); „-“ liest von der Standardeingabe"
        )
        parser.add_argument("--user", required=True, help="Benutzername der importierenden Person")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Gültige Zeilen importieren, fehlerhafte nur melden"
        )
        parser.add_argument("--dry-run", action="store_true", help="Nur prüfen, nichts speichern")
        parser.add_argument(
            "--max-errors", type=int, default=200, help="Höchstens so viele Fehler ausgeben (Standard 200)"
        )

    def handle(self, *args: object, **options: object) -> None:
        username = str(options["user"])
        user = User.objects.select_related("authority").filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"Kein aktiver Benutzer „{username}“.")
        name = str(options["file"])
        data = self._read(name)

        def progress(done: int, total: int, phase: str) -> None:
            verb = "Zeilen geprüft" if phase == "validated" else "Feststellungen gespeichert"
            self.stderr.write(f"… {german_number(done)} von {german_number(total)} {verb}")

        try:
            with authority_scope(user.authority):
                result = import_incidents(
                    user=user,
                    data=data,
                    file_name=Path(name).name if name != "-" else "stdin",
                    skip_invalid=bool(options["skip_invalid"]),
                    dry_run=bool(options["dry_run"]),
                    progress=progress,
                )
        except PermissionDenied as exc:
            raise CommandError(f"{username}: {exc}") from exc
        if result.file_error:
            raise CommandError(result.file_error)
        limit = max(int(options["max_errors"]), 0)  # type: ignore[call-overload]
        for error in result.errors[:limit]:
            self.stderr.write(str(error))
        if len(result.errors) > limit:
            self.stderr.write(f"… und {german_number(len(result.errors) - limit)} weitere Fehler.")
        speed = f" ({german_number(result.rows_per_second)} Zeilen/s)" if result.seconds else ""
        if result.errors and not options["skip_invalid"]:
            raise CommandError(
                f"{german_number(result.invalid_rows)} von {german_number(result.rows)} Zeilen fehlerhaft – "
                "nichts importiert. Mit --skip-invalid werden nur die gültigen Zeilen importiert."
            )
        if result.dry_run:
            valid = result.rows - result.skipped
            self.stdout.write(
                f"Probelauf: {german_number(valid)} von {german_number(result.rows)} Zeilen gültig, "
                f"nichts gespeichert{speed}."
            )
            return
        skipped = (
            f", {german_number(result.skipped)} fehlerhafte Zeilen übersprungen" if result.skipped else ""
        )
        self.stdout.write(
            f"{german_number(result.imported)} Feststellungen mit {german_number(result.measures)} Maßnahmen "
            f"importiert{skipped}{speed}."
        )
        # A large import leaves the analytic counts to the next read; a batch job has the time
        # to bring them up to date now, so the next person opening the cockpit does not wait.
        # With a broker a worker does it, and the command is done when the records are.
        if tasking.broker_configured():
            tasking.enqueue(analytics_tasks.apply_deferred_counts)
            self.stderr.write("Zähltabellen der Auswertung werden im Hintergrund aktualisiert.")
            return
        started = time.perf_counter()
        tasking.run_or_enqueue(analytics_tasks.apply_deferred_counts)
        seconds = time.perf_counter() - started
        self.stderr.write(f"Zähltabellen der Auswertung aktualisiert ({seconds:.1f} s).")

    def _read(self, name: str) -> bytes:
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            path = Path(name)
            try:
                with path.open("rb") as handle:
                    data = handle.read()
            except FileNotFoundError as exc:
                raise CommandError(f"Datei nicht gefunden: {path}") from exc
            except IsADirectoryError as exc:
                raise CommandError(f"{path} ist ein Verzeichnis.") from exc
            except PermissionError as exc:
                raise CommandError(f"Keine Leseberechtigung für {path}.") from exc
        return data
