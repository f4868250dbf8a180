"""Writes of citizen reports: intake from every channel, routing, status, merging."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

import nh3
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from lagebild.analytics import aggregates
from lagebild.core import audit
from lagebild.core.models import Authority, User
from lagebild.core.scoping import unscoped
from lagebild.geo.models import Place
from lagebild.geo.services import locate

from .models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Channel,
    Report,
    ReportArea,
    ReportStatus,
    RoutingRule,
    RoutingTarget,
    ServiceAttribute,
    ServiceType,
    StatusChange,
)
from .sla import add_working_days

MAX_DESCRIPTION = 4000
PUBLIC_CHANNELS = frozenset({Channel.WEB, Channel.OPEN311})
STATUS_LABELS = dict(ReportStatus.choices)


def clean_text(value: object, max_length: int) -> tuple[str, bool]:
    """Plain text without HTML; returns (text, too_long)."""
    text = "" if value is None else str(value)
    text = text.replace("\x00", "")
    if "<" in text or "&" in text:
        text = html.unescape(nh3.clean(text, tags=set(), clean_content_tags={"script", "style"}))
    text = text.strip()
    return text, len(text) > max_length


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def validate_attributes(
    service: ServiceType, raw: Mapping[str, object] | None, *, require: bool = True
) -> tuple[dict, list[str]]:
    """Check answers to the service's questions (Open311 attribute datatypes).

    ``require=False`` for reports imported from other systems, which asked their own questions.
    """
    raw = raw or {}
    clean: dict[str, object] = {}
    errors: list[str] = []
    for attribute in service.attributes.all():
        if not attribute.variable:
            continue
        value = raw.get(attribute.code)
        label = attribute.description
        empty = value is None or (isinstance(value, str) and not value.strip()) or value == []
        if empty:
            if attribute.required and require:
                errors.append(f"{label}: Bitte beantworten.")
            continue
        keys = {str(v.get("key")) for v in attribute.values or [] if isinstance(v, dict)}
        datatype = attribute.datatype
        if datatype in (ServiceAttribute.Datatype.STRING, ServiceAttribute.Datatype.TEXT):
            limit = 300 if datatype == ServiceAttribute.Datatype.STRING else MAX_DESCRIPTION
            text, too_long = clean_text(
                value if not isinstance(value, list) else " ".join(map(str, value)), limit
            )
            if too_long:
                errors.append(f"{label}: Höchstens {limit} Zeichen.")
            elif text:
                clean[attribute.code] = text
        elif datatype == ServiceAttribute.Datatype.NUMBER:
            try:
                number = Decimal(str(value).strip().replace(",", "."))
                if not number.is_finite() or abs(number) > Decimal("1e12"):
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                errors.append(f"{label}: Bitte eine Zahl angeben.")
            else:
                clean[attribute.code] = float(number) if number % 1 else int(number)
        elif datatype == ServiceAttribute.Datatype.DATETIME:
            parsed = parse_w3c_datetime(str(value))
            if parsed is None:
                errors.append(f"{label}: Bitte Datum und Uhrzeit angeben (z. B. 2026-11-22T14:30+01:00).")
            else:
                clean[attribute.code] = parsed.isoformat()
        elif datatype == ServiceAttribute.Datatype.SINGLE:
            choice = str(value[0] if isinstance(value, list) and value else value).strip()
            if choice not in keys:
                errors.append(f"{label}: Bitte einen der vorgegebenen Werte wählen.")
            else:
                clean[attribute.code] = choice
        elif datatype == ServiceAttribute.Datatype.MULTI:
            choices = _as_list(value)
            if not choices or any(c not in keys for c in choices):
                errors.append(f"{label}: Bitte nur vorgegebene Werte wählen.")
            else:
                clean[attribute.code] = sorted(set(choices))
    return clean, errors


def parse_w3c_datetime(text: str) -> dt.datetime | None:
    """W3C-DTF datetimes; a time zone is required (Z or ±HH:MM)."""
    text = text.strip()
    if not text or len(text) > 40:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None or not (2000 <= value.year <= 2100):
        return None
    return value


def default_authority() -> Authority:
    """Reports arrive at the city's public-order office until triage routes them."""
    authority = Authority.objects.filter(kind=Authority.Kind.CITY).order_by("pk").first()
    if authority is None:
        authority = Authority.objects.order_by("pk").first()
    if authority is None:
        raise ValidationError({"service": "Es ist noch keine Behörde eingerichtet."})
    return authority


def _weekday_set(spec: str) -> set[int]:
    days: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            start, end = part.split("-", 1)
            days.update(range(int(start), int(end) + 1))
        else:
            days.add(int(part))
    return days


def rule_matches(rule: RoutingRule, *, service_id: int, area_ids: set[int], at: dt.datetime) -> bool:
    if rule.service_id and rule.service_id != service_id:
        return False
    if rule.area_id and rule.area_id not in area_ids:
        return False
    local = timezone.localtime(at)
    if rule.weekdays:
        try:
            if local.isoweekday() not in _weekday_set(rule.weekdays):
                return False
        except ValueError:
            return False
    if rule.time_from is not None and rule.time_to is not None:
        now = local.time()
        if rule.time_from <= rule.time_to:
            if not (rule.time_from <= now < rule.time_to):
                return False
        elif rule.time_to <= now < rule.time_from:  # a night window such as 22:00–06:00
            return False
    return True


def route_report(report: Report, area_ids: set[int] | None = None) -> RoutingRule | None:
    """Apply the first matching routing rule; a target outside Lagebild means forwarding."""
    if area_ids is None:
        area_ids = set(report.area_links.values_list("area_id", flat=True))
    for rule in RoutingRule.objects.filter(active=True).select_related("target").order_by("position", "id"):
        if rule_matches(rule, service_id=report.service_id, area_ids=area_ids, at=report.requested_at):
            _apply_target(report, rule.target)
            report.routing_rule = rule
            return rule
    return None


def _apply_target(report: Report, target: RoutingTarget) -> None:
    report.target = target
    if target.authority_id:
        report.authority_id = target.authority_id


def _record(
    report: Report,
    *,
    to_status: str,
    user: User | None,
    public_note: str = "",
    internal_note: str = "",
    at: dt.datetime | None = None,
) -> StatusChange:
    change = StatusChange.objects.create(
        report=report,
        at=at or timezone.now(),
        user=user if getattr(user, "is_authenticated", False) else None,
        from_status=report.status if report.pk and report.status != to_status else "",
        to_status=to_status,
        public_note=public_note[:1000],
        internal_note=internal_note[:1000],
    )
    return change


def _location_from_address(address_text: str) -> Place | None:
    if not address_text:
        return None
    return Place.objects.filter(name__iexact=address_text.strip()).first()


def report_create(
    *,
    service: ServiceType | None,
    channel: str,
    lat: object = None,
    lon: object = None,
    address_text: str = "",
    address_id: str = "",
    description: str = "",
    attributes: Mapping[str, object] | None = None,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    entered_by: User | None = None,
    api_client: object = None,
    requested_at: dt.datetime | None = None,
    external_source: str = "",
    external_id: str = "",
    store_with: Callable[[Report], None] | None = None,
) -> Report:
    """Validate, locate, route and store a report; ``store_with`` runs in the same transaction
    (the web form stores its photos there, so a failed photo write stores no report)."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if requested_at is not None and (
        timezone.is_naive(requested_at)
        or requested_at > timezone.now() + dt.timedelta(minutes=10)
        or requested_at.year < 2000
    ):
        error("requested_at", "Der Eingangszeitpunkt ist ungültig oder liegt in der Zukunft.")
    if channel not in Channel.values:
        error("channel", "Unbekannter Eingangsweg.")
    elif (
        channel not in PUBLIC_CHANNELS
        and channel != Channel.EXTERNAL
        and not (entered_by is not None and entered_by.has_perm("citizen.enter_report"))
    ):
        raise PermissionDenied("Ihre Rolle erlaubt diese Aktion nicht.")
    if service is None:
        error("service", "Bitte eine Kategorie wählen.")
    elif not service.active:
        error("service", "Diese Kategorie wird nicht mehr angeboten.")
    elif service.acute and channel in PUBLIC_CHANNELS:
        error("service", service.acute_notice or "Akute Gefahr: Bitte rufen Sie den Notruf 110 an.")
    text, too_long = clean_text(description, MAX_DESCRIPTION)
    if too_long:
        error("description", f"Die Beschreibung ist zu lang (höchstens {MAX_DESCRIPTION} Zeichen).")
    address, address_too_long = clean_text(address_text, 300)
    if address_too_long:
        error("address_text", "Die Ortsangabe ist zu lang (höchstens 300 Zeichen).")
    address_id_clean, address_id_too_long = clean_text(address_id, 64)
    if address_id_too_long:
        error("address_id", "Die Adress-ID ist zu lang.")
    name, name_too_long = clean_text(reporter_name, 120)
    if name_too_long:
        error("reporter_name", "Der Name ist zu lang (höchstens 120 Zeichen).")
    phone, phone_too_long = clean_text(reporter_phone, 40)
    if phone_too_long:
        error("reporter_phone", "Die Telefonnummer ist zu lang.")
    email = (reporter_email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            error("reporter_email", "Bitte eine gültige E-Mail-Adresse angeben.")
        if len(email) > 254:
            error("reporter_email", "Die E-Mail-Adresse ist zu lang.")
    located = None
    has_lat = lat not in (None, "")
    has_lon = lon not in (None, "")
    if has_lat != has_lon:
        error("lat", "Breite und Länge gehören zusammen.")
    elif has_lat:
        try:
            located = locate(lat, lon)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    elif not address and not address_id_clean:
        error("location", "Bitte den Ort angeben: auf der Karte, per Standort oder als Adresse.")
    elif address:
        place = _location_from_address(address)
        if place is not None:
            try:
                located = locate(place.lat, place.lon)
            except ValidationError:
                located = None
    clean_attributes: dict = {}
    if service is not None:
        clean_attributes, attribute_errors = validate_attributes(
            service, attributes, require=channel != Channel.EXTERNAL
        )
        if attribute_errors:
            errors["attributes"] = attribute_errors
    if errors:
        raise ValidationError(errors)
    assert service is not None
    now = requested_at or timezone.now()
    with unscoped():
        report = Report(
            authority=default_authority(),
            service=service,
            status=ReportStatus.NEW,
            channel=channel,
            description=text,
            attributes=clean_attributes,
            address_text=address,
            address_id=address_id_clean,
            reporter_name=name,
            reporter_email=email,
            reporter_phone=phone,
            requested_at=now,
            updated_at=now,
            due_at=add_working_days(timezone.localtime(now), service.service_level_days),
            entered_by=entered_by if getattr(entered_by, "is_authenticated", False) else None,
            api_client=api_client,  # type: ignore[misc]
            external_source=external_source[:200],
            external_id=external_id[:100],
        )
        area_ids: set[int] = set()
        if located is not None:
            report.lat, report.lon = located.lat, located.lon
            report.x_utm, report.y_utm, report.h3_cell = located.x_utm, located.y_utm, located.h3_cell
            area_ids = set(located.area_ids)
        rule = route_report(report, area_ids)
        # Only the writes in the transaction: on SQLite (BEGIN IMMEDIATE) it holds the write
        # lock, and validating, locating and routing above would serialise parallel intake.
        with transaction.atomic():
            report.save()
            ReportArea.objects.bulk_create(ReportArea(report=report, area_id=a) for a in sorted(area_ids))
            _record(
                report,
                to_status=ReportStatus.NEW,
                user=entered_by,
                at=now,
                public_note="Ihre Meldung ist eingegangen.",
            )
            if rule is not None and rule.target.authority_id is None:
                _set_status(
                    report,
                    ReportStatus.FORWARDED,
                    user=None,
                    public_note=f"Weitergeleitet an: {rule.target.name}.",
                    at=now,
                    response=False,
                    counts=False,
                )
            # Every report updates the same count rows (the city's hour, day, … year), which stay
            # locked until the commit: as late as possible, so parallel intake waits only for that.
            aggregates.apply_reports([report.pk])
            # After the count rows: every writer takes the audit chain's head (core.audit), always last.
            audit.log(
                "citizen.report.created",
                user=entered_by,
                obj=report,
                channel=channel,
                rule=rule.pk if rule else None,
            )
            if store_with is not None:
                # After every statement that can fail: files cannot be rolled back.
                store_with(report)
    return report


def _set_status(
    report: Report,
    to_status: str,
    *,
    user: User | None,
    public_note: str = "",
    internal_note: str = "",
    at: dt.datetime | None = None,
    response: bool = True,
    counts: bool = True,
) -> None:
    """``counts=False``: the caller adds the report to the count tables afterwards (intake)."""
    at = at or timezone.now()
    _record(
        report, to_status=to_status, user=user, public_note=public_note, internal_note=internal_note, at=at
    )
    if counts:
        aggregates.apply_reports([report.pk], -1)
    report.status = to_status
    report.updated_at = at
    if response and report.first_response_at is None:
        report.first_response_at = at
    if to_status in CLOSED_STATUSES:
        report.closed_at = report.closed_at or at
    else:
        report.closed_at = None
    report.save(
        update_fields=[
            "status",
            "updated_at",
            "first_response_at",
            "closed_at",
            "target",
            "authority",
            "duplicate_of",
            "routing_rule",
        ]
    )
    if counts:
        aggregates.apply_reports([report.pk])


def _visible(report: Report) -> bool:
    return Report.objects.filter(pk=report.pk).exists()


# Statuses only the shift lead / control room may set (routing decisions and refusals).
TRIAGE_ONLY_STATUSES = frozenset(
    {ReportStatus.FORWARDED, ReportStatus.REJECTED, ReportStatus.DUPLICATE, ReportStatus.ASSIGNED}
)
_CLOSING = (ReportStatus.RESOLVED, ReportStatus.NOT_RESOLVABLE, ReportStatus.FORWARDED, ReportStatus.REJECTED)
_REOPEN = (ReportStatus.TRIAGE, ReportStatus.IN_PROGRESS)
# Which status may follow which when staff set it by hand (intake, assignment, merging and
# the Open311 sync have their own rules). A closed report is reopened before it is closed
# another way, so the reporter never reads "Erledigt" turning into "Abgelehnt"; a forwarded
# one may still be closed with the receiving office's result. Nothing leads back to "Neu",
# and duplicates are made by merging and stay with the report they were merged into.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ReportStatus.NEW: (ReportStatus.TRIAGE, ReportStatus.ASSIGNED, ReportStatus.IN_PROGRESS, *_CLOSING),
    ReportStatus.TRIAGE: (ReportStatus.ASSIGNED, ReportStatus.IN_PROGRESS, *_CLOSING),
    ReportStatus.ASSIGNED: (ReportStatus.TRIAGE, ReportStatus.IN_PROGRESS, *_CLOSING),
    ReportStatus.IN_PROGRESS: (ReportStatus.TRIAGE, ReportStatus.ASSIGNED, *_CLOSING),
    ReportStatus.RESOLVED: _REOPEN,
    ReportStatus.NOT_RESOLVABLE: _REOPEN,
    ReportStatus.REJECTED: _REOPEN,
    ReportStatus.FORWARDED: (*_REOPEN, ReportStatus.RESOLVED, ReportStatus.NOT_RESOLVABLE),
    ReportStatus.DUPLICATE: (),
}
# The usual next steps, offered as one-click buttons in the queue and on the detail page.
NEXT_STEPS: dict[str, tuple[str, ...]] = {
    ReportStatus.NEW: (ReportStatus.TRIAGE, ReportStatus.IN_PROGRESS),
    ReportStatus.TRIAGE: (ReportStatus.IN_PROGRESS, ReportStatus.RESOLVED),
    ReportStatus.ASSIGNED: (ReportStatus.IN_PROGRESS, ReportStatus.RESOLVED),
    ReportStatus.IN_PROGRESS: (ReportStatus.RESOLVED, ReportStatus.NOT_RESOLVABLE),
}


def allowed_statuses(user: User, current: str) -> list[str]:
    """The statuses ``user`` may set by hand on a report that has status ``current`` now."""
    if not user.has_perm("citizen.handle"):
        return []
    triage = user.has_perm("citizen.triage")
    return [
        status
        for status in ALLOWED_TRANSITIONS.get(current, ())
        if triage or status not in TRIAGE_ONLY_STATUSES
    ]


def next_steps(user: User, current: str) -> list[str]:
    """The usual next statuses from ``current`` that ``user`` may set (one-click buttons)."""
    allowed = set(allowed_statuses(user, current))
    return [status for status in NEXT_STEPS.get(current, ()) if status in allowed]


def step_needs_confirmation(to_status: str) -> bool:
    """Closing ends the case and tells the reporter the outcome: asked once more, with a note."""
    return to_status in CLOSED_STATUSES


@transaction.atomic
def report_transition(
    *,
    user: User,
    report: Report,
    to_status: str,
    public_note: str = "",
    internal_note: str = "",
    expected_status: str = "",
) -> Report:
    """Set a status by hand; ``expected_status`` is the status the user saw, so a click on a
    page that a colleague's change has made stale does nothing unexpected."""
    if not user.has_perm("citizen.handle"):
        raise PermissionDenied("Ihre Rolle erlaubt diese Aktion nicht.")
    if not _visible(report):
        raise PermissionDenied("Diese Meldung ist nicht sichtbar.")
    report.refresh_from_db()
    if to_status not in ReportStatus.values:
        raise ValidationError({"status": "Unbekannter Status."})
    if expected_status and expected_status != report.status:
        raise ValidationError(
            {
                "status": f"Die Meldung wurde inzwischen geändert: Sie ist jetzt "
                f"„{STATUS_LABELS[report.status]}“. Bitte prüfen Sie den neuen Stand."
            }
        )
    if to_status == report.status:
        raise ValidationError({"status": "Die Meldung hat diesen Status bereits."})
    if to_status in TRIAGE_ONLY_STATUSES and not user.has_perm("citizen.triage"):
        raise PermissionDenied("Diesen Status darf nur die Schichtleitung / Leitstelle setzen.")
    if to_status == ReportStatus.DUPLICATE:
        raise ValidationError({"status": "Doppelmeldungen bitte über „Zusammenführen“ markieren."})
    if to_status == ReportStatus.NEW:
        raise ValidationError({"status": "Eine Meldung kann nicht wieder auf „Neu“ gesetzt werden."})
    if to_status not in ALLOWED_TRANSITIONS.get(report.status, ()):
        current = STATUS_LABELS[report.status]
        if report.status == ReportStatus.DUPLICATE:
            message = "Eine Doppelmeldung wird in der Meldung bearbeitet, in die sie zusammengeführt wurde."
        else:
            message = (
                f"Von „{current}“ aus ist „{STATUS_LABELS[to_status]}“ nicht möglich. "
                "Bitte die Meldung zuerst wieder öffnen („In Prüfung“ oder „In Bearbeitung“)."
            )
        raise ValidationError({"status": message})
    public, public_too_long = clean_text(public_note, 1000)
    internal, internal_too_long = clean_text(internal_note, 1000)
    if public_too_long or internal_too_long:
        raise ValidationError({"public_note": "Notizen haben höchstens 1000 Zeichen."})
    if to_status == ReportStatus.FORWARDED and not public:
        raise ValidationError({"public_note": "Bitte angeben, wohin die Meldung weitergeleitet wurde."})
    _set_status(report, to_status, user=user, public_note=public, internal_note=internal)
    audit.log("citizen.report.status", user=user, obj=report, to=to_status)
    return report


@transaction.atomic
def report_assign(*, user: User, report: Report, target: RoutingTarget, public_note: str = "") -> Report:
    if not user.has_perm("citizen.triage"):
        raise PermissionDenied("Ihre Rolle erlaubt diese Aktion nicht.")
    if not _visible(report):
        raise PermissionDenied("Diese Meldung ist nicht sichtbar.")
    report.refresh_from_db()
    if report.status in CLOSED_STATUSES:
        raise ValidationError({"status": "Die Meldung ist bereits abgeschlossen."})
    _apply_target(report, target)
    report.routing_rule = None
    if target.authority_id is None:
        _set_status(
            report,
            ReportStatus.FORWARDED,
            user=user,
            public_note=public_note or f"Weitergeleitet an: {target.name}.",
        )
    else:
        _set_status(
            report, ReportStatus.ASSIGNED, user=user, public_note=public_note or f"Zuständig: {target.name}."
        )
    audit.log("citizen.report.assigned", user=user, obj=report, target=target.pk)
    return report


@transaction.atomic
def report_merge(*, user: User, duplicate: Report, into: Report) -> Report:
    """Close ``duplicate`` as a duplicate of ``into``; its supporters count for ``into``."""
    if not user.has_perm("citizen.triage"):
        raise PermissionDenied("Ihre Rolle erlaubt diese Aktion nicht.")
    if not (_visible(duplicate) and _visible(into)):
        raise PermissionDenied("Diese Meldung ist nicht sichtbar.")
    duplicate.refresh_from_db()
    into.refresh_from_db()
    while into.duplicate_of_id is not None:
        into = Report.objects.get(pk=into.duplicate_of_id)
    if duplicate.pk == into.pk:
        raise ValidationError({"into": "Eine Meldung kann nicht mit sich selbst zusammengeführt werden."})
    if duplicate.status == ReportStatus.DUPLICATE:
        raise ValidationError({"into": "Diese Meldung ist bereits als Doppelmeldung markiert."})
    duplicate.duplicate_of = into
    _set_status(
        duplicate,
        ReportStatus.DUPLICATE,
        user=user,
        public_note=f"Zusammengeführt mit Meldung {into.pk}; sie wird dort weiter bearbeitet.",
    )
    Report.objects.filter(pk=into.pk).update(supporters=F("supporters") + duplicate.supporters + 1)
    into.refresh_from_db()
    audit.log("citizen.report.merged", user=user, obj=duplicate, into=into.pk)
    return into


def report_support(*, report_id: int) -> int:
    """A citizen supports an open report instead of filing a duplicate; returns the new count."""
    with unscoped():
        updated = Report.objects.filter(pk=report_id, status__in=OPEN_STATUSES).update(
            supporters=F("supporters") + 1
        )
        if not updated:
            raise ValidationError({"report": "Diese Meldung ist nicht mehr offen."})
        return Report.objects.values_list("supporters", flat=True).get(pk=report_id)


@transaction.atomic
def report_link_incident(*, user: User, report: Report, incident: object) -> Report:
    """Handling a report: link the incident (with its measures) recorded on site."""
    from lagebild.field.models import Incident

    if not user.has_perm("citizen.handle"):
        raise PermissionDenied("Ihre Rolle erlaubt diese Aktion nicht.")
    if not _visible(report) or not Incident.objects.filter(pk=getattr(incident, "pk", None)).exists():
        raise PermissionDenied("Meldung oder Feststellung ist nicht sichtbar.")
    report.refresh_from_db()
    report.incidents.add(incident)  # type: ignore[arg-type]
    if report.status in {ReportStatus.NEW, ReportStatus.TRIAGE, ReportStatus.ASSIGNED}:
        _set_status(
            report, ReportStatus.IN_PROGRESS, user=user, public_note="Der Ordnungsdienst war vor Ort."
        )
    audit.log("citizen.report.incident_linked", user=user, obj=report, incident=getattr(incident, "pk", None))
    return report


SYNC_NOTE = "Abgleich mit externer Quelle"


@transaction.atomic
def report_sync_status(
    *, report: Report, closed: bool, note: str = "", at: dt.datetime | None = None, source: str = ""
) -> bool:
    """Follow the open/closed status of a report imported from another system (Open311 import).

    System change without a user: a remote close resolves an open report (with the remote
    status notes as public note); a remote reopen only reopens what an earlier sync closed,
    never a closure by staff. Returns whether the status changed.
    """
    with unscoped():
        report.refresh_from_db()
        marker = f"{SYNC_NOTE}: {source}"[:1000]
        note_text, _too_long = clean_text(note, 1000)
        if closed and report.status in OPEN_STATUSES:
            _set_status(
                report,
                ReportStatus.RESOLVED,
                user=None,
                public_note=note_text[:1000] or "Erledigt.",
                internal_note=marker,
                at=at,
                response=True,
            )
        elif not closed and report.status == ReportStatus.RESOLVED:
            last = StatusChange.objects.filter(report=report).order_by("-at", "-id").first()
            if last is None or not last.internal_note.startswith(SYNC_NOTE):
                return False
            _set_status(
                report,
                ReportStatus.TRIAGE,
                user=None,
                public_note=note_text[:1000] or "Die Meldung wurde wieder geöffnet.",
                internal_note=marker,
                at=at,
                response=False,
            )
        else:
            return False
    audit.log("citizen.report.synced", obj=report, closed=closed, source=source[:200])
    return True
