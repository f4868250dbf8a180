"""Reads of citizen reports. Back-office reads are scoped; public reads say so explicitly."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.utils import formats, timezone

from lagebild.core.scoping import unscoped
from lagebild.geo.points import to_utm32

from .models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Report,
    ReportArea,
    ReportStatus,
    ServiceType,
    StatusChange,
)


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


SORT_BY_URGENCY, SORT_BY_NEWEST = "faellig", "eingang"


def sort_reports(
    queryset: QuerySet[Report], sort: str = SORT_BY_URGENCY, now: dt.datetime | None = None
) -> QuerySet[Report]:
    """Urgency (default): overdue open reports first, then the other open ones, then closed
    ones, each by due date; or newest first."""
    if sort == SORT_BY_NEWEST:
        return queryset.order_by("-requested_at", "-id")
    now = now or timezone.now()
    urgency = Case(
        When(status__in=OPEN_STATUSES, due_at__lt=now, then=Value(0)),
        When(status__in=OPEN_STATUSES, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return queryset.annotate(urgency=urgency).order_by(
        "urgency", F("due_at").asc(nulls_last=True), "requested_at", "id"
    )


def place_label(report: Report) -> str:
    """Where, in one line: the address, the focus area and the district (each once).

    Needs ``area_links`` with their areas prefetched, or costs two queries per report.
    """
    from lagebild.geo.models import Area

    links = list(report.area_links.all())
    parts = [report.address_text] if report.address_text else []
    for kind in (Area.Kind.FOCUS_AREA, Area.Kind.DISTRICT):
        names = [link.area.name for link in links if link.area.kind == kind]
        if names and names[0] not in parts:
            parts.append(names[0])
    if parts:
        return " · ".join(parts)
    if report.lat is not None:
        return f"{report.lat:.5f}, {report.lon:.5f}"
    return "ohne Ortsangabe"


@dataclass
class QueueRow:
    """One report as the triage list shows it: what, where, how urgent, how old."""

    report: Report
    place: str
    overdue: bool
    # Calendar days in the city's time zone: from today to the due date (negative when it
    # lies in the past) and from the day of receipt to today.
    due_in_days: int | None
    age_days: int
    steps: list[dict]  # one-click next steps: {status, label, confirm}

    @property
    def overdue_days(self) -> int:
        return -(self.due_in_days or 0)


def queue_rows(
    reports: list[Report], *, steps_for: dict[str, list[dict]], now: dt.datetime | None = None
) -> list[QueueRow]:
    """Rows of the triage list; ``steps_for`` maps a status to the one-click next steps."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows = []
    for report in reports:
        due_in = (timezone.localdate(report.due_at) - today).days if report.due_at else None
        rows.append(
            QueueRow(
                report=report,
                place=place_label(report),
                overdue=is_overdue(report, now),
                due_in_days=due_in,
                age_days=max((today - timezone.localdate(report.requested_at)).days, 0),
                steps=steps_for.get(report.status, []),
            )
        )
    return rows


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


@dataclass
class PublicState:
    """What the reporter reads at the top of the status page: one label, one sentence."""

    label: str
    sentence: str
    closed: bool


def _long_date(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "j. F Y")


def forwarded_to(report: Report, history: list[StatusChange]) -> str:
    """The office a report was forwarded to, by the name the history gives the reporter.

    Forwarding by a routing rule or by assignment sets the target outside Lagebild (the
    history says "Weitergeleitet an: <target>."); a forward set by hand names the office in
    its public note only, so then the note is the name's source.
    """
    forwards = [change for change in history if change.to_status == ReportStatus.FORWARDED]
    if not forwards:
        return ""
    target = report.target if report.target_id else None
    if target is not None and target.authority_id is None:
        return target.name
    note = forwards[-1].public_note.strip().rstrip(".")
    prefix = "Weitergeleitet an:"
    return note.removeprefix(prefix).strip() if note.startswith(prefix) else ""


def public_state(report: Report, history: list[StatusChange]) -> PublicState:
    """The current status in plain words, never contradicting itself: "Weitergeleitet" is
    not "done", so it has no closing date; a forwarded report that is closed later says both
    where it went and how it ended. ``history`` is ``public_history(report)``."""
    label = report.get_status_display()
    closed = report.status in CLOSED_STATUSES
    office = forwarded_to(report, history)
    # The day of the change to the current status: ``closed_at`` keeps the first closing,
    # which for a forwarded report closed later is the day it was forwarded.
    reached = [change.at for change in history if change.to_status == report.status]
    since = reached[-1] if reached else report.closed_at
    on = f" am {_long_date(since)}" if since and closed else ""
    went = f"an die zuständige Stelle weitergeleitet ({office})" if office else ""
    status = report.status
    if status == ReportStatus.NEW:
        sentence = "Ihre Meldung ist eingegangen und wird in Kürze geprüft."
    elif status == ReportStatus.TRIAGE:
        sentence = "Ihre Meldung wird geprüft."
    elif status == ReportStatus.ASSIGNED:
        name = report.target.name if report.target_id else ""
        sentence = (
            f"Eine zuständige Stelle ist beauftragt ({name})."
            if name
            else "Eine zuständige Stelle ist beauftragt."
        )
    elif status == ReportStatus.IN_PROGRESS:
        sentence = "Ihre Meldung wird bearbeitet."
    elif status == ReportStatus.FORWARDED:
        where = went or "an eine andere zuständige Stelle weitergeleitet"
        sentence = f"Ihre Meldung wurde{on} {where} und wird dort weiter bearbeitet."
    elif status == ReportStatus.RESOLVED:
        sentence = (
            f"Ihre Meldung wurde {went} und{on} erledigt." if went else f"Ihre Meldung wurde{on} erledigt."
        )
    elif status == ReportStatus.NOT_RESOLVABLE:
        ended = f"{went} und{on} abgeschlossen" if went else f"{on.strip()} abgeschlossen".strip()
        sentence = f"Ihre Meldung wurde {ended}; das Anliegen konnte leider nicht gelöst werden."
    elif status == ReportStatus.DUPLICATE:
        sentence = "Dasselbe Anliegen wurde schon gemeldet; es wird in der anderen Meldung weiter bearbeitet."
    elif status == ReportStatus.REJECTED:
        sentence = f"Ihre Meldung wurde{on} abgeschlossen, ohne weiter bearbeitet zu werden."
    else:
        sentence = ""
    return PublicState(label=label, sentence=sentence, closed=closed)


# --- back office reads (scoped: only reports of the user's authority and joint ones) ----------


def report_get(pk: int) -> Report | None:
    return (
        Report.objects.select_related(
            "service", "authority", "target", "routing_rule", "duplicate_of", "entered_by", "api_client"
        )
        .filter(pk=pk)
        .first()
    )


def report_history(report: Report) -> list[StatusChange]:
    """The full history for staff, with users and internal notes."""
    return list(StatusChange.objects.filter(report=report).select_related("user").order_by("at", "id"))


def report_areas(report: Report) -> list:
    from lagebild.geo.models import Area

    return list(Area.objects.filter(report_links__report=report).order_by("kind", "name"))


def report_duplicates(report: Report) -> QuerySet[Report]:
    return Report.objects.filter(duplicate_of=report).select_related("service").order_by("requested_at")


def merge_candidates(report: Report, *, radius_m: float = 500, days: int = 60, limit: int = 8) -> list[dict]:
    """Visible open reports of the same category near ``report`` that it may be merged into."""
    if report.x_utm is None or report.y_utm is None:
        return []
    since = report.requested_at - dt.timedelta(days=days)
    rows = (
        Report.objects.filter(
            service_id=report.service_id,
            status__in=OPEN_STATUSES,
            requested_at__gte=since,
            x_utm__range=(report.x_utm - radius_m, report.x_utm + radius_m),
            y_utm__range=(report.y_utm - radius_m, report.y_utm + radius_m),
        )
        .exclude(pk=report.pk)
        .exclude(duplicate_of=report)
        .order_by("-requested_at")
        .values("id", "requested_at", "description", "address_text", "supporters", "x_utm", "y_utm")[:200]
    )
    result = []
    for row in rows:
        distance = math.hypot(row["x_utm"] - report.x_utm, row["y_utm"] - report.y_utm)
        if distance <= radius_m:
            row["distance_m"] = round(distance)
            result.append(row)
    result.sort(key=lambda r: r["distance_m"])
    return result[:limit]


def incident_candidates(report: Report, *, radius_m: float = 300, limit: int = 8) -> list:
    """Visible incidents recorded near the report since it came in, to link as its handling.

    Incidents of the report's catalogue category come first.
    """
    from lagebild.field.models import Incident

    if report.x_utm is None or report.y_utm is None:
        return []
    since = report.requested_at - dt.timedelta(days=1)
    linked = report.incidents.values("pk")
    candidates = list(
        Incident.objects.select_related("category")
        .filter(
            occurred_at__gte=since,
            x_utm__range=(report.x_utm - radius_m, report.x_utm + radius_m),
            y_utm__range=(report.y_utm - radius_m, report.y_utm + radius_m),
        )
        .exclude(pk__in=linked)
        .order_by("-occurred_at")[:100]
    )
    category_id = report.service.category_id if report.service_id else None
    for incident in candidates:
        incident.distance_m = round(math.hypot(incident.x_utm - report.x_utm, incident.y_utm - report.y_utm))  # type: ignore[attr-defined]
    candidates = [i for i in candidates if i.distance_m <= radius_m]  # type: ignore[attr-defined]
    candidates.sort(key=lambda i: (i.category_id != category_id, i.distance_m))  # type: ignore[attr-defined]
    return candidates[:limit]


def linked_incidents(report: Report) -> list:
    """Visible incidents linked to the report, each with its measures (``.measure_list``)."""
    from lagebild.field.models import Measure

    incidents = list(report.incidents.select_related("category", "authority").order_by("occurred_at"))
    by_incident: dict[int, list] = {i.pk: [] for i in incidents}
    for measure in Measure.objects.filter(incident_id__in=by_incident).order_by("taken_at", "id"):
        by_incident[measure.incident_id].append(measure)
    for incident in incidents:
        incident.measure_list = by_incident[incident.pk]  # type: ignore[attr-defined]
    return incidents


def reports_of_incident(incident: object) -> QuerySet[Report]:
    """Visible citizen reports linked to a field incident."""
    return Report.objects.filter(incidents=incident).select_related("service").order_by("requested_at")


def report_points(filters: ReportFilter, *, limit: int = 2000) -> list[dict]:
    rows = (
        report_list(filters)
        .filter(lat__isnull=False)
        .values("id", "lat", "lon", "service__name", "requested_at", "status")[:limit]
    )
    return list(rows)
