"""Benchmark: the audit log's cost for the field, and ``lagebild audit verify`` at full size.

``python -m bench.audit [--measures 1000000] [--entries 5000000] [--n 300]`` with
``DATABASE_URL`` pointing at a throw-away database (``bench.run --only audit`` does that, on
SQLite and, with ``--db postgres``, on PostgreSQL). ``--measures``/``--entries`` take smaller
sizes for a quick check.

The records are seeded like the API bench (``bench.seed``); then ``--entries`` audit entries
are appended to the chain in bulk: generated in Python in one tight loop (the hash of each
entry over the previous one, with ``core.audit_chain`` itself), written with ``COPY`` on
PostgreSQL and ``executemany`` on SQLite, with the secondary indexes dropped while loading.
Nothing is committed to the repository; the database is thrown away.

Figures (one JSON line each):

* ``audit_seed``: seconds to write the entries (and their rate), no target.
* ``audit_incident_create``: ``POST /api/v1/incidents/`` with two measures through the full
  stack (token, chain head locked, entry appended): ``--n`` timed requests after 20 warm-ups.
  Target p95 < 50 ms.
* ``audit_verify``: ``audit_verify.verify()`` over every entry (what ``lagebild audit verify``
  runs), with one anchor. Target < 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time

from .common import base_world, db_vendor, emit, log, migrate, percentile, prepare_like_a_server, setup

TARGET_P95_MS = 50.0
TARGET_VERIFY_S = 60.0
CHUNK = 100_000

ACTIONS = (
    ("field.incident.viewed", "field.incident", 40),
    ("field.incident.created", "field.incident", 15),
    ("field.measure.viewed", "field.measure", 10),
    ("field.person.viewed", "field.incident", 8),
    ("citizen.report.status", "citizen.report", 8),
    ("citizen.reporter.viewed", "citizen.report", 4),
    ("auth.login", "core.user", 10),
    ("auth.login_failed", "core.user", 2),
    ("field.incidents.exported", "field.incident", 1),
    ("audit.searched", "", 2),
)


def _details(action: str, i: int) -> dict:
    if action == "field.incident.created":
        return {"measures": ["dispersal_order", "caution_fee"]}
    if action == "field.person.viewed":
        return {"persons": [f"P-{i % 9973:05d}"]}
    if action == "citizen.report.status":
        return {"to": ("in_progress", "closed", "forwarded")[i % 3]}
    if action == "auth.login_failed":
        return {"username": "kod"}
    if action == "field.incidents.exported":
        return {"format": "csv", "rows": 100 + i % 5000, "filters": {"category": "aggressive-begging"}}
    if action == "audit.searched":
        return {"criteria": {"action": "field"}, "page": 1}
    return {}


def generate_entries(total: int, seed: int) -> dict:
    """Append ``total`` entries to the chain in bulk; returns counts and seconds."""
    import numpy as np
    from django.db import connection, transaction

    from lagebild.core.audit import actor_name
    from lagebild.core.audit_chain import GENESIS, row_hash
    from lagebild.core.models import AuditChainHead, AuditEvent, User

    from .cockpit import _without_secondary_indexes

    rng = np.random.default_rng(seed)
    users = list(User.objects.filter(authority__isnull=False).order_by("pk"))
    actors = [(u.pk, actor_name(u), u.authority_id) for u in users]
    weights = np.array([weight for _, _, weight in ACTIONS], dtype=float)
    action_idx = rng.choice(len(ACTIONS), size=total, p=weights / weights.sum())
    actor_idx = rng.integers(0, len(actors), size=total)
    object_ids = rng.integers(1, 500_000, size=total)
    postgres = connection.vendor == "postgresql"
    table = AuditEvent._meta.db_table
    columns = (
        "seq, at, user_id, actor_name, authority_id, action, object_type, object_id, purpose, channel, ip, "
        "detail, prev_hash, entry_hash"
    )
    # The entries lie in the two years before now, one every few seconds, in sequence order.
    end = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    start = end - dt.timedelta(days=730)
    step_us = int((end - start).total_seconds() * 1_000_000 // max(total, 1))
    start_us = int(start.timestamp() * 1_000_000)
    detail_cache: dict[tuple[str, int], tuple[dict, str]] = {}
    started = time.perf_counter()
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        seq, prev = (head.seq, head.entry_hash) if head else (0, GENESIS)
        if head is None:
            AuditChainHead.objects.create(pk=1, seq=0, entry_hash=GENESIS)
        raw = connection.connection
        with _without_secondary_indexes([table]):
            done = 0
            while done < total:
                size = min(CHUNK, total - done)
                rows = []
                for k in range(done, done + size):
                    seq += 1
                    action, object_type, _ = ACTIONS[action_idx[k]]
                    user_id, name, authority_id = actors[actor_idx[k]]
                    key = (action, k % 9973 if action == "field.person.viewed" else k % 5000)
                    cached = detail_cache.get(key)
                    if cached is None:
                        value = _details(action, key[1])
                        cached = detail_cache[key] = (value, json.dumps(value))
                    detail, detail_text = cached
                    micro = start_us + k * step_us
                    moment = dt.datetime.fromtimestamp(micro / 1_000_000, dt.UTC)
                    at_text = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                    object_id = str(object_ids[k]) if object_type else ""
                    channel = "api" if k % 4 == 0 else "web"
                    ip = f"10.{k % 200}.{k % 250}.{k % 7 + 1}"
                    digest = row_hash(
                        (seq, at_text, user_id, name, authority_id, action, object_type, object_id, "",
                         channel, ip, detail, prev)
                    )  # fmt: skip
                    stored_at = at_text[:10] + " " + at_text[11:26] + ("+00" if postgres else "")
                    rows.append(
                        (seq, stored_at, user_id, name, authority_id, action, object_type, object_id, "",
                         channel, ip, detail_text, prev, digest)
                    )  # fmt: skip
                    prev = digest
                if postgres:
                    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * 14)})", rows)
                done += size
                log(f"{done:,} Protokolleinträge ({time.perf_counter() - started:.0f} s)")
            index_started = time.perf_counter()
        index_seconds = time.perf_counter() - index_started
        AuditChainHead.objects.filter(pk=1).update(seq=seq, entry_hash=prev)
    return {"entries": total, "seconds": time.perf_counter() - started, "index_seconds": index_seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--measures", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=5_000_000)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup()

    from django.db import connection
    from django.test import Client

    from lagebild.core.audit_verify import anchor, verify
    from lagebild.core.models import AuditEvent, User
    from lagebild.core.scoping import unscoped
    from lagebild.field.models import Measure

    from .accounts import api_key
    from .seed import seed_records

    vendor = db_vendor()
    migrate()
    base_world()
    started = time.perf_counter()
    seed_records(args.measures, seed=args.seed)
    with unscoped():
        stored = Measure.objects.count()
    log(f"{stored:,} Maßnahmen gespeichert in {time.perf_counter() - started:.0f} s")

    from lagebild.core import audit

    append_ms: list[float] = []
    original_append = audit._append

    def timed_append(event):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return original_append(event)
        finally:
            append_ms.append((time.perf_counter() - began) * 1000)

    audit._append = timed_append  # the share of each request spent appending to the chain

    user = User.objects.get(username="kod")
    client = Client(HTTP_AUTHORIZATION=f"Token {api_key(user)}", HTTP_HOST="127.0.0.1")

    import numpy as np

    rng = np.random.default_rng(args.seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    failures: list[str] = []

    def post(i: int) -> float:
        body = json.dumps({
            "category": "aggressive-begging",
            "occurred_at": (now - dt.timedelta(minutes=int(rng.integers(1, 600)))).isoformat(),
            "lat": round(51.5140 + float(rng.normal(0, 0.004)), 6),
            "lon": round(7.4650 + float(rng.normal(0, 0.006)), 6),
            "address_text": f"Westenhellweg {i % 120 + 1}",
            "measures": [{"type": "dispersal_order"}, {"type": "caution_fee", "amount": "35.00"}],
        })  # fmt: skip
        began = time.perf_counter()
        response = client.post("/api/v1/incidents/", body, content_type="application/json")
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 201:
            failures.append(f"{response.status_code}: {response.content[:300]!r}")
        return elapsed

    def timed_posts(label: str, entries: int) -> None:
        for i in range(20):
            post(i)
        prepare_like_a_server()
        append_ms.clear()
        failures.clear()
        load_before = os.getloadavg()[0]
        timings = [post(i) for i in range(args.n)]
        p95 = percentile(timings, 95)
        if failures:
            log(f"{len(failures)} Fehler, z. B. {failures[0]}")
        emit(
            bench=label,
            db=vendor,
            stored_measures=stored,
            audit_entries=entries,
            n=args.n,
            p50_ms=round(percentile(timings, 50), 2),
            p95_ms=round(p95, 2),
            p99_ms=round(percentile(timings, 99), 2),
            max_ms=round(max(timings), 2),
            # Time inside audit.log's append (head locked, entry written) per request.
            audit_append_p50_ms=round(percentile(append_ms, 50), 2),
            audit_append_p95_ms=round(percentile(append_ms, 95), 2),
            failures=len(failures),
            load_1min=round(load_before, 2),
            target_p95_ms=TARGET_P95_MS,
            ok=not failures and p95 < TARGET_P95_MS,
        )

    # The same requests with an almost empty log first: the difference is what 5,000,000 entries cost.
    timed_posts("audit_incident_create_small_log", AuditEvent.objects.count())

    generated = generate_entries(args.entries, args.seed)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vendor == "postgres" else "ANALYZE")
    entries = AuditEvent.objects.count()
    emit(
        bench="audit_seed",
        db=vendor,
        entries=entries,
        seconds=round(generated["seconds"], 1),
        index_seconds=round(generated["index_seconds"], 1),
        per_second=round(args.entries / max(generated["seconds"], 1e-9)),
    )

    # --- recording through the API with the full log -------------------------------------------
    timed_posts("audit_incident_create", entries)

    # --- verify ---------------------------------------------------------------------------------
    import tempfile
    from pathlib import Path

    anchors = Path(tempfile.mkdtemp(prefix="lagebild-bench-anchor-")) / "anchors.jsonl"
    anchor(anchors)
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    result = verify(anchors_path=anchors, progress=lambda n: log(f"{n:,} geprüft"))
    seconds = time.perf_counter() - began
    if not result.ok:
        log("; ".join(str(p) for p in result.problems[:5]))
    emit(
        bench="audit_verify",
        db=vendor,
        entries=result.entries,
        seconds=round(seconds, 1),
        per_second=round(result.entries / max(seconds, 1e-9)),
        problems=result.problem_count,
        load_1min=round(load_before, 2),
        target_s=TARGET_VERIFY_S,
        ok=result.ok and seconds < TARGET_VERIFY_S,
    )


if __name__ == "__main__":
    main()
