"""Settings for several application servers sharing one database (docs/operations.md, "Scale-out").

Pure functions of the environment, called from settings.py: the cache from
``LAGEBILD_CACHE_URL`` and the optional read replica from ``LAGEBILD_REPLICA_DATABASE_URL``.
"""

from __future__ import annotations

from typing import Any

import dj_database_url

REPLICA = "replica"


def cache_settings(url: str) -> dict[str, dict[str, Any]]:
    """Django's CACHES for LAGEBILD_CACHE_URL.

    The cache holds the API's throttling counters and computed open-data tables. Without a URL
    each process keeps its own (Django's local-memory cache): right for one process, but with
    several gunicorn workers or servers each counts API requests separately. ``redis://…`` (or
    ``rediss://…``) shares it through Redis, ``db`` through a table in the database (create it
    once with ``lagebild createcachetable``).
    """
    text = url.strip()
    if text.startswith(("redis://", "rediss://", "unix://")):
        backend: dict[str, Any] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": text,
            "KEY_PREFIX": "lagebild",
        }
    elif text.lower() in {"db", "database", "datenbank"}:
        backend = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "lagebild_cache"}
    elif text.lower() in {"", "locmem", "local"}:
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    else:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"LAGEBILD_CACHE_URL={text!r}: erwartet redis://HOST:PORT/DB, db oder leer."
        )
    return {"default": backend}


def replica_databases(url: str, default: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The "replica" database for analytics reads, when LAGEBILD_REPLICA_DATABASE_URL is set.

    A read-only copy of the default database (PostgreSQL streaming replication); Lagebild never
    writes to it and never migrates it in production (the replication copies the schema). In
    tests it is a database of its own, created and migrated by the test runner.
    """
    text = url.strip()
    if not text:
        return {}
    config = dj_database_url.parse(
        text, conn_max_age=default.get("CONN_MAX_AGE", 60), conn_health_checks=True
    )
    if config["ENGINE"] != default["ENGINE"]:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "LAGEBILD_REPLICA_DATABASE_URL muss dieselbe Datenbankart wie DATABASE_URL haben "
            "(eine Replik der PostgreSQL-Datenbank)."
        )
    return {REPLICA: config}
