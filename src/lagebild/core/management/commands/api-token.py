"""``lagebild api-token USERNAME``: print the API token of a user (created if missing)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from lagebild.core import audit
from lagebild.core.models import User


class Command(BaseCommand):
    help = (
        "Gibt den API-Token eines Benutzers aus (für 'Authorization: Token <key>'); "
        "legt ihn an, falls er fehlt. Mit --reset wird ein neuer Token erzeugt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="Benutzername")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Alten Token ungültig machen und einen neuen erzeugen.",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Benutzer {username!r} ist unbekannt.")
        if not user.is_active:
            raise CommandError(f"Benutzer {username!r} ist deaktiviert; ein Token wäre unwirksam.")
        if options["reset"]:
            Token.objects.filter(user=user).delete()
        token, created = Token.objects.get_or_create(user=user)
        if created:
            action = "core.api_token.reset" if options["reset"] else "core.api_token.created"
            # Run on the server's shell: the actor is the operator, not the token's owner.
            audit.log(
                action, object_type="core.user", object_id=user.pk, username=user.username, via="command"
            )
        self.stdout.write(token.key)
