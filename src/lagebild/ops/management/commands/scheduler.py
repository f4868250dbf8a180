"""``lagebild scheduler``: Celery beat with the schedule in the database (exactly one per installation).

The same as ``celery -A lagebild beat --scheduler django_celery_beat.schedulers:DatabaseScheduler``
after ``lagebild schedule install``; further Celery beat options follow ``--``.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from lagebild.ops import schedules


def beat_command(*, loglevel: str, extra: list[str]) -> list[str]:
    celery = shutil.which("celery", path=os.path.dirname(sys.executable)) or shutil.which("celery")
    program = [celery] if celery else [sys.executable, "-m", "celery"]
    return [
        *program, "-A", "lagebild", "beat", f"--scheduler={settings.CELERY_BEAT_SCHEDULER}",
        f"--loglevel={loglevel}", *extra,
    ]  # fmt: skip


class Command(BaseCommand):
    help = (
        "Startet den Zeitplaner (Celery beat), der die geplanten Aufgaben zu ihrer Zeit an die Worker "
        "schickt; der Zeitplan steht in der Datenbank (lagebild schedule list). Genau einer je "
        "Installation. Ohne Broker (LAGEBILD_BROKER_URL) gibt es keine Worker: dann die Aufgaben mit "
        "cron und `lagebild schedule run AUFGABE` ausführen."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loglevel", default="INFO", help="Protokollstufe (Standard INFO)")
        parser.add_argument("--dry-run", action="store_true", help="Nur den Befehl ausgeben")
        parser.add_argument("extra", nargs="*", help="weitere Celery-beat-Optionen nach „--“")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.LAGEBILD_BROKER_URL:
            raise CommandError(
                "LAGEBILD_BROKER_URL ist nicht gesetzt: Ohne Broker gibt es keine Worker, die geplanten "
                "Aufgaben laufen dann per cron mit `lagebild schedule run AUFGABE` (docs/operations.md)."
            )
        command = beat_command(loglevel=options["loglevel"], extra=list(options["extra"]))
        if options["dry_run"]:
            self.stdout.write(" ".join(command))
            return
        self.stdout.write(schedules.install().summary_de())
        self.stdout.flush()
        # Celery takes over this process (same PID for systemd and its signals).
        connections.close_all()
        os.execv(command[0], command)
