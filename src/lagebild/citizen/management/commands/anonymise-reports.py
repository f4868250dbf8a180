"""``lagebild anonymise-reports [--days N] [--dry-run]``: retention of reporter contact data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lagebild.citizen.retention import ENV_RETENTION_DAYS, anonymise_reporters, retention_days


class Command(BaseCommand):
    help = (
        "Löscht Name, E-Mail und Telefon der meldenden Person bei Hinweisen, die seit mehr als N Tagen "
        f"abgeschlossen sind (Standard: {ENV_RETENTION_DAYS} oder 365). Für einen täglichen Lauf gedacht."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Tage nach dem Abschluss (Standard: Umgebungsvariable {ENV_RETENTION_DAYS} oder 365)",
        )
        parser.add_argument("--dry-run", action="store_true", help="Nur zählen, nichts ändern")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            try:
                days = retention_days()
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        if days < 0:
            raise CommandError("--days darf nicht negativ sein.")
        result = anonymise_reporters(days=days, dry_run=options["dry_run"])
        cutoff = timezone.localtime(result.cutoff)
        if result.dry_run:
            self.stdout.write(
                f"Probelauf: {result.count} Hinweise mit Kontaktdaten, abgeschlossen vor "
                f"{cutoff:%d.%m.%Y %H:%M}, würden anonymisiert. Nichts geändert."
            )
        else:
            self.stdout.write(
                f"{result.count} Hinweise anonymisiert (abgeschlossen vor {cutoff:%d.%m.%Y %H:%M}, "
                f"Frist {days} Tage)."
            )
