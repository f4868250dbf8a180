"""Analytics reads from a read replica (LAGEBILD_REPLICA_DATABASE_URL), everything else from default.

Routing is by request, not by model: a view that only reports figures (the cockpit, the
Einsatzbilanz) enters :func:`analytics_reads`, and only the reads inside it go to the replica.
Every write, every read of any other page, and every read inside a transaction on the default
database (e.g. applying deferred counts before a report) stay on the default database, so a
page never misses what its user has just written because the replica lags a second behind.
Without a replica configured everything uses default.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

from .scaleout import REPLICA

_analytics_reads: ContextVar[bool] = ContextVar("lagebild_analytics_reads", default=False)


@contextmanager
def analytics_reads() -> Iterator[None]:
    """Reads inside go to the replica (if there is one and no write transaction is open)."""
    token = _analytics_reads.set(True)
    try:
        yield
    finally:
        _analytics_reads.reset(token)


def reads_from_replica(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view decorator: the view's reads are analytics reads.

    The user and the session are loaded from the default database first: right after a
    login the replica may not have the new session yet.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None:
            user.is_authenticated  # noqa: B018 -- evaluates the lazy user here, on default
        with analytics_reads():
            return view(request, *args, **kwargs)

    return wrapper


def analytics_database() -> str:
    """The alias for a read now: the replica inside :func:`analytics_reads`, else default."""
    if (
        _analytics_reads.get()
        and REPLICA in settings.DATABASES
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA
    return DEFAULT_DB_ALIAS


class AnalyticsReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        return analytics_database()

    def db_for_write(self, model: type, **hints: Any) -> str:
        # Explicit: Django would otherwise save an object read from the replica back to it.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the same rows as default

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> None:
        return None  # production migrates default only; the test runner builds both
