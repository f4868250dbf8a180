"""Retention of the audit log: removing its oldest entries without breaking the chain.

``lagebild retention run`` (``lagebild.privacy``) calls :data:`handler`. Only a *prefix* of the
chain can go: entries are handed out in sequence order from the start and the first entry
that is not yet due ends the batch, so the remaining entries still form one chain. Removing
them records the new start in the chain head (number and hash of the last removed entry,
where ``audit verify`` begins), appends an ``audit.pruned`` entry naming that point, and
appends the point to the anchor file. Runs per authority remove nothing: the log is one chain.

On PostgreSQL the trigger lets the deletion through only for the owner of the tables with the
maintenance setting (migration core 0006): retention of the log runs under the owner's role,
never the web application's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from . import audit
from .audit_verify import anchor_file
from .models import AuditChainHead, AuditEvent

CHUNK = 5000


class AuditRetention:
    action = "deleted"

    def find_due(
        self,
        *,
        now: dt.datetime,
        retention: Any,
        authority_id: int | None,
        skip: Sequence[Any] = (),
        limit: int | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        from lagebild.privacy.handlers import Due

        if authority_id is not None:
            return
        zone = timezone.get_current_timezone()
        handed_out, after = 0, 0
        while True:
            rows = list(
                AuditEvent.objects.filter(seq__gt=after)
                .exclude(action="audit.pruned")
                .order_by("seq")
                .values_list("pk", "seq", "authority_id", "at")[:CHUNK]
            )
            if not rows:
                return
            for pk, seq, authority, at in rows:
                due_at = retention.due(at, zone)
                if due_at > now:
                    return  # the chain's start moves only up to the first entry still kept
                yield Due(str(pk), authority, due_at)
                handed_out += 1
                if limit is not None and handed_out >= limit:
                    return
                after = seq

    def apply(self, due: Sequence[Any], *, now: dt.datetime, **kwargs: Any) -> None:
        prune(int(d.object_id) for d in due)


def prune(ids: Any) -> dict | None:
    """Remove the entries ``ids`` (the oldest ones) and record the chain's new start."""
    ids = sorted(set(ids))
    if not ids:
        return None
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        rows = list(AuditEvent.objects.filter(pk__in=ids).order_by("seq").values_list("seq", "entry_hash"))
        through_seq, through_hash = rows[-1]
        # Every entry before the new start goes (and any older audit.pruned markers with them).
        if (
            AuditEvent.objects.filter(seq__lte=through_seq)
            .exclude(pk__in=ids)
            .exclude(action="audit.pruned")
            .exists()
        ):
            raise ValueError("Nur die ältesten Protokolleinträge können gelöscht werden.")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lagebild.audit_maintenance = 'on'")
        removed, _ = AuditEvent.objects.filter(seq__lte=through_seq).delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lagebild.audit_maintenance = 'off'")
        AuditChainHead.objects.filter(pk=1).update(start_seq=through_seq, start_hash=through_hash)
        point = {"seq": through_seq, "hash": through_hash, "removed": removed}
        audit.log(
            "audit.pruned",
            object_type="core.auditevent",
            start_seq=through_seq,
            start_hash=through_hash,
            removed=removed,
        )
        del head
        line = json.dumps({**point, "at": timezone.now().isoformat(timespec="seconds"), "pruned": True})
        transaction.on_commit(lambda: _append_anchor(line))
    return point


def _append_anchor(line: str) -> None:
    path = anchor_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


handler = AuditRetention
