"""``lagebild flush`` (and the test suite's flush after each transactional test) on PostgreSQL.

Emptying the whole database also empties the audit log, which its trigger (migration
core 0006) otherwise refuses. This command, run by the owner of the tables, switches the
trigger's maintenance setting on for its own statements only and off again afterwards; see
the migration for why that is sound. The chain head goes with the rest, so the log restarts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            return super().handle(**options)
        with connection.cursor() as cursor:
            cursor.execute("SET lagebild.audit_maintenance = 'on'")
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lagebild.audit_maintenance")
