"""Figures of citizen-report handling for the back office and later analytics.

Definitions (fixed up front, so that figures stay comparable; see docs/retention.md for
retention and the statistics page for the same wording in German):

- Population: reports *received* (``requested_at``) within the local date range, as far as
  the active authority scope shows them, optionally narrowed to one authority.
- Time to first response: ``first_response_at - requested_at`` of reports that had one
  (a status change by staff; an automatic forwarding by a routing rule is no response).
- Time to resolution: ``closed_at - requested_at`` of reports whose status is "Erledigt".
  Forwarded reports are never counted as resolved, nor are duplicates, rejected or
  not-resolvable ones.
- Working days: Mon–Fri without NRW public holidays after the day of receipt up to and
  including the day of the event (0 = the same day); the service level "n working days"
  is met when this is at most n.
- Overdue: the due date was missed, i.e. the report was closed after ``due_at`` or is
  still open with ``due_at`` in the past. Forwarded reports and duplicates are left out
  of this share (their handling lies elsewhere).
- Share forwarded: reports with status "Weitergeleitet" among all received.

The functions read once and compute in Python: a year of a city (~10,000 reports) takes
milliseconds, and medians need the values anyway.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from django.utils import timezone

from lagebild.geo.models import Area

from .models import OPEN_STATUSES, Channel, ReportArea, ReportStatus
from .selectors import ReportFilter, report_list
from .sla import working_days_between

NO_AREA = "Ohne Ortsbezug"


@dataclass(frozen=True)
class ReportRow:
    """The fields of one report the figures need (no personal data)."""

    id: int
    service_id: int
    service_name: str
    channel: str
    status: str
    authority_id: int
    requested_at: dt.datetime
    first_response_at: dt.datetime | None
    closed_at: dt.datetime | None
    due_at: dt.datetime | None


@dataclass(frozen=True)
class Durations:
    count: int = 0
    median_hours: float | None = None
    mean_hours: float | None = None
    median_working_days: float | None = None
    mean_working_days: float | None = None


@dataclass
class Figures:
    key: str
    label: str
    total: int = 0
    open: int = 0
    resolved: int = 0
    closed_unresolved: int = 0  # not resolvable or rejected
    forwarded: int = 0
    duplicates: int = 0
    overdue: int = 0
    overdue_base: int = 0
    open_overdue: int = 0
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)

    @property
    def share_overdue(self) -> float | None:
        return self.overdue / self.overdue_base if self.overdue_base else None

    @property
    def share_forwarded(self) -> float | None:
        return self.forwarded / self.total if self.total else None

    @property
    def share_resolved(self) -> float | None:
        return self.resolved / self.total if self.total else None

    @property
    def share_duplicates(self) -> float | None:
        return self.duplicates / self.total if self.total else None


@dataclass
class Statistics:
    date_from: dt.date
    date_to: dt.date
    total: Figures
    by_category: list[Figures]
    by_channel: list[Figures]
    by_area: list[Figures]


# --- pure computation ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _working_days(start: dt.date, end: dt.date) -> int:
    return working_days_between(start, end)


def working_days_elapsed(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo | None = None) -> int:
    """Working days after the (local) day of ``start`` up to and including that of ``end``."""
    tz = tz or timezone.get_current_timezone()
    return _working_days(start.astimezone(tz).date(), end.astimezone(tz).date())


def hours_between(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 3600


def durations(pairs: Iterable[tuple[dt.datetime, dt.datetime]]) -> Durations:
    pairs = [(start, end) for start, end in pairs if end >= start]
    if not pairs:
        return Durations()
    tz = timezone.get_current_timezone()
    hours = [hours_between(start, end) for start, end in pairs]
    days = [working_days_elapsed(start, end, tz) for start, end in pairs]
    return Durations(
        count=len(pairs),
        median_hours=statistics.median(hours),
        mean_hours=statistics.fmean(hours),
        median_working_days=float(statistics.median(days)),
        mean_working_days=statistics.fmean(days),
    )


def is_late(row: ReportRow, now: dt.datetime) -> bool:
    """Missed the due date (closed after it, or open and past it)."""
    if row.due_at is None:
        return False
    if row.closed_at is not None:
        return row.closed_at > row.due_at
    return row.status in OPEN_STATUSES and row.due_at < now


def counts_for_overdue(row: ReportRow) -> bool:
    return row.due_at is not None and row.status not in (ReportStatus.FORWARDED, ReportStatus.DUPLICATE)


def figures(rows: Iterable[ReportRow], *, key: str = "", label: str = "", now: dt.datetime) -> Figures:
    rows = list(rows)
    result = Figures(key=key, label=label, total=len(rows))
    for row in rows:
        status = row.status
        if status in OPEN_STATUSES:
            result.open += 1
            if row.due_at is not None and row.due_at < now:
                result.open_overdue += 1
        elif status == ReportStatus.RESOLVED:
            result.resolved += 1
        elif status == ReportStatus.FORWARDED:
            result.forwarded += 1
        elif status == ReportStatus.DUPLICATE:
            result.duplicates += 1
        else:
            result.closed_unresolved += 1
        if counts_for_overdue(row):
            result.overdue_base += 1
            result.overdue += is_late(row, now)
    result.first_response = durations(
        (row.requested_at, row.first_response_at) for row in rows if row.first_response_at is not None
    )
    result.resolution = durations(
        (row.requested_at, row.closed_at)
        for row in rows
        if row.status == ReportStatus.RESOLVED and row.closed_at is not None
    )
    return result


def grouped(
    rows: Iterable[ReportRow],
    key_of: Callable[[ReportRow], Iterable[tuple[str, str]]],
    *,
    now: dt.datetime,
) -> list[Figures]:
    """Figures per group; ``key_of`` yields (key, label) pairs (a report may be in several)."""
    groups: dict[tuple[str, str], list[ReportRow]] = defaultdict(list)
    for row in rows:
        for group in key_of(row):
            groups[group].append(row)
    result = [figures(members, key=key, label=label, now=now) for (key, label), members in groups.items()]
    result.sort(key=lambda f: (-f.total, f.label))
    return result


# --- reads ----------------------------------------------------------------------------------------


def report_rows(date_from: dt.date, date_to: dt.date, *, authority_id: int | None = None) -> list[ReportRow]:
    """Reports received in the range that the active scope may see."""
    queryset = report_list(ReportFilter(date_from=date_from, date_to=date_to))
    if authority_id:
        queryset = queryset.filter(authority_id=authority_id)
    values = queryset.order_by().values_list(
        "id",
        "service_id",
        "service__name",
        "channel",
        "status",
        "authority_id",
        "requested_at",
        "first_response_at",
        "closed_at",
        "due_at",
    )
    return [ReportRow(*row) for row in values]


def district_names(report_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """(key, name) of the Stadtbezirke each report lies in."""
    names = dict(Area.objects.filter(kind=Area.Kind.DISTRICT).values_list("pk", "name"))
    result: dict[int, list[tuple[str, str]]] = defaultdict(list)
    wanted = set(report_ids)
    links = ReportArea.objects.filter(area_id__in=list(names)).values_list("report_id", "area_id")
    if len(wanted) < 5000:
        links = links.filter(report_id__in=wanted)
    for report_id, area_id in links.iterator(chunk_size=10_000):
        if report_id in wanted:
            result[report_id].append((str(area_id), names[area_id]))
    return result


def summary(
    date_from: dt.date, date_to: dt.date, *, authority_id: int | None = None, now: dt.datetime | None = None
) -> Figures:
    rows = report_rows(date_from, date_to, authority_id=authority_id)
    return figures(rows, key="total", label="Alle Meldungen", now=now or timezone.now())


def by_category(
    date_from: dt.date, date_to: dt.date, *, authority_id: int | None = None, now: dt.datetime | None = None
) -> list[Figures]:
    rows = report_rows(date_from, date_to, authority_id=authority_id)
    return grouped(rows, lambda r: [(str(r.service_id), r.service_name)], now=now or timezone.now())


def by_channel(
    date_from: dt.date, date_to: dt.date, *, authority_id: int | None = None, now: dt.datetime | None = None
) -> list[Figures]:
    rows = report_rows(date_from, date_to, authority_id=authority_id)
    labels = dict(Channel.choices)
    return grouped(rows, lambda r: [(r.channel, labels.get(r.channel, r.channel))], now=now or timezone.now())


def by_area(
    date_from: dt.date, date_to: dt.date, *, authority_id: int | None = None, now: dt.datetime | None = None
) -> list[Figures]:
    rows = report_rows(date_from, date_to, authority_id=authority_id)
    return _by_area(rows, now=now or timezone.now())


def _by_area(rows: list[ReportRow], *, now: dt.datetime) -> list[Figures]:
    districts = district_names([r.id for r in rows])
    return grouped(rows, lambda r: districts.get(r.id) or [("", NO_AREA)], now=now)


def report_statistics(
    date_from: dt.date, date_to: dt.date, *, authority_id: int | None = None, now: dt.datetime | None = None
) -> Statistics:
    """All tables of the statistics page from one read."""
    now = now or timezone.now()
    rows = report_rows(date_from, date_to, authority_id=authority_id)
    labels = dict(Channel.choices)
    return Statistics(
        date_from=date_from,
        date_to=date_to,
        total=figures(rows, key="total", label="Alle Meldungen", now=now),
        by_category=grouped(rows, lambda r: [(str(r.service_id), r.service_name)], now=now),
        by_channel=grouped(rows, lambda r: [(r.channel, labels.get(r.channel, r.channel))], now=now),
        by_area=_by_area(rows, now=now),
    )
