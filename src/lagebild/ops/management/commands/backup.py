"""``lagebild backup [--output DIR]``: a backup set of the database and the private files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.ops.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Sichert die Datenbank (PostgreSQL: pg_dump, SQLite: Online-Backup) und die privaten Dateien "
        "(Fotos, Uploads, Bodycam-Aufnahmen) mit einem Manifest aus Prüfsummen und Zeilenzahlen."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="Zielverzeichnis (neu oder leer); Standard: var/backups/<Zeitpunkt UTC>",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"] or (
            Path(settings.VAR_DIR) / "backups" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        )
        try:
            manifest = create_backup(output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = sum(entry["size"] for entry in manifest["files"])
        self.stdout.write(
            f"Sicherung geschrieben: {output.resolve()} ({len(manifest['files'])} Dateien, "
            f"{size / 1024 / 1024:.1f} MB, {sum(manifest['row_counts'].values())} Zeilen in "
            f"{len(manifest['row_counts'])} Tabellen)."
        )
