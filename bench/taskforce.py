"""Benchmark: the Sonderstab's meeting agenda, freezing a meeting's figures and the mayor's brief.

``python -m bench.taskforce [--measures 1000000] [--runs 20]`` with ``DATABASE_URL`` pointing at
a throw-away database (``bench.run`` does that). Two years of records are seeded like the cockpit
bench (``bench.cockpit.seed``: ``--measures`` measures inside the database, count tables rebuilt),
then the demo Sonderstab is built on them (``lagebild.demo.taskforce``: five groups, goals, a year
of weekly meetings with frozen figures; the next meeting planned).

``--reuse`` measures again on a database a previous run (not ``bench.run``, which drops it) left
behind, without migrating or seeding: the planned meeting's frozen figures and stored agenda from
that run's freeze are removed first, so the agenda page is measured in the same state as the first
time. With ``DATABASE_URL`` (and ``LAGEBILD_VAR_DIR``) as in that run; no ``taskforce_setup`` line.

``--demo`` measures on the demo data instead: ``lagebild demo``'s ``setup_demo`` (default 24 months
up to yesterday, the Sonderstab with its three evaluated operations included); every line then
carries ``data: "demo"`` (otherwise ``"seeded"``).

Figures (one JSON line each):

* ``taskforce_setup``: seconds to build the demo Sonderstab (52 meetings frozen), no target.
* ``taskforce_agenda_page``: ``GET /sonderstab/sitzungen/<next>/`` as the secretary through the full
  stack: the planned meeting's agenda is generated from live data on every view (cockpit flags,
  goals' progress, milestones, recommendations, actions). ``--runs`` timed requests after 3
  warm-ups. Target p95 < 300 ms.
* ``taskforce_frozen_page``: ``GET`` of the last held meeting (frozen agenda and figures, plus today's
  value of every frozen figure to show differences). No target, for orientation.
* ``taskforce_freeze``: ``services.meeting_freeze`` of the planned meeting (agenda and every figure
  computed and stored), ``--freeze-runs`` runs. Target p95 < 1 s.
* ``taskforce_brief_pdf``: the mayor's brief as PDF (``taskforce.briefs.brief_pdf``), ``--brief-runs``
  runs, with its page count. Target max < 2 s, at most 2 pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from .accounts import two_factor_login
from .common import base_world, db_vendor, emit, log, migrate, percentile, prepare_like_a_server, setup

TARGET_AGENDA_P95_MS = 300.0
TARGET_FREEZE_P95_S = 1.0
TARGET_BRIEF_S = 2.0


def _timings(runs: int, action, cpu: list[float] | None = None) -> list[float]:  # type: ignore[no-untyped-def]
    """Wall seconds of each run; with ``cpu`` also this process's CPU seconds of each run.

    On a shared machine the wall time grows with the load while the CPU time of this process does
    not; on SQLite (all work in this process) the CPU time is close to the wall time of an idle
    machine. On PostgreSQL the server's share is not in it.
    """
    values = []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        values.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.process_time() - started_cpu)
    return values


def _reuse(vendor: str) -> tuple[dt.date, dict[str, int]]:
    """The last day with data and the stored measures of a kept database; its planned meeting unfrozen."""
    from django.db.models import Max
    from django.utils import timezone

    from lagebild.core.scoping import unscoped
    from lagebild.field.models import Incident, Measure
    from lagebild.taskforce.models import Meeting

    planned = Meeting.objects.get(state=Meeting.State.PLANNED)
    planned.agenda_items.all().delete()
    planned.figures.all().delete()
    Meeting.objects.filter(pk=planned.pk).update(frozen_at=None)
    with unscoped():
        latest = Incident.objects.aggregate(latest=Max("occurred_at"))["latest"]
        measures = Measure.objects.count()
    last_day = timezone.localdate(latest)
    log(f"Vorhandene Daten ({vendor}) bis {last_day:%d.%m.%Y}, geplante Sitzung wieder ungefroren")
    return last_day, {"measures": measures}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--measures", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--freeze-runs", type=int, default=5)
    parser.add_argument("--brief-runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demo", action="store_true", help="demo data instead of seeded records")
    parser.add_argument("--months", type=int, default=None, help="months of demo data (with --demo)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure on the data of an earlier run, no migrating or seeding"
    )
    args = parser.parse_args()
    setup()

    from django.db import connection
    from django.test import Client

    from lagebild.analytics import aggregates
    from lagebild.analytics.services import load_indicators
    from lagebild.core.models import User
    from lagebild.demo.taskforce import generate_task_force
    from lagebild.taskforce import agenda, services
    from lagebild.taskforce.models import Meeting, TaskForce

    from .cockpit import seed

    vendor = db_vendor()
    if args.reuse:
        last_day, counts = _reuse(vendor)
    elif args.demo:
        migrate()
        from django.utils import timezone

        from lagebild.demo.generator import DEFAULT_MONTHS
        from lagebild.demo.service import DemoConfig, setup_demo

        config = DemoConfig(end_date=timezone.localdate(), months=args.months or DEFAULT_MONTHS)
        demo = setup_demo(config, log=log)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if vendor == "postgres" else "ANALYZE")
        last_day = demo.data.last_day
        counts = {"measures": demo.data.created.get("measures", 0)}
        result = demo.taskforce
        setup_seconds = result.seconds
    else:
        migrate()
        base_world()
        load_indicators()
        counts = seed(args.measures, args.days, args.seed)
        aggregates.rebuild()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if vendor == "postgres" else "ANALYZE")
        last_day = dt.date.fromisoformat(str(counts["last_day"]))
        log(f"{counts['measures']:,} Maßnahmen gesät, Zähltabellen aufgebaut")
        started = time.perf_counter()
        result = generate_task_force(last_day, log=log)
        setup_seconds = time.perf_counter() - started
    data = "demo" if args.demo else "seeded"
    if not args.reuse:
        emit(
            bench="taskforce_setup",
            db=vendor,
            data=data,
            stored_measures=counts["measures"],
            meetings=result.meetings,
            frozen_figures=result.figures,
            seconds=round(setup_seconds, 2),
            ok=True,
        )

    task_force = TaskForce.objects.get()
    planned = Meeting.objects.filter(task_force=task_force, state=Meeting.State.PLANNED).get()
    held = Meeting.objects.filter(task_force=task_force, state=Meeting.State.CLOSED).order_by("-date").first()
    secretary = User.objects.get(username="sonderstab")
    prepare_like_a_server()
    client = Client(HTTP_HOST="127.0.0.1")
    two_factor_login(client, secretary)

    def page(meeting: Meeting) -> None:
        response = client.get(f"/sonderstab/sitzungen/{meeting.pk}/")
        assert response.status_code == 200, response.status_code

    for _ in range(3):
        page(planned)
        page(held)
    statements: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):  # one untimed request: its database queries
        page(planned)
    load_before = os.getloadavg()[0]
    agenda_cpu: list[float] = []
    agenda_ms = [t * 1000 for t in _timings(args.runs, lambda: page(planned), agenda_cpu)]
    p95 = percentile(agenda_ms, 95)
    emit(
        bench="taskforce_agenda_page",
        db=vendor,
        data=data,
        stored_measures=counts["measures"],
        n=args.runs,
        agenda_items=len(agenda.build(planned)),
        queries=len(statements),
        p50_ms=round(percentile(agenda_ms, 50), 1),
        p95_ms=round(p95, 1),
        max_ms=round(max(agenda_ms), 1),
        cpu_p50_ms=round(percentile(agenda_cpu, 50) * 1000, 1),
        cpu_p95_ms=round(percentile(agenda_cpu, 95) * 1000, 1),
        load_1min=round(load_before, 2),
        target_p95_ms=TARGET_AGENDA_P95_MS,
        ok=p95 < TARGET_AGENDA_P95_MS,
    )
    frozen_ms = [t * 1000 for t in _timings(max(5, args.runs // 2), lambda: page(held))]
    emit(
        bench="taskforce_frozen_page",
        db=vendor,
        data=data,
        stored_measures=counts["measures"],
        n=len(frozen_ms),
        p50_ms=round(percentile(frozen_ms, 50), 1),
        p95_ms=round(percentile(frozen_ms, 95), 1),
        ok=True,
    )

    load_before = os.getloadavg()[0]
    freeze_cpu: list[float] = []
    freeze_s = _timings(args.freeze_runs, lambda: services.meeting_freeze(planned), freeze_cpu)
    figures = planned.figures.count()
    emit(
        bench="taskforce_freeze",
        db=vendor,
        data=data,
        stored_measures=counts["measures"],
        n=args.freeze_runs,
        figures=figures,
        agenda_items=planned.agenda_items.count(),
        p50_s=round(percentile(freeze_s, 50), 3),
        p95_s=round(percentile(freeze_s, 95), 3),
        cpu_p95_s=round(percentile(freeze_cpu, 95), 3),
        load_1min=round(load_before, 2),
        target_p95_s=TARGET_FREEZE_P95_S,
        ok=percentile(freeze_s, 95) < TARGET_FREEZE_P95_S,
    )

    try:
        from lagebild.taskforce import briefs
    except ImportError:
        emit(bench="taskforce_brief_pdf", db=vendor, ok=False, error="taskforce.briefs fehlt")
        return
    pdf: list[bytes] = []
    load_before = os.getloadavg()[0]
    brief_cpu: list[float] = []
    brief_s = _timings(
        args.brief_runs, lambda: pdf.append(briefs.brief_pdf(task_force, as_of=last_day)), brief_cpu
    )
    pages = pdf[-1].count(b"/Type /Page") - pdf[-1].count(b"/Type /Pages")
    emit(
        bench="taskforce_brief_pdf",
        db=vendor,
        data=data,
        stored_measures=counts["measures"],
        n=args.brief_runs,
        bytes=len(pdf[-1]),
        pages=pages,
        p50_s=round(percentile(brief_s, 50), 3),
        max_s=round(max(brief_s), 3),
        cpu_max_s=round(max(brief_cpu), 3),
        load_1min=round(load_before, 2),
        target_max_s=TARGET_BRIEF_S,
        ok=max(brief_s) < TARGET_BRIEF_S and pages <= 2,
    )


if __name__ == "__main__":
    main()
