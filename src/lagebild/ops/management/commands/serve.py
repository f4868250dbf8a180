"""``lagebild serve``: the production application server (gunicorn), configured by the environment."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from lagebild.ops.appserver import ServerConfigError, describe, gunicorn_command, server_settings


class Command(BaseCommand):
    help = (
        "Startet den Anwendungsserver gunicorn mit den Einstellungen aus der Umgebung "
        "(LAGEBILD_BIND, LAGEBILD_WORKERS, LAGEBILD_THREADS, LAGEBILD_TIMEOUT, LAGEBILD_MAX_REQUESTS, "
        "LAGEBILD_ACCESS_LOG; siehe docs/operations.md). Sammelt vorher die statischen Dateien "
        "(collectstatic) ein, die WhiteNoise komprimiert und mit langer Cache-Dauer ausliefert."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="statische Dateien nicht einsammeln (etwa wenn ein Installationsschritt das schon tut)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="nur die Einstellungen und den gunicorn-Befehl ausgeben, nichts starten",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            server = server_settings(os.environ)
        except ServerConfigError as error:
            raise CommandError(str(error)) from None
        command = gunicorn_command()
        self.stdout.write(describe(server))
        if options["dry_run"]:
            self.stdout.write(" ".join(command))
            return
        # With DEBUG on the files are served from the source directories as they change.
        if not options["no_collectstatic"] and not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write(f"Statische Dateien in {settings.STATIC_ROOT} eingesammelt.")
        self.stdout.flush()
        # gunicorn takes over this process (same PID for systemd and signals); the workers
        # open their own database connections after the fork.
        connections.close_all()
        os.execv(command[0], command)
