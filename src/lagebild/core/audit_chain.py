"""The hash chain of the audit log: canonical form of an entry and its SHA-256 (pure, no models).

Every entry's hash covers its sequence number, time, actor (id and frozen name), authority,
action, object, purpose, channel, client address, details and the previous entry's hash, so
changing, removing, reordering or inserting an entry breaks the chain at that point.

This module is part of the log's format: entries written years ago are verified with it, and
the data migration that chained the entries existing before the chain imports it. Change it
only together with a new format version (a new field in the entry), never in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

GENESIS = "0" * 64
"""The "previous hash" of the first entry."""

_DUMPS = json.JSONEncoder(ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False).encode
_text = encode_basestring_ascii


def canonical_time(at: dt.datetime) -> str:
    """UTC with microseconds, e.g. ``2026-12-06T20:48:41.000123Z`` (what both databases keep)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sqlite_time(text: str) -> str:
    """The canonical time from SQLite's stored text (``2026-12-06 20:48:41[.000123]``, UTC)."""
    fraction = text[20:26] if len(text) > 19 else ""
    return f"{text[:10]}T{text[11:19]}.{fraction:0<6}Z"


def normalise_detail(value: Any) -> Any:
    """Details as both databases give them back: JSON types only, whole floats as integers.

    PostgreSQL's jsonb keeps numbers as decimals, so a float such as ``1e20`` comes back as the
    integer ``100000000000000000000``; storing it as that integer in the first place keeps the
    hash computed when writing equal to the one computed when verifying. Values JSON cannot
    hold (dates, decimals, ids as objects) are stored as their text.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(key): normalise_detail(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [normalise_detail(item) for item in items]
    return str(value)


def entry_hash(
    *,
    seq: int,
    at: str,
    user_id: int | None,
    actor_name: str,
    authority_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    purpose: str,
    channel: str,
    ip: str,
    detail: Any,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the entry's canonical form: a JSON array in fixed order, sorted keys,
    no spaces, ASCII only. ``at`` is :func:`canonical_time`'s text."""
    return row_hash(
        (
            seq,
            at,
            user_id,
            actor_name,
            authority_id,
            action,
            object_type,
            object_id,
            purpose,
            channel,
            ip,
            detail,
            prev_hash,
        )
    )


def canonical_form(row: tuple) -> str:
    """The canonical JSON text of a row in :data:`ROW_FIELDS` order, led by the format version 1.

    Exactly ``json.dumps([1, *row], ensure_ascii=True, sort_keys=True, separators=(",", ":"))``
    (the test suite checks that), but written out field by field: the general encoder costs
    several microseconds per entry, which is most of ``audit verify``'s time over millions."""
    (
        seq,
        at,
        user_id,
        name,
        authority_id,
        action,
        object_type,
        object_id,
        purpose,
        channel,
        ip,
        detail,
        prev,
    ) = row
    return (
        f"[1,{seq:d},{_text(at)},{'null' if user_id is None else int(user_id)},{_text(name)},"
        f"{'null' if authority_id is None else int(authority_id)},{_text(action)},{_text(object_type)},"
        f"{_text(object_id)},{_text(purpose)},{_text(channel)},{_text(ip)},"
        f"{'{}' if not detail and isinstance(detail, dict) else _DUMPS(detail)},{_text(prev)}]"
    )


def row_hash(row: tuple) -> str:
    """:func:`entry_hash` of a row in :data:`ROW_FIELDS` order (the fast path of verify and bench)."""
    return hashlib.sha256(canonical_form(row).encode("ascii")).hexdigest()


ROW_FIELDS = (
    "seq",
    "at",
    "user_id",
    "actor_name",
    "authority_id",
    "action",
    "object_type",
    "object_id",
    "purpose",
    "channel",
    "ip",
    "detail",
    "prev_hash",
)
