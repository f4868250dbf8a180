"""Rows for the proceedings figures (``figures.py``) from the database, in the active authority scope.

A period is a cohort: the cases opened (``opened_at``, local day) from ``start`` to ``end``
inclusive, whatever has become of them since. The scope must be active (the web middleware and the
API do that; system code uses ``authority_scope`` or ``unscoped``); the query reads no person data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min, Q

from . import figures
from .models import Case, EventKind


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end before start")


def _first(kind: str) -> Min:
    return Min("events__on", filter=Q(events__kind=kind))


def rows(period: Period) -> list[figures.CaseRow]:
    """One row per case of the active scope opened in ``period``."""
    values = (
        Case.objects.filter(opened_at__date__gte=period.start, opened_at__date__lte=period.end)
        .annotate(
            first_notice=_first(EventKind.NOTICE_ISSUED),
            first_served=_first(EventKind.NOTICE_SERVED),
            first_objection=_first(EventKind.OBJECTION_RECEIVED),
        )
        .order_by("id")
        .values_list(
            "authority__name",
            "category__name",
            "state",
            "offence_date",
            "first_notice",
            "first_served",
            "first_objection",
            "final_on",
            "fine",
            "total_due",
            "paid_total",
            "discontinued_reason",
        )
    )
    return [
        figures.CaseRow(
            authority=authority,
            category=category,
            state=state,
            offence_date=offence_date,
            first_notice_on=notice,
            first_served_on=served,
            first_objection_on=objection,
            final_on=final_on,
            fine=fine,
            total_due=total_due,
            paid_total=paid_total if paid_total is not None else figures.ZERO,
            discontinued_reason=reason or "",
        )
        for (
            authority,
            category,
            state,
            offence_date,
            notice,
            served,
            objection,
            final_on,
            fine,
            total_due,
            paid_total,
            reason,
        ) in values
    ]


def report(period: Period) -> figures.Report:
    """The figures of the active scope's cases opened in ``period``."""
    return figures.report(rows(period))


def default_period(today: dt.date) -> Period:
    """The last 365 days up to and including ``today``."""
    return Period(today - dt.timedelta(days=364), today)
