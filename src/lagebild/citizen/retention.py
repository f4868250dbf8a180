"""Retention of reporter contact data: anonymised a configurable time after closure.

Only the reporter's name, e-mail and phone are removed; the report itself (category, place,
times, status history) stays for the figures. Part of the retention engine
(``lagebild.privacy``, record type ``citizen_report``); ``lagebild anonymise-reports`` is its
alias. See docs/retention.md and docs/data-protection.md.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from lagebild.core import audit
from lagebild.core.localtime import later
from lagebild.core.scoping import unscoped

from .models import CLOSED_STATUSES, Report

DEFAULT_RETENTION_DAYS = 365
ENV_RETENTION_DAYS = "LAGEBILD_REPORTER_RETENTION_DAYS"


def retention_days() -> int:
    """Days after closure; from LAGEBILD_REPORTER_RETENTION_DAYS, default 365."""
    raw = os.environ.get(ENV_RETENTION_DAYS, "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_RETENTION_DAYS} muss eine ganze Zahl sein, nicht {raw!r}.") from exc
    if days < 0:
        raise ValueError(f"{ENV_RETENTION_DAYS} darf nicht negativ sein.")
    return days


@dataclass(frozen=True)
class AnonymiseResult:
    count: int
    cutoff: dt.datetime
    dry_run: bool


def due_for_anonymisation(cutoff: dt.datetime) -> QuerySet[Report]:
    """Closed before ``cutoff``, not yet anonymised, with any reporter contact data left."""
    return Report.objects.filter(
        status__in=CLOSED_STATUSES, closed_at__lt=cutoff, anonymised_at__isnull=True
    ).filter(~Q(reporter_name="") | ~Q(reporter_email="") | ~Q(reporter_phone=""))


def anonymise_contact(report_ids: list[int], *, now: dt.datetime) -> int:
    """Blank name, e-mail and phone of these reports (the retention engine's action for them)."""
    return Report.objects.filter(pk__in=report_ids).update(
        reporter_name="", reporter_email="", reporter_phone="", anonymised_at=now
    )


def anonymise_reporters(
    *, days: int, dry_run: bool = False, now: dt.datetime | None = None
) -> AnonymiseResult:
    """Blank reporter contact data of reports closed more than ``days`` days ago.

    The retention engine's record type ``citizen_report`` with a retention of ``days`` days
    (``lagebild anonymise-reports`` is kept as an alias of ``lagebild retention run --type
    citizen_report``); every report is written to the deletion log. System job over all
    authorities; writes one audit event with the count.
    """
    from lagebild.privacy import engine
    from lagebild.privacy.records import Retention

    if days < 0:
        raise ValueError("days darf nicht negativ sein.")
    now = now or timezone.now()
    cutoff = later(now, -dt.timedelta(days=days))
    report = engine.run(
        dry_run=dry_run,
        types=["citizen_report"],
        now=now,
        retention={"citizen_report": Retention(days=days)},
    )
    count = sum(report.counts["citizen_report"].values())
    if not dry_run:
        with unscoped(), transaction.atomic():
            audit.log(
                "citizen.reporters.anonymised",
                object_type="citizen.report",
                count=count,
                days=days,
                cutoff=cutoff.isoformat(),
                run=report.run_id,
            )
    return AnonymiseResult(count=count, cutoff=cutoff, dry_run=dry_run)
