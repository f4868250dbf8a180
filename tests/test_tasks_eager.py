"""Background tasks without a broker (the embedded default) and their idempotency.

Without ``LAGEBILD_BROKER_URL`` every task runs in the calling process right away, so pages and
commands behave as before tasks existed. Each task can run again (the broker redelivers a task
whose worker died) without doing its work twice: shown here by running it again in-process.
Real workers on RabbitMQ and Redis: tests/test_tasks_worker.py.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from celery import Celery
from django.core.management import call_command
from django.utils import timezone

from lagebild.analytics import aggregates
from lagebild.analytics import tasks as analytics_tasks
from lagebild.analytics.models import CITY_AREA, DailyCount, PendingCounts
from lagebild.citizen import services as intake
from lagebild.citizen import tasks as citizen_tasks
from lagebild.citizen.models import Report, StatusMail
from lagebild.core import requestid, tasking
from lagebild.core.scoping import unscoped
from lagebild.taskforce import notifications

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE
from .test_import_export import csv_file, plain_static_storage, row, upload  # noqa: F401


def _report(service, hour: int, email: str) -> Report:
    requested = timezone.localtime().replace(hour=hour, minute=0) - dt.timedelta(days=1)
    return intake.report_create(
        service=service,
        channel="web",
        lat=INSIDE[0],
        lon=INSIDE[1],
        description="Hinweis",
        attributes={"personen": 2},
        reporter_email=email,
        requested_at=requested,
    )


@pytest.fixture
def two_reports(services, city, police) -> tuple[Report, Report]:
    by_day = _report(services["begging"], 12, "tag@example.org")
    at_night = _report(services["begging"], 23, "nacht@example.org")
    assert (by_day.authority_id, at_night.authority_id) == (city.pk, police.pk)
    return by_day, at_night


def test_without_a_broker_tasks_run_in_the_calling_process(settings):
    assert settings.LAGEBILD_BROKER_URL == ""
    assert not tasking.broker_configured()
    assert citizen_tasks.send_status_mail.acks_late and citizen_tasks.send_status_mail.reject_on_worker_lost


def test_status_mail_is_sent_once_however_often_the_task_runs(two_reports, mailoutbox):
    by_day, at_night = two_reports
    url = f"https://lagebild.example/melden/status/{by_day.public_token}/"
    assert tasking.run_or_enqueue(citizen_tasks.send_status_mail, by_day.pk, url) is True
    # Run again, as after a redelivery: nothing new goes out.
    assert tasking.run_or_enqueue(citizen_tasks.send_status_mail, by_day.pk, url) is False
    (mail,) = mailoutbox
    assert mail.to == ["tag@example.org"] and url in mail.body
    assert mail.extra_headers["Message-ID"] == f"<status-{by_day.public_id}@lagebild.invalid>"
    assert StatusMail.objects.get(report=by_day).sent_at is not None
    # The other authority's report is untouched by this task.
    assert not StatusMail.objects.filter(report=at_night).exists()


def test_status_mail_after_a_relay_error_is_sent_by_the_next_run(two_reports, mailoutbox, settings):
    by_day, _ = two_reports
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    with pytest.raises(ConnectionRefusedError):
        tasking.run_or_enqueue(citizen_tasks.send_status_mail, by_day.pk, "https://x/status/")
    assert not StatusMail.objects.filter(report=by_day).exists()  # claim released for the retry
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasking.run_or_enqueue(citizen_tasks.send_status_mail, by_day.pk, "https://x/status/") is True
    assert len(mailoutbox) == 1


def test_status_mail_claimed_by_a_dead_attempt_is_sent_once_the_claim_is_stale(two_reports, mailoutbox):
    by_day, at_night = two_reports
    # A worker killed while talking to the relay left a claim without sent_at.
    StatusMail.objects.create(report=by_day, claimed_at=timezone.now())
    assert tasking.run_or_enqueue(citizen_tasks.send_status_mail, by_day.pk, "https://x/") is False
    assert mailoutbox == []  # the attempt may still be running: not yet
    StatusMail.objects.filter(report=by_day).update(claimed_at=timezone.now() - dt.timedelta(minutes=5))
    assert tasking.run_or_enqueue(citizen_tasks.send_status_mail, by_day.pk, "https://x/") is True
    assert [m.to for m in mailoutbox] == [["tag@example.org"]]
    with unscoped():
        assert Report.objects.filter(pk=at_night.pk, status_mail__isnull=True).exists()


def test_status_mail_of_an_anonymised_report_is_not_sent(two_reports, mailoutbox):
    by_day, _ = two_reports
    with unscoped():
        Report.objects.filter(pk=by_day.pk).update(reporter_email="")
    assert tasking.run_or_enqueue(citizen_tasks.send_status_mail, by_day.pk, "https://x/") is False
    assert mailoutbox == []


def test_enqueue_waits_for_the_commit(two_reports, mailoutbox, django_capture_on_commit_callbacks):
    by_day, _ = two_reports
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tasking.enqueue(citizen_tasks.send_status_mail, by_day.pk, "https://x/")
        assert mailoutbox == []  # not before the transaction commits
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1


def test_the_request_id_travels_with_the_task_to_the_broker():
    producer = Celery(broker="memory://")
    token = requestid.activate("req-4711")
    try:
        producer.send_task("citizen.send_status_mail", args=(1, "https://x/"), queue="h5-request-id")
    finally:
        requestid.deactivate(token)
    with producer.connection_for_read() as conn:
        message = conn.SimpleQueue("h5-request-id").get(timeout=5)
        message.ack()
    assert message.headers[tasking.REQUEST_ID_HEADER] == "req-4711"


def test_only_one_open311_import_of_a_server_at_a_time(db):
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with tasking.exclusive("open311-import:https://remote.example/open311/v2") as mine:
            assert mine
            held.set()
            release.wait(timeout=30)

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert held.wait(timeout=30)
        assert citizen_tasks.import_exclusively("https://remote.example/open311/v2/") is None
        with pytest.raises(Exception, match="läuft gerade schon"):
            call_command("open311-import", "https://remote.example/open311/v2")
    finally:
        release.set()
        other.join(timeout=30)


def test_open311_import_in_the_background_needs_a_broker(db):
    with pytest.raises(Exception, match="braucht einen Broker"):
        call_command("open311-import", "https://remote.example/open311/v2", "--background")


def test_sonderstab_mails_are_handed_to_a_worker_when_a_broker_is_configured(
    settings, services, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # what LAGEBILD_BROKER_URL sets
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = notifications.run()
    assert result.emails_queued and len(callbacks) == 1
    assert result.summary_de().endswith("E-Mails werden im Hintergrund versandt.")


def test_import_page_with_a_broker_leaves_the_counts_to_a_worker(
    client, settings, world, kod_lead, polizei, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    rows = [row(occurred_at=f"2025-03-{1 + n % 28:02d}T10:00:00+01:00") for n in range(aggregates.BULK + 10)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, kod_lead, csv_file(*rows).encode())
    assert "werden im Hintergrund ergänzt" in response.content.decode()
    assert len(callbacks) == 1 and PendingCounts.objects.exists()
    # What the worker runs; run twice (as after a redelivery), it counts every record once.
    analytics_tasks.apply_deferred_counts.apply(throw=True)
    assert analytics_tasks.apply_deferred_counts.apply(throw=True).get() == 0
    daily = DailyCount._base_manager.filter(area_id=CITY_AREA, fact="incident")
    assert sum(daily.filter(authority_id=kod_lead.authority_id).values_list("count", flat=True)) == len(rows)
    assert not daily.filter(authority_id=polizei.authority_id).exists()


def test_import_page_without_a_broker_brings_the_counts_up_to_date_at_once(client, world, kod_lead):
    rows = [row() for _ in range(aggregates.BULK + 10)]
    response = upload(client, kod_lead, csv_file(*rows).encode())
    assert "im Hintergrund" not in response.content.decode()
    assert not PendingCounts.objects.exists()


def test_worker_command_starts_celery_only_with_a_broker(settings, capsys):
    with pytest.raises(Exception, match="LAGEBILD_BROKER_URL ist nicht gesetzt"):
        call_command("worker", "--dry-run")
    settings.LAGEBILD_BROKER_URL = "redis://127.0.0.1:6379/0"
    call_command("worker", "--dry-run", "--concurrency", "3", "--", "--max-memory-per-child=400000")
    command = capsys.readouterr().out
    assert "-A lagebild worker --pool=prefork --loglevel=INFO --concurrency=3" in command
    assert command.strip().endswith("--max-memory-per-child=400000")
