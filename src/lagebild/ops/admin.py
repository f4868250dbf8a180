"""The scheduled jobs in the admin: each job with its schedule and last run, and every run.

Both pages are read-only and for the platform administration only: the jobs work across all
authorities. django-celery-beat's own admin pages are removed: they let anyone with model
permissions schedule any task with any arguments; the schedule is changed with
``lagebild schedule set|enable|disable`` instead (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_celery_beat.models import PeriodicTask

from lagebild.core.admin_scoping import is_platform_admin

from . import jobs, schedules
from .models import JobRun, ScheduledJob


def _unregister_beat_admin() -> None:
    # Imported first, so that the autodiscovery importing it again finds it undone.
    import_module("django_celery_beat.admin")
    for model in apps.get_app_config("django_celery_beat").get_models():
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_beat_admin()


class PlatformReadOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _duration(duration: dt.timedelta | None) -> str:
    if duration is None:
        return "–"
    seconds = duration.total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


@admin.register(ScheduledJob)
class ScheduledJobAdmin(PlatformReadOnlyAdmin):
    list_display = [
        "job_label",
        "schedule_text",
        "enabled",
        "last_run",
        "last_duration",
        "last_outcome",
        "last_summary",
    ]
    ordering = ["name"]

    def get_queryset(self, request: HttpRequest) -> Any:
        runs = JobRun.objects.filter(job=OuterRef("name")).order_by("-started_at", "-id")
        return (
            super()
            .get_queryset(request)
            .filter(task__startswith=schedules.TASK_PREFIX)
            .select_related("crontab")
            .annotate(**{
                f"last_{field}": Subquery(runs.values(field)[:1])
                for field in ("started_at", "duration", "outcome", "summary", "job")
            })
        )  # fmt: skip

    @admin.display(description="Aufgabe", ordering="name")
    def job_label(self, obj: PeriodicTask) -> str:
        return jobs.label(obj.name)

    @admin.display(description="Zeitplan")
    def schedule_text(self, obj: PeriodicTask) -> str:
        return schedules.describe(obj)

    @admin.display(description="Letzter Lauf", ordering="last_started_at")
    def last_run(self, obj: Any) -> str:
        started = obj.last_started_at
        return f"{timezone.localtime(started):%d.%m.%Y %H:%M}" if started else "noch keiner"

    @admin.display(description="Dauer")
    def last_duration(self, obj: Any) -> str:
        return _duration(obj.last_duration)

    @admin.display(description="Ergebnis")
    def last_outcome(self, obj: Any) -> str:
        outcome = obj.last_outcome
        return JobRun.Outcome(outcome).label if outcome else "–"

    @admin.display(description="Zusammenfassung")
    def last_summary(self, obj: Any) -> str:
        if obj.last_started_at is None:
            return ""
        url = reverse("admin:ops_jobrun_changelist") + "?" + urlencode({"job": obj.name})
        return format_html('{} <a href="{}">alle Läufe</a>', obj.last_summary, url)


@admin.register(JobRun)
class JobRunAdmin(PlatformReadOnlyAdmin):
    list_display = ["job_label", "started_at", "duration_text", "outcome", "summary", "host", "attempt"]
    list_filter = ["job", "outcome"]
    date_hierarchy = "started_at"
    search_fields = ["summary", "error", "task_id", "request_id"]
    readonly_fields = [f.name for f in JobRun._meta.fields]

    @admin.display(description="Aufgabe", ordering="job")
    def job_label(self, obj: JobRun) -> str:
        return jobs.label(obj.job)

    @admin.display(description="Dauer", ordering="duration")
    def duration_text(self, obj: JobRun) -> str:
        return _duration(obj.duration)
