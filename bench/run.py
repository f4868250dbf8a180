"""Run the benchmarks: ``python -m bench.run [--only api,import,demo,open311,cockpit,hotspots] [--db …]``.

``--only load`` (opt-in, not part of the default set: it takes about 20 minutes) runs the load and
fault test ``bench.load`` against gunicorn, PostgreSQL and a Celery worker on RabbitMQ.

Each benchmark runs in its own subprocess against its own throw-away database (a SQLite
file in a temporary directory, or a dedicated PostgreSQL database that is dropped
afterwards), so Django is set up cleanly and nothing touches the development data.
Prints one JSON line per figure; exits 1 if a figure misses its target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = {
    "api": "bench.api",
    "import": "bench.importer",
    "demo": "bench.demo",
    "open311": "bench.open311",
    "cockpit": "bench.cockpit",
    "hotspots": "bench.hotspots",
    "forecast_models": "bench.forecast_models",
    "taskforce": "bench.taskforce",
    "audit": "bench.audit",
    "proceedings": "bench.proceedings",
    "load": "bench.load",
    "forecast_backtest": "bench.forecast_backtest",
    "deployment_plan": "bench.deployment_plan",
}
# Pure numeric benchmarks: run once, without a database. The load test runs once too: it sets up
# its own PostgreSQL database, gunicorn and Celery worker.
WITHOUT_DATABASE = {"hotspots", "load", "forecast_backtest", "deployment_plan", "forecast_models"}
# Run only when named (--only load): the load test takes about 20 minutes and needs RabbitMQ.
OPT_IN = {"load"}
ALL = ",".join(bench for bench in BENCHES if bench not in OPT_IN)
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def _pg_admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def _database(db: str, bench: str, tmp: Path, pg_url: str) -> tuple[str, str | None]:
    """DATABASE_URL for one run, and the PostgreSQL database to drop afterwards."""
    if db == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite3'}", None
    name = f"lagebild_bench_{bench}_{os.getpid()}"
    _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{name}"')
    _pg_admin(pg_url, f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(pg_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}")), name


def run_one(bench: str, db: str, extra: list[str], pg_url: str, keep: bool) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix=f"lagebild-bench-{bench}-"))
    drop: str | None = None
    try:
        try:
            url, drop = _database(db, bench, tmp, pg_url)
        except Exception as exc:  # no server, no permission: report instead of crashing
            return [{"bench": bench, "db": db, "ok": False, "error": f"PostgreSQL nicht erreichbar: {exc}"}]
        (tmp / "static").mkdir(exist_ok=True)  # WhiteNoise warns about a missing STATIC_ROOT
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LAGEBILD_VAR_DIR": str(tmp),
            "LAGEBILD_SECRET_KEY": "bench-only-not-secret",
            "LAGEBILD_DEBUG": "0",
            "LAGEBILD_HTTPS": "0",
            # Throttling stays on (its cost is measured) at a rate no bench loop reaches.
            "LAGEBILD_API_RATE_USER": "1000000/min",
            "LAGEBILD_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "DJANGO_SETTINGS_MODULE": "lagebild.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        }
        print(f"# {bench} on {db} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", BENCHES[bench], *extra],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
        results = []
        for line in proc.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                results.append(json.loads(line))
        if proc.returncode != 0 or not results:
            results.append(
                {"bench": bench, "db": db, "ok": False, "error": f"Abbruch (Exit-Code {proc.returncode})"}
            )
        for result in results:
            result.setdefault("wall_seconds", round(time.perf_counter() - started, 1))
        return results
    finally:
        if drop and not keep:
            try:
                _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')
            except Exception as exc:
                print(f"# could not drop {drop}: {exc}", file=sys.stderr)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=ALL, help=f"comma-separated: {ALL}")
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--measures", type=int, default=1_000_000, help="stored measures for the API bench")
    parser.add_argument("--n", type=int, default=300, help="API requests to time")
    parser.add_argument("--rows", type=int, default=50_000, help="CSV rows for the import bench")
    parser.add_argument("--months", type=int, default=24, help="months of demo data")
    parser.add_argument("--reports", type=int, default=1_000_000, help="stored reports for the Open311 bench")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each POST load (Open311)")
    parser.add_argument(
        "--cockpit-measures-sqlite", type=int, default=1_000_000, help="stored measures, cockpit on SQLite"
    )
    parser.add_argument(
        "--cockpit-measures-postgres",
        type=int,
        default=10_000_000,
        help="stored measures, cockpit on PostgreSQL",
    )
    parser.add_argument(
        "--audit-entries", type=int, default=5_000_000, help="audit entries for the audit bench"
    )
    parser.add_argument(
        "--proceedings-cases", type=int, default=100_000, help="open cases for the proceedings bench"
    )
    parser.add_argument("--kde-points", type=int, default=1_000_000, help="points for the KDE bench")
    parser.add_argument("--gi-cells", type=int, default=100_000, help="cells for the Gi* bench")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", DEFAULT_PG),
        help="PostgreSQL server (any database; a bench database is created next to it)",
    )
    parser.add_argument("--load-minutes", type=float, default=10.0, help="length of the held load run")
    parser.add_argument("--load-rate", type=float, default=None, help="requests/s of the load run")
    parser.add_argument("--load-no-faults", action="store_true", help="load test without the fault run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases")
    args = parser.parse_args(argv)

    extra = {
        "api": ["--measures", str(args.measures), "--n", str(args.n)],
        "import": ["--rows", str(args.rows)],
        "demo": ["--months", str(args.months)],
        "open311": ["--reports", str(args.reports), "--seconds", str(args.seconds)],
        "proceedings": ["--cases", str(args.proceedings_cases)],
        "hotspots": ["--points", str(args.kde_points), "--cells", str(args.gi_cells)],
        "audit": ["--measures", str(args.measures), "--n", str(args.n), "--entries", str(args.audit_entries)],
        "load": ["--minutes", str(args.load_minutes), "--pg-url", args.pg_url]
        + ["--measures", str(args.measures)]
        + (["--rate", str(args.load_rate)] if args.load_rate else [])
        + ([] if args.load_no_faults else ["--with-fault-run"]),
    }
    per_db = {
        ("cockpit", "sqlite"): ["--measures", str(args.cockpit_measures_sqlite)],
        ("cockpit", "postgres"): ["--measures", str(args.cockpit_measures_postgres)],
        ("taskforce", "sqlite"): ["--measures", str(args.measures)],
        ("taskforce", "postgres"): ["--measures", str(args.measures)],
    }
    ok = True
    for bench in [b.strip() for b in args.only.split(",") if b.strip()]:
        if bench not in BENCHES:
            parser.error(f"unknown bench {bench!r} (choose from {', '.join(BENCHES)})")
        databases = [d.strip() for d in args.db.split(",") if d.strip()]
        if bench in WITHOUT_DATABASE:
            databases = databases[:1] or ["sqlite"]
        for db in databases:
            if db not in ("sqlite", "postgres"):
                parser.error(f"unknown database {db!r} (sqlite or postgres)")
            arguments = extra.get(bench, []) + per_db.get((bench, db), [])
            for result in run_one(bench, db, arguments, args.pg_url, args.keep):
                # A figure without a target (e.g. how long seeding took) carries no "ok".
                ok = ok and result.get("ok", True) is not False
                print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
