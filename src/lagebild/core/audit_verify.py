"""Checking the audit chain (``lagebild audit verify``) and anchoring its head (``audit anchor``).

Verify reads every entry in sequence order, straight from the database in batches (no model
instances: 5,000,000 entries must take well under a minute), recomputes each hash and
compares:

* a recomputed hash that differs from the stored one: the entry was **changed**;
* a gap in the sequence numbers, or a last entry before the chain head: entries were **removed**;
* an entry whose id is lower than its predecessor's (ids grow in the order entries are
  written): entries were **reordered**;
* a sequence number twice, an entry whose predecessor hash skips the entry before it, or
  entries after the chain head: an entry was **inserted**;
* any other predecessor hash that does not match: the chain is **broken** there.

A rewrite of the whole chain with fresh hashes passes all of that; the anchors catch it: each
``audit anchor`` appends the head (sequence number, hash, time) to a file kept outside the
database (``LAGEBILD_AUDIT_ANCHOR_FILE``; copy it elsewhere or print it in the daily report),
and verify checks that every anchored entry still has its anchored hash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .audit_chain import GENESIS, row_hash, sqlite_time
from .models import AuditChainHead, AuditEvent

BATCH = 20_000
INSERTED = "Eintrag gehört nicht in die Kette (der folgende verweist an ihm vorbei): eingefügt."
MAX_REPORTED = 50


@dataclass(frozen=True)
class Problem:
    kind: str  # changed, removed, reordered, inserted, broken, anchor, head
    seq: int | None
    id: int | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.seq is not None:
            where.append(f"Laufnummer {self.seq}")
        if self.id is not None:
            where.append(f"ID {self.id}")
        return f"{', '.join(where) or 'Protokoll'}: {self.message}"


@dataclass
class VerifyResult:
    entries: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    anchors: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)


def anchor_file() -> Path:
    configured = getattr(settings, "LAGEBILD_AUDIT_ANCHOR_FILE", "")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "audit-anchors.jsonl"


def read_anchors(path: Path) -> list[dict]:
    if not path.exists():
        return []
    anchors = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            anchors.append({"seq": int(item["seq"]), "hash": str(item["hash"]), "line": number})
        except (ValueError, KeyError, TypeError):
            anchors.append({"seq": None, "hash": "", "line": number})
    return anchors


def anchor(path: Path | None = None) -> dict:
    """Append the chain head to the anchor file (one JSON line) and return what was written."""
    path = path or anchor_file()
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", "entry_hash").first() or (0, GENESIS)
    item = {"seq": head[0], "hash": head[1], "at": timezone.now().isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(item) + "\n")
    return item


def _rows() -> Iterator[tuple]:
    """(id, seq, at, user_id, actor_name, authority_id, action, object_type, object_id, purpose,
    channel, ip, detail as text, prev_hash, entry_hash) in sequence order, in batches."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    if connection.vendor == "postgresql":
        at = """to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        detail = "detail::text"
    else:
        at, detail = "at || ''", "detail"  # an expression: SQLite gives the text, not a datetime
    columns = (
        f"id, seq, {at}, user_id, actor_name, authority_id, action, object_type, object_id, "
        f"purpose, channel, ip, {detail}, prev_hash, entry_hash"
    )
    # Keyset pages on the unique seq index; ">=" and the id keep a duplicated seq (possible
    # only once someone dropped the constraint) in view instead of skipping it.
    last_seq, last_id = -1, -1
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT {columns} FROM {table} WHERE seq >= %s ORDER BY seq, id LIMIT %s",
                [last_seq, BATCH],
            )
            batch = cursor.fetchall()
            fresh = [row for row in batch if (row[1], row[0]) > (last_seq, last_id)]
            if not fresh:
                return
            yield from fresh
            last_seq, last_id = fresh[-1][1], fresh[-1][0]
            if len(batch) < BATCH:
                return


def verify(
    *, anchors_path: Path | None = None, progress: Callable[[int], None] | None = None
) -> VerifyResult:
    result = VerifyResult()
    sqlite = connection.vendor != "postgresql"
    anchors: dict[int, list[dict]] = {}
    anchor_list = read_anchors(anchors_path or anchor_file())
    result.anchors = len(anchor_list)
    for item in anchor_list:
        if item["seq"] is None:
            result.add(Problem("anchor", None, None, f"Anker in Zeile {item['line']} ist unlesbar."))
        else:
            anchors.setdefault(item["seq"], []).append(item)
    loads = json.loads
    head = (
        AuditChainHead.objects.filter(pk=1)
        .values_list("seq", "entry_hash", "start_seq", "start_hash")
        .first()
    )
    start_seq, start_hash = (head[2], head[3]) if head is not None else (0, GENESIS)
    # After retention removed the oldest entries the chain starts at the last removed one.
    prev_seq, prev_id, prev_hash, prev_prev_hash, prev_valid = start_seq, 0, start_hash, None, True
    pruned_marker: tuple[int, int, str] | None = None  # (seq, start_seq, start_hash) of the last audit.pruned
    seen_anchor: set[int] = set()
    count = 0
    for row in _rows():
        (
            pk,
            seq,
            at,
            user_id,
            name,
            authority_id,
            action,
            otype,
            oid,
            purpose,
            channel,
            ip,
            detail,
            prev,
            own,
        ) = row
        count += 1
        if sqlite:
            at = sqlite_time(at)
        detail_value = {} if detail == "{}" else loads(detail)
        if action == "audit.pruned":
            pruned_marker = (seq, detail_value.get("start_seq"), detail_value.get("start_hash"))
        digest = row_hash(
            (
                seq,
                at,
                user_id,
                name,
                authority_id,
                action,
                otype,
                oid,
                purpose,
                channel,
                ip,
                detail_value,
                prev,
            )
        )
        link_ok = prev == prev_hash
        skips_previous = not link_ok and prev_prev_hash is not None and prev == prev_prev_hash
        if seq == prev_seq:
            result.add(Problem("inserted", seq, pk, "Laufnummer doppelt: ein Eintrag wurde eingefügt."))
        elif seq > prev_seq + 1:
            missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1} bis {seq - 1}"
            result.add(Problem("removed", seq, pk, f"Einträge fehlen (Laufnummer {missing}): entfernt."))
        if skips_previous and prev_valid:
            # The entry before is intact in itself, but this one points past it.
            result.add(Problem("inserted", prev_seq, prev_id, INSERTED))
        elif pk < prev_id:
            result.add(Problem("reordered", seq, pk, f"Reihenfolge vertauscht: steht hinter ID {prev_id}."))
        elif not link_ok and seq == prev_seq + 1:
            result.add(Problem("broken", seq, pk, "Verweis auf den vorigen Eintrag stimmt nicht."))
        valid = digest == own
        if not valid:
            result.add(Problem("changed", seq, pk, "Inhalt passt nicht zum Hash: geändert."))
        for item in anchors.get(seq, ()):
            seen_anchor.add(seq)
            if item["hash"] != own:
                result.add(
                    Problem(
                        "anchor",
                        seq,
                        pk,
                        f"Anker aus Zeile {item['line']} stimmt nicht: die Kette wurde neu geschrieben.",
                    )
                )
        prev_prev_hash, prev_hash, prev_seq, prev_id, prev_valid = prev_hash, own, seq, pk, valid
        if progress is not None and count % 500_000 == 0:
            progress(count)
    result.entries, result.last_seq, result.last_hash = count, prev_seq, prev_hash
    if start_seq and (pruned_marker is None or pruned_marker[1:] != (start_seq, start_hash)):
        result.add(
            Problem(
                "head",
                start_seq,
                None,
                "Kettenanfang ohne passenden Löschvermerk (audit.pruned): Einträge am Anfang entfernt.",
            )
        )
    for seq, items in anchors.items():
        if seq == start_seq and start_seq:
            for item in items:
                if item["hash"] != start_hash:
                    result.add(Problem("anchor", seq, None, f"Anker aus Zeile {item['line']} stimmt nicht."))
            continue
        if seq < start_seq:
            continue  # removed by retention, as the chain records
        if seq not in seen_anchor and seq > 0:
            for item in items:
                result.add(
                    Problem(
                        "anchor",
                        seq,
                        None,
                        f"Anker aus Zeile {item['line']}: Eintrag fehlt, "
                        "die Kette wurde gekürzt oder neu geschrieben.",
                    )
                )
    if head is not None:
        head_seq, head_hash = head[0], head[1]
        if prev_seq < head_seq:
            result.add(
                Problem(
                    "removed",
                    head_seq,
                    None,
                    f"Einträge nach Laufnummer {prev_seq} fehlen (Kopf: {head_seq}).",
                )
            )
        elif prev_seq > head_seq:
            result.add(
                Problem("inserted", prev_seq, None, f"Einträge nach dem Kettenkopf (Laufnummer {head_seq}).")
            )
        elif head_hash != prev_hash:
            result.add(Problem("head", head_seq, None, "Kettenkopf passt nicht zum letzten Eintrag."))
    elif count:
        result.add(Problem("head", None, None, "Kettenkopf fehlt."))
    return result
