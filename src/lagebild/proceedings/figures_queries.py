"""Rows for the proceedings figures (``figures.py``) from the database, in the active authority scope.

A period is a cohort: the cases opened (``opened_at``, local day) from ``start`` to ``end``
inclusive, whatever has become of them since. The scope must be active (the web middleware and the
API do that; system code uses ``authority_scope`` or ``unscoped``); the query reads no person data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Min, Q, QuerySet

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


def _annotated(queryset: QuerySet[Case] | None = None) -> QuerySet[Case]:
    return (Case.objects.all() if queryset is None else queryset).annotate(
        first_notice=_first(EventKind.NOTICE_ISSUED),
        first_served=_first(EventKind.NOTICE_SERVED),
        first_objection=_first(EventKind.OBJECTION_RECEIVED),
    )


def rows(period: Period) -> list[figures.CaseRow]:
    """One row per case of the active scope opened in ``period``."""
    return _rows(_annotated().filter(opened_at__date__gte=period.start, opened_at__date__lte=period.end))


def _rows(queryset: QuerySet[Case]) -> list[figures.CaseRow]:
    values = queryset.order_by("id").values_list(
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


# --- indicators for Sonderstab goals --------------------------------------------------------------


@dataclass(frozen=True)
class ProceedingsIndicator:
    """A proceedings figure over a window of days, for goals (``taskforce``) as for the cockpit.

    Unlike the cohort figures above, these count what happened in the window (a flow), so a window
    that has passed keeps its value except for late entries: frozen meeting figures stay true.
    """

    code: str
    name: str
    unit: str
    description: str


INDICATORS: dict[str, ProceedingsIndicator] = {
    indicator.code: indicator
    for indicator in (
        ProceedingsIndicator(
            "proceedings_lapsed_share",
            "Bußgeldverfahren: Anteil verjährt",
            "%",
            "Verjährte unter den im Zeitraum abgeschlossenen Verfahren (bezahlt, eingestellt, verjährt, "
            "abgegeben), in Prozent; ohne abgeschlossene Verfahren kein Wert.",
        ),
        ProceedingsIndicator(
            "proceedings_days_to_notice_median",
            "Bußgeldverfahren: Tage bis zum Bescheid (Median)",
            "Tage",
            "Tage von der Tat bis zum Erlass des ersten Bescheids, Median über die Verfahren, deren "
            "erster Bescheid im Zeitraum erlassen wurde; ohne Bescheid kein Wert.",
        ),
    )
}


def measure(code: str, details: Iterable[str] = ()) -> str | None:
    """Which of :data:`INDICATORS` an analytics indicator row reads: its code, or else the one
    entry of its details naming one (so that e.g. a city-only variant can have its own code)."""
    if code in INDICATORS:
        return code
    named = [detail for detail in details if detail in INDICATORS]
    return named[0] if len(named) == 1 else None


def indicator_value(
    code: str, start: dt.date, end: dt.date, authority_ids: Iterable[int] = ()
) -> float | None:
    """The value of the proceedings indicator ``code`` for ``start``–``end`` (inclusive) in the
    active scope (``unscoped()`` for both authorities together), narrowed to ``authority_ids`` if
    any are given; ``None`` without a denominator."""
    if code not in INDICATORS:
        raise KeyError(code)
    cases = Case.objects.all()
    wanted = sorted(set(authority_ids))
    if wanted:
        cases = cases.filter(authority_id__in=wanted)
    if code == "proceedings_lapsed_share":
        closed = _rows(_annotated(cases.filter(closed_on__gte=start, closed_on__lte=end)))
        share = figures.figures(closed).lapsed_share
        return None if share is None else share * 100
    if code == "proceedings_days_to_notice_median":
        issued = _annotated(cases).filter(first_notice__gte=start, first_notice__lte=end)
        return figures.figures(_rows(issued)).days_to_notice_median
    raise KeyError(code)
