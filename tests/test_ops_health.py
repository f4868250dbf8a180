"""/healthz and /readyz as a load balancer sees them: no login, no cookie, 503 with the reason."""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from lagebild.analytics.models import PendingCounts
from lagebild.core.models import AuditEvent
from lagebild.ops import health

from .test_ops_metrics import broker_url

# Generous: a refused connection fails at once; the bound only catches endless retries.
BROKER_BOUND_SECONDS = 20


@pytest.fixture(autouse=True)
def _fresh_migration_check():
    health.forget_migrations_state()
    yield
    health.forget_migrations_state()


def closed_port() -> int:
    """A local port nothing listens on (bound once by us, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_healthz_answers_without_database_cookie_or_host_check(db, django_assert_num_queries):
    client = Client()
    with django_assert_num_queries(0):
        # A load balancer asks with the server's own address as Host, which is not an allowed host.
        response = client.get("/healthz", HTTP_HOST="10.20.30.40:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]
    assert response["X-Request-ID"]


def test_probes_of_a_logged_in_browser_touch_neither_session_nor_audit(kod):
    client = Client()
    client.force_login(kod)
    events = AuditEvent.objects.count()
    for url in ("/healthz", "/readyz"):
        response = client.get(url)
        assert response.status_code == 200, response.content
        assert not response.cookies  # no session refresh, no CSRF cookie
    assert AuditEvent.objects.count() == events


def test_probes_over_plain_http_are_not_redirected_to_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/anmelden/").status_code == 301  # the redirect is on …
    assert client.get("/healthz").status_code == 200  # … but not for the probes
    assert client.get("/readyz").status_code == 200


def test_readyz_reports_every_check_when_ready(db, settings):
    settings.LAGEBILD_BROKER_URL = ""
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "broker", "pending_counts"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["broker"]["configured"] is False  # in-process tasks: nothing to reach
    assert body["checks"]["pending_counts"]["runs"] == 0


def test_an_old_deferred_count_run_makes_the_server_not_ready(db, settings, clock, city, police):
    settings.LAGEBILD_READY_MAX_PENDING_AGE = 600
    # Runs from both authorities' imports: a platform figure, nothing about either in the answer.
    PendingCounts.objects.create(kind=PendingCounts.Kind.INCIDENTS, first_id=10, last_id=20)
    clock.shift(dt.timedelta(seconds=300))
    PendingCounts.objects.create(kind=PendingCounts.Kind.MEASURES, first_id=30, last_id=31)
    young = Client().get("/readyz")
    assert young.status_code == 200
    assert young.json()["checks"]["pending_counts"]["runs"] == 2

    clock.shift(dt.timedelta(seconds=301))
    old = Client().get("/readyz")
    assert old.status_code == 503
    check = old.json()["checks"]["pending_counts"]
    assert check["ok"] is False
    assert check["oldest_age_seconds"] >= 601
    assert "älteste offene Zählung" in check["detail"]
    assert old.json()["checks"]["database"]["ok"] is True
    text = old.content.decode()
    for secret in (city.name, police.name, city.code, police.code):
        assert secret not in text

    PendingCounts.objects.all().delete()  # the worker caught up
    assert Client().get("/readyz").status_code == 200


def test_an_unapplied_migration_makes_the_server_not_ready(db):
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="analytics").order_by("-id").first()
    assert latest is not None
    latest.delete()  # as after deploying a release before `lagebild migrate`

    response = Client().get("/readyz")
    assert response.status_code == 503
    check = response.json()["checks"]["migrations"]
    assert check["ok"] is False
    assert f"analytics.{latest.name}" in check["detail"]
    assert check["unapplied"] == 1

    recorder.record_applied("analytics", latest.name)
    assert Client().get("/readyz").status_code == 200


@pytest.mark.parametrize("scheme", ["amqp://guest:guest@127.0.0.1:{port}//", "redis://127.0.0.1:{port}/4"])
def test_an_unreachable_broker_makes_the_server_not_ready_quickly(db, settings, scheme):
    settings.LAGEBILD_BROKER_URL = scheme.format(port=closed_port())
    settings.LAGEBILD_READY_BROKER_TIMEOUT = 1
    started = time.monotonic()
    response = Client().get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    check = response.json()["checks"]["broker"]
    assert check == {"ok": False, "detail": check["detail"], "configured": True}
    assert check["detail"].startswith("Broker nicht erreichbar")
    assert "guest" not in response.content.decode()  # never the URL with its password
    assert elapsed < BROKER_BOUND_SECONDS


@pytest.mark.parametrize("kind", ["rabbitmq", "redis"])
def test_a_reachable_broker_counts_as_ready(db, settings, kind):
    """The RabbitMQ and Redis of this machine (and of CI, where .ci/run starts them)."""
    settings.LAGEBILD_BROKER_URL = broker_url(kind)
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["broker"] == {"ok": True, "configured": True}


def test_probes_answer_only_get_and_head(db):
    client = Client()
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
