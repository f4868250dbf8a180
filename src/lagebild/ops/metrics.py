"""Prometheus metrics (``/metrics``): requests, errors, tasks, queue depth, deferred counts, logins.

Counters and histograms are counted where things happen (middleware, Celery and login signals);
gauges that describe the installation (queue depth, oldest deferred count run, job runs) are read
at scrape time, so every application server reports the same figures.

Several processes: gunicorn's workers and Celery's worker processes each count their own. With
``PROMETHEUS_MULTIPROC_DIR`` set (an empty directory, the same for the web server and the workers
on one machine, emptied at their start: docs/operations.md) prometheus-client writes the counts
to files there and ``/metrics`` adds them up across processes. Without it, each process answers
with its own counts (fine for ``make demo`` and a single worker).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from . import health

logger = logging.getLogger(__name__)

# prometheus-client opens its count files in PROMETHEUS_MULTIPROC_DIR as soon as the metrics
# below are defined; a missing directory would stop every command (migrate, shell) at import.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"].strip()).mkdir(parents=True, exist_ok=True)

# Up to the 250 ms the load test aims at and beyond, for slow exports.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Methods as labels; anything else (a scanner's "FOO") becomes "other", so labels stay few.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_LATENCY = Histogram(
    "lagebild_http_request_duration_seconds",
    "Dauer der Anfragen nach View (Name der URL), Methode und Statusklasse (2xx, 3xx, 4xx, 5xx).",
    ["view", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
REQUEST_ERRORS = Counter(
    "lagebild_http_errors",
    "Fehlerantworten (Status ab 400) nach View, Methode und Statuscode.",
    ["view", "method", "status"],
)
LOGIN_FAILURES = Counter(
    "lagebild_login_failures",
    "Fehlgeschlagene Anmeldungen (falsches Passwort, unbekannter Name, gesperrt); ohne Namen.",
)
LOGIN_LOCKOUTS = Counter(
    "lagebild_login_lockouts",
    "Sperren nach zu vielen Fehlversuchen (django-axes).",
)
TASKS = Counter(
    "lagebild_tasks",
    "Beendete Hintergrundaufgaben nach Aufgabe und Ergebnis (success, failure, retry).",
    ["task", "outcome"],
)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()


def prepare_multiprocess_dir() -> Path | None:
    """Creates ``PROMETHEUS_MULTIPROC_DIR`` and removes the count files of earlier runs.

    For the web server's start (gunicorn's ``on_starting`` hook), before any worker counts:
    files left by processes of an earlier run would otherwise be added to the new counts.
    """
    directory = multiprocess_dir()
    if not directory:
        return None
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    return path


def method_label(method: str | None) -> str:
    upper = (method or "").upper()
    return upper if upper in KNOWN_METHODS else "other"


def observe_request(*, view: str, method: str | None, status: int, seconds: float) -> None:
    method_name = method_label(method)
    REQUEST_LATENCY.labels(view=view, method=method_name, status=f"{status // 100}xx").observe(seconds)
    if status >= 400:
        REQUEST_ERRORS.labels(view=view, method=method_name, status=str(status)).inc()


# --- signals ---------------------------------------------------------------------------------


def _task_name(sender: Any) -> str:
    return str(getattr(sender, "name", None) or "unbekannt")


def task_succeeded(sender: Any = None, **kwargs: Any) -> None:
    TASKS.labels(task=_task_name(sender), outcome="success").inc()


def task_failed(sender: Any = None, **kwargs: Any) -> None:
    TASKS.labels(task=_task_name(sender), outcome="failure").inc()


def task_retried(sender: Any = None, **kwargs: Any) -> None:
    TASKS.labels(task=_task_name(sender), outcome="retry").inc()


def login_failed(sender: Any = None, **kwargs: Any) -> None:
    LOGIN_FAILURES.inc()


def locked_out(sender: Any = None, **kwargs: Any) -> None:
    LOGIN_LOCKOUTS.inc()


def connect() -> None:
    """Connects the counters to Django's, django-axes' and Celery's signals (OpsConfig.ready)."""
    from axes.signals import user_locked_out
    from celery.signals import task_failure, task_retry, task_success
    from django.contrib.auth.signals import user_login_failed

    user_login_failed.connect(login_failed, dispatch_uid="lagebild.ops.metrics.login_failed")
    user_locked_out.connect(locked_out, dispatch_uid="lagebild.ops.metrics.locked_out")
    task_success.connect(task_succeeded, dispatch_uid="lagebild.ops.metrics.task_success", weak=False)
    task_failure.connect(task_failed, dispatch_uid="lagebild.ops.metrics.task_failure", weak=False)
    task_retry.connect(task_retried, dispatch_uid="lagebild.ops.metrics.task_retry", weak=False)


# --- read at scrape time ---------------------------------------------------------------------


def queue_names() -> list[str]:
    """The queues the workers consume: Celery's configured queues plus those named in routes."""
    from lagebild.celery import app

    names = set(app.amqp.queues.keys()) or {app.conf.task_default_queue}
    routes = app.conf.task_routes
    if isinstance(routes, dict):
        names |= {
            str(route["queue"]) for route in routes.values() if isinstance(route, dict) and "queue" in route
        }
    return sorted(names)


def queue_depths(url: str, names: Iterable[str], timeout: float) -> dict[str, int]:
    """Messages waiting per queue: RabbitMQ's message_count, Redis' list length (through kombu).

    A queue the broker does not know yet (nothing was ever sent to it; on Redis also: it is
    empty) has depth 0. Raises when the broker cannot be reached.
    """
    from kombu.exceptions import ChannelError

    depths: dict[str, int] = {}
    with health.broker_connection(url, timeout) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        for name in names:
            # A passive declare of a missing queue closes the AMQP channel: one channel per queue.
            channel = conn.channel()
            try:
                depths[name] = int(channel.queue_declare(queue=name, passive=True).message_count)
            except ChannelError:  # amqp's NotFound (404), kombu's virtual transports alike
                depths[name] = 0
            finally:
                with contextlib.suppress(Exception):  # a channel the broker closed already
                    channel.close()
    return depths


class InstallationCollector(Collector):
    """Figures read at scrape time from the broker and the database."""

    def collect(self) -> Iterator[Metric]:
        yield from self._broker()
        yield from self._pending_counts()
        yield from self._job_runs()

    def _broker(self) -> Iterator[Metric]:
        url = str(getattr(settings, "LAGEBILD_BROKER_URL", "") or "")
        if not url:
            return  # tasks run in-process: there is no queue
        up = GaugeMetricFamily("lagebild_broker_up", "1, wenn der Broker erreichbar ist.")
        depth = GaugeMetricFamily(
            "lagebild_task_queue_depth", "Wartende Aufgaben je Warteschlange des Brokers.", labels=["queue"]
        )
        try:
            depths = queue_depths(url, queue_names(), health.broker_timeout())
        except Exception as exc:
            logger.warning("Warteschlangen nicht lesbar: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for name, count in depths.items():
            depth.add_metric([name], count)
        yield up
        yield depth

    def _pending_counts(self) -> Iterator[Metric]:
        try:
            state = health.pending_counts_state()
        except Exception as exc:
            logger.warning("Offene Zählungen nicht lesbar: %s", type(exc).__name__)
            return
        runs = GaugeMetricFamily(
            "lagebild_pending_count_runs", "Noch nicht in die Zähltabellen übernommene Läufe (Importe)."
        )
        runs.add_metric([], state.runs)
        age = GaugeMetricFamily(
            "lagebild_pending_count_oldest_age_seconds",
            "Alter des ältesten noch nicht übernommenen Laufs in Sekunden (0: keiner).",
        )
        age.add_metric([], state.oldest_age.total_seconds() if state.oldest_age is not None else 0.0)
        yield runs
        yield age

    def _job_runs(self) -> Iterator[Metric]:
        """Scheduled job runs from the database (lagebild.ops.models.JobRun): every worker's,
        on any machine, so failures are seen whichever process ran the job."""
        try:
            from django.db.models import Count, Max

            from .models import JobRun

            by_outcome = list(JobRun.objects.values("job", "outcome").annotate(runs=Count("pk")))
            last_ok = list(
                JobRun.objects.filter(outcome=JobRun.Outcome.OK)
                .values("job")
                .annotate(last=Max("finished_at"))
            )
        except Exception as exc:
            logger.warning("Läufe der geplanten Aufgaben nicht lesbar: %s", type(exc).__name__)
            return
        runs = CounterMetricFamily(
            "lagebild_job_runs",
            "Läufe der geplanten Aufgaben nach Aufgabe und Ergebnis (aus der Datenbank).",
            labels=["job", "outcome"],
        )
        for row in by_outcome:
            runs.add_metric([row["job"], row["outcome"]], row["runs"])
        last = GaugeMetricFamily(
            "lagebild_job_last_success_timestamp_seconds",
            "Ende des letzten erfolgreichen Laufs je geplanter Aufgabe (Unix-Zeit).",
            labels=["job"],
        )
        for row in last_ok:
            last.add_metric([row["job"]], row["last"].timestamp())
        yield runs
        yield last


def exposition() -> bytes:
    """The text for ``/metrics``: this process' (or all processes') counters plus the
    installation's gauges."""
    installation = CollectorRegistry(auto_describe=False)
    installation.register(InstallationCollector())
    directory = multiprocess_dir()
    if directory:
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted, path=directory)
        return generate_latest(counted) + generate_latest(installation)
    return generate_latest(REGISTRY) + generate_latest(installation)
