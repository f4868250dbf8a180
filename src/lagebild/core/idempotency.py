"""Idempotent writes: a retried request with the same ``Idempotency-Key`` creates nothing new.

A client (the field app on a flaky mobile connection, an integration, a double tap on the entry
form) sends a key it chose with a write. The first request with that key *claims* it: a row is
inserted and committed before the work starts, so the unique constraint on (scope, key) decides
between two concurrent requests, on every database. The work and the stored answer are then
committed together (``complete`` inside the caller's transaction): a request killed halfway
leaves no record and only a claim, which becomes free again after ``STALE_AFTER``. Later
requests with the key get

* the stored answer again when they are the same request (same method, path, body and scope),
* ``mismatch`` when the key is reused for another request (the API answers 422),
* ``in_flight`` while the first request still works (409).

Only successful answers are kept; when the work fails, the claim is released so that a
corrected retry with the same key may run. Keys are scoped per user (API, web form) or per
Open311 client, so one client can neither replay nor block another's answers; they expire
after ``TTL`` and ``purge_expired`` deletes them (the stored answer may hold personal data).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = dt.timedelta(hours=24)
# A claim this old without an answer belongs to a request that died (worker killed, timeout):
# its transaction was rolled back, so taking the key over cannot create a second record.
STALE_AFTER = dt.timedelta(minutes=5)
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces (a UUID fits)

INVALID_KEY_MESSAGE = "Der Idempotency-Key muss 1 bis 255 druckbare ASCII-Zeichen ohne Leerzeichen haben."
MISMATCH_MESSAGE = (
    "Dieser Idempotency-Key wurde bereits für eine andere Anfrage verwendet. "
    "Bitte für jede neue Anfrage einen neuen Schlüssel senden."
)
IN_FLIGHT_MESSAGE = (
    "Eine Anfrage mit diesem Idempotency-Key wird gerade noch bearbeitet. "
    "Bitte kurz warten und erneut senden."
)


class Outcome(enum.Enum):
    CLAIMED = "claimed"  # first request: do the work, then complete() or release()
    REPLAY = "replay"  # same request again: answer with the stored response
    MISMATCH = "mismatch"  # key reused for another request
    IN_FLIGHT = "in_flight"  # the first request with the key is still working


@dataclass(frozen=True)
class Claim:
    outcome: Outcome
    record: IdempotencyKey | None = None


def valid_key(key: str) -> bool:
    return bool(KEY_PATTERN.match(key))


def fingerprint(*, method: str, path: str, body: bytes, scope: str) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), scope.encode()):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(body)
    return digest.hexdigest()


def claim(*, scope: str, key: str, request_fingerprint: str) -> Claim:
    """Claim ``key`` for a request, or say why the request must not run (see the module)."""
    now = timezone.now()
    for _attempt in range(3):
        try:
            # Committed on its own (savepoint when the caller is already in a transaction,
            # e.g. in tests), so a concurrent request sees the claim at once.
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    scope=scope,
                    key=key,
                    fingerprint=request_fingerprint,
                    created_at=now,
                    expires_at=now + TTL,
                )
            return Claim(Outcome.CLAIMED, record)
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if existing is None:
            continue  # released or purged meanwhile: try again
        abandoned = (
            existing.state == IdempotencyKey.State.IN_PROGRESS and existing.created_at < now - STALE_AFTER
        )
        if existing.expires_at <= now or abandoned:
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != request_fingerprint:
            return Claim(Outcome.MISMATCH, existing)
        if existing.state == IdempotencyKey.State.IN_PROGRESS:
            return Claim(Outcome.IN_FLIGHT, existing)
        return Claim(Outcome.REPLAY, existing)
    return Claim(Outcome.IN_FLIGHT)


def complete(
    record: IdempotencyKey, *, status_code: int, body: str, content_type: str = "", location: str = ""
) -> None:
    """Store the answer; call it inside the transaction that wrote the records."""
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=IdempotencyKey.State.DONE,
        status_code=status_code,
        body=body,
        content_type=content_type[:100],
        location=location[:500],
    )


def release(record: IdempotencyKey) -> None:
    """The work failed or was refused: free the key for a retry (nothing was created)."""
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_PROGRESS).delete()


def wait_until_done(record: IdempotencyKey, *, timeout: float = 10.0) -> IdempotencyKey | None:
    """Poll for the answer of a request still in flight (the web form's double tap); ``None``
    when it did not finish in time or was released."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = IdempotencyKey.objects.filter(pk=record.pk).first()
        if current is None or current.state == IdempotencyKey.State.DONE:
            return current
        time.sleep(0.1)
    return None


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete expired keys with their stored answers; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
