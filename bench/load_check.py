"""After a load run (``bench.load --faults``): are the writes right?

``python -m bench.load_check --journal JOURNAL --run RUN [--vhost lagebild_load]`` with the load
installation's environment (``DATABASE_URL`` …; ``bench.load`` passes it).

The load generator journals every write (one JSON line per attempt chain): its unique marker (in
the description), the ``Idempotency-Key``, whether the server acknowledged it and the returned id.
Checked, one JSON line each:

* ``load_check_writes``: every acknowledged write is stored exactly once (with the acknowledged id
  for incidents); an unacknowledged one is stored once or not at all; nothing is half-stored (an
  incident without its two measures or its area links, a report without its status history or
  area links); no stored record carries a marker the client never sent; every stored report with
  an e-mail address has its confirmation mail sent (the Celery task, at most one per report).
* ``load_check_counts``: the count tables of the days the run wrote to (yesterday and today) equal
  a recount from the records: the nightly check ``lagebild.ops.consistency.check_day`` (hourly and
  daily rows against the recount, weekly to yearly rows against their days). ``--full-rebuild``
  also compares every table with a complete rebuild (``aggregates.rebuild`` inside a transaction
  that is rolled back, so nothing is changed; about 9 minutes on the loaded machine with
  1,000,000 measures, so not the default).
* ``load_check_audit``: ``lagebild audit verify`` passes.
* ``load_check_tasks``: the broker's queues are empty (nothing waiting, nothing unacknowledged)
  and no recorded job run failed.

Exit code 1 if any check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from .common import emit, log, setup

INCIDENT_PREFIX = "Lasttest "


def read_journal(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_writes(entries: list[dict[str, Any]], run: str) -> dict[str, Any]:
    from django.db import connection

    like = f"%LT-{run}-%"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.id, i.description, (SELECT COUNT(*) FROM field_measure m WHERE m.incident_id = i.id), "
            "(SELECT COUNT(*) FROM field_incidentarea a WHERE a.incident_id = i.id) "
            "FROM field_incident i WHERE i.description LIKE %s",
            [like],
        )
        incidents = cursor.fetchall()
        cursor.execute(
            "SELECT r.id, r.description, "
            "(SELECT COUNT(*) FROM citizen_statuschange s WHERE s.report_id = r.id), "
            "(SELECT COUNT(*) FROM citizen_reportarea a WHERE a.report_id = r.id) "
            "FROM citizen_report r WHERE r.description LIKE %s",
            [like],
        )
        reports = cursor.fetchall()
        # Web-form reports with an e-mail address get their confirmation mail from a background task.
        cursor.execute(
            "SELECT COUNT(*), COUNT(m.sent_at) FROM citizen_report r "
            "LEFT JOIN citizen_statusmail m ON m.report_id = r.id "
            "WHERE r.description LIKE %s AND r.reporter_email <> '' AND r.channel = 'web'",
            [like],
        )
        with_email, mails_sent = cursor.fetchone()

    def marker_of(text: str) -> str:
        start = text.index(f"LT-{run}-")
        return text[start:].split()[0]

    stored: dict[tuple[str, str], list[tuple[int, bool]]] = defaultdict(list)
    for pk, description, measures, links in incidents:
        stored[("incident", marker_of(description))].append((pk, measures == 2 and links > 0))
    for pk, description, history, links in reports:
        stored[("report", marker_of(description))].append((pk, history > 0 and links > 0))

    figures: dict[str, Any] = {
        "writes": len(entries),
        "acknowledged": 0,
        "acknowledged_stored_once": 0,
        "lost": 0,
        "duplicated": 0,
        "wrong_id": 0,
        "unacknowledged": 0,
        "unacknowledged_stored": 0,
        "unacknowledged_absent": 0,
        "half_stored": 0,
        "retried": 0,
        "unknown_stored": 0,
        "problems": [],
    }
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sent = set()
    for entry in entries:
        key = (entry["kind"], entry["marker"])
        sent.add(key)
        rows = stored.get(key, [])
        kind = by_kind[entry["kind"]]
        kind["writes"] += 1
        if entry.get("attempts", 1) > 1:
            figures["retried"] += 1
        if any(not complete for _pk, complete in rows):
            figures["half_stored"] += 1
            figures["problems"].append({"half_stored": entry["marker"], "ids": [pk for pk, _ in rows]})
        if len(rows) > 1:
            figures["duplicated"] += 1
            kind["duplicated"] += 1
            figures["problems"].append({"duplicated": entry["marker"], "ids": [pk for pk, _ in rows]})
        if entry.get("acknowledged"):
            figures["acknowledged"] += 1
            kind["acknowledged"] += 1
            if not rows:
                figures["lost"] += 1
                kind["lost"] += 1
                figures["problems"].append({"lost": entry["marker"], "id": entry.get("id")})
            elif len(rows) == 1:
                figures["acknowledged_stored_once"] += 1
                kind["stored_once"] += 1
                if entry["kind"] == "incident" and entry.get("id") not in (None, rows[0][0]):
                    figures["wrong_id"] += 1
                    figures["problems"].append({"wrong_id": entry["marker"], "id": entry.get("id")})
        else:
            figures["unacknowledged"] += 1
            kind["unacknowledged"] += 1
            if rows:
                figures["unacknowledged_stored"] += 1
            else:
                figures["unacknowledged_absent"] += 1
    unknown = [key for key in stored if key not in sent]
    figures["unknown_stored"] = len(unknown)
    if unknown:
        figures["problems"].append({"unknown_markers": [m for _k, m in unknown[:5]]})
    figures["by_kind"] = {k: dict(v) for k, v in by_kind.items()}
    figures["reports_with_email"] = with_email
    figures["status_mails_sent"] = mails_sent
    figures["problems"] = figures["problems"][:10]
    figures["ok"] = (
        bool(entries)
        and not (
            figures["lost"]
            or figures["duplicated"]
            or figures["half_stored"]
            or figures["wrong_id"]
            or unknown
        )
        and mails_sent == with_email
    )
    return figures


def check_counts(full: bool) -> dict[str, Any]:
    """The nightly check of the days the run wrote to; with ``full`` also all count tables against a
    complete rebuild, in a transaction that is rolled back afterwards (minutes with 1,000,000 measures)."""
    from django.db import connection, transaction

    from lagebild.analytics import aggregates
    from lagebild.analytics.models import DailyCount, HourlyCount, MonthlyCount, WeeklyCount, YearlyCount

    aggregates.catch_up()
    nightly: dict[str, Any] = {}
    try:  # the nightly check of one day (lagebild.ops.consistency), for today and yesterday
        from django.utils import timezone

        from lagebild.ops.consistency import check_day

        today = timezone.localdate()
        for day in (today - dt.timedelta(days=1), today):
            report = check_day(day)
            nightly[day.isoformat()] = {
                "compared": sum(report.compared.values()),
                "differences": len(report.differences),
            }
    except ImportError:
        nightly = {"missing": "lagebild.ops.consistency"}
    tables = [
        model._meta.db_table for model in (HourlyCount, DailyCount, WeeklyCount, MonthlyCount, YearlyCount)
    ]
    differences: dict[str, int] = {}
    started = time.perf_counter()
    if not full:
        return {
            "nightly_check": nightly,
            "full_rebuild": False,
            "ok": bool(nightly)
            and not any(day.get("differences") for day in nightly.values() if isinstance(day, dict))
            and "missing" not in nightly,
        }
    with transaction.atomic():
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"CREATE TEMP TABLE snap_{table} ON COMMIT DROP AS SELECT * FROM {table}")
        aggregates.rebuild()
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"SELECT * FROM {table} LIMIT 0")
                columns = [c.name for c in cursor.description if c.name != "id"]
                keys = ", ".join(columns)
                # Rows that a subtraction brought back to zero are not rebuilt: not a difference.
                live = f"SELECT {keys} FROM snap_{table} WHERE count <> 0 OR COALESCE(amount, 0) <> 0"
                rebuilt = f"SELECT {keys} FROM {table} WHERE count <> 0 OR COALESCE(amount, 0) <> 0"
                cursor.execute(f"SELECT COUNT(*) FROM (({live}) EXCEPT ({rebuilt})) a")
                only_live = cursor.fetchone()[0]
                cursor.execute(f"SELECT COUNT(*) FROM (({rebuilt}) EXCEPT ({live})) b")
                only_rebuilt = cursor.fetchone()[0]
                differences[table] = only_live + only_rebuilt
        transaction.set_rollback(True)
    return {
        "nightly_check": nightly,
        "full_rebuild": True,
        "tables": len(tables),
        "differing_rows": differences,
        "seconds": round(time.perf_counter() - started, 1),
        "ok": not any(differences.values())
        and not any(day.get("differences") for day in nightly.values() if isinstance(day, dict)),
    }


def check_audit() -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "lagebild"), "audit", "verify"],
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        "returncode": proc.returncode,
        "output": (proc.stdout + proc.stderr).strip().splitlines()[-3:],
        "seconds": round(time.perf_counter() - started, 1),
        "ok": proc.returncode == 0,
    }


def broker_queues(vhost: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            vhost,
            "name",
            "messages_ready",
            "messages_unacknowledged",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    queues = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            queues.append({"name": parts[0], "ready": int(parts[1]), "unacked": int(parts[2])})
    return queues


def check_tasks(vhost: str, wait_seconds: float, since: float | None) -> dict[str, Any]:
    """Waits (polling) until the queues are drained, then looks for failed job runs."""
    from django.apps import apps

    deadline = time.monotonic() + wait_seconds
    queues = broker_queues(vhost)
    # Only queues Celery works on; the reply/pidbox queues of remote control are not tasks.
    work = [q for q in queues if "pidbox" not in q["name"] and "celeryev" not in q["name"]]
    while any(q["ready"] or q["unacked"] for q in work) and time.monotonic() < deadline:
        time.sleep(1)
        queues = broker_queues(vhost)
        work = [q for q in queues if "pidbox" not in q["name"] and "celeryev" not in q["name"]]
    waiting = sum(q["ready"] + q["unacked"] for q in work)
    failed: int | None = None
    job_runs: int | None = None
    model = next((m for m in apps.get_app_config("ops").get_models() if m.__name__ == "JobRun"), None)
    if model is not None:
        runs = model.objects.all()
        if since is not None:  # the runs during the load run, not those of earlier trials
            runs = runs.filter(started_at__gte=dt.datetime.fromtimestamp(since, dt.UTC))
        job_runs = runs.count()
        failed = runs.filter(outcome="failed").count()
    return {
        "queues": work,
        "waiting": waiting,
        "job_runs": job_runs,
        "failed_job_runs": failed,
        "ok": waiting == 0 and not failed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--run", required=True, help="run id in the markers")
    parser.add_argument("--vhost", default="lagebild_load")
    parser.add_argument(
        "--wait-seconds", type=float, default=120.0, help="how long the queues may take to drain"
    )
    parser.add_argument(
        "--full-rebuild", action="store_true", help="also compare every count table with a complete rebuild"
    )
    args = parser.parse_args(argv)
    setup()
    entries = read_journal(args.journal)
    log("Aufgaben: warten, bis die Warteschlangen leer sind …")
    since = min((e["first_at"] for e in entries if "first_at" in e), default=None)
    tasks = check_tasks(args.vhost, args.wait_seconds, since - 60 if since else None)
    log(f"{len(entries)} Schreibvorgänge im Journal: prüfen …")
    writes = check_writes(entries, args.run)
    emit(bench="load_check_writes", run=args.run, **writes)
    log("Zähltabellen gegen einen Neuaufbau …")
    counts = check_counts(args.full_rebuild)
    emit(bench="load_check_counts", **counts)
    log("Prüfkette des Protokolls …")
    audit = check_audit()
    emit(bench="load_check_audit", **audit)
    emit(bench="load_check_tasks", **tasks)
    return 0 if all(part["ok"] for part in (writes, counts, audit, tasks)) else 1


if __name__ == "__main__":
    sys.exit(main())
