"""``lagebild restore DIR [--yes]``: replace database and private files by a backup set."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from lagebild.ops.backup import (
    BackupError,
    check_restorable,
    file_roots,
    read_verified_manifest,
    restore_backup,
)


class Command(BaseCommand):
    help = (
        "Stellt eine Sicherung von »lagebild backup« wieder her: prüft zuerst alle Prüfsummen, ersetzt "
        "dann Datenbank und private Dateien und vergleicht die Zeilenzahlen. Anwendungsserver und "
        "Worker vorher anhalten; auf PostgreSQL als Eigentümer der Tabellen ausführen."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="Verzeichnis der Sicherung")
        parser.add_argument("--yes", action="store_true", help="ohne Rückfrage wiederherstellen")
        parser.add_argument(
            "--app-role",
            help="PostgreSQL: danach die Rechte dieser Anwendungsrolle neu setzen (wie setup-db-roles)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"].resolve()
        try:
            manifest = read_verified_manifest(directory)
            check_restorable(manifest)
        except BackupError as exc:
            raise CommandError(f"Nicht wiederhergestellt: {exc}") from exc
        self.stdout.write(
            f"Sicherung vom {manifest['created_at']} (Lagebild {manifest['lagebild_version']}, "
            f"{manifest['database_engine']}, {len(manifest['files'])} Dateien) "
            "ist vollständig und unverändert."
        )
        if not options["yes"] and not self._confirmed(manifest):
            raise CommandError("Abgebrochen: nichts wurde verändert.")
        try:
            differences = restore_backup(directory, manifest)
        except BackupError as exc:
            raise CommandError(f"Wiederherstellung fehlgeschlagen: {exc}") from exc
        if options["app_role"] and connection.vendor == "postgresql":
            call_command("setup-db-roles", role=options["app_role"], stdout=self.stdout)
        if differences:
            listed = ", ".join(
                f"{table} (erwartet {expected}, gefunden {found})"
                for table, (expected, found) in differences.items()
            )
            raise CommandError(f"Zeilenzahlen weichen vom Manifest ab: {listed}")
        self.stdout.write(
            f"Wiederhergestellt: {sum(manifest['row_counts'].values())} Zeilen in "
            f"{len(manifest['row_counts'])} Tabellen, Zeilenzahlen wie im Manifest; "
            f"{len(manifest['files']) - 1} Dateien. Prüfen: »lagebild audit verify«."
        )
        if connection.vendor == "postgresql" and not options["app_role"]:
            self.stdout.write(
                "Hinweis: Rechte der Anwendungsrolle mit »lagebild setup-db-roles --role NAME« neu setzen."
            )

    def _confirmed(self, manifest: dict[str, Any]) -> bool:
        if not sys.stdin.isatty():
            raise CommandError("Ohne Terminal bitte --yes angeben. Nichts wurde verändert.")
        database = connection.settings_dict["NAME"]
        folders = ", ".join(str(root.path) for root in file_roots())
        answer = input(
            f"Datenbank {database} und die Verzeichnisse {folders} werden durch die Sicherung ersetzt; "
            "alles seit der Sicherung Erfasste geht verloren. Fortfahren? [ja/nein] "
        )
        return answer.strip().lower() in {"ja", "j", "yes", "y"}
