"""Deletion of due recordings and re-hashing of stored files; system jobs over all authorities.

``due_recordings`` and ``purge_due`` are the interface for the retention engine
(``lagebild.privacy``) and for ``lagebild recordings purge``. A recording is due when its
``delete_after`` has come: 14 days after its start, or the date a four-eyes decision set.
Both are idempotent; a purge interrupted by a crash is finished by the next run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from lagebild.core import audit
from lagebild.core.scoping import unscoped

from . import storage
from .models import CustodyEvent, Recording, RetentionState
from .services import add_custody, delete_recording

PURGE_REASON = "Löschfrist abgelaufen (§ 15c PolG NRW)"


def due_recordings(now: dt.datetime) -> QuerySet[Recording]:
    """Recordings whose deletion date has come; call inside ``unscoped()`` or a scope."""
    return Recording.objects.filter(
        state__in=[RetentionState.STORED, RetentionState.RETAINED], delete_after__lte=now
    ).order_by("delete_after", "pk")


def purge_due(now: dt.datetime | None = None, *, dry_run: bool) -> int:
    """Delete every due recording (file removed, row kept as tombstone); returns the count."""
    now = now or timezone.now()
    with unscoped():
        due = list(due_recordings(now))
        if dry_run:
            return len(due)
        for recording in due:
            reason = PURGE_REASON
            if recording.state == RetentionState.RETAINED:
                reason = "Löschdatum der Sicherung erreicht"
            delete_recording(recording, now=now, reason=reason)
        if due:
            audit.log("bodycam.recordings.purged", object_type="bodycam.recording", count=len(due))
    return len(due)


@dataclass(frozen=True)
class Problem:
    recording_id: int
    kind: str  # "missing", "mismatch", "chain"
    message: str


def _chain_problem(recording: Recording) -> str | None:
    previous = ""
    for event in recording.custody.order_by("pk"):
        if event.previous_hash != previous:
            return f"Verwahrkette unterbrochen vor Eintrag {event.pk} ({event.get_kind_display()})"
        if event.compute_hash() != event.entry_hash:
            return f"Eintrag {event.pk} der Verwahrkette ({event.get_kind_display()}) wurde verändert"
        previous = event.entry_hash
    return None


def verify_all(now: dt.datetime | None = None, *, record: bool = True) -> tuple[int, list[Problem]]:
    """Re-hash every stored file and check every custody chain.

    Returns the number of files checked and the problems found. With ``record`` each check
    adds a "verified" link to the recording's chain, with its result.
    """
    now = now or timezone.now()
    problems: list[Problem] = []
    checked = 0
    with unscoped():
        for recording in Recording.objects.order_by("pk").iterator(chunk_size=200):
            chain = _chain_problem(recording)
            if chain:
                problems.append(Problem(recording.pk, "chain", chain))
            if recording.is_deleted:
                continue
            checked += 1
            result = "ok"
            try:
                sha, size = storage.hash_file(storage.absolute_path(recording.storage_path))
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                result = "missing"
                problems.append(Problem(recording.pk, "missing", f"Datei fehlt: {recording.storage_path}"))
            else:
                if sha != recording.sha256 or size != recording.size_bytes:
                    result = "mismatch"
                    problems.append(
                        Problem(
                            recording.pk,
                            "mismatch",
                            f"Prüfsumme weicht ab: erwartet {recording.sha256}, gefunden {sha} "
                            f"({size} statt {recording.size_bytes} Byte)",
                        )
                    )
            if record:
                with transaction.atomic():
                    locked = Recording.objects.select_for_update().get(pk=recording.pk)
                    add_custody(locked, CustodyEvent.Kind.VERIFIED, at=now, result=result)
        audit.log(
            "bodycam.recordings.verified",
            object_type="bodycam.recording",
            checked=checked,
            problems=len(problems),
        )
    return checked, problems
