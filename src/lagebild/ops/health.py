"""Readiness checks for load balancers (``/readyz``): database, migrations, broker, deferred counts.

Each check answers with a :class:`Check`; none raises. Details name what is wrong in German for
the operator, never a password, host name or personal data: ``/readyz`` needs no login.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Min
from django.utils import timezone

logger = logging.getLogger(__name__)

DEFAULT_MAX_PENDING_AGE_SECONDS = 900
DEFAULT_BROKER_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **({"detail": self.detail} if self.detail else {}), **self.facts}


def _failed(what: str, exc: BaseException) -> Check:
    # The class name tells the operator enough to look into the server's log; the message
    # could name hosts or users and /readyz is public.
    logger.warning("Bereitschaftsprüfung: %s: %s: %s", what, type(exc).__name__, exc)
    return Check(False, f"{what}: {type(exc).__name__}")


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _failed("Datenbank nicht erreichbar", exc)
    return Check(True)


_migrations_applied = False


def check_migrations() -> Check:
    """No unapplied migration. Once true it stays true for this process (reading every
    migration file costs about 100 ms; a new release starts new processes anyway)."""
    global _migrations_applied
    if _migrations_applied:
        return Check(True)
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return _failed("Migrationen nicht prüfbar", exc)
    if plan:
        names = sorted({f"{migration.app_label}.{migration.name}" for migration, _ in plan})
        shown = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
        return Check(
            False,
            f"{len(names)} Migration(en) nicht angewendet ({shown}): lagebild migrate ausführen",
            {"unapplied": len(names)},
        )
    _migrations_applied = True
    return Check(True)


def forget_migrations_state() -> None:
    """For tests: check the migrations again on the next call."""
    global _migrations_applied
    _migrations_applied = False


def broker_timeout() -> float:
    return float(getattr(settings, "LAGEBILD_READY_BROKER_TIMEOUT", DEFAULT_BROKER_TIMEOUT_SECONDS))


def broker_connection(url: str, timeout: float) -> Any:
    """A kombu connection that gives up after ``timeout`` seconds instead of retrying."""
    from kombu import Connection

    return Connection(
        url,
        connect_timeout=timeout,
        transport_options={
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "max_retries": 0,
        },
    )


def check_broker() -> Check:
    url = str(getattr(settings, "LAGEBILD_BROKER_URL", "") or "")
    if not url:
        return Check(True, "nicht konfiguriert: Aufgaben laufen im Prozess", {"configured": False})
    timeout = broker_timeout()
    try:
        with broker_connection(url, timeout) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
            conn.default_channel  # noqa: B018 — Redis connects only when a channel is opened
    except Exception as exc:
        return Check(False, f"Broker nicht erreichbar ({type(exc).__name__})", {"configured": True})
    return Check(True, facts={"configured": True})


def max_pending_age() -> dt.timedelta:
    seconds = getattr(settings, "LAGEBILD_READY_MAX_PENDING_AGE", DEFAULT_MAX_PENDING_AGE_SECONDS)
    return dt.timedelta(seconds=int(seconds))


@dataclass(frozen=True)
class PendingState:
    runs: int
    oldest_age: dt.timedelta | None


def pending_counts_state() -> PendingState:
    """How many deferred count runs wait (all authorities: a platform figure) and how old the oldest is."""
    from lagebild.analytics.models import PendingCounts

    figures = PendingCounts.objects.aggregate(runs=Count("pk"), oldest=Min("created_at"))
    oldest = figures["oldest"]
    age = max(timezone.now() - oldest, dt.timedelta(0)) if oldest is not None else None
    return PendingState(runs=figures["runs"], oldest_age=age)


def check_pending_counts() -> Check:
    limit = max_pending_age()
    try:
        state = pending_counts_state()
    except Exception as exc:
        return _failed("Offene Zählungen nicht lesbar", exc)
    age_seconds = int(state.oldest_age.total_seconds()) if state.oldest_age is not None else None
    facts = {
        "runs": state.runs,
        "oldest_age_seconds": age_seconds,
        "max_age_seconds": int(limit.total_seconds()),
    }
    if state.oldest_age is not None and state.oldest_age > limit:
        return Check(
            False,
            f"Die älteste offene Zählung wartet seit {age_seconds} s (Grenze {facts['max_age_seconds']} s): "
            "arbeiten die Worker?",
            facts,
        )
    return Check(True, facts=facts)


CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "broker": check_broker,
    "pending_counts": check_pending_counts,
}


def readiness() -> tuple[bool, dict[str, Check]]:
    """Every check, in a fixed order; ready only when all are ok."""
    results = {name: check() for name, check in CHECKS.items()}
    return all(result.ok for result in results.values()), results
