"""``lagebild two-factor-reset USERNAME``: remove a user's second factor (lost phone)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.accounts.twofactor import two_factor_reset
from lagebild.core.models import User


class Command(BaseCommand):
    help = (
        "Entfernt Authenticator-App und Wiederherstellungscodes eines Benutzers (verlorenes Telefon); "
        "bei der nächsten Anmeldung richtet er den zweiten Faktor neu ein."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="Benutzername")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"Benutzer {options['username']!r} ist unbekannt.")
        removed = two_factor_reset(user, via="command")
        self.stdout.write(f"Zweiter Faktor von {user.username} entfernt ({removed} Einträge).")
