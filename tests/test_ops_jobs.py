"""The scheduled jobs: each runs through its Celery task and leaves a record of its run (outcome,
duration, German summary) that the platform administration reads in the admin; a failing job
is recorded with its error under the common retry policy; a second run changes nothing; the
jobs handle the records of both authorities."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel, Report
from lagebild.core.models import IdempotencyKey, Role
from lagebild.core.scoping import unscoped
from lagebild.core.tasking import LagebildTask
from lagebild.ops import jobs, schedules, tasks
from lagebild.ops.models import JobRun, OverdueReminder
from lagebild.taskforce import services as taskforce
from lagebild.taskforce.models import Notification

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE
from .taskforce_fixtures import *  # noqa: F403

WEST = (51.53, 7.43)


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.LAGEBILD_AUDIT_ANCHOR_FILE = str(tmp_path / "anker.jsonl")
    return tmp_path / "anker.jsonl"


def _local(days_ago: int, hour: int) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _report(services, kod_lead, at: dt.datetime, **contact: str) -> Report:
    """City reports by day, police reports by night (the services' routing rules)."""
    return intake.report_create(
        service=services["begging"], channel=Channel.PHONE, lat=INSIDE[0], lon=INSIDE[1],
        description="Betteln.", attributes={"personen": "2"}, requested_at=at, entered_by=kod_lead,
        **contact,
    )  # fmt: skip


@pytest.mark.parametrize("name", list(jobs.JOBS))
def test_every_job_runs_through_its_task_and_records_the_run(db, name):
    task = getattr(tasks, name)
    summary = task.delay().get()  # no broker in tests: the task runs in this process
    run = JobRun.objects.get(job=name)
    assert run.summary == summary and summary
    assert run.outcome in (JobRun.Outcome.OK, JobRun.Outcome.SKIPPED)
    assert run.duration >= dt.timedelta(0) and run.finished_at == run.started_at + run.duration
    assert run.host and run.task_id and run.attempt == 1
    assert task.name == f"lagebild.ops.{name}" and isinstance(task, LagebildTask)


def test_a_failing_job_is_recorded_with_its_error_and_raised_for_the_retry_policy(db, monkeypatch):
    def broken() -> jobs.JobResult:
        raise OperationalError("Datenbank startet neu")

    monkeypatch.setitem(jobs.JOB_FUNCTIONS, "notify", broken)
    with pytest.raises(OperationalError):
        tasks.notify.apply(retries=2, throw=True)  # the third attempt
    run = JobRun.objects.get(job="notify")
    assert run.outcome == JobRun.Outcome.FAILED and run.attempt == 3
    assert "Datenbank startet neu" in run.summary and "OperationalError" in run.error
    # Transient errors are retried with backoff by the common task policy; the task is
    # acknowledged only after it ran, so a killed worker's job is delivered again.
    assert OperationalError in tasks.notify.autoretry_for
    assert tasks.notify.acks_late and tasks.notify.retry_backoff and tasks.notify.max_retries >= 3


def test_run_history_is_kept_for_90_days(db, clock):
    clock.move_to(timezone.now() - dt.timedelta(days=91))
    jobs.run_named("recordings_purge")
    clock.move_to(timezone.now() + dt.timedelta(days=91))
    jobs.run_named("recordings_purge")
    assert JobRun.objects.filter(job="recordings_purge").count() == 1


def test_retention_anonymises_both_authorities_once(clock, services, kod_lead, city, police):
    clock.move_to(timezone.now() - dt.timedelta(days=400))
    by_day = _report(services, kod_lead, _local(2, 10), reporter_email="a@example.org")
    by_night = _report(services, kod_lead, _local(2, 23), reporter_name="B")
    assert {by_day.authority_id, by_night.authority_id} == {city.pk, police.pk}
    with unscoped():
        Report.objects.filter(pk__in=[by_day.pk, by_night.pk]).update(
            status="resolved", closed_at=timezone.now()
        )
    clock.move_to(timezone.now() + dt.timedelta(days=400))

    first = jobs.run_named("retention")
    assert first.outcome == JobRun.Outcome.OK
    assert first.details["je_typ"]["citizen_report"] == {"anonymised": 2}
    assert set(first.details["je_behoerde"]) == {str(city.pk), str(police.pk)}
    with unscoped():
        assert not Report.objects.exclude(reporter_email="", reporter_name="").exists()

    second = jobs.run_named("retention")
    assert "citizen_report" not in second.details["je_typ"]
    assert "0 Datensätze bearbeitet" in second.summary


def test_overdue_reports_are_flagged_and_their_offices_reminded_once(
    services, kod_lead, police_lead, city, police, settings
):
    settings.LAGEBILD_SITE_URL = "https://lagebild.example.org"
    services["kod"].email = "kod-leitstelle@example.org"
    services["kod"].save()
    police_lead.email = "wache@example.org"
    police_lead.save()
    city_report = _report(services, kod_lead, _local(10, 10))
    police_report = _report(services, kod_lead, _local(10, 23))
    on_time = _report(services, kod_lead, timezone.now() - dt.timedelta(minutes=5))
    assert (city_report.authority_id, police_report.authority_id) == (city.pk, police.pk)

    first = jobs.run_named("citizen_overdue")
    assert first.details["neu_ueberfaellig"] == 2 and first.details["emails"] == 2
    assert first.details["je_behoerde"] == {str(city.pk): 1, str(police.pk): 1}
    sent = {tuple(m.to): m.body for m in mail.outbox}
    assert set(sent) == {("kod-leitstelle@example.org",), ("wache@example.org",)}
    # Each office is told about its own report only, with a link and without the citizen's text.
    city_mail, police_mail = sent[("kod-leitstelle@example.org",)], sent[("wache@example.org",)]
    assert f"Hinweis Nr. {city_report.pk} " in city_mail and f"Nr. {police_report.pk} " not in city_mail
    assert f"Hinweis Nr. {police_report.pk} " in police_mail and f"Nr. {city_report.pk} " not in police_mail
    assert f"https://lagebild.example.org/hinweise/{city_report.pk}/" in city_mail
    assert "Betteln." not in city_mail
    assert not OverdueReminder.objects.filter(report=on_time).exists()

    second = jobs.run_named("citizen_overdue")
    assert second.details["neu_ueberfaellig"] == 0 and second.details["emails"] == 0
    assert len(mail.outbox) == 2 and OverdueReminder.objects.count() == 2


def test_notify_job_sends_nothing_twice_to_members_of_either_authority(
    task_force, group, staff, city, police
):
    for name, user in staff.items():
        user.email = f"{name}@example.org"
        user.save(update_fields=["email"])
    due = timezone.localdate() + dt.timedelta(days=2)
    taskforce.milestone_create(group, staff["lead"], title="Standorte prüfen", owner=staff["member"], due=due)
    taskforce.milestone_create(group, staff["lead"], title="Kosten", owner=staff["lead"], due=due)

    first = jobs.run_named("notify")
    stored = Notification.objects.count()
    assert stored >= 2 and first.details["emails"] >= 2
    told = set(Notification.objects.values_list("user__authority_id", flat=True))
    assert told == {city.pk, police.pk}

    second = jobs.run_named("notify")
    assert second.summary.startswith("Keine neuen Benachrichtigungen")
    assert Notification.objects.count() == stored and second.details["emails"] == 0


def test_audit_anchor_appends_only_a_new_head(db, anchor_file, kod):
    first = jobs.run_named("audit_anchor")
    second = jobs.run_named("audit_anchor")
    assert (first.outcome, second.outcome) == (JobRun.Outcome.OK, JobRun.Outcome.SKIPPED)
    lines = anchor_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["seq"] == first.details["seq"]


def test_expired_idempotency_keys_of_both_authorities_are_deleted_once(db, kod, polizei):
    now = timezone.now()
    for user, hours in ((kod, -1), (polizei, -2), (polizei, 5)):
        IdempotencyKey.objects.create(
            scope=f"user:{user.pk}",
            key=f"k{hours}",
            fingerprint="f",
            expires_at=now + dt.timedelta(hours=hours),
        )
    assert jobs.run_named("idempotency_purge").details == {"geloescht": 2}
    assert jobs.run_named("idempotency_purge").details == {"geloescht": 0}
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k5"]


def test_evaluations_and_purge_do_nothing_on_a_second_run(db):
    for name in ("evaluate_operations", "recordings_purge"):
        jobs.run_named(name)
        again = jobs.run_named(name)
        assert again.outcome == JobRun.Outcome.OK
    assert "0 fällige Aufnahmen gelöscht" in JobRun.objects.filter(job="recordings_purge").first().summary


@pytest.fixture
def platform_admin(make_user, city):
    return make_user("plattform", city, Role.PLATFORM_ADMIN, is_staff=True)


def test_the_admin_shows_each_jobs_last_run_duration_and_result(client, platform_admin, kod_admin):
    schedules.install()
    jobs.run_named("recordings_purge")
    client.force_login(platform_admin)
    page = client.get("/admin/ops/scheduledjob/").content.decode()
    assert "Bodycam-Aufnahmen löschen" in page and "45 1 * * * (Europe/Berlin)" in page
    assert "0 fällige Aufnahmen gelöscht." in page and "Erfolgreich" in page and " s<" in page
    assert page.count("noch keiner") == len(jobs.JOBS) - 1  # the jobs that have not run yet
    runs = client.get("/admin/ops/jobrun/?job=recordings_purge").content.decode()
    assert "0 fällige Aufnahmen gelöscht." in runs
    run = JobRun.objects.get()
    assert client.get(f"/admin/ops/jobrun/{run.pk}/change/").status_code == 200
    assert client.post(f"/admin/ops/jobrun/{run.pk}/delete/").status_code == 403  # read-only
    # django-celery-beat's own pages (any task with any arguments) are not offered.
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 404

    # An authority's administrator does not see the platform's jobs.
    client.force_login(kod_admin)
    assert client.get("/admin/ops/scheduledjob/").status_code == 403
    assert client.get("/admin/ops/jobrun/").status_code == 403
    assert "Geplante Aufgaben" not in client.get("/admin/").content.decode()


def test_opendata_warm_computes_every_published_month_once_into_the_shared_cache(
    world, client, kod, polizei, settings, tmp_path, monkeypatch
):
    from zoneinfo import ZoneInfo

    from lagebild.analytics import opendata
    from lagebild.core.scoping import authority_scope
    from lagebild.field import services as field

    # A cache all processes share (a directory here; Redis in production).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    berlin = ZoneInfo("Europe/Berlin")
    for user, category, day in ((kod, "drugs", 3), (polizei, "dealing", 4), (kod, "begging", 5)):
        with authority_scope(user.authority_id):
            field.incident_create(
                user=user, category=world["categories"][category], lat=WEST[0], lon=WEST[1],
                occurred_at=dt.datetime(2024, 5, day, 12, tzinfo=berlin),
            )  # fmt: skip
    before = client.get("/offene-daten/feststellungen-2024-05.csv").content

    calls = []
    original = opendata.protect
    monkeypatch.setattr(opendata, "protect", lambda counts: calls.append(1) or original(counts))
    shutil.rmtree(tmp_path / "cache")  # nothing of the request above is kept

    run = jobs.run_named("opendata_warm")
    months = len(opendata.published_months(opendata.INCIDENTS)) + len(
        opendata.published_months(opendata.REPORTS)
    )
    assert run.outcome == JobRun.Outcome.OK and months >= 1
    assert run.details["tabellen"]["feststellungen"] == len(opendata.published_months(opendata.INCIDENTS))
    computed = len(calls)
    assert computed >= 1  # months with equal tables (e.g. all empty) share one computation
    # A visitor now gets the same file (both authorities' records counted) without any computing.
    assert client.get("/offene-daten/feststellungen-2024-05.csv").content == before
    assert len(calls) == computed


def test_opendata_warm_is_skipped_when_each_process_has_its_own_cache(db):
    run = jobs.run_named("opendata_warm")
    assert run.outcome == JobRun.Outcome.SKIPPED and "LAGEBILD_CACHE_URL" in run.summary
