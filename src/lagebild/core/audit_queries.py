"""Reading the audit log for the data-protection officer: search, accesses to one person or
report, CSV and PDF reports. A DPO sees the entries of their own authority only (and, if
asked, the system-wide ones without an authority, such as failed logins of unknown names)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from .csvsafe import guard
from .models import AuditEvent, User

SCOPE_OWN = "own"
SCOPE_SYSTEM = "system"
SCOPE_BOTH = "both"

# Actions that show a person's pseudonym (details list them under these keys).
PERSON_READS = ("field.person.viewed", "api.persons.viewed")


@dataclass(frozen=True)
class SearchFilter:
    start: dt.date | None = None
    end: dt.date | None = None
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    scope: str = SCOPE_OWN

    def as_detail(self) -> dict[str, Any]:
        return {key: str(value) for key, value in self.__dict__.items() if value not in (None, "")}


def visible_entries(user: User, scope: str = SCOPE_OWN) -> QuerySet[AuditEvent]:
    """Entries a DPO may read: their authority's, the system-wide ones, or both."""
    own = Q(authority_id=user.authority_id)
    system = Q(authority_id__isnull=True)
    condition = {SCOPE_OWN: own, SCOPE_SYSTEM: system, SCOPE_BOTH: own | system}.get(scope, own)
    return AuditEvent.objects.filter(condition)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def search(user: User, criteria: SearchFilter) -> QuerySet[AuditEvent]:
    entries = visible_entries(user, criteria.scope)
    if criteria.start:
        entries = entries.filter(at__gte=_day_start(criteria.start))
    if criteria.end:
        entries = entries.filter(at__lt=_day_start(criteria.end + dt.timedelta(days=1)))
    if criteria.actor:
        actor = criteria.actor.strip()
        condition = Q(actor_name__icontains=actor)
        if actor.isdigit():
            condition |= Q(user_id=int(actor))
        entries = entries.filter(condition)
    if criteria.action:
        entries = entries.filter(action__startswith=criteria.action.strip())
    if criteria.object_type:
        entries = entries.filter(object_type=criteria.object_type.strip())
    if criteria.object_id:
        entries = entries.filter(object_id=criteria.object_id.strip())
    return entries.order_by("-seq")


def person_accesses(user: User, person: Any) -> QuerySet[AuditEvent]:
    """Every entry about a pseudonymous person: created, changed, and every read that showed
    the pseudonym (on an incident page, in the API)."""
    quoted = f'"{person.pseudonym}"'
    return (
        visible_entries(user)
        .annotate(detail_text=Cast("detail", TextField()))
        .filter(
            Q(object_type="field.person", object_id=str(person.pk))
            | Q(action__in=PERSON_READS, detail_text__contains=quoted)
        )
        .order_by("-seq")
    )


def report_accesses(user: User, report: Any) -> QuerySet[AuditEvent]:
    """Every entry about a citizen report: its writes, every view of the reporter's contact
    data, its photos."""
    return (
        visible_entries(user)
        .filter(
            Q(object_type="citizen.report", object_id=str(report.pk))
            | Q(object_type__startswith="citizen.photo", detail__report=report.pk)
        )
        .order_by("-seq")
    )


# --- reports --------------------------------------------------------------------------------

COLUMNS = (
    "Laufnummer",
    "Zeitpunkt",
    "Handelnde Person",
    "Benutzer-ID",
    "Behörde",
    "Aktion",
    "Objekttyp",
    "Objekt-ID",
    "Zweck",
    "Zugang",
    "IP-Adresse",
    "Details",
)


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets an apostrophe."""
    return guard("" if value is None else str(value))


def row_values(event: AuditEvent, authority_names: dict[int, str]) -> list[str]:
    import json

    local = timezone.localtime(event.at)
    return [
        str(event.seq),
        local.strftime("%d.%m.%Y %H:%M:%S"),
        event.actor_name or ("System" if event.user_id is None else ""),
        "" if event.user_id is None else str(event.user_id),
        authority_names.get(event.authority_id or 0, "systemweit"),
        event.action,
        event.object_type,
        event.object_id,
        event.purpose,
        event.get_channel_display(),
        event.ip,
        json.dumps(event.detail, ensure_ascii=False, sort_keys=True) if event.detail else "",
    ]


def authority_names() -> dict[int, str]:
    from .models import Authority

    return dict(Authority.objects.values_list("pk", "name"))


def csv_report(entries: list[AuditEvent]) -> bytes:
    names = authority_names()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(COLUMNS)
    for event in entries:
        writer.writerow([safe_cell(value) for value in row_values(event, names)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def pdf_report(entries: list[AuditEvent], *, title: str, subtitle: str, truncated: bool) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    names = authority_names()
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title,
        author="Lagebild",
    )
    story: list[Any] = [Paragraph(title, styles["Title"]), Paragraph(subtitle, styles["BodyText"])]
    if truncated:
        story.append(
            Paragraph(f"Nur die neuesten {len(entries)} Einträge; alle als CSV.", styles["BodyText"])
        )
    story.append(Spacer(1, 4 * mm))
    shown = (0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11)
    header = [Paragraph(COLUMNS[i], small) for i in shown]
    data = [header]
    for event in entries:
        values = row_values(event, names)
        data.append([Paragraph(_escape(values[i])[:400], small) for i in shown])
    widths = [16, 27, 38, 30, 34, 20, 14, 26, 14, 22, 32]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf2")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    if not entries:
        story.append(Paragraph("Keine Einträge.", styles["BodyText"]))
    document.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
