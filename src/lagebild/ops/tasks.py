"""The scheduled jobs as Celery tasks (``lagebild.ops.<job>``), sent by ``celery beat``.

Each task runs its job through :func:`lagebild.ops.jobs.run_named`, which records the run; the
common task policy (late acknowledgement, retries with backoff on transient errors) comes from
:mod:`lagebild.core.tasking`. The schedule itself is in the database (``ops.schedules``).
"""

from __future__ import annotations

from typing import Any

from lagebild.core import tasking

from . import jobs


def _run(task: Any, name: str) -> str:
    return jobs.run_named(name, task=task).summary


@tasking.task(name="lagebild.ops.retention", bind=True)
def retention(self: Any) -> str:
    # A first run over years of records may hit the time limit: the next run resumes it.
    return _run(self, "retention")


@tasking.task(name="lagebild.ops.recordings_purge", bind=True)
def recordings_purge(self: Any) -> str:
    return _run(self, "recordings_purge")


@tasking.task(name="lagebild.ops.audit_anchor", bind=True)
def audit_anchor(self: Any) -> str:
    return _run(self, "audit_anchor")


@tasking.task(name="lagebild.ops.count_consistency", bind=True)
def count_consistency(self: Any) -> str:
    return _run(self, "count_consistency")


@tasking.task(name="lagebild.ops.evaluate_operations", bind=True)
def evaluate_operations(self: Any) -> str:
    return _run(self, "evaluate_operations")


@tasking.task(name="lagebild.ops.citizen_overdue", bind=True)
def citizen_overdue(self: Any) -> str:
    return _run(self, "citizen_overdue")


@tasking.task(name="lagebild.ops.notify", bind=True)
def notify(self: Any) -> str:
    return _run(self, "notify")


@tasking.task(name="lagebild.ops.opendata_warm", bind=True)
def opendata_warm(self: Any) -> str:
    return _run(self, "opendata_warm")


@tasking.task(name="lagebild.ops.idempotency_purge", bind=True)
def idempotency_purge(self: Any) -> str:
    return _run(self, "idempotency_purge")


@tasking.task(name="lagebild.ops.proceedings_daily", bind=True)
def proceedings_daily(self: Any) -> str:
    return _run(self, "proceedings_daily")


@tasking.task(name="lagebild.ops.forecast_weekly", bind=True)
def forecast_weekly(self: Any) -> str:
    return _run(self, "forecast_weekly")


@tasking.task(name="lagebild.ops.deployment_deviations", bind=True)
def deployment_deviations(self: Any) -> str:
    return _run(self, "deployment_deviations")
