"""A task killed halfway (kill -9 of its worker) is redone without duplicating anything.

Real worker processes (``celery -A lagebild worker``) on a real broker, RabbitMQ and Redis, and
the PostgreSQL test database (a worker cannot see the in-memory SQLite database of the test,
so this module runs in the PostgreSQL runs). The task is the one that applies the counts an
import deferred: it locks the pending runs and writes five count tables in one transaction.
The test holds a lock on the count tables, so the worker's task stops in the middle of that
transaction (seen in ``pg_stat_activity``, not guessed with a sleep); the worker is killed,
the lock released, a new worker started, and the counts must then equal a rebuild: every
deferred record counted exactly once. A second test kills only the pool process that runs the
task (prefork, as ``lagebild worker`` runs): its parent hands the task back and runs it again.

Brokers: ``LAGEBILD_TEST_AMQP_URL`` and ``LAGEBILD_TEST_REDIS_URL`` (``.ci/run`` sets them),
otherwise the local defaults; a broker that is neither configured nor reachable is skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from celery import Celery
from django.db import connection

from lagebild.analytics import aggregates
from lagebild.analytics.aggregates import COUNT_MODELS
from lagebild.analytics.models import CITY_AREA, DailyCount, PendingCounts
from lagebild.field.importer import import_incidents
from lagebild.field.models import Incident

from .test_import_export import csv_file, row

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the worker process needs a database it can share with the test (PostgreSQL runs)",
    ),
]

DEADLINE = 25.0  # seconds for any one wait; the whole test stays well under a minute
AMQP_DEFAULT = "amqp://guest:guest@127.0.0.1:5672/lagebild_test"
REDIS_DEFAULT = "redis://127.0.0.1:6379/5"


def _reachable(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=2):
            return True
    except OSError:
        return False


def _amqp_vhost(url: str) -> None:
    """Create the test's own virtual host (needs rabbitmqctl on this machine, as root)."""
    vhost = urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/")) or "/"
    rabbitmqctl = shutil.which("rabbitmqctl")
    if vhost == "/" or rabbitmqctl is None:
        return
    listed = subprocess.run(
        [rabbitmqctl, "-q", "list_vhosts"], capture_output=True, text=True, timeout=60, check=False
    )
    if vhost not in listed.stdout.split():
        subprocess.run([rabbitmqctl, "add_vhost", vhost], capture_output=True, timeout=60, check=False)
        subprocess.run(
            [rabbitmqctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            capture_output=True,
            timeout=60,
            check=False,
        )


@pytest.fixture(params=["rabbitmq", "redis"])
def broker_url(request) -> str:
    if request.param == "rabbitmq":
        configured, default = os.environ.get("LAGEBILD_TEST_AMQP_URL", ""), AMQP_DEFAULT
    else:
        configured, default = os.environ.get("LAGEBILD_TEST_REDIS_URL", ""), REDIS_DEFAULT
    url = configured or default
    if not _reachable(url):
        if configured:
            pytest.fail(f"{request.param} is configured ({url}) but not reachable")
        pytest.skip(f"no {request.param} on this machine")
    if request.param == "rabbitmq":
        _amqp_vhost(url)
    return url


def _database_url() -> str:
    settings = connection.settings_dict
    user = urllib.parse.quote(settings["USER"] or "")
    password = f":{urllib.parse.quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def _wait_for(condition: Callable[[], bool], what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            shown = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"waited {DEADLINE:.0f} s in vain for: {what}\n{shown}")
        time.sleep(0.05)


class Workers:
    """Worker processes of one test, each with its own log file; all stopped at the end."""

    def __init__(self, broker: str, queue: str, folder: Path) -> None:
        self.broker, self.queue, self.folder = broker, queue, folder
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, pool: str = "solo") -> tuple[subprocess.Popen[bytes], Path]:
        number = len(self.processes) + 1
        log = self.folder / f"worker-{number}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "lagebild.settings",
            "DATABASE_URL": _database_url(),
            "LAGEBILD_BROKER_URL": self.broker,
            # Redis hands an unacknowledged task on after this; short, so the test is quick.
            "LAGEBILD_BROKER_VISIBILITY_TIMEOUT": "4",
            "LAGEBILD_VAR_DIR": str(self.folder / "var"),
            "LAGEBILD_LOG_LEVEL": "INFO",  # the worker's log, shown when the test fails
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("LAGEBILD_TEST_NOW", None)
        command = [
            sys.executable, "-m", "celery", "-A", "lagebild", "worker", f"--pool={pool}", "--concurrency=1",
            "--loglevel=INFO", "-Q", self.queue, "-n", f"test{number}-{self.queue}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process, log

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


@pytest.fixture
def workers(broker_url, tmp_path) -> Iterator[Workers]:
    queue = f"lagebild-test-{uuid.uuid4().hex[:12]}"
    started = Workers(broker_url, queue, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
        # The queue may not exist (a worker that never started).
        with Celery(broker=broker_url).connection_for_write() as conn, contextlib.suppress(Exception):
            conn.default_channel.queue_delete(queue)


def _counts() -> dict[str, list[tuple]]:
    found = {}
    for model in COUNT_MODELS:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        found[model.__name__] = sorted(model._base_manager.exclude(count=0).values_list(*fields))
    return found


def _locked_count_tables() -> psycopg.Connection:
    """Another session holding the count tables: count writers wait, readers do not."""
    settings = connection.settings_dict
    blocker = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings.get("PASSWORD") or None,
        dbname=settings["NAME"],
    )
    tables = ", ".join(model._meta.db_table for model in COUNT_MODELS)
    blocker.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
    return blocker


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _import_two_authorities(kod_lead, police_lead) -> None:
    """An import large enough to defer its counts, and a smaller one of the other authority."""
    rows = [row(occurred_at=f"2025-03-{1 + n % 28:02d}T{n % 24:02d}:15:00+01:00") for n in range(80)]
    assert import_incidents(user=kod_lead, data=csv_file(*rows)).imported == 80
    assert import_incidents(user=police_lead, data=csv_file(*rows[:60])).imported == 60
    assert PendingCounts.objects.exists()


def _assert_counted_exactly_once(kod_lead, police_lead) -> None:
    applied = _counts()
    assert Incident._base_manager.count() == 140
    aggregates.rebuild()
    assert _counts() == applied
    daily = DailyCount._base_manager.filter(area_id=CITY_AREA, fact="incident")
    assert sum(daily.filter(authority_id=kod_lead.authority_id).values_list("count", flat=True)) == 80
    assert sum(daily.filter(authority_id=police_lead.authority_id).values_list("count", flat=True)) == 60


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_counts_task_killed_halfway_is_redone_exactly_once(world, kod_lead, police_lead, workers):
    _import_two_authorities(kod_lead, police_lead)
    before = _counts()

    # The task is sent before any worker runs (the broker keeps it), with a request id.
    Celery(broker=workers.broker).send_task(
        "analytics.apply_deferred_counts", queue=workers.queue, headers={"lagebild_request_id": "kill-9"}
    )
    blocker = _locked_count_tables()
    try:
        first, first_log = workers.start()
        # The task has locked the pending runs and waits to write the counts: halfway.
        _wait_for(_waiting_for_a_lock, "the task to wait for the count tables", first_log)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=DEADLINE)
        assert first.returncode == -signal.SIGKILL
        second, second_log = workers.start()
    finally:
        blocker.rollback()
        blocker.close()

    # The broker hands the task to the new worker (RabbitMQ when the dead worker's connection
    # closes, Redis after the visibility timeout); the killed transaction left nothing behind.
    _wait_for(lambda: not PendingCounts.objects.exists(), "the task to be redone", second_log)
    # Its log line carries the request id the task was sent with.
    _wait_for(lambda: b"Deferred counts applied" in second_log.read_bytes(), "the log line", second_log)
    (line,) = [x for x in second_log.read_text().splitlines() if "Deferred counts applied" in x]
    assert "kill-9" in line
    assert _counts() != before
    _assert_counted_exactly_once(kod_lead, police_lead)
    assert second.poll() is None


@pytest.mark.django_db(transaction=True)
def test_counts_task_whose_pool_process_is_killed_goes_back_to_the_queue(
    world, kod_lead, police_lead, workers
):
    """``lagebild worker`` runs tasks in child processes (prefork): one of them killed with
    kill -9 is noticed by its parent, which hands the task back (reject_on_worker_lost) and
    runs it again in a new child, without a second worker."""
    _import_two_authorities(kod_lead, police_lead)
    Celery(broker=workers.broker).send_task("analytics.apply_deferred_counts", queue=workers.queue)
    blocker = _locked_count_tables()
    try:
        worker, log = workers.start(pool="prefork")
        _wait_for(_waiting_for_a_lock, "the task to wait for the count tables", log)
        (child,) = _children(worker.pid)
        os.kill(child, signal.SIGKILL)
        _wait_for(
            lambda: b"WorkerLostError" in log.read_bytes(), "the worker to notice the lost process", log
        )
    finally:
        blocker.rollback()
        blocker.close()
    _wait_for(lambda: not PendingCounts.objects.exists(), "the task to be redone", log)
    _assert_counted_exactly_once(kod_lead, police_lead)
    assert worker.poll() is None
