"""Benchmark: the Open311 GeoReport v2 server.

1. ``GET /open311/v2/requests.json`` with default parameters (the last 90 days, first 1,000,
   newest first) with ``--reports`` citizen reports stored, through Django's full request
   stack (``django.test.Client``). Target: p95 below 100 ms. XML and ``extensions=true``
   are measured too (no target).
2. Public POST throughput through a real HTTP server: ``--workers`` pre-forked processes
   running the WSGI application (standard library ``wsgiref``, one request at a time per
   process like sync workers of a production WSGI server) on 127.0.0.1, and a load
   generator with ``--clients`` threads sending form POSTs for ``--seconds`` seconds:
   Open311 ``POST /open311/v2/requests.json`` with the demo key, and the public web form
   ``POST /melden/<code>/`` (CSRF token from a GET, rate limit switched off with
   ``LAGEBILD_RATE_LIMITS=off`` because all requests come from one address).
   Target: at least 100 requests per second without errors, for each.

``python -m bench.open311 --serve PORT --workers N`` runs only the server (used by 2.).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from .common import base_world, db_vendor, emit, log, migrate, percentile, setup

TARGET_GET_P95_MS = 100.0
TARGET_POST_PER_S = 100.0
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
CHUNK = 50_000
DAYS = 365
CENTRE = (51.5140, 7.4650)
TEXTS = (
    "Seit Tagen liegt hier Sperrmüll neben den Containern.",
    "Mehrere Personen sprechen Passanten sehr aufdringlich an.",
    "Am Eingang wird regelmäßig Alkohol getrunken, viele Scherben.",
    "Hund läuft ohne Leine über den Spielplatz.",
    "Die Wand wurde in der Nacht großflächig besprüht.",
    "Laute Musik bis weit nach Mitternacht.",
    "",
)
STREETS = ("Westenhellweg", "Kampstraße", "Brückstraße", "Münsterstraße", "Nordmarkt", "Königswall")


# --- seeding -----------------------------------------------------------------------------------------


def seed_reports(count: int, *, seed: int = 1) -> dict[str, int]:
    """Insert ``count`` located, routed reports over the last year with their status history."""
    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone

    from lagebild.citizen.models import (
        CLOSED_STATUSES,
        Report,
        ReportStatus,
        RoutingRule,
        ServiceType,
        StatusChange,
        new_public_id,
    )
    from lagebild.core.models import Authority
    from lagebild.demo import bulk
    from lagebild.geo.services import area_index, locate_many

    rng = np.random.default_rng(seed)
    services = list(ServiceType.objects.filter(active=True, acute=False).order_by("pk"))
    # Route like the first matching rule for the service at noon (night rules are ignored here).
    rules = list(RoutingRule.objects.filter(active=True, time_from__isnull=True).select_related("target"))
    city_id = Authority.objects.get(code="stadt").pk

    def route(service: ServiceType) -> tuple[int | None, int | None, int]:
        for rule in rules:
            if rule.service_id in (None, service.pk) and rule.area_id is None:
                return rule.target_id, rule.pk, rule.target.authority_id or city_id
        return None, None, city_id

    routes = [route(s) for s in services]
    forwarded = [bool(r[0]) and rules_target_external(rules, r[0]) for r in routes]
    end = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    boundary = area_index().boundary
    min_lon, min_lat, max_lon, max_lat = boundary.bounds
    stamp = bulk.datetime_adapter()
    written = {"reports": 0, "status_changes": 0}
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1000000")
    report_fields = [
        "id", "authority", "joint", "service", "status", "channel", "description", "attributes",
        "address_text", "address_id", "lat", "lon", "x_utm", "y_utm", "h3_cell", "reporter_name",
        "reporter_email", "reporter_phone", "anonymised_at", "public_token", "public_id", "requested_at",
        "updated_at",
        "first_response_at", "closed_at", "due_at", "target", "routing_rule", "duplicate_of", "supporters",
        "entered_by", "api_client", "external_source", "external_id",
    ]  # fmt: skip
    change_fields = ["report", "at", "user", "from_status", "to_status", "public_note", "internal_note"]
    closed_choices = [ReportStatus.RESOLVED] * 14 + [ReportStatus.NOT_RESOLVABLE, ReportStatus.REJECTED]
    open_choices = [ReportStatus.NEW, ReportStatus.TRIAGE, ReportStatus.ASSIGNED, ReportStatus.IN_PROGRESS]
    channels = ["web"] * 5 + ["open311", "phone", "email", "citywache", "letter"]
    with transaction.atomic():
        for offset in range(0, count, CHUNK):
            size = min(CHUNK, count - offset)
            lats = np.empty(0)
            lons = np.empty(0)
            while len(lats) < size:
                want = (size - len(lats)) * 2
                near = rng.random(want) < 0.6
                lat = np.where(near, rng.normal(CENTRE[0], 0.01, want), rng.uniform(min_lat, max_lat, want))
                lon = np.where(near, rng.normal(CENTRE[1], 0.016, want), rng.uniform(min_lon, max_lon, want))
                lat, lon = np.round(lat, 6), np.round(lon, 6)
                inside = area_index().inside_boundary_many(lon, lat)
                lats = np.concatenate([lats, lat[inside]])
                lons = np.concatenate([lons, lon[inside]])
            lats, lons = lats[:size], lons[:size]
            located = locate_many(lats, lons)
            span = DAYS * 86400 / max(count, 1)
            seconds = np.sort(rng.uniform(offset * span, (offset + size) * span, size))[::-1]
            service_index = rng.integers(0, len(services), size)
            text_index = rng.integers(0, len(TEXTS), size)
            pick = rng.random(size)
            hours_to_close = rng.lognormal(3.5, 1.0, size)
            ids = bulk.reserve_ids(Report, size)
            report_rows = []
            change_rows = []
            for i, pk in enumerate(ids):
                requested = end - dt.timedelta(seconds=int(seconds[i]))
                s = int(service_index[i])
                service = services[s]
                target_id, rule_id, authority_id = routes[s]
                closed_at = requested + dt.timedelta(hours=float(hours_to_close[i]))
                if forwarded[s]:
                    status, closed_at = ReportStatus.FORWARDED, requested
                elif closed_at < end and pick[i] < 0.93:
                    status = closed_choices[int(pick[i] * 1000) % len(closed_choices)]
                else:
                    status, closed_at = open_choices[int(pick[i] * 100) % 4], None
                due = requested + dt.timedelta(days=service.service_level_days * 7 / 5)
                at = stamp(requested)
                report_rows.append((
                    pk, authority_id, False, service.pk, status, channels[int(pick[i] * 10_000) % 10],
                    TEXTS[int(text_index[i])], "{}", f"{STREETS[pk % len(STREETS)]} {pk % 90 + 1}", "",
                    float(lats[i]), float(lons[i]), float(located.x_utm[i]), float(located.y_utm[i]),
                    located.h3_cells[i], "", "", "", None, secrets.token_urlsafe(16), new_public_id(), at,
                    stamp(closed_at) if closed_at else at, stamp(closed_at) if closed_at else None,
                    stamp(closed_at) if closed_at else None, stamp(due), target_id, rule_id, None, 0,
                    None, None, "", "",
                ))  # fmt: skip
                change_rows.append((pk, at, None, "", ReportStatus.NEW, "Ihre Meldung ist eingegangen.", ""))
                if status in CLOSED_STATUSES:
                    change_rows.append(
                        (
                            pk,
                            stamp(closed_at),
                            None,
                            ReportStatus.NEW,
                            status,
                            "Die Meldung ist erledigt.",
                            "",
                        )
                    )
            bulk.insert(Report, report_fields, report_rows)
            bulk.insert(StatusChange, change_fields, change_rows)
            written["reports"] += len(report_rows)
            written["status_changes"] += len(change_rows)
            log(f"{written['reports']:,} Meldungen, {written['status_changes']:,} Statusänderungen")
    with connection.cursor() as cursor:
        if sqlite:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA cache_size = -2000")
            # The seed went through the write-ahead log (about 1 GB); a running database
            # would have checkpointed it long ago, not during the first timed writes.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # Like a database that has been running for a while (autovacuum done).
            cursor.execute("VACUUM ANALYZE")
    return written


def rules_target_external(rules: list, target_id: int) -> bool:
    return any(r.target_id == target_id and r.target.authority_id is None for r in rules)


# --- a pre-forking WSGI server ------------------------------------------------------------------------


def serve(port: int, workers: int) -> None:
    """Bind once, fork ``workers`` processes that each serve one request at a time."""
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    from django.db import connections

    # Warm up before forking (imports, URL resolver, templates, area index), like a
    # production server's preload: the workers inherit it.
    from django.test import Client

    from lagebild.wsgi import application  # as a production server loads it

    warm = Client(HTTP_HOST="127.0.0.1")
    for path in ("/open311/v2/services.json", "/melden/graffiti/"):
        warm.get(path)
    connections.close_all()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            server = WSGIServer(("127.0.0.1", port), QuietHandler, bind_and_activate=False)
            server.socket.close()
            server.socket = listener
            server.server_name, server.server_port = "127.0.0.1", port
            server.setup_environ()
            server.set_app(application)
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            server.serve_forever()
            os._exit(0)
        children.append(pid)

    def stop(*_: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready " + ",".join(str(child) for child in children), flush=True)
    for child in children:
        os.waitpid(child, 0)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- load generator -------------------------------------------------------------------------------------


@dataclass
class Load:
    ok: int = 0
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_load(
    port: int,
    *,
    path: str,
    body: Callable[[int, dict], str],
    expect: int,
    clients: int,
    seconds: float,
    prepare: Callable[[http.client.HTTPConnection], dict] | None = None,
) -> dict:
    """``clients`` threads POST form bodies to ``path`` until ``seconds`` have passed."""
    load = Load()
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))
    counter_lock = threading.Lock()

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        context = prepare(connection) if prepare else {}
        while time.perf_counter() < deadline:
            with counter_lock:
                i = next(counter)
            data = body(i, context).encode("utf-8")
            headers = {"Content-Type": FORM_TYPE, **context.get("headers", {})}
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=data, headers=headers)
                response = connection.getresponse()
                content = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                status, content = 0, str(exc).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with load.lock:
                load.latencies.append(elapsed)
                if status == expect:
                    load.ok += 1
                else:
                    load.errors += 1
                    if len(load.samples) < 3:
                        load.samples.append(f"{status}: {content[:200]!r}")
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": load.ok + load.errors,
        "errors": load.errors,
        "error_samples": load.samples,
        "seconds": round(elapsed, 1),
        "per_s": round(load.ok / elapsed, 1),
        "p50_ms": round(percentile(load.latencies, 50), 1),
        "p95_ms": round(percentile(load.latencies, 95), 1),
    }


def _point(i: int) -> tuple[float, float]:
    # A deterministic spread of points around the centre (all inside the city).
    return CENTRE[0] + ((i * 37) % 200 - 100) * 0.00005, CENTRE[1] + ((i * 53) % 200 - 100) * 0.00008


def open311_body(i: int, _context: dict) -> str:
    lat, lon = _point(i)
    return urllib.parse.urlencode({
        "api_key": "demo-key",
        "service_code": "wilder-muell",
        "lat": f"{lat:.6f}",
        "long": f"{lon:.6f}",
        "description": f"Sperrmüll neben dem Container ({i}) – ÄÖÜß",
        "attribute[menge]": "mittel",
        "attribute[art][]": ["sperrmuell", "elektro"],
        "email": "buerger@example.org",
    }, doseq=True)  # fmt: skip


def form_prepare(connection: http.client.HTTPConnection) -> dict:
    connection.request("GET", "/melden/graffiti/")
    response = connection.getresponse()
    html = response.read().decode("utf-8")
    cookie = response.getheader("Set-Cookie") or ""
    match = re.search(r"csrftoken=([^;]+)", cookie)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if response.status != 200 or not match or not token:
        raise RuntimeError(f"Formular nicht abrufbar (HTTP {response.status})")
    return {"token": token.group(1), "headers": {"Cookie": f"csrftoken={match.group(1)}"}}


def form_body(i: int, context: dict) -> str:
    lat, lon = _point(i)
    return urllib.parse.urlencode({
        "csrfmiddlewaretoken": context["token"],
        "lat": f"{lat:.6f}",
        "lon": f"{lon:.6f}",
        "address_text": "",
        "description": f"Neue Schmiererei an der Hauswand ({i}).",
        "confirm_new": "1",
        "website": "",
    })  # fmt: skip


# --- main ------------------------------------------------------------------------------------------------


def measure_get(client: object, path: str, n: int) -> dict:
    for _ in range(10):  # warm-up: imports, caches, connection
        client.get(path)  # type: ignore[attr-defined]
    timings = []
    size = items = 0
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
        size = len(response.content)
    if path.split("?")[0].endswith(".json"):
        items = len(json.loads(response.content))
    return {
        "p50_ms": round(percentile(timings, 50), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "p99_ms": round(percentile(timings, 99), 2),
        "max_ms": round(max(timings), 2),
        "bytes": size,
        "items": items,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=200, help="GET requests to time")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each POST load")
    parser.add_argument("--workers", type=int, default=4, help="server processes for the POST load")
    parser.add_argument("--clients", type=int, default=8, help="load generator threads")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-post", action="store_true")
    parser.add_argument("--serve", type=int, default=0, help="only serve on this port (internal)")
    args = parser.parse_args()
    setup()
    if args.serve:
        serve(args.serve, args.workers)
        return

    from django.db import transaction
    from django.test import Client

    from lagebild.citizen.models import ApiClient, Report, ServiceType, StatusChange
    from lagebild.citizen.services_catalog import load_services
    from lagebild.core.scoping import unscoped
    from lagebild.demo.citizen import ensure_routing

    migrate()
    authorities = base_world()
    with transaction.atomic():
        load_services()
        ensure_routing(authorities, {s.code: s for s in ServiceType.objects.all()})
        ApiClient.objects.get_or_create(api_key="demo-key", defaults={"name": "Demo-Client"})
    started = time.perf_counter()
    written = seed_reports(args.reports, seed=args.seed)
    seed_seconds = time.perf_counter() - started
    with unscoped():
        stored = Report.objects.count()
        changes = StatusChange.objects.count()
    log(f"{stored:,} Meldungen, {changes:,} Statusänderungen gespeichert in {seed_seconds:.0f} s")

    client = Client(HTTP_HOST="127.0.0.1")
    load_before = os.getloadavg()[0]
    default = measure_get(client, "/open311/v2/requests.json", args.n)
    as_xml = measure_get(client, "/open311/v2/requests.xml", max(args.n // 4, 20))
    extended = measure_get(client, "/open311/v2/requests.json?extensions=true", max(args.n // 4, 20))
    emit(
        bench="open311_get_requests",
        db=db_vendor(),
        stored_reports=stored,
        status_changes=changes,
        seed_seconds=round(seed_seconds, 1),
        n=args.n,
        **default,
        xml_p95_ms=as_xml["p95_ms"],
        extensions_p95_ms=extended["p95_ms"],
        load_1min=round(load_before, 2),
        target_p95_ms=TARGET_GET_P95_MS,
        ok=default["items"] == 1000 and default["p95_ms"] < TARGET_GET_P95_MS,
    )
    del written
    if args.skip_post:
        return

    port = _free_port()
    env = {**os.environ, "LAGEBILD_RATE_LIMITS": "off"}
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.open311", "--serve", str(port), "--workers", str(args.workers)],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = server.stdout.readline().strip() if server.stdout else ""
        if not line.startswith("ready"):
            raise RuntimeError("Server nicht gestartet")
        workers = [int(pid) for pid in line.split()[1].split(",")]
        for name, kwargs in (
            ("open311_post", {"path": "/open311/v2/requests.json", "body": open311_body, "expect": 200}),
            (
                "web_form_post",
                {"path": "/melden/graffiti/", "body": form_body, "expect": 302, "prepare": form_prepare},
            ),
        ):
            with unscoped():
                before = Report.objects.count()
            run_load(port, clients=args.clients, seconds=2, **kwargs)  # type: ignore[arg-type]  # warm-up
            with unscoped():
                before = Report.objects.count()
            load_before = os.getloadavg()[0]
            server_cpu, client_cpu = cpu_seconds(workers), time.process_time()
            result = run_load(port, clients=args.clients, seconds=args.seconds, **kwargs)  # type: ignore[arg-type]
            server_cpu = cpu_seconds(workers) - server_cpu
            client_cpu = time.process_time() - client_cpu
            with unscoped():
                created = Report.objects.count() - before
            done = max(result["requests"], 1)
            # CPU per request does not depend on other load on the machine; with it, the
            # throughput two otherwise idle cores could sustain (server and load generator).
            result["server_cpu_ms_per_request"] = round(server_cpu * 1000 / done, 1)
            result["client_cpu_ms_per_request"] = round(client_cpu * 1000 / done, 1)
            result["capacity_2_cores_per_s"] = round(2 * done / max(server_cpu + client_cpu, 1e-9), 1)
            emit(
                bench=f"{name}_throughput",
                db=db_vendor(),
                server=f"wsgiref pre-fork, {args.workers} processes",
                clients=args.clients,
                stored_reports=before,
                created=created,
                **result,
                load_1min=round(load_before, 2),
                target_per_s=TARGET_POST_PER_S,
                ok=not result["errors"]
                and result["per_s"] >= TARGET_POST_PER_S
                and created == result["requests"],
            )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
