"""Benchmark: record an incident with two measures through the API.

``POST /api/v1/incidents/`` with token authentication, through Django's full request
stack (``django.test.Client``), with ``--measures`` measures already stored.
Target: p95 below 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time

from .common import base_world, db_vendor, emit, log, migrate, percentile, prepare_like_a_server, setup

TARGET_P95_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--measures", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup()

    from django.test import Client

    from lagebild.core.models import User
    from lagebild.core.scoping import unscoped
    from lagebild.field.models import Measure

    from .accounts import api_key
    from .seed import seed_records

    migrate()
    base_world()
    started = time.perf_counter()
    seed_records(args.measures, seed=args.seed)
    seed_seconds = time.perf_counter() - started
    with unscoped():
        stored = Measure.objects.count()
    log(f"{stored:,} Maßnahmen gespeichert in {seed_seconds:.0f} s")

    user = User.objects.get(username="kod")
    client = Client(HTTP_AUTHORIZATION=f"Token {api_key(user)}", HTTP_HOST="127.0.0.1")

    import numpy as np

    rng = np.random.default_rng(args.seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def payload(i: int) -> str:
        return json.dumps({
            "category": "aggressive-begging",
            "occurred_at": (now - dt.timedelta(minutes=int(rng.integers(1, 600)))).isoformat(),
            "lat": round(51.5140 + float(rng.normal(0, 0.004)), 6),
            "lon": round(7.4650 + float(rng.normal(0, 0.006)), 6),
            "address_text": f"Westenhellweg {i % 120 + 1}",
            "measures": [{"type": "dispersal_order"}, {"type": "caution_fee", "amount": "35.00"}],
        })  # fmt: skip

    failures: list[str] = []

    def post(i: int) -> float:
        body = payload(i)
        started = time.perf_counter()
        response = client.post("/api/v1/incidents/", body, content_type="application/json")
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 201:
            failures.append(f"{response.status_code}: {response.content[:300]!r}")
        return elapsed

    for i in range(20):  # warm-up: imports, area index, connection
        post(i)
    prepare_like_a_server()
    load_before = os.getloadavg()[0]
    timings = [post(i) for i in range(args.n)]
    p95 = percentile(timings, 95)
    if failures:
        log(f"{len(failures)} Fehler, z. B. {failures[0]}")
    emit(
        bench="api_incident_create",
        db=db_vendor(),
        stored_measures=stored,
        seed_seconds=round(seed_seconds, 1),
        n=args.n,
        p50_ms=round(percentile(timings, 50), 2),
        p95_ms=round(p95, 2),
        p99_ms=round(percentile(timings, 99), 2),
        max_ms=round(max(timings), 2),
        failures=len(failures),
        # Other processes on the machine distort latencies; the 1-minute load shows it.
        load_1min=round(load_before, 2),
        target_p95_ms=TARGET_P95_MS,
        ok=not failures and p95 < TARGET_P95_MS,
    )


if __name__ == "__main__":
    main()
