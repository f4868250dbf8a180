"""Benchmark: the Bußgeldstelle's deadline worklist at 100,000 open cases, deadline rebuild, daily run.

``python -m bench.proceedings [--cases 100000] [--closed 20000] [--runs 20] [--seed 1]`` with
``DATABASE_URL`` (or ``--database-url``) pointing at an empty throw-away database (``bench.run`` makes
one: ``--only proceedings --db sqlite`` or ``--db postgres``).

Seeding: ``--cases`` open cases of the city (plus ``--closed`` closed ones and 5 % as many of the
police, so the authority scope has something to filter) with offence days over the last two years
(half spread evenly, half near today, as a backlog looks), each worked through the demo's case
simulation (``lagebild.demo.proceedings.simulate_case``: hearing, notice, service, objections,
finality, payments, enforcement, discontinuation, lapse, with a share of files waiting at a random
step) up to yesterday, and written in bulk with its events, notices, payments and the deadlines
``services.deadlines_for`` gives for its events (``write_cases``: ``executemany`` / ``COPY``).

Figures (one JSON line each):

* ``proceedings_seed``: seconds, cases by state, events, notices, payments, deadlines; no target.
* ``proceedings_worklist``: ``selectors.worklist_rows(today=…)`` inside ``authority_scope(city)``, the
  whole worklist of the day (every deadline whose warning period has begun, overdue ones included,
  earliest first); ``--runs`` timed calls after 2 warm-ups: min, median, p95, max and the number of
  rows. Target (issue 15): builds in under 1 s at 100,000 open cases (p95 < 1 s).
* ``proceedings_worklist_page``: the same with ``limit=500``, the first page the worklist view shows
  (earliest first). No target.
* ``proceedings_deadlines_rebuild``: every case's deadlines recomputed from its events
  (``services.deadlines_for``, events read in one ordered query) and all deadline rows rewritten in
  one transaction; seconds, cases per second and whether the result equals the stored rows. No target.
* ``proceedings_refresh_per_case``: ``services.refresh_deadlines`` (what every step runs) for a
  sample of open cases, one call each; ms per case and that rate extrapolated to all cases. No target.
* ``proceedings_daily_run``: ``services.daily_run(today=…)`` over all cases (finality after the
  objection period, lapse, unpaid cautions), then a second run of the same day (idempotent, nothing
  left to do). No target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from .common import db_vendor, emit, log, migrate, percentile, setup

TARGET_WORKLIST_S = 1.0
PAGE = 500  # rows of the worklist page (proceedings.views.WORKLIST_LIMIT)
BATCH = 20_000

# A Bußgeldstelle with a backlog: files wait, fewer pay at once than in the demo year.
PROFILE_ARGS: dict[str, float] = {"stall": 0.25, "paid": 0.6, "paid_after_reminder": 0.4}


def _offence_at(rnd: random.Random, today: dt.date, tz: Any) -> dt.datetime:
    # Half spread over two years, half near today (the backlog of recent reports).
    spread = rnd.random() < 0.5
    days_ago = rnd.randint(1, 729) if spread else min(729, 1 + int(rnd.expovariate(1 / 75)))
    day = today - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(rnd.randrange(6, 24), rnd.randrange(60)), tzinfo=tz)


def seed(cases: int, closed: int, seed_value: int, today: dt.date) -> dict[str, Any]:
    """Simulate and write the cases; returns counts for the ``proceedings_seed`` line."""
    from django.db import connection, transaction
    from django.utils import timezone

    from lagebild.catalog.models import CategoryRule
    from lagebild.core.models import Role, User
    from lagebild.core.scoping import unscoped
    from lagebild.demo import base
    from lagebild.demo import proceedings as demo
    from lagebild.proceedings.models import CLOSED_STATES
    from lagebild.proceedings.services import age_on

    tz = timezone.get_current_timezone()
    rnd = random.Random(seed_value)
    profile = demo.Profile(**PROFILE_ARGS)
    yesterday = today - dt.timedelta(days=1)
    with transaction.atomic():
        authorities = base.ensure_authorities()
        base.ensure_catalogue()
        base.ensure_users(authorities)
        city, police = authorities[base.CITY], authorities[base.POLICE]
        clerk, _ = User.objects.get_or_create(
            username="bench-bussgeld",
            defaults={
                "authority": city,
                "role": Role.PROCEEDINGS,
                "first_name": "Bea",
                "last_name": "Bußgeld",
            },
        )
    rules = [
        r
        for r in CategoryRule.objects.select_related("category")
        .filter(is_offence=True, max_fine__isnull=False)
        .order_by("category__code", "valid_from")  # the same draws on every database
        if r.category.code in demo.OPENS_PROCEEDINGS
    ]

    def rule_for(day: dt.date) -> Any:
        while True:
            rule = rnd.choice(rules)
            if rule.valid_from <= day and (rule.valid_to is None or rule.valid_to >= day):
                return rule

    quotas = {city.pk: [cases, closed], police.pk: [max(1, cases // 20), max(0, closed // 20)]}
    names = {city.pk: city.name, police.pk: police.name}
    totals: dict[str, Any] = defaultdict(int)
    by_state: dict[str, int] = defaultdict(int)
    simulated = 0
    started = time.perf_counter()
    with unscoped(), transaction.atomic():
        for authority_id, (want_open, want_closed) in quotas.items():
            have_open = have_closed = 0
            persons: dict[int, dict[str, Any]] = {}
            pool = max(10, (want_open + want_closed) // 3)  # repeat offenders: about three cases a person
            batch: list[demo.CaseSource] = []
            while have_open < want_open or have_closed < want_closed:
                offence_at = _offence_at(rnd, today, tz)
                day = timezone.localdate(offence_at)
                rule = rule_for(day)
                identified = rnd.random() < 0.8
                key, person, age = None, None, None
                if identified:
                    key = ("p", authority_id, rnd.randrange(pool))
                    person = persons.get(key[2])
                    if person is None:
                        person = demo.person_row(demo.draw_age("", rnd, profile), day, rnd)
                        persons[key[2]] = person
                    if person["date_of_birth"] >= day:
                        identified, key, person = False, None, None
                    else:
                        age = age_on(person["date_of_birth"], day)
                opened_at = offence_at + dt.timedelta(minutes=rnd.randint(30, 60 * 24 * 5))
                if timezone.localdate(opened_at) > yesterday:
                    continue
                plan = demo.new_case(offence_at, opened_at, rule.max_fine)
                demo.simulate_case(
                    plan,
                    category_code=rule.category.code,
                    age=age,
                    identified=identified,
                    today=yesterday,
                    rnd=rnd,
                    profile=profile,
                )
                simulated += 1
                is_open = plan.state not in CLOSED_STATES
                if is_open and have_open < want_open:
                    have_open += 1
                elif not is_open and have_closed < want_closed:
                    have_closed += 1
                else:
                    continue
                batch.append(
                    demo.CaseSource(
                        authority_id=authority_id,
                        category=rule.category,
                        rule=rule,
                        offence_at=offence_at,
                        opened_at=opened_at,
                        place="Westenhellweg / Ecke Kampstraße",
                        description=f"{rule.category.name} (Bench)",
                        person_key=key or ("m", simulated),
                        plan=plan,
                        person=person,
                    )
                )
                if len(batch) >= BATCH:
                    _write(batch, demo, clerk, authority_id, names, totals, by_state)
                    batch = []
            if batch:
                _write(batch, demo, clerk, authority_id, names, totals, by_state)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "seconds": round(seconds, 1),
        "simulated": simulated,
        **{k: v for k, v in totals.items()},
        "by_state": dict(sorted(by_state.items())),
        "open_city": quotas[city.pk][0],
    }


def _write(batch, demo, clerk, authority_id, names, totals, by_state) -> None:  # type: ignore[no-untyped-def]
    written = demo.write_cases(batch, clerks={authority_id: clerk}, authority_names=names)
    for name in ("cases", "open", "events", "notices", "payments", "deadlines", "persons"):
        totals[name] += getattr(written, name)
    for state, n in written.by_state.items():
        by_state[str(state)] += n
    log(f"{totals['cases']} Verfahren geschrieben")


def _timings(runs: int, action) -> tuple[list[float], Any]:  # type: ignore[no-untyped-def]
    values, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        values.append(time.perf_counter() - started)
    return values, result


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "min_ms": round(min(values) * 1000, 1),
        "median_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def rebuild_all_deadlines() -> dict[str, Any]:
    """Recompute every case's deadlines from its events and rewrite all deadline rows (one transaction)."""
    from django.db import transaction

    from lagebild.core.scoping import unscoped
    from lagebild.demo import bulk
    from lagebild.proceedings import services
    from lagebild.proceedings.models import Case, CaseDeadline, CaseEvent, EventKind

    # deadlines_for reads only these events (limitation: hearing, notice, service; rest: instalments).
    kinds = [
        EventKind.HEARING_SENT,
        EventKind.NOTICE_ISSUED,
        EventKind.NOTICE_SERVED,
        EventKind.INSTALMENTS_GRANTED,
    ]
    fields = ["id", "authority_id", "state", "offence_date", "max_fine", "notice_issued_on", "served_on"]
    fields += ["final_on", "payment_due_on", "fine"]
    leads = services.warn_days()
    day = (lambda v: v) if bulk.is_postgresql() else (lambda v: v.isoformat())
    with unscoped(), transaction.atomic():
        before = set(CaseDeadline.objects.values_list("case_id", "kind", "due", "warn_from"))
        started = time.perf_counter()
        events: dict[int, list[SimpleNamespace]] = defaultdict(list)
        for case_id, kind, on, data in (
            CaseEvent.objects.filter(kind__in=kinds)
            .order_by("case_id", "on", "recorded_at", "id")
            .values_list("case_id", "kind", "on", "data")
        ):
            events[case_id].append(SimpleNamespace(kind=kind, on=on, data=data))
        rows = []
        cases = 0
        for values in Case.objects.values_list(*fields).iterator(chunk_size=10_000):
            case = SimpleNamespace(**dict(zip(fields, values, strict=True)))
            cases += 1
            for kind, due in services.deadlines_for(case, events.get(case.id, [])):  # type: ignore[arg-type]
                rows.append(
                    (case.id, case.authority_id, str(kind), due, due - dt.timedelta(days=leads[kind]))
                )
        CaseDeadline.objects.all().delete()
        bulk.insert(
            CaseDeadline,
            ["case", "authority", "kind", "due", "warn_from"],
            ((c, a, k, day(d), day(w)) for c, a, k, d, w in rows),
        )
        seconds = time.perf_counter() - started
        after = set(CaseDeadline.objects.values_list("case_id", "kind", "due", "warn_from"))
    return {
        "seconds": round(seconds, 2),
        "cases": cases,
        "cases_per_s": round(cases / seconds) if seconds else None,
        "deadlines": len(rows),
        "identical": before == after,
    }


def run(
    cases: int, closed: int, runs: int, seed_value: int, refresh_sample: int = 1000
) -> list[dict[str, Any]]:
    """Seed, measure; returns the result lines (``main`` prints them)."""
    from django.utils import timezone

    from lagebild.core.models import Authority
    from lagebild.core.scoping import authority_scope, unscoped
    from lagebild.proceedings import selectors, services
    from lagebild.proceedings.models import CLOSED_STATES, Case

    vendor = db_vendor()
    today = timezone.localdate()
    lines: list[dict[str, Any]] = []
    log(f"Seeding {cases} offene Verfahren ({vendor}) …")
    seeded = seed(cases, closed, seed_value, today)
    lines.append({"bench": "proceedings_seed", "db": vendor, **seeded})

    city = Authority.objects.get(code="stadt")
    with authority_scope(city):
        open_cases = Case.objects.exclude(state__in=CLOSED_STATES).count()

        def build() -> list:
            return selectors.worklist_rows(today=today)

        _timings(2, build)
        values, rows = _timings(runs, build)
    summary = _summary(values)
    lines.append(
        {
            "bench": "proceedings_worklist",
            "db": vendor,
            "open_cases": open_cases,
            "rows": len(rows),
            "overdue_rows": sum(1 for row in rows if row.overdue),
            "runs": runs,
            **summary,
            "target_p95_ms": TARGET_WORKLIST_S * 1000,
            "ok": summary["p95_ms"] < TARGET_WORKLIST_S * 1000,
        }
    )

    # The first page as the worklist view shows it (proceedings.views.WORKLIST_LIMIT, earliest first).
    with authority_scope(city):

        def page() -> list:
            return selectors.worklist_rows(today=today, limit=PAGE)

        _timings(2, page)
        values, rows = _timings(runs, page)
    lines.append(
        {"bench": "proceedings_worklist_page", "db": vendor, "limit": PAGE, "rows": len(rows), "runs": runs}
        | _summary(values)
    )

    log("Fristen neu berechnen …")
    lines.append({"bench": "proceedings_deadlines_rebuild", "db": vendor, **rebuild_all_deadlines()})

    with unscoped():
        total = Case.objects.count()
        sample = list(Case.objects.exclude(state__in=CLOSED_STATES).order_by("id")[: max(1, refresh_sample)])
        started = time.perf_counter()
        for case in sample:
            services.refresh_deadlines(case)
        seconds = time.perf_counter() - started
    per_case = seconds / max(1, len(sample))
    lines.append(
        {
            "bench": "proceedings_refresh_per_case",
            "db": vendor,
            "sample": len(sample),
            "ms_per_case": round(per_case * 1000, 2),
            "extrapolated_seconds_all_cases": round(per_case * total, 1),
            "cases": total,
        }
    )

    log("Tageslauf …")
    with unscoped():
        started = time.perf_counter()
        first = services.daily_run(today=today)
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        second = services.daily_run(today=today)
        second_seconds = time.perf_counter() - started
    lines.append(
        {
            "bench": "proceedings_daily_run",
            "db": vendor,
            "cases": total,
            "seconds": round(first_seconds, 2),
            "became_final": first.became_final,
            "lapsed": first.lapsed,
            "cautions_unpaid": first.cautions_unpaid,
            "second_run_seconds": round(second_seconds, 2),
            "second_run_changes": second.became_final + second.lapsed + second.cautions_unpaid,
        }
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000, help="open cases of the city")
    parser.add_argument("--closed", type=int, default=None, help="closed cases besides (default: a fifth)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--refresh-sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=None,
        help="database to seed and measure (default: DATABASE_URL; an empty database, it is not dropped)",
    )
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    setup()
    migrate()
    closed = args.closed if args.closed is not None else args.cases // 5
    for line in run(args.cases, closed, args.runs, args.seed, args.refresh_sample):
        emit(**line)


if __name__ == "__main__":
    main()
