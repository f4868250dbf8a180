"""``lagebild api-token USERNAME``: create, list or revoke a user's API tokens.

The key of a new token is printed once; Lagebild keeps only its SHA-256 and cannot show it
again. ``--list`` shows the tokens by their first characters.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lagebild.accounts import tokens
from lagebild.core.models import User


class Command(BaseCommand):
    help = (
        "Legt einen API-Token für einen Benutzer an und gibt ihn einmalig aus "
        "(für 'Authorization: Token <key>'). --list zeigt die Tokens, --revoke widerruft einen, "
        "--reset widerruft alle und legt einen neuen an."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="Benutzername")
        parser.add_argument("--name", default="Kommandozeile", help="Bezeichnung des neuen Tokens.")
        parser.add_argument(
            "--days", type=int, default=None, help="Gültigkeit in Tagen (Vorgabe LAGEBILD_API_TOKEN_DAYS)."
        )
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--list", action="store_true", help="Tokens des Benutzers auflisten.")
        action.add_argument("--revoke", metavar="ID_ODER_ANFANG", help="Einen Token widerrufen.")
        action.add_argument(
            "--reset", action="store_true", help="Alle gültigen Tokens widerrufen und einen neuen anlegen."
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Benutzer {username!r} ist unbekannt.")
        if options["list"]:
            self._list(user)
            return
        if options["revoke"]:
            self._revoke(user, options["revoke"])
            return
        if not user.is_active:
            raise CommandError(f"Benutzer {username!r} ist deaktiviert; ein Token wäre unwirksam.")
        if options["reset"]:
            for token in tokens.tokens_of(user).filter(revoked_at__isnull=True):
                tokens.token_revoke(token=token, actor=None, via="command")
        try:
            # Run on the server's shell: the actor is the operator, not the token's owner.
            created = tokens.token_create(
                user=user, name=options["name"], days=options["days"], actor=None, via="command"
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(created.key)

    def _list(self, user: User) -> None:
        now = timezone.now()
        rows = list(tokens.tokens_of(user))
        if not rows:
            self.stdout.write(f"{user.username} hat keine API-Tokens.")
            return
        for token in rows:
            if token.revoked_at is not None:
                state = "widerrufen"
            elif token.expires_at <= now:
                state = "abgelaufen"
            else:
                state = "gültig"
            last = (
                timezone.localtime(token.last_used_at).strftime("%d.%m.%Y %H:%M")
                if token.last_used_at
                else "nie"
            )
            self.stdout.write(
                f"{token.pk}\t{token.prefix}…\t{token.name}\t"
                f"angelegt {timezone.localtime(token.created_at):%d.%m.%Y}\t"
                f"gültig bis {timezone.localtime(token.expires_at):%d.%m.%Y}\t"
                f"zuletzt benutzt {last}\t{state}"
            )

    def _revoke(self, user: User, which: str) -> None:
        match = Q(prefix=which)
        if which.isdigit():
            match |= Q(pk=int(which))
        found = list(tokens.tokens_of(user).filter(match))
        if not found:
            raise CommandError(f"{user.username} hat keinen Token {which!r}.")
        if len(found) > 1:
            raise CommandError(f"{which!r} passt auf mehrere Tokens; bitte die ID angeben (--list).")
        token = found[0]
        if tokens.token_revoke(token=token, actor=None, via="command"):
            self.stdout.write(f"Token {token.prefix}… ({token.name}) widerrufen.")
        else:
            self.stdout.write(f"Token {token.prefix}… ({token.name}) war schon widerrufen.")
