"""``lagebild check-deploy``: unsafe settings of this installation, with the fix; exit 1 if any."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from lagebild.core.deploycheck import config_from_settings, find_problems
from lagebild.core.models import User
from lagebild.demo.base import DEMO_LOGINS, DEMO_PASSWORD

DEMO_EMAIL_DOMAIN = "@demo.lagebild.invalid"  # the marker `lagebild demo` gives its logins


def demo_accounts_present() -> list[str]:
    """Active demo logins: a name ``lagebild demo`` creates, with its marker address or the demo password."""
    names = [login.username for login in DEMO_LOGINS]
    present = []
    for user in User.objects.filter(username__in=names, is_active=True).order_by("username"):
        if user.email.endswith(DEMO_EMAIL_DOMAIN) or user.check_password(DEMO_PASSWORD):
            present.append(user.username)
    return present


class Command(BaseCommand):
    help = "Prüft die Einstellungen dieser Installation auf unsichere Werte (über `check --deploy` hinaus)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            demo_accounts = demo_accounts_present()
        except DatabaseError:
            demo_accounts = []
            self.stdout.write(
                "Hinweis: Demo-Konten nicht geprüft, die Datenbank ist nicht erreichbar oder nicht "
                "eingerichtet (`lagebild migrate`)."
            )
        findings = find_problems(config_from_settings(settings, demo_accounts))
        if not findings:
            self.stdout.write(self.style.SUCCESS("Keine unsicheren Einstellungen gefunden."))
            return
        self.stdout.write(f"{len(findings)} unsichere Einstellung(en):\n")
        for finding in findings:
            self.stdout.write(str(finding) + "\n")
        self.stdout.write("Außerdem: `lagebild check --deploy` für Djangos eigene Prüfungen.")
        raise CommandError("Unsichere Einstellungen gefunden.", returncode=1)
