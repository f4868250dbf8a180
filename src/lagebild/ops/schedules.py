"""The job schedule in the database (django-celery-beat), read by ``celery -A lagebild beat``.

:func:`install` writes one ``PeriodicTask`` per job of ``ops.jobs.JOBS`` with a Europe/Berlin
crontab; it runs after every ``migrate`` (``ops.apps``) and as ``lagebild schedule install``.
It is idempotent: a job's entry is found by its name and never duplicated; times an operator
set (``lagebild schedule set``) and switched-off jobs stay as they are unless ``reset``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from .jobs import JOBS, Job

TASK_PREFIX = "lagebild.ops."


@dataclass
class InstallResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary_de(self) -> str:
        return (
            f"Zeitplan: {len(self.created)} angelegt, {len(self.updated)} aktualisiert, "
            f"{len(self.unchanged)} unverändert, {len(self.removed)} entfernt."
        )


def crontab(minute: str, hour: str = "*", day_of_week: str = "*", day_of_month: str = "*",
            month_of_year: str = "*") -> CrontabSchedule:  # fmt: skip
    """The (shared) crontab row for these fields in the site's time zone."""
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_week=day_of_week,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        timezone=settings.TIME_ZONE,
    )
    return schedule


def _default_crontab(job: Job) -> CrontabSchedule:
    return crontab(job.minute, job.hour, job.day_of_week)


@transaction.atomic
def install(*, reset: bool = False) -> InstallResult:
    """Create the missing entries, bring task names and descriptions up to date, remove
    entries of jobs that no longer exist; ``reset``: default times and all jobs switched on."""
    result = InstallResult()
    for job in JOBS.values():
        entry = PeriodicTask.objects.filter(name=job.name).first()
        description = f"{job.label}: {job.description}"
        if entry is None:
            PeriodicTask.objects.create(
                name=job.name, task=job.task, crontab=_default_crontab(job), description=description
            )
            result.created.append(job.name)
            continue
        changes: dict[str, object] = {}
        if entry.task != job.task:
            changes["task"] = job.task
        if entry.description != description:
            changes["description"] = description
        if entry.crontab_id is None or reset:
            schedule = _default_crontab(job)
            if entry.crontab_id != schedule.pk:
                changes.update(crontab=schedule, interval=None, solar=None, clocked=None)
        if reset and not entry.enabled:
            changes["enabled"] = True
        if changes:
            for name, value in changes.items():
                setattr(entry, name, value)
            entry.save()  # save(): django-celery-beat tells the running beat about the change
            result.updated.append(job.name)
        else:
            result.unchanged.append(job.name)
    for entry in PeriodicTask.objects.filter(task__startswith=TASK_PREFIX).exclude(name__in=list(JOBS)):
        result.removed.append(entry.name)
        entry.delete()
    return result


def entries() -> list[PeriodicTask]:
    """The installed entries of Lagebild's jobs, in the order of ``JOBS``."""
    by_name = {e.name: e for e in PeriodicTask.objects.filter(name__in=list(JOBS)).select_related("crontab")}
    return [by_name[name] for name in JOBS if name in by_name]


def describe(entry: PeriodicTask) -> str:
    """The entry's schedule as a crontab line (minute hour day-of-month month day-of-week)."""
    c = entry.crontab
    if c is None:
        return str(entry.schedule)
    return f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week} ({c.timezone})"


def set_time(name: str, line: str) -> PeriodicTask:
    """Give job ``name`` the crontab ``line`` ("30 2 * * *"); ValueError in German if wrong."""
    from celery.schedules import crontab as celery_crontab

    if name not in JOBS:
        raise ValueError(f"Unbekannte Aufgabe „{name}“. Bekannt: {', '.join(JOBS)}.")
    parts = line.split()
    if len(parts) != 5:
        raise ValueError(
            "Zeitplan als fünf Felder angeben: Minute Stunde Tag Monat Wochentag, z. B. „30 2 * * *“."
        )
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    try:
        celery_crontab(minute, hour, day_of_week, day_of_month, month_of_year)
    except ValueError as exc:
        raise ValueError(f"Ungültiger Zeitplan „{line}“: {exc}") from exc
    entry = PeriodicTask.objects.filter(name=name).first()
    if entry is None:
        install()
        entry = PeriodicTask.objects.get(name=name)
    entry.crontab = crontab(minute, hour, day_of_week, day_of_month, month_of_year)
    entry.interval = entry.solar = entry.clocked = None
    entry.save()
    return entry


def set_enabled(name: str, enabled: bool) -> PeriodicTask:
    if name not in JOBS:
        raise ValueError(f"Unbekannte Aufgabe „{name}“. Bekannt: {', '.join(JOBS)}.")
    entry = PeriodicTask.objects.filter(name=name).first()
    if entry is None:
        install()
        entry = PeriodicTask.objects.get(name=name)
    entry.enabled = enabled
    entry.save()
    return entry


def install_after_migrate(using: str = "default", plan: object = None, **_: object) -> None:
    """``post_migrate``: install the schedule once the beat tables exist (not after a
    migration back to before them)."""
    from django.db import connections

    connection = connections[using]
    if PeriodicTask._meta.db_table not in connection.introspection.table_names():
        return
    install()
