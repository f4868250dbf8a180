"""Reads of citizen reports. Back-office reads are scoped; public reads say so explicitly."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from lagebild.core.scoping import unscoped
from lagebild.geo.points import to_utm32

from .models import OPEN_STATUSES, Report, ReportArea, ServiceType, StatusChange


@dataclass
class ReportFilter:
    status: list[str] | None = None
    service_id: int | None = None
    area_id: int | None = None
    channel: str = ""
    overdue: bool | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def report_list(filters: ReportFilter | None = None) -> QuerySet[Report]:
    filters = filters or ReportFilter()
    queryset = Report.objects.select_related("service", "authority", "target", "routing_rule")
    if filters.status:
        queryset = queryset.filter(status__in=filters.status)
    if filters.service_id:
        queryset = queryset.filter(service_id=filters.service_id)
    if filters.area_id:
        queryset = queryset.filter(
            pk__in=ReportArea.objects.filter(area_id=filters.area_id).values("report_id")
        )
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    now = timezone.now()
    if filters.overdue is True:
        queryset = queryset.filter(status__in=OPEN_STATUSES, due_at__lt=now)
    elif filters.overdue is False:
        queryset = queryset.exclude(status__in=OPEN_STATUSES, due_at__lt=now)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        queryset = queryset.filter(requested_at__gte=dt.datetime.combine(filters.date_from, dt.time.min, tz))
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tz)
        queryset = queryset.filter(requested_at__lt=end)
    return queryset


def is_overdue(report: Report, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return report.status in OPEN_STATUSES and report.due_at is not None and report.due_at < now


def nearby_open_reports(
    service: ServiceType, lat: float, lon: float, *, radius_m: float = 250, days: int = 30, limit: int = 5
) -> list[dict]:
    """Open reports of the same kind nearby, for citizens to support instead of duplicating.

    Public: only category, time, a short text and the distance leave this function.
    """
    x, y = to_utm32(lat, lon)
    since = timezone.now() - dt.timedelta(days=days)
    with unscoped():
        candidates = Report.objects.filter(
            service=service,
            status__in=OPEN_STATUSES,
            requested_at__gte=since,
            x_utm__range=(x - radius_m, x + radius_m),
            y_utm__range=(y - radius_m, y + radius_m),
        ).values("id", "requested_at", "description", "supporters", "x_utm", "y_utm")
        result = []
        for row in candidates:
            distance = math.hypot(row["x_utm"] - x, row["y_utm"] - y)
            if distance <= radius_m:
                text = row["description"]
                result.append(
                    {
                        "id": row["id"],
                        "requested_at": row["requested_at"],
                        "summary": text[:140] + ("…" if len(text) > 140 else ""),
                        "supporters": row["supporters"],
                        "distance_m": round(distance),
                    }
                )
    result.sort(key=lambda r: r["distance_m"])
    return result[:limit]


def report_by_token(token: str) -> Report | None:
    if not token or len(token) > 40:
        return None
    with unscoped():
        return Report.objects.select_related("service").filter(public_token=token).first()


def public_history(report: Report) -> list[StatusChange]:
    """The status history as the reporter may see it (no internal notes, no staff names)."""
    return list(StatusChange.objects.filter(report=report).only("at", "to_status", "public_note"))
