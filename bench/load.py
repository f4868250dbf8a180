"""Load and fault test: gunicorn + PostgreSQL + a Celery worker on RabbitMQ, driven by locust.

``python -m bench.load --minutes 10 [--faults] [--users N] [--rate R] [--ramp 20,40,60]``

1. Sets up (unless ``--reuse``): a PostgreSQL database ``lagebild_load`` (dropped and created),
   migrations, the demo city (24 months) topped up to ``--measures`` measures (``bench.seed``: two
   per incident over the last year) and ``--reports`` citizen reports, count tables rebuilt, an
   account with a verified second factor, an API token and web sessions for every role of both
   authorities, ``collectstatic``; a RabbitMQ
   vhost ``lagebild_load``.
2. Starts gunicorn (``--workers`` × ``--threads``, DEBUG off, static files through WhiteNoise) and a
   Celery worker on the vhost (``--scheduler`` adds celery beat).
3. Runs ``bench/locustfile.py`` headless (a subprocess) at ``--rate`` requests per second for
   ``--minutes``; ``--ramp`` instead runs short steps (``--step-seconds``) at each rate and reports
   each request type's p95 per step, to find the highest rate with no errors and p95 < 250 ms.
4. ``--faults``: during the run, kill -9 one gunicorn worker, kill -9 the Celery worker (and start
   it again) and restart PostgreSQL, then ``bench.load_check`` verifies the writes.

Prints one JSON line per figure (like ``bench.run``); progress goes to stderr. Server CPU per request
type comes from gunicorn hooks (``bench/gunicorn_load.py``-style config written to the work directory):
``time.thread_time()`` around every request, attributed by the ``X-Load-Type`` header the load
generator sends; PostgreSQL backend CPU (``/proc``) is reported per request overall.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DB_NAME = "lagebild_load"
VHOST = "lagebild_load"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
RABBIT = "amqp://guest:guest@127.0.0.1:5672/"
# The shared cache of the production setup (docs/operations.md): one Redis database of its own,
# emptied at the start of each run so the run starts as after a deployment.
CACHE_URL = os.environ.get("LAGEBILD_LOAD_CACHE_URL", "redis://127.0.0.1:6379/7")
WORKDIR = Path(os.environ.get("LAGEBILD_LOAD_DIR", "/tmp/lagebild-load"))
TARGET_P95_MS = 250.0
SESSIONS_PER_ROLE = 12
WEB_ROLES = ("field_officer", "shift_lead", "analyst")


def log(message: str) -> None:
    print(f"  … {dt.datetime.now(dt.UTC):%H:%M:%S} {message}", file=sys.stderr, flush=True)


def emit(**fields: Any) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def database_url(name: str = DB_NAME) -> str:
    parts = urllib.parse.urlsplit(PG_ADMIN_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def server_env(workdir: Path, *, broker: bool = True) -> dict[str, str]:
    """The environment of every process of the installation (web, worker, seeding, check)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LAGEBILD_VAR_DIR": str(workdir / "var"),
        "LAGEBILD_STATIC_ROOT": str(workdir / "static"),
        "LAGEBILD_SECRET_KEY": "load-test-only-not-secret",
        "LAGEBILD_DEBUG": "0",
        "LAGEBILD_HTTPS": "0",
        "LAGEBILD_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # All simulated users come from 127.0.0.1: the per-address limits would throttle the whole city.
        "LAGEBILD_RATE_LIMITS": "off",
        "LAGEBILD_API_RATE_USER": "1000000/min",
        "LAGEBILD_API_RATE_ANON": "1000000/min",
        "LAGEBILD_BROKER_URL": RABBIT + VHOST if broker else "",
        "LAGEBILD_CACHE_URL": CACHE_URL,
        "LAGEBILD_LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "lagebild.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    }


# --- seeding (runs in a subprocess with Django set up) -----------------------------------------------


def seed_world(measures: int, reports: int, out: Path) -> None:
    """Migrate, fill the city, create the load-test accounts; write what the load generator needs."""
    from .common import migrate, setup

    setup()
    from django.db import connection
    from django.utils import timezone

    from lagebild.analytics import aggregates, opendata
    from lagebild.catalog.models import Category
    from lagebild.citizen.models import Report
    from lagebild.core.models import Authority, Role, User
    from lagebild.core.scoping import unscoped
    from lagebild.demo.service import DemoConfig, setup_demo
    from lagebild.field.models import Incident, Measure

    from .accounts import api_key
    from .open311 import seed_reports
    from .seed import seed_records

    figures: dict[str, Any] = {}
    started = time.perf_counter()
    migrate()
    figures["migrate_seconds"] = round(time.perf_counter() - started, 1)
    # Each step is skipped when its data is there already (a seeding that stopped halfway goes on).
    if not User.objects.filter(username="kod").exists():
        started = time.perf_counter()
        setup_demo(DemoConfig(end_date=timezone.localdate(), seed=2023), log=log)
        figures["demo_seconds"] = round(time.perf_counter() - started, 1)
    with unscoped():
        missing_measures = measures - Measure.objects.count()
        missing_reports = reports - Report.objects.count()
    if missing_measures > 0:
        started = time.perf_counter()
        seed_records(missing_measures, seed=7)
        figures["measures_seconds"] = round(time.perf_counter() - started, 1)
    if missing_reports > 0:
        started = time.perf_counter()
        seed_reports(missing_reports, seed=7)
        figures["reports_seconds"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    aggregates.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    figures["rebuild_seconds"] = round(time.perf_counter() - started, 1)

    with unscoped():
        figures["incidents"] = Incident.objects.count()
        figures["measures"] = Measure.objects.count()
        figures["reports"] = Report.objects.count()

    # One account per role and authority, with a verified second factor, a token and web sessions.
    accounts: dict[str, dict[str, Any]] = {}
    for authority in Authority.objects.order_by("pk"):
        for role in Role:
            if role == Role.PLATFORM_ADMIN and authority.code != "stadt":
                continue
            username = f"last-{authority.code}-{role.value}".replace("_", "-")
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"authority": authority, "role": role, "email": f"{username}@last.invalid"},
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
            accounts[f"{authority.code}:{role.value}"] = {
                "username": username,
                "authority": authority.code,
                "role": role.value,
                "token": api_key(user),
                "sessions": web_sessions(user) if role.value in WEB_ROLES else [],
            }

    # Recent incidents of each authority for the detail pages (the shift lead opens what came in).
    recent: dict[str, list[int]] = {}
    with unscoped():
        for authority in Authority.objects.all():
            recent[authority.code] = list(
                Incident.objects.filter(authority=authority)
                .order_by("-occurred_at")
                .values_list("pk", flat=True)[:300]
            )
    open_data = []
    for dataset in opendata.DATASETS.values():
        months = opendata.published_months(dataset)
        for year, month in months[-6:]:
            open_data.append(f"/offene-daten/{dataset.slug}-{year:04d}-{month:02d}.csv")
    category = Category.objects.get(code="aggressive-begging").pk
    world = {
        "accounts": accounts,
        "category_ids": {authority.code: category for authority in Authority.objects.all()},
        "recent_incidents": recent,
        "open_data": open_data,
        "figures": figures,
    }
    out.write_text(json.dumps(world, indent=1))
    log(f"Welt geschrieben: {figures}")


def web_sessions(user: Any) -> list[str]:
    """Fresh logged-in web sessions (with the second factor) of one load-test account."""
    from django.test import Client

    from .accounts import two_factor_login

    sessions = []
    for _ in range(SESSIONS_PER_ROLE):
        client = Client(HTTP_HOST="127.0.0.1")
        two_factor_login(client, user)
        sessions.append(client.cookies["sessionid"].value)
    return sessions


def refresh_sessions(world_file: Path) -> None:
    """New web sessions for a reused database: sessions end after 30 idle minutes (the
    production setting), so those of an earlier run would answer with the login page."""
    from .common import setup

    setup()
    from lagebild.core.models import User

    world = json.loads(world_file.read_text())
    for account in world["accounts"].values():
        if account["sessions"]:
            account["sessions"] = web_sessions(User.objects.get(username=account["username"]))
    world_file.write_text(json.dumps(world, indent=1))


GUNICORN_HOOKS = """
# Written by bench.load: the production configuration (lagebild serve) plus server CPU per request
# type (thread CPU time around each request, by the X-Load-Type header the load generator sends).
try:
    from lagebild.ops.gunicorn_conf import *  # noqa: F403
except ImportError:  # before the application server configuration existed
    wsgi_app = "lagebild.wsgi:application"
import json, os, threading, time

_cpu = {}
_lock = threading.Lock()
_flushed = [0.0]
CPU_DIR = os.environ["LOAD_CPU_DIR"]


def _flush(pid):
    path = os.path.join(CPU_DIR, f"cpu-{pid}.json")
    with open(path + ".tmp", "w") as out:
        json.dump(_cpu, out)
    os.replace(path + ".tmp", path)


def pre_request(worker, req):
    req.load_cpu_started = time.thread_time()


def post_request(worker, req, environ, resp):
    started = getattr(req, "load_cpu_started", None)
    if started is None:
        return
    used = time.thread_time() - started
    kind = environ.get("HTTP_X_LOAD_TYPE") or "other"
    with _lock:
        entry = _cpu.setdefault(kind, [0, 0.0])
        entry[0] += 1
        entry[1] += used
        now = time.monotonic()
        if now - _flushed[0] > 2:
            _flushed[0] = now
            _flush(os.getpid())


def worker_exit(server, worker):
    with _lock:
        _flush(os.getpid())
"""


# --- processes ------------------------------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process so far (Linux /proc); 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and all its children so far, also of children that ended (a gunicorn worker
    replaced after ``max_requests`` or killed): own utime + stime, cutime + cstime of the reaped
    ones, and the live children's own times."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total = sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total + sum(proc_cpu_seconds(child) for child in children(pid))


def children(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children()]
    except psutil.NoSuchProcess:
        return []


class Installation:
    """gunicorn, a Celery worker (and optionally celery beat) for the load database."""

    def __init__(self, workdir: Path, args: argparse.Namespace) -> None:
        self.workdir = workdir
        self.args = args
        self.env = server_env(workdir)
        self.env["LOAD_CPU_DIR"] = str(workdir / "cpu")
        self.port = args.port
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.scheduler: subprocess.Popen | None = None
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def log_file(self, name: str) -> Any:
        # Open for the child's whole life; closed when this process ends.
        return open(self.logs / name, "a")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_web(self) -> None:
        cpu_dir = self.workdir / "cpu"
        shutil.rmtree(cpu_dir, ignore_errors=True)
        cpu_dir.mkdir(parents=True)
        hooks = self.workdir / "gunicorn_hooks.py"
        hooks.write_text(GUNICORN_HOOKS)
        command = [str(BIN / "gunicorn"), "--config", str(hooks)]
        self.env.update(
            LAGEBILD_BIND=f"127.0.0.1:{self.port}",
            LAGEBILD_WORKERS=str(self.args.workers),
            LAGEBILD_THREADS=str(self.args.threads),
        )
        log(f"gunicorn: {self.args.workers} Worker × {self.args.threads} Threads auf Port {self.port}")
        self.web = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log_file("web.out"), stderr=subprocess.STDOUT
        )

    def web_workers(self) -> list[int]:
        return children(self.web.pid) if self.web else []

    def start_worker(self) -> None:
        command = [
            str(BIN / "celery"), "-A", "lagebild", "worker", "--loglevel", "WARNING", "--pool", "prefork",
            "--concurrency", str(self.args.task_workers), "--hostname", "load@%h", "--without-gossip",
            "--without-mingle",
        ]  # fmt: skip
        self.worker = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file("worker.out"),
            stderr=subprocess.STDOUT,
        )
        if self.args.scheduler and self.scheduler is None:
            self.scheduler = subprocess.Popen(
                [str(BIN / "celery"), "-A", "lagebild", "beat", "--loglevel", "WARNING"],
                cwd=self.workdir, env=self.env, stdout=self.log_file("beat.out"), stderr=subprocess.STDOUT,
            )  # fmt: skip

    def task_processes(self) -> list[int]:
        return children(self.worker.pid) if self.worker else []

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.web and self.web.poll() is not None:
                raise RuntimeError(
                    f"gunicorn beendet (Exit-Code {self.web.returncode}), siehe {self.logs}/web.out"
                )
            try:
                with urllib.request.urlopen(
                    self.base_url + "/open311/v2/services.json", timeout=5
                ) as response:
                    if response.status == 200 and len(self.web_workers()) >= self.args.workers:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("gunicorn antwortet nicht")

    def stop(self) -> None:
        for process in (self.scheduler, self.worker, self.web):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.scheduler, self.worker, self.web):
            if process is None:
                continue
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def app_cpu(workdir: Path) -> dict[str, list[float]]:
    """Requests and CPU seconds per type so far, summed over all gunicorn workers (also dead ones)."""
    total: dict[str, list[float]] = {}
    for path in (workdir / "cpu").glob("cpu-*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for kind, (count, seconds) in data.items():
            entry = total.setdefault(kind, [0, 0.0])
            entry[0] += count
            entry[1] += seconds
    return total


def postgres_cpu() -> tuple[int, float] | None:
    """(postmaster pid, CPU seconds of the whole PostgreSQL server so far): the postmaster, its
    live children (backends, parallel workers, background processes) and, through the
    postmaster's cutime/cstime, every child that has ended (a backend closed after
    ``CONN_MAX_AGE``, a parallel worker of one query). Covers the whole server: the figure is
    meaningful when nothing else uses it (the final runs)."""
    import psutil

    try:
        postmaster = next(
            p for p in psutil.process_iter(["name", "ppid", "username"])
            if p.info["name"] == "postgres" and p.info["username"] == "postgres"
            and (p.info["ppid"] == 1 or psutil.Process(p.info["ppid"]).name() != "postgres")
        )  # fmt: skip
        with open(f"/proc/{postmaster.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total = sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        total += sum(proc_cpu_seconds(child.pid) for child in postmaster.children())
    except (StopIteration, psutil.Error, OSError):
        return None
    return postmaster.pid, total


# --- the load generator ------------------------------------------------------------------------------------


def run_locust(
    installation: Installation,
    *,
    rate: float,
    users: int,
    seconds: float,
    run_id: str,
    only: str = "",
    on_tick: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """One headless locust run; returns samples, errors and CPU used by server, database and client."""
    out = installation.workdir / f"samples-{run_id}.json"
    env = {
        **os.environ,
        "LOAD_WORLD": str(installation.workdir / "world.json"),
        "LOAD_RATE": str(rate),
        "LOAD_USERS": str(users),
        "LOAD_ONLY": only,
        "LOAD_OUT": str(out),
        "LOAD_JOURNAL": str(installation.workdir / f"journal-{run_id}.jsonl"),
        "LOAD_RUN": run_id,
        "PYTHONPATH": str(ROOT),
    }
    command = [
        str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--users", str(users),
        "--spawn-rate", str(max(users / 5, 1)), "--run-time", f"{int(seconds)}s",
        "--host", installation.base_url,
        "--only-summary", "--stop-timeout", "90", "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    web_before = tree_cpu_seconds(installation.web.pid) if installation.web else 0.0
    app_before = app_cpu(installation.workdir)
    pg_before = postgres_cpu()
    task_pid = installation.worker.pid if installation.worker else 0
    task_before = tree_cpu_seconds(task_pid)
    load_before = os.getloadavg()
    children_before = os.times().children_user + os.times().children_system
    started = time.time()
    client = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=installation.log_file("locust.out"),
        stderr=subprocess.STDOUT,
    )
    while client.poll() is None:
        time.sleep(0.5)
        if on_tick:
            on_tick(time.time() - started)
    finished = time.time()
    usage = os.times()  # the client has exited and was waited for: its CPU is in children_*
    client_cpu = usage.children_user + usage.children_system - children_before
    app_after = app_cpu(installation.workdir)
    pg_after = postgres_cpu()
    web_after = tree_cpu_seconds(installation.web.pid) if installation.web else 0.0
    # A worker restarted by the fault run is another process: its CPU before the restart is lost.
    same_worker = installation.worker is not None and installation.worker.pid == task_pid
    task_after = tree_cpu_seconds(task_pid) if same_worker else task_before

    data = json.loads(out.read_text()) if out.exists() else {"samples": [], "errors": []}
    return {
        "samples": data["samples"],
        "errors": data["errors"],
        "started": started,
        "finished": finished,
        "app_cpu": {
            kind: [count - app_before.get(kind, [0, 0.0])[0], spent - app_before.get(kind, [0, 0.0])[1]]
            for kind, (count, spent) in app_after.items()
        },
        "web_cpu_seconds": web_after - web_before,
        # None when PostgreSQL was restarted in between (the fault run).
        "db_cpu_seconds": pg_after[1] - pg_before[1]
        if pg_before and pg_after and pg_before[0] == pg_after[0]
        else None,
        "task_cpu_seconds": task_after - task_before,
        "client_cpu_seconds": client_cpu,
        "load_before": load_before,
        "returncode": client.returncode,
    }


def percentile(values: list[float], q: float) -> float:
    from .common import percentile as pct

    return pct(values, q)


def summarise(
    result: dict[str, Any], *, label: str, rate: float, users: int, extra: dict[str, Any]
) -> list[dict]:
    """Figures per request type and overall (one JSON line each)."""
    samples = result["samples"]
    if not samples:
        return [{"bench": f"load_{label}", "ok": False, "error": "keine Anfragen"}]
    first = min(s[1] for s in samples)
    last = max(s[1] + s[2] / 1000 for s in samples)
    seconds = max(last - first, 1e-9)
    by_type: dict[str, list[tuple]] = {}
    for sample in samples:
        by_type.setdefault(sample[0], []).append(sample)
    lines = []
    worst_p95 = 0.0
    total_errors = 0
    for kind in sorted(by_type):
        rows = by_type[kind]
        latencies = [row[2] for row in rows]
        errors = sum(1 for row in rows if not row[3])
        total_errors += errors
        p95 = percentile(latencies, 95)
        worst_p95 = max(worst_p95, p95)
        count, spent = result["app_cpu"].get(kind, [0, 0.0])
        lines.append({
            "bench": f"load_{label}_type", "type": kind, "requests": len(rows),
            "per_s": round(len(rows) / seconds, 2), "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(p95, 1), "p99_ms": round(percentile(latencies, 99), 1),
            "max_ms": round(max(latencies), 1), "errors": errors,
            "app_cpu_ms": round(spent * 1000 / count, 2) if count else None,
            "target_p95_ms": TARGET_P95_MS, "ok": errors == 0 and p95 < TARGET_P95_MS,
        })  # fmt: skip
    count = len(samples)
    overall = {
        "bench": f"load_{label}",
        "target_rate_per_s": rate,
        "users": users,
        "seconds": round(seconds, 1),
        "requests": count,
        "per_s": round(count / seconds, 2),
        "p50_ms": round(percentile([s[2] for s in samples], 50), 1),
        "p95_ms": round(percentile([s[2] for s in samples], 95), 1),
        "p99_ms": round(percentile([s[2] for s in samples], 99), 1),
        "worst_type_p95_ms": round(worst_p95, 1),
        "errors": total_errors,
        "error_samples": [e["detail"] for e in result["errors"][:3]],
        # CPU per request: gunicorn workers (all of it, not only the request handling), PostgreSQL
        # backends of the load database, the Celery worker, and the load generator itself.
        "web_cpu_ms_per_request": round(result["web_cpu_seconds"] * 1000 / count, 2),
        "db_cpu_ms_per_request": round(result["db_cpu_seconds"] * 1000 / count, 2)
        if result["db_cpu_seconds"] is not None
        else None,
        "task_cpu_ms_per_request": round(result["task_cpu_seconds"] * 1000 / count, 2),
        "client_cpu_ms_per_request": round(result["client_cpu_seconds"] * 1000 / count, 2),
        "server_cpu_share_of_2_cores": round(
            (result["web_cpu_seconds"] + (result["db_cpu_seconds"] or 0.0) + result["task_cpu_seconds"])
            / seconds
            / 2,
            3,
        ),
        "load_before": [round(v, 2) for v in result["load_before"]],
        "ok": total_errors == 0 and worst_p95 < TARGET_P95_MS,
        **extra,
    }
    return [*lines, overall]


# --- faults --------------------------------------------------------------------------------


class Faults:
    """kill -9 a gunicorn worker at 25 %, the Celery task process at 50 %, PostgreSQL restart at 75 %."""

    def __init__(self, installation: Installation, seconds: float, kinds: set[str] | None = None) -> None:
        self.installation = installation
        self.plan: list[tuple[float, str, Callable[[], dict[str, Any]]]] = [
            (seconds * 0.25, "gunicorn_worker_kill", self.kill_web_worker),
            (seconds * 0.50, "celery_worker_kill", self.kill_task_worker),
            (seconds * 0.75, "postgresql_restart", self.restart_postgres),
        ]
        self.plan = [step for step in self.plan if kinds is None or step[1] in kinds]
        self.done: list[dict[str, Any]] = []

    def tick(self, elapsed: float) -> None:
        while self.plan and elapsed >= self.plan[0][0]:
            _at, name, action = self.plan.pop(0)
            started = time.time()
            log(f"Fehler: {name}")
            try:
                details = action()
            except Exception as exc:  # record it; the check decides what it means
                details = {"failed": str(exc)}
            self.done.append(
                {"fault": name, "at": round(started, 3), "until": round(time.time(), 3), **details}
            )

    def kill_web_worker(self) -> dict[str, Any]:
        before = self.installation.web_workers()
        victim = self.busy_web_worker(before)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = self.installation.web_workers()
            if len(now) >= len(before) and victim not in now:
                break
            time.sleep(0.1)
        return {"pid": victim, "respawned": sorted(set(self.installation.web_workers()) - set(before))}

    def busy_web_worker(self, workers: list[int]) -> int:
        """A worker with a client connection open (serving a request: sync workers keep none idle),
        polled for up to 3 seconds; else the one that used the most CPU meanwhile."""
        import psutil

        first = {pid: proc_cpu_seconds(pid) for pid in workers}
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            for pid in workers:
                try:
                    connections = psutil.Process(pid).net_connections(kind="tcp")
                except psutil.Error:
                    continue
                if any(
                    c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.installation.port
                    for c in connections
                ):
                    return pid
            time.sleep(0.01)
        return max(workers, key=lambda pid: proc_cpu_seconds(pid) - first[pid])

    def kill_task_worker(self) -> dict[str, Any]:
        pool = self.installation.task_processes()
        if pool:
            victim = pool[0]
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and victim in self.installation.task_processes():
                time.sleep(0.1)
            # The worker's main process replaces its pool process; if it did not, restart the worker.
            time.sleep(2)
            if not self.installation.task_processes() or (
                self.installation.worker and self.installation.worker.poll() is not None
            ):
                self.installation.start_worker()
                return {"pid": victim, "restarted": "worker"}
            return {"pid": victim, "restarted": "pool process", "now": self.installation.task_processes()}
        return {"failed": "kein Celery-Prozess"}

    def restart_postgres(self) -> dict[str, Any]:
        command = ["pg_ctlcluster", "15", "main", "restart"]
        if not shutil.which("pg_ctlcluster"):
            command = ["service", "postgresql", "restart"]
        proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        return {"command": " ".join(command), "returncode": proc.returncode}


def fault_windows(faults: list[dict[str, Any]], errors: list[dict[str, Any]], end: float) -> list[dict]:
    """Client-seen errors after each fault until the next one: count, first, last, how long."""
    lines = []
    for index, fault in enumerate(faults):
        until = faults[index + 1]["at"] if index + 1 < len(faults) else end
        seen = [e for e in errors if fault["at"] <= e["at"] < until]
        first = min((e["at"] for e in seen), default=None)
        last = max((e["at"] for e in seen), default=None)
        lines.append({
            "bench": "load_fault", **fault, "errors": len(seen),
            "types": sorted({e["type"] for e in seen}),
            "first_error_after_s": round(first - fault["at"], 2) if first else None,
            "last_error_after_s": round(last - fault["at"], 2) if last else None,
            "errors_lasted_s": round(last - first, 2) if first else 0.0,
            "first_error": dt.datetime.fromtimestamp(first, dt.UTC).isoformat() if first else None,
            "last_error": dt.datetime.fromtimestamp(last, dt.UTC).isoformat() if last else None,
            "sample": seen[0]["detail"] if seen else "",
        })  # fmt: skip
    before = [e for e in errors if not faults or e["at"] < faults[0]["at"]]
    if faults:
        lines.append({"bench": "load_fault", "fault": "none (before the first fault)", "errors": len(before)})
    return lines


# --- setup --------------------------------------------------------------------------------


def setup_installation(workdir: Path, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    pg_admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{DB_NAME}"')
    for name in ("var", "static"):
        shutil.rmtree(workdir / name, ignore_errors=True)
        (workdir / name).mkdir(parents=True)
    env = server_env(workdir, broker=False)  # seeding runs its tasks in-process
    log(
        f"Datenbank {DB_NAME}: Migration, Demo-Stadt, {args.measures:,} Maßnahmen, "
        f"{args.reports:,} Meldungen …"
    )
    subprocess.run(
        [sys.executable, "-m", "bench.load", "--internal-seed", str(workdir / "world.json"),
         "--measures", str(args.measures), "--reports", str(args.reports)],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    subprocess.run(
        [str(BIN / "lagebild"), "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    world = json.loads((workdir / "world.json").read_text())
    emit(bench="load_setup", seconds=round(time.perf_counter() - started, 1), **world["figures"], ok=True)


def step_failures(lines: list[dict], rate: float) -> set[str] | None:
    """The request types missing p95 < 250 ms in a ramp step (those with at least 5 requests: with
    few requests p95 is close to the maximum, which is stricter); None if the step failed as a whole
    (errors, or less than 90 % of the aimed-at rate reached)."""
    overall = lines[-1]
    if overall.get("errors") or overall.get("per_s", 0) < 0.9 * rate:
        return None
    return {
        line["type"]
        for line in lines[:-1]
        if line.get("requests", 0) >= 5 and line["p95_ms"] >= TARGET_P95_MS
    }


def choose_rate(steps: list[tuple[float, set[str] | None]]) -> dict[str, Any]:
    """The highest step that met every target; if none did, the highest step where only the types
    that missed the target already at the lowest step missed it (they are named)."""
    strict = [rate for rate, failed in steps if failed is not None and not failed]
    if strict:
        return {"rate": max(strict), "sustained_steps": strict, "excluded_types": []}
    baseline = steps[0][1] or set() if steps else set()
    relaxed = [rate for rate, failed in steps if failed is not None and failed <= baseline]
    rate = max(relaxed) if relaxed else min(rate for rate, _failed in steps)
    return {"rate": rate, "sustained_steps": [], "excluded_types": sorted(baseline)}


def held_run(installation: Installation, args: argparse.Namespace, *, with_faults: bool, extra: dict) -> bool:
    """One run of ``--minutes`` at ``--rate``; with faults, then the check of the writes."""
    run_id = f"{'f' if with_faults else 'n'}{int(time.time())}"
    seconds = args.minutes * 60
    kinds = {k.strip() for k in args.fault_kinds.split(",") if k.strip()} if args.fault_kinds else None
    faults = Faults(installation, seconds, kinds) if with_faults else None
    log(
        f"Lauf {run_id}: {args.rate:g}/s, {args.users} Nutzer, {seconds:g} s"
        + (" mit Fehlern …" if faults else " …")
    )
    result = run_locust(installation, rate=args.rate, users=args.users, seconds=seconds, run_id=run_id,
                        only=args.only, on_tick=faults.tick if faults else None)  # fmt: skip
    ok = True
    for line in summarise(result, label="fault_run" if faults else "run", rate=args.rate, users=args.users,
                          extra={**extra, "run": run_id}):  # fmt: skip
        # Under faults errors are expected; what counts there is the check of the writes.
        ok = ok and (line.get("ok", True) or bool(faults))
        emit(**line)
    if not faults:
        return ok
    for line in fault_windows(faults.done, result["errors"], result["finished"]):
        emit(**line)
    log("Prüfung der Schreibvorgänge …")
    check = subprocess.run(
        [sys.executable, "-m", "bench.load_check",
         "--journal", str(installation.workdir / f"journal-{run_id}.jsonl"),
         "--run", run_id, "--vhost", VHOST],
        cwd=ROOT, env=installation.env, stdout=subprocess.PIPE, text=True, check=False,
    )  # fmt: skip
    for line in check.stdout.splitlines():
        if line.startswith("{"):
            print(line, flush=True)
    return ok and check.returncode == 0


def reset_cache() -> None:
    import redis

    redis.Redis.from_url(CACHE_URL).flushdb()


def reset_vhost() -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True, check=False)
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", VHOST], capture_output=True, check=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
        capture_output=True,
        check=True,
    )


def main(argv: list[str] | None = None) -> int:
    global PG_ADMIN_URL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--internal-seed", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--internal-sessions", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the held run")
    parser.add_argument("--rate", type=float, default=60.0, help="requests per second aimed at")
    parser.add_argument("--users", type=int, default=40, help="simulated users (locust)")
    parser.add_argument(
        "--ramp", default="", help="comma-separated rates: short steps instead of the held run"
    )
    parser.add_argument("--step-seconds", type=float, default=90.0, help="length of each ramp step")
    parser.add_argument(
        "--then-hold",
        action="store_true",
        help="after the ramp, the held run(s) at the highest sustained step",
    )
    parser.add_argument("--faults", action="store_true", help="kill and restart processes during the run")
    parser.add_argument(
        "--fault-kinds",
        default="",
        help="only these faults (gunicorn_worker_kill,celery_worker_kill,postgresql_restart); default all",
    )
    parser.add_argument(
        "--with-fault-run", action="store_true", help="the held run, then a second one with --faults"
    )
    parser.add_argument("--only", default="", help="one request type only (locustfile names)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--task-workers", type=int, default=1, help="Celery pool processes")
    parser.add_argument("--scheduler", action="store_true", help="also run celery beat")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--measures", type=int, default=1_000_000, help="bulk measures on top of the demo city"
    )
    parser.add_argument(
        "--reports", type=int, default=300_000, help="bulk citizen reports on top of the demo"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run (no seeding)")
    parser.add_argument("--warmup-seconds", type=float, default=20.0)
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="PostgreSQL server (any database on it)")
    args = parser.parse_args(argv)
    if args.internal_seed:
        seed_world(args.measures, args.reports, args.internal_seed)
        return 0
    if args.internal_sessions:
        refresh_sessions(args.internal_sessions)
        return 0

    PG_ADMIN_URL = args.pg_url
    workdir = WORKDIR
    workdir.mkdir(parents=True, exist_ok=True)
    if not args.reuse or not (workdir / "world.json").exists():
        setup_installation(workdir, args)
    # Migrations that arrived since the seeding (a reused database), as an upgrade would apply them.
    subprocess.run(
        [str(BIN / "lagebild"), "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=server_env(workdir, broker=False),
        check=True,
    )
    if args.reuse:
        log("Neue Web-Sitzungen …")
        subprocess.run(
            [sys.executable, "-m", "bench.load", "--internal-sessions", str(workdir / "world.json")],
            cwd=ROOT,
            env=server_env(workdir, broker=False),
            check=True,
        )
    reset_vhost()
    reset_cache()
    # As after a deployment (docs/operations.md, Scheduled jobs): the open-data months computed
    # into the shared cache before visitors come.
    log("Offene Daten vorberechnen …")
    subprocess.run(
        [str(BIN / "lagebild"), "schedule", "run", "opendata_warm"],
        cwd=ROOT,
        env=server_env(workdir, broker=False),
        check=True,
    )
    installation = Installation(workdir, args)
    ok = True
    try:
        installation.start_web()
        installation.start_worker()
        installation.wait_ready()
        log("Aufwärmen …")
        run_locust(installation, rate=max(args.rate / 4, 5), users=args.users, seconds=args.warmup_seconds,
                   run_id=f"warm{int(time.time())}")  # fmt: skip
        common = {"workers": args.workers, "threads": args.threads, "faults": args.faults}
        if args.ramp:
            steps: list[tuple[float, set[str] | None]] = []
            for rate in [float(r) for r in args.ramp.split(",") if r.strip()]:
                run_id = f"r{int(rate)}t{int(time.time())}"
                log(f"Stufe {rate:g}/s für {args.step_seconds:g} s …")
                result = run_locust(installation, rate=rate, users=args.users, seconds=args.step_seconds,
                                    run_id=run_id, only=args.only)  # fmt: skip
                lines = summarise(result, label="ramp", rate=rate, users=args.users, extra=common)
                steps.append((rate, step_failures(lines, rate)))
                for line in lines:
                    emit(**line)
            if not args.then_hold:
                return 0
            chosen = choose_rate(steps)
            args.rate = chosen["rate"]
            emit(bench="load_rate_chosen", **chosen, ok=bool(chosen["sustained_steps"]))
        plan = [False, True] if args.with_fault_run else [args.faults]
        for with_faults in plan:
            ok = (
                held_run(installation, args, with_faults=with_faults, extra={**common, "faults": with_faults})
                and ok
            )
    finally:
        installation.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
