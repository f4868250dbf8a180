"""Fast inserts for generated data (demo city, benchmarks).

Django's ``bulk_create`` spends most of its time building model instances and SQL; for
hundreds of thousands of generated rows we insert plain tuples instead: ``executemany``
on SQLite, ``COPY`` on PostgreSQL. Primary keys are reserved up front (from the sequence
on PostgreSQL, after the current maximum inside the write transaction on SQLite), so
related rows can point at them without a round trip.

Only for trusted, already validated data written inside ``transaction.atomic()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

CHUNK = 10_000


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def db_datetime(value: dt.datetime | None) -> Any:
    """An aware datetime as the backend stores it (SQLite: naive UTC text, like Django)."""
    if value is None or is_postgresql():
        return value
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def datetime_adapter() -> Any:
    """A fast converter for many datetimes (avoids the vendor check per value)."""
    if is_postgresql():
        return lambda value: value
    utc = dt.UTC
    return lambda value: None if value is None else str(value.astimezone(utc).replace(tzinfo=None))


def db_date(value: dt.date | None) -> Any:
    if value is None or is_postgresql():
        return value
    return value.isoformat()


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` primary keys that the following insert may use."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if is_postgresql():
            # The sequence looked up once: pg_get_serial_sequence() inside the nextval()
            # would search the catalogue once per row.
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            (sequence,) = cursor.fetchone()
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
            return [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)}")
        start = int(cursor.fetchone()[0]) + 1
    return list(range(start, start + count))


def columns(model: type[Model], fields: Sequence[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in fields]


def insert(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows (tuples in the order of ``fields``, values already adapted)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(c) for c in columns(model, fields))
    count = 0
    with connection.cursor() as cursor:
        if is_postgresql():
            raw = cursor.cursor  # the psycopg cursor, for COPY
            with raw.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({column_list}) VALUES ({', '.join(['%s'] * len(fields))})"
        chunk: list[Sequence[Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count
