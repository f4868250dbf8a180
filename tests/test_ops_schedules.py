"""The job schedule in the database: installed by migrate and ``lagebild schedule install``,
never duplicated, in Berlin time, changeable by the operator and shown with each job's last run."""

from __future__ import annotations

import io

import pytest
from celery.schedules import crontab
from django.core.management import CommandError, call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from lagebild.ops import jobs, schedules


def _schedule(*args: str) -> str:
    out = io.StringIO()
    call_command("schedule", *args, stdout=out)
    return out.getvalue()


def _ours() -> list[PeriodicTask]:
    return list(PeriodicTask.objects.filter(task__startswith=schedules.TASK_PREFIX).order_by("name"))


def test_migrate_installed_the_schedule_and_install_twice_duplicates_nothing(db):
    installed = _ours()  # written by the post_migrate hook when the test database was created
    assert sorted(e.name for e in installed) == sorted(jobs.JOBS)
    assert f"{len(jobs.JOBS)} unverändert" in _schedule("install")
    _schedule("install")
    assert len(_ours()) == len(jobs.JOBS) == PeriodicTask.objects.filter(name__in=list(jobs.JOBS)).count()
    assert CrontabSchedule.objects.filter(timezone="Europe/Berlin").count() == CrontabSchedule.objects.count()


def test_the_default_times(db):
    schedules.install()
    times = {e.name: schedules.describe(e) for e in schedules.entries()}
    assert times["retention"] == "30 1 * * * (Europe/Berlin)"
    assert times["count_consistency"] == "15 3 * * * (Europe/Berlin)"
    assert times["notify"] == "*/15 * * * * (Europe/Berlin)"
    assert times["evaluate_operations"] == "0 6 * * * (Europe/Berlin)"  # daily, so also each Monday
    for entry in schedules.entries():
        assert entry.task == jobs.JOBS[entry.name].task and entry.enabled
        # Celery understands every entry (what celery beat will do with it).
        assert isinstance(entry.schedule, crontab)


def test_operator_changes_survive_install_and_reset_restores_the_defaults(db):
    schedules.install()
    assert "retention: 0 4 * * 1-5" in _schedule("set", "retention", "0 4 * * 1-5")
    assert "ausgeschaltet" in _schedule("disable", "notify")
    _schedule("install")
    entries = {e.name: e for e in schedules.entries()}
    assert schedules.describe(entries["retention"]).startswith("0 4 * * 1-5")
    assert not entries["notify"].enabled
    assert "2 aktualisiert" in _schedule("install", "--reset")
    entries = {e.name: e for e in schedules.entries()}
    assert schedules.describe(entries["retention"]).startswith("30 1 * * *")
    assert entries["notify"].enabled


def test_an_old_job_is_removed_and_wrong_input_is_refused_in_german(db):
    PeriodicTask.objects.create(
        name="abgeschafft", task="lagebild.ops.abgeschafft", crontab=schedules.crontab("0", "1")
    )
    assert "1 entfernt" in _schedule("install")
    assert not PeriodicTask.objects.filter(name="abgeschafft").exists()
    with pytest.raises(CommandError, match="fünf Felder"):
        _schedule("set", "retention", "jeden Tag")
    with pytest.raises(CommandError, match="Ungültiger Zeitplan"):
        _schedule("set", "retention", "99 2 * * *")
    with pytest.raises(CommandError):
        _schedule("run", "gibt-es-nicht")


def test_list_shows_each_job_with_its_last_run_and_run_does_it_by_hand(db):
    schedules.install()
    assert _schedule("list").count("Letzter Lauf: noch keiner") == len(jobs.JOBS)
    out = _schedule("run", "recordings_purge")
    assert out.startswith("Erfolgreich") and "0 fällige Aufnahmen gelöscht" in out
    listing = _schedule("list")
    assert "Bodycam-Aufnahmen löschen" in listing and "45 1 * * * (Europe/Berlin)" in listing
    assert "Erfolgreich: 0 fällige Aufnahmen gelöscht." in listing
    assert listing.count("Letzter Lauf: noch keiner") == len(jobs.JOBS) - 1
