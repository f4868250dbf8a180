"""``lagebild notify [--dry-run] [--no-email]``: the Sonderstab's notifications, for a scheduler.

Idempotent: every notification has a key naming its occasion, so a second run (or two runs at
once) creates and sends nothing twice. See :mod:`lagebild.taskforce.notifications`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from lagebild.taskforce import notifications


class Command(BaseCommand):
    help = (
        "Benachrichtigt die Mitglieder der Sonderstäbe über fällige und überfällige Meilensteine, "
        "Ziele mit neuem Stand, Entscheidungen des Verwaltungsvorstands und neue Aufgaben – in "
        "Lagebild und per E-Mail, wie jede Person es eingestellt hat. Mehrfach ausführbar: nichts "
        "wird doppelt verschickt. Für einen Lauf z. B. jede Stunde gedacht."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Nur zählen, nichts speichern und nichts versenden"
        )
        parser.add_argument(
            "--no-email",
            action="store_true",
            help="Benachrichtigungen anlegen, aber keine E-Mails senden (der nächste Lauf holt sie nach)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = notifications.run(dry_run=options["dry_run"], send_emails=not options["no_email"])
        self.stdout.write(result.summary_de())
