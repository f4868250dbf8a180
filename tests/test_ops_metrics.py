"""/metrics as Prometheus scrapes it: refused without the token, counts per view, errors, logins, tasks."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils import timezone
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from lagebild.analytics.models import PendingCounts
from lagebild.core import tasking
from lagebild.ops import health, metrics
from lagebild.ops.models import JobRun

from .api_support import record

TOKEN = "metrik-token-" + "x" * 32
# The brokers of the machine; .ci/run starts them and names them in these variables.
BROKERS = {
    "rabbitmq": ("LAGEBILD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "redis": ("LAGEBILD_TEST_REDIS_URL", "redis://127.0.0.1:6379/4"),
}


def broker_url(kind: str) -> str:
    """The test broker's URL; skips when none runs here, fails when CI named one that does not."""
    variable, default = BROKERS[kind]
    configured = os.environ.get(variable, "")
    url = configured or default
    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception:
        if configured:
            pytest.fail(f"{variable}={url} is not reachable")
        pytest.skip(f"no {kind} on this machine")
    return url


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("kaputt")


# This module doubles as a URLconf (pytest.mark.urls) with a view that fails: the site plus it.
urlpatterns = [
    path("test-kaputt/", broken_view, name="test-broken"),
    path("", include("lagebild.urls")),
]


@tasking.task(name="tests.ops.metrics.succeeds")
def succeeding_task() -> int:
    return 1


@tasking.task(name="tests.ops.metrics.fails")
def failing_task() -> None:
    raise ValueError("absichtlich")


@pytest.fixture(autouse=True)
def _anchors(tmp_path, settings):
    settings.LAGEBILD_AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")


@pytest.fixture
def token(settings) -> str:
    settings.LAGEBILD_METRICS_TOKEN = TOKEN
    settings.LAGEBILD_METRICS_ALLOWED_IPS = []
    return TOKEN


def scrape(**extra: str) -> dict[tuple[str, frozenset], float]:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples: dict[tuple[str, frozenset], float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- access ----------------------------------------------------------------------------------


def test_without_configuration_there_are_no_metrics(db, settings):
    settings.LAGEBILD_METRICS_TOKEN = ""
    settings.LAGEBILD_METRICS_ALLOWED_IPS = []
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404
    assert b"lagebild_" not in response.content


def test_metrics_need_the_right_token(db, token):
    client = Client()
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    for wrong in (f"Bearer {token}x", f"Bearer {token[:-1]}", f"Token {token}", token, "Bearer"):
        response = client.get("/metrics", HTTP_AUTHORIZATION=wrong)
        assert response.status_code == 401, wrong
        assert b"lagebild_" not in response.content
    served = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert served.status_code == 200
    assert b"lagebild_http_request_duration_seconds" in served.content
    assert not served.cookies


def test_allowed_addresses_alone_or_together_with_the_token(db, settings):
    settings.LAGEBILD_METRICS_TOKEN = ""
    settings.LAGEBILD_METRICS_ALLOWED_IPS = ["10.1.0.0/16", "::1"]
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    # A client cannot claim an allowed address without a trusted proxy.
    assert (
        client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 403
    )

    settings.LAGEBILD_METRICS_TOKEN = TOKEN
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401
    good = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", **good).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", **good).status_code == 200


# --- requests --------------------------------------------------------------------------------


def test_a_page_view_is_counted_by_its_view_name(world, kod, token):
    before = scrape()
    client = Client()
    client.force_login(kod)
    assert client.get("/feststellungen/").status_code == 200
    after = scrape()
    labels = {"view": "field:incident-list", "method": "GET", "status": "2xx"}
    count = "lagebild_http_request_duration_seconds_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 1
    bucket = "lagebild_http_request_duration_seconds_bucket"
    assert value(after, bucket, **labels, le="+Inf") == value(before, bucket, **labels, le="+Inf") + 1


def test_the_other_authoritys_incident_is_counted_as_404_without_its_id(world, kod, polizei, token, now):
    incident = record(kod, world["categories"]["begging"], now)
    before = scrape()
    client = Client()
    client.force_login(polizei)
    assert client.get(f"/feststellungen/{incident.pk}/").status_code == 404
    after = scrape()
    labels = {"view": "field:incident-detail", "method": "GET", "status": "404"}
    assert value(after, "lagebild_http_errors_total", **labels) == (
        value(before, "lagebild_http_errors_total", **labels) + 1
    )
    assert not any(str(incident.pk) == dict(key[1]).get("view") for key in after)
    assert f"/feststellungen/{incident.pk}/" not in str(list(after))


def test_unknown_paths_and_methods_share_one_label(db, token):
    before = scrape()
    client = Client()
    assert client.get(f"/gibt-es-nicht-{uuid.uuid4().hex}/").status_code == 404
    assert client.generic("FOO", "/healthz").status_code == 405
    after = scrape()
    unresolved = {"view": "<unresolved>", "method": "GET", "status": "404"}
    assert value(after, "lagebild_http_errors_total", **unresolved) == (
        value(before, "lagebild_http_errors_total", **unresolved) + 1
    )
    other = {"view": "ops:healthz", "method": "other", "status": "405"}
    assert value(after, "lagebild_http_errors_total", **other) == (
        value(before, "lagebild_http_errors_total", **other) + 1
    )


@pytest.mark.urls(__name__)
def test_a_server_error_is_counted(db, token):
    before = scrape()
    response = Client(raise_request_exception=False).get("/test-kaputt/")
    assert response.status_code == 500
    after = scrape()
    errors = {"view": "test-broken", "method": "GET", "status": "500"}
    assert value(after, "lagebild_http_errors_total", **errors) == (
        value(before, "lagebild_http_errors_total", **errors) + 1
    )
    latency = {"view": "test-broken", "method": "GET", "status": "5xx"}
    count = "lagebild_http_request_duration_seconds_count"
    assert value(after, count, **latency) == value(before, count, **latency) + 1


# --- logins, tasks ---------------------------------------------------------------------------


def test_failed_logins_are_counted_without_names(kod, polizei, token):
    before = scrape()
    client = Client()
    client.post("/anmelden/", {"username": "kod", "password": "falsch"})
    client.post("/anmelden/", {"username": "polizei", "password": "falsch"})
    client.post("/anmelden/", {"username": "niemand", "password": "falsch"})
    assert client.post("/anmelden/", {"username": "kod", "password": "geheim-123"}).status_code == 302
    after = scrape()
    assert value(after, "lagebild_login_failures_total") == value(before, "lagebild_login_failures_total") + 3
    text = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    for name in ("kod", "polizei", "niemand"):
        assert f'"{name}"' not in text


def test_login_lockouts_are_counted(kod, token, settings):
    before = scrape()
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/anmelden/", {"username": "kod", "password": "falsch"})
    after = scrape()
    assert value(after, "lagebild_login_lockouts_total") == value(before, "lagebild_login_lockouts_total") + 1


def test_task_successes_and_failures_are_counted(db, token):
    before = scrape()
    assert tasking.run_or_enqueue(succeeding_task) == 1
    # As a worker runs it: the error is recorded, not raised. (In-process, run_or_enqueue hands
    # the error to the caller instead, where it counts as the request's 500.)
    assert failing_task.apply(throw=False).state == "FAILURE"
    after = scrape()
    for task, outcome in (("tests.ops.metrics.succeeds", "success"), ("tests.ops.metrics.fails", "failure")):
        labels = {"task": task, "outcome": outcome}
        assert (
            value(after, "lagebild_tasks_total", **labels)
            == value(before, "lagebild_tasks_total", **labels) + 1
        )


def test_scheduled_job_runs_are_read_from_the_database(db, token):
    finished = timezone.now().replace(microsecond=0)
    for outcome in (JobRun.Outcome.OK, JobRun.Outcome.FAILED, JobRun.Outcome.FAILED):
        JobRun.objects.create(
            job="tests-job",
            started_at=finished - dt.timedelta(seconds=3),
            finished_at=finished,
            duration=dt.timedelta(seconds=3),
            outcome=outcome,
        )
    samples = scrape()
    assert value(samples, "lagebild_job_runs_total", job="tests-job", outcome="failed") == 2
    assert value(samples, "lagebild_job_runs_total", job="tests-job", outcome="ok") == 1
    assert (
        value(samples, "lagebild_job_last_success_timestamp_seconds", job="tests-job") == finished.timestamp()
    )


# --- read at scrape time ---------------------------------------------------------------------


def test_the_oldest_deferred_count_run_is_reported_with_its_age(db, token, clock):
    samples = scrape()
    assert value(samples, "lagebild_pending_count_runs") == 0
    assert value(samples, "lagebild_pending_count_oldest_age_seconds") == 0
    PendingCounts.objects.create(kind=PendingCounts.Kind.INCIDENTS, first_id=1, last_id=5)
    clock.shift(dt.timedelta(seconds=120))
    PendingCounts.objects.create(kind=PendingCounts.Kind.MEASURES, first_id=1, last_id=9)
    samples = scrape()
    assert value(samples, "lagebild_pending_count_runs") == 2
    assert 120 <= value(samples, "lagebild_pending_count_oldest_age_seconds") < 3600


def test_in_process_tasks_have_no_queue(db, token, settings):
    settings.LAGEBILD_BROKER_URL = ""
    samples = scrape()
    assert not any(name in {"lagebild_task_queue_depth", "lagebild_broker_up"} for name, _ in samples)


@pytest.mark.parametrize("kind", ["rabbitmq", "redis"])
def test_queue_depth_is_read_from_the_broker(db, kind):
    url = broker_url(kind)
    queue = f"lagebild-h4-test-{uuid.uuid4().hex[:12]}"
    # AMQP publishes are not acknowledged: without publisher confirms the broker may count the
    # queue before it has routed all three (CI once read 1 of 3). A confirmed message is queued.
    options = {"confirm_publish": True} if kind == "rabbitmq" else {}
    with Connection(url, transport_options=options) as conn:
        simple = conn.SimpleQueue(queue)
        try:
            for number in range(3):
                simple.put({"n": number})
            depths = metrics.queue_depths(url, [queue, f"{queue}-leer"], health.broker_timeout())
        finally:
            simple.queue.delete()
            simple.close()
    assert depths == {queue: 3, f"{queue}-leer": 0}


def test_the_scrape_reports_the_broker(db, token, settings):
    settings.LAGEBILD_BROKER_URL = broker_url("redis")
    samples = scrape()
    assert value(samples, "lagebild_broker_up") == 1
    assert ("lagebild_task_queue_depth", frozenset({("queue", "celery")})) in samples

    settings.LAGEBILD_BROKER_URL = "redis://127.0.0.1:1/4"  # nothing listens on port 1
    settings.LAGEBILD_READY_BROKER_TIMEOUT = 1
    samples = scrape()
    assert value(samples, "lagebild_broker_up") == 0
    assert not any(name == "lagebild_task_queue_depth" for name, _ in samples)


# --- several processes (gunicorn workers, Celery worker processes) ----------------------------

COUNT_IN_A_PROCESS = """
import django
django.setup()
from lagebild.ops import metrics
metrics.LOGIN_FAILURES.inc()
metrics.observe_request(view="field:incident-list", method="GET", status=500, seconds=0.2)
"""
SCRAPE_IN_A_PROCESS = """
import django
django.setup()
from django.test import Client
response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer %s")
assert response.status_code == 200, response.status_code
print(response.content.decode())
"""


def test_with_a_multiprocess_directory_every_process_counts_into_one_scrape(tmp_path):
    """As under gunicorn with PROMETHEUS_MULTIPROC_DIR: two worker processes count, a third answers."""
    (tmp_path / "prometheus").mkdir()
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "LAGEBILD_BROKER_URL"}}
    environ.update(
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        LAGEBILD_VAR_DIR=str(tmp_path / "var"),
        LAGEBILD_METRICS_TOKEN=TOKEN,
        LAGEBILD_DEBUG="1",
        LAGEBILD_TWO_FACTOR_REQUIRED="0",
        DJANGO_SETTINGS_MODULE="lagebild.settings",
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", COUNT_IN_A_PROCESS], env=environ, check=True, timeout=300)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE_IN_A_PROCESS % TOKEN],
        env=environ,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    assert value(samples, "lagebild_login_failures_total") == 2
    errors = {"view": "field:incident-list", "method": "GET", "status": "500"}
    assert value(samples, "lagebild_http_errors_total", **errors) == 2
    latency = {"view": "field:incident-list", "method": "GET", "status": "5xx"}
    assert value(samples, "lagebild_http_request_duration_seconds_count", **latency) == 2


def test_the_web_servers_start_empties_the_multiprocess_directory(tmp_path, monkeypatch):
    directory = tmp_path / "prometheus"
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert metrics.prepare_multiprocess_dir() is None  # single process: nothing to do
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    assert metrics.prepare_multiprocess_dir() == directory and directory.is_dir()
    (directory / "counter_4711.db").write_bytes(b"old counts")
    (directory / "README").write_text("not ours")
    metrics.prepare_multiprocess_dir()
    assert sorted(p.name for p in directory.iterdir()) == ["README"]
