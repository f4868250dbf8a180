"""``lagebild worker``: a Celery worker for the background tasks, configured by the environment.

The same as ``celery -A lagebild worker`` with the installation's defaults; any Celery worker
option can be given after ``--`` (``lagebild worker -- --max-memory-per-child=400000``).
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections


def worker_command(*, concurrency: int, queues: str, pool: str, loglevel: str, extra: list[str]) -> list[str]:
    celery = shutil.which("celery", path=os.path.dirname(sys.executable)) or shutil.which("celery")
    program = [celery] if celery else [sys.executable, "-m", "celery"]
    command = [*program, "-A", "lagebild", "worker", f"--pool={pool}", f"--loglevel={loglevel}"]
    if pool != "solo":
        command.append(f"--concurrency={concurrency}")
    if queues:
        command.append(f"--queues={queues}")
    return command + extra


class Command(BaseCommand):
    help = (
        "Startet einen Worker für die Hintergrundaufgaben (Celery) am Broker aus LAGEBILD_BROKER_URL "
        "(RabbitMQ oder Redis). Ohne Broker laufen die Aufgaben im Webprozess; dann ist kein Worker "
        "nötig. Weitere Celery-Optionen nach „--“."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--concurrency",
            type=int,
            default=int(os.environ.get("LAGEBILD_WORKER_CONCURRENCY", "0") or 0) or (os.cpu_count() or 1),
            help="Prozesse je Worker (Standard LAGEBILD_WORKER_CONCURRENCY oder die Zahl der Kerne)",
        )
        parser.add_argument("--queues", default="", help="Nur diese Warteschlangen (kommagetrennt)")
        parser.add_argument(
            "--pool", default="prefork", choices=["prefork", "solo", "threads"], help="Celery-Pool"
        )
        parser.add_argument(
            "--loglevel",
            default=os.environ.get("LAGEBILD_WORKER_LOG_LEVEL", "INFO"),
            help="Protokollstufe (Standard LAGEBILD_WORKER_LOG_LEVEL oder INFO)",
        )
        parser.add_argument("--dry-run", action="store_true", help="Nur den Befehl ausgeben")
        parser.add_argument("extra", nargs="*", help="weitere Celery-Optionen nach „--“")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.LAGEBILD_BROKER_URL:
            raise CommandError(
                "LAGEBILD_BROKER_URL ist nicht gesetzt: Ohne Broker laufen die Hintergrundaufgaben im "
                "Webprozess, ein Worker ist nicht nötig."
            )
        if options["concurrency"] < 1:
            raise CommandError("--concurrency muss mindestens 1 sein.")
        command = worker_command(
            concurrency=options["concurrency"],
            queues=options["queues"],
            pool=options["pool"],
            loglevel=options["loglevel"],
            extra=list(options["extra"]),
        )
        if options["dry_run"]:
            self.stdout.write(" ".join(command))
            return
        self.stdout.flush()
        # Celery takes over this process (same PID for systemd and its signals). The settings'
        # root logger follows LAGEBILD_LOG_LEVEL, which would otherwise hide the tasks' lines.
        connections.close_all()
        os.environ["LAGEBILD_LOG_LEVEL"] = options["loglevel"].upper()
        os.execv(command[0], command)
