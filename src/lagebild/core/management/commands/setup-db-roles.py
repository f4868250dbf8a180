"""``lagebild setup-db-roles --role NAME``: the PostgreSQL role the web application runs under.

Run it as the owner of the tables (the role that runs ``lagebild migrate``), after every
migration (new tables need their grants). The application role may read and write what the
application writes, but on the audit log only read and append: no UPDATE, DELETE or TRUNCATE.
Together with the trigger of migration core 0006 no past entry can be changed through the
application's connection, even by someone who takes over the application.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from lagebild.core.models import AuditChainHead, AuditEvent

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def append_only_tables(extra: list[str] | None = None) -> list[str]:
    """Tables whose rows the application may add but never change or remove: the audit log,
    and what other apps name (``--append-only``, e.g. a custody chain)."""
    from django.apps import apps

    tables = [AuditEvent._meta.db_table]
    # A recording's chain of custody outlives the recording itself (the row stays a tombstone).
    if apps.is_installed("lagebild.bodycam"):
        tables.append(apps.get_model("bodycam", "CustodyEvent")._meta.db_table)
    return [*tables, *(extra or [])]


def grant_statements(
    role: str, *, password: str | None, login: bool, append_only: list[str] | None = None
) -> list[tuple[str, list]]:
    quoted = connection.ops.quote_name(role)
    statements: list[tuple[str, list]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls FROM pg_roles "
            "WHERE rolname = %s",
            [role],
        )
        row = cursor.fetchone()
    exists, privileged = row is not None, bool(row and row[0])
    options = "LOGIN" if login else "NOLOGIN"
    # Only a superuser may name NOBYPASSRLS, even for a role that lacks it; an owner role with
    # CREATEROLE (docs/operations.md) re-runs this after every migrate, so an existing role that
    # holds none of these rights is left as it is and only a privileged one is stripped.
    if not exists or privileged:
        options += " NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
    statements.append((f"{'ALTER' if exists else 'CREATE'} ROLE {quoted} {options}", []))
    if password:
        statements.append((f"ALTER ROLE {quoted} PASSWORD %s", [password]))
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    statements += [
        (
            f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
            [],
        ),
        (f"GRANT USAGE ON SCHEMA public TO {quoted}", []),
        (f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}", []),
        (f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}", []),
        (f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}", []),
    ]
    for table in append_only_tables(append_only):
        statements.append(
            (f"REVOKE UPDATE, DELETE, TRUNCATE ON {connection.ops.quote_name(table)} FROM {quoted}", [])
        )
    # The chain head is updated on every entry, but never removed.
    head = connection.ops.quote_name(AuditChainHead._meta.db_table)
    statements.append((f"REVOKE DELETE, TRUNCATE ON {head} FROM {quoted}", []))
    return statements


class Command(BaseCommand):
    help = (
        "Legt die PostgreSQL-Rolle der Webanwendung an oder aktualisiert sie: alle Rechte, die die "
        "Anwendung braucht, aber kein UPDATE, DELETE oder TRUNCATE auf dem Protokoll. Als Eigentümer "
        "der Tabellen ausführen, nach jedem »lagebild migrate« erneut."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, help="Name der Anwendungsrolle, z. B. lagebild_app")
        parser.add_argument(
            "--password-env",
            default="LAGEBILD_DB_APP_PASSWORD",
            help="Umgebungsvariable mit dem Passwort der Rolle (Standard: LAGEBILD_DB_APP_PASSWORD); "
            "leer: Passwort unverändert",
        )
        parser.add_argument("--nologin", action="store_true", help="Rolle ohne Anmelderecht (Gruppenrolle)")
        parser.add_argument(
            "--append-only",
            action="append",
            default=[],
            metavar="TABELLE",
            help="weitere Tabelle, die die Anwendung nur lesen und ergänzen darf (mehrfach möglich)",
        )
        parser.add_argument("--dry-run", action="store_true", help="nur die SQL-Befehle ausgeben")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("setup-db-roles gibt es nur für PostgreSQL (DATABASE_URL=postgres://…).")
        role = options["role"]
        if not ROLE_NAME.match(role):
            raise CommandError("Rollenname: Kleinbuchstaben, Ziffern und _ (höchstens 63 Zeichen).")
        if role == connection.settings_dict.get("USER"):
            raise CommandError(
                "Die Anwendungsrolle muss eine andere sein als die Eigentümerrolle der Tabellen."
            )
        password = os.environ.get(options["password_env"], "") or None
        tables = set(connection.introspection.table_names())
        unknown = [t for t in options["append_only"] if t not in tables]
        if unknown:
            raise CommandError(f"Unbekannte Tabelle: {', '.join(unknown)}")
        statements = grant_statements(
            role, password=password, login=not options["nologin"], append_only=options["append_only"]
        )
        if options["dry_run"]:
            for sql, params in statements:
                self.stdout.write((sql % tuple("'…'" for _ in params)) + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
        self.stdout.write(
            f"Rolle {role} eingerichtet: lesen und schreiben, Protokoll nur lesen und anhängen."
        )
