"""Public reads for the Open311 server and their GeoReport v2 representation.

Everything that leaves this module is public: no reporter name, e-mail or phone, no
internal notes, no staff names. Locations are published at the precision configured per
service (exact, coarsened to a 100 m cell, or not at all); free text is published only for
services not about people, with e-mail addresses, phone numbers and number plates removed.
Dicts are built by hand (no serializer framework): ``GET requests`` must answer within
100 ms with a million stored reports.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast
from django.db.models.sql.constants import MULTI
from django.utils import timezone
from pyproj import Transformer

from lagebild.core.scoping import unscoped

from ..models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Report,
    ReportStatus,
    RoutingTarget,
    ServiceAttribute,
    ServiceType,
    StatusChange,
    effective_precision,
)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
DEFAULT_WINDOW = dt.timedelta(days=90)
COARSE_CELL_M = 100.0
STATUS_LABELS = dict(ReportStatus.choices)
PUBLIC_ANSWER_TYPES = frozenset(
    {
        ServiceAttribute.Datatype.NUMBER,
        ServiceAttribute.Datatype.DATETIME,
        ServiceAttribute.Datatype.SINGLE,
        ServiceAttribute.Datatype.MULTI,
    }
)
WITHHELD_PEOPLE = "Die Beschreibung wird zum Schutz der beteiligten Personen nicht veröffentlicht."
WITHHELD_REJECTED = "Die Beschreibung dieser abgelehnten Meldung wird nicht veröffentlicht."
REDACTED = "[entfernt]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# German phone numbers start with 0 or +/00 and a country code; dates (with dots) are not hit.
_PHONE = re.compile(r"(?<![\w+])(?:\+|\b0)\d[\d /()-]{4,}\d(?!\w)")
# German number plates: district code, one or two letters, up to four digits (DO-AB 123, DO AB 1234E).
_PLATE = re.compile(r"\b[A-ZÄÖÜ]{1,3}[- ][A-Z]{1,2}[- ]?\d{1,4}[EH]?\b")
_HOUSE_NUMBER = re.compile(r"\s+\d+\s*[a-zA-Z]?(?:\s*[-–/]\s*\d+\s*[a-zA-Z]?)?\s*$")
_POSTCODE = re.compile(r"^\d{5}\s+")
_DIGIT = re.compile(r"\d")


# --- formatting helpers ---------------------------------------------------------------


def w3c(value: dt.datetime | None) -> str | None:
    """W3C-DTF in the city's time zone, with offset, without fractions of a second."""
    if value is None:
        return None
    return value.astimezone(timezone.get_default_timezone()).replace(microsecond=0).isoformat()


class W3CFormatter:
    """:func:`w3c` for many naive UTC datetimes: the offset is looked up once per hour.

    The offsets of the city's time zone change only on full UTC hours.
    """

    def __init__(self) -> None:
        self.zone = timezone.get_default_timezone()
        self.offsets: dict[int, tuple[dt.timedelta, str]] = {}

    def __call__(self, value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        hour = value.toordinal() * 24 + value.hour
        entry = self.offsets.get(hour)
        if entry is None:
            offset = value.replace(tzinfo=dt.UTC).astimezone(self.zone).utcoffset() or dt.timedelta(0)
            minutes = int(offset.total_seconds()) // 60
            sign = "+" if minutes >= 0 else "-"
            entry = (offset, f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")
            self.offsets[hour] = entry
        return (value + entry[0]).isoformat(timespec="seconds") + entry[1]

    def raw(self, text: str | None) -> str | None:
        """W3C-DTF of a raw database datetime text (see :func:`naive_utc`)."""
        key = plain_utc(text)
        return self(naive_utc(text)) if key is None else self.plain(key)

    def plain(self, text: str) -> str:
        """W3C-DTF of a :func:`plain_utc` text, by string slicing: parsing and formatting a datetime
        per value was half the time of ``GET requests``."""
        entry = _local_hour(self.zone.key, text[:13])
        if entry[0]:
            return entry[0] + text[13:19] + entry[1]
        return self(dt.datetime.fromisoformat(text[:19]))  # type: ignore[return-value]


@lru_cache(maxsize=8192)
def _local_hour(zone: str, hour: str) -> tuple[str, str]:
    """Local ``YYYY-MM-DDTHH`` and offset of a UTC hour ``YYYY-MM-DD HH`` (a fact of the zone, kept
    across requests: a page spans a few hundred hours). Minutes and seconds carry over unchanged only
    when the offset is whole hours; ("", "") otherwise."""
    start = dt.datetime(int(hour[:4]), int(hour[5:7]), int(hour[8:10]), int(hour[11:13]), tzinfo=dt.UTC)
    offset = start.astimezone(ZoneInfo(zone)).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    if minutes % 60:
        return ("", "")
    sign = "+" if minutes >= 0 else "-"
    local = (start.replace(tzinfo=None) + offset).isoformat()
    return (local[:13], f"{sign}{abs(minutes) // 60:02d}:00")


def naive_utc(value: dt.datetime | str | None) -> dt.datetime | None:
    """A raw database datetime as naive UTC (SQLite gives naive UTC, PostgreSQL aware)."""
    if value is None:
        return None
    if isinstance(value, str):
        # PostgreSQL's text form in the UTC session is "… +00"; SQLite's has no offset.
        value = dt.datetime.fromisoformat(value[:-3] if value.endswith("+00") else value)
    offset = value.utcoffset()
    if offset is None:
        return value
    return (value - offset).replace(tzinfo=None) if offset else value.replace(tzinfo=None)


def plain_utc(text: str | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` of a database text in UTC without offset or with ``+00`` (fractions of a
    second dropped, as in the published form); None for anything else (the datetime path takes it)."""
    if text is None or text[10:11] != " " or text[13:14] != ":":
        return None
    tail = text[19:]
    if tail[-3:] == "+00":
        tail = tail[:-3]
    if not tail or (tail[0] == "." and tail[1:].isdigit()):
        return text[:19]
    return None


def scrub(text: str) -> str:
    """Remove e-mail addresses, phone numbers and number plates from public free text."""
    if not text:
        return text
    if "@" in text:
        text = _EMAIL.sub(REDACTED, text)
    if _DIGIT.search(text):
        text = _PHONE.sub(REDACTED, text)
        text = _PLATE.sub(REDACTED, text)
    return text


def street_only(address: str) -> str:
    """Reduce an address to its street or place name (no house number, no postcode)."""
    first = address.split(",", 1)[0].strip()
    first = _POSTCODE.sub("", first)
    return _HOUSE_NUMBER.sub("", first).strip()


@lru_cache(maxsize=1)
def _utm_to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


def coarsen(xs: Iterable[float], ys: Iterable[float]) -> tuple[list[float], list[float]]:
    """Snap UTM32N points to the centre of their 100 m cell; returns (lats, lons) in WGS84."""
    x = np.asarray(list(xs), dtype=float)
    y = np.asarray(list(ys), dtype=float)
    cx = np.floor(x / COARSE_CELL_M) * COARSE_CELL_M + COARSE_CELL_M / 2
    cy = np.floor(y / COARSE_CELL_M) * COARSE_CELL_M + COARSE_CELL_M / 2
    lons, lats = _utm_to_wgs84().transform(cx, cy)
    return np.round(lats, 6).tolist(), np.round(lons, 6).tolist()


# --- services ----------------------------------------------------------------------------


def public_services() -> list[ServiceType]:
    """Services offered through Open311: active and not acute (acute ones mean: call 110)."""
    return list(ServiceType.objects.filter(active=True, acute=False).prefetch_related("attributes"))


def service_row(service: ServiceType) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description,
        "metadata": any(True for _ in service.attributes.all()),
        "type": "realtime",
        "keywords": service.keywords,
        "group": service.group,
    }


def service_definition(service: ServiceType) -> dict[str, Any]:
    attributes = []
    for attribute in sorted(service.attributes.all(), key=lambda a: a.order):
        row: dict[str, Any] = {
            "variable": attribute.variable,
            "code": attribute.code,
            "datatype": attribute.datatype,
            "required": attribute.required,
            "datatype_description": attribute.datatype_description or None,
            "order": attribute.order,
            "description": attribute.description,
        }
        if attribute.datatype in (ServiceAttribute.Datatype.SINGLE, ServiceAttribute.Datatype.MULTI):
            row["values"] = [
                {"key": str(v.get("key")), "name": str(v.get("name") or v.get("key"))}
                for v in attribute.values or []
                if isinstance(v, dict)
            ]
        attributes.append(row)
    return {"service_code": service.code, "attributes": attributes}


def catalogue_changeset() -> dt.datetime:
    """When the service list last changed: catalogue loads and admin edits, else installation."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db.migrations.recorder import MigrationRecorder

    from lagebild.core.models import AuditEvent

    candidates = []
    loaded = (
        AuditEvent.objects.filter(action="citizen.services.loaded")
        .order_by("-at")
        .values_list("at", flat=True)
    ).first()
    candidates.append(loaded)
    types = ContentType.objects.get_for_models(ServiceType, ServiceAttribute).values()
    edited = (
        LogEntry.objects.filter(content_type__in=list(types))
        .order_by("-action_time")
        .values_list("action_time", flat=True)
        .first()
    )
    candidates.append(edited)
    if not any(candidates):
        installed = (
            MigrationRecorder.Migration.objects.filter(app="citizen")
            .order_by("applied")
            .values_list("applied", flat=True)
            .first()
        )
        candidates.append(installed)
    known = [c for c in candidates if c is not None]
    return min(max(known), timezone.now()) if known else timezone.now()


def discovery(base_url: str, changeset: dt.datetime, *, contact: str, key_service: str, test: bool) -> dict:
    stamp = w3c(changeset)
    return {
        "changeset": stamp,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": stamp,
                "type": "test" if test else "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


# --- requests ------------------------------------------------------------------------------


@dataclass
class RequestQuery:
    """Parsed GET requests parameters (the view checks them; see docs/open311.md)."""

    ids: list[str] | None = None  # public ids (Report.public_id), never row numbers
    service_codes: list[str] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: frozenset[str] | None = None  # subset of {"open", "closed"}
    page: int = 1
    page_size: int = MAX_RESULTS
    extensions: bool = False


_FIELDS = (
    "id",
    "public_id",
    "service_id",
    "status",
    "description",
    "address_text",
    "address_id",
    "lat",
    "lon",
    "x_utm",
    "y_utm",
    "target_id",
)
# Datetimes are read as text and parsed with datetime.fromisoformat: the database drivers'
# timestamp loaders (with Django's time zone handling) cost more than the whole query.
_DATETIMES = ("requested_at", "updated_at", "closed_at", "due_at")
# The original of a duplicate by its public id, and only when its category is published.
_EXTENDED_FIELDS = (
    "attributes",
    "supporters",
    "channel",
    "duplicate_of__public_id",
    "duplicate_of__service__public_in_open311",
)


@dataclass(frozen=True)
class _ServiceInfo:
    code: str
    name: str
    precision: str
    about_people: bool
    answer_types: dict[str, tuple[str, str]]  # code -> (datatype, question)


def _service_infos(with_answers: bool) -> dict[int, _ServiceInfo]:
    answer_types: dict[int, dict[str, tuple[str, str]]] = {}
    if with_answers:
        for service_id, code, datatype, question, variable in ServiceAttribute.objects.values_list(
            "service_id", "code", "datatype", "description", "variable"
        ):
            if variable and datatype in PUBLIC_ANSWER_TYPES:
                answer_types.setdefault(service_id, {})[code] = (datatype, question)
    return {
        pk: _ServiceInfo(
            code, name, effective_precision(precision, about_people), about_people, answer_types.get(pk, {})
        )
        for pk, code, name, precision, about_people in ServiceType.objects.values_list(
            "pk", "code", "name", "publish_precision", "about_people"
        )
    }


def _filtered(query: RequestQuery, now: dt.datetime) -> Any:
    # Reports of unpublished categories (police tips) do not exist for the feed, whatever the
    # query (issue 13). They are few categories: NOT IN keeps the query on the time index.
    reports = Report.objects.all()
    unpublished = list(ServiceType.objects.filter(public_in_open311=False).values_list("pk", flat=True))
    if unpublished:
        reports = reports.exclude(service_id__in=unpublished)
    if query.ids is not None:
        # "service_request_id overrides all other arguments" (spec), paging included.
        return reports.filter(public_id__in=query.ids)
    if query.service_codes is not None:
        # Codes to ids first: the report query then stays on one table.
        service_ids = list(
            ServiceType.objects.filter(code__in=query.service_codes).values_list("pk", flat=True)
        )
        reports = reports.filter(service_id__in=service_ids)
    start, end = query.start, query.end
    if start is None and end is None:
        start = now - DEFAULT_WINDOW
    elif start is None:
        start = end - DEFAULT_WINDOW  # type: ignore[operator]
    elif end is None:
        end = start + DEFAULT_WINDOW
    reports = reports.filter(requested_at__gte=start)
    if end is not None:
        # Inclusive at the published precision: a request shown with requested_datetime
        # equal to end_date (whole seconds) is in the result.
        if end.microsecond == 0:
            reports = reports.filter(requested_at__lt=end + dt.timedelta(seconds=1))
        else:
            reports = reports.filter(requested_at__lte=end)
    if query.statuses and len(query.statuses) == 1:
        wanted = OPEN_STATUSES if "open" in query.statuses else CLOSED_STATUSES
        reports = reports.filter(status__in=sorted(wanted))
    return reports


def _raw_rows(queryset: Any) -> list[dict[str, Any]]:
    """Rows of a ``values()`` queryset without Django's per-value converters.

    Converting 4,000 datetimes and then formatting them again was a third of the time of
    ``GET requests``; :class:`W3CFormatter` and :func:`utc` read the raw values instead.
    """
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    selected = getattr(query, "selected", None)
    names = (
        list(selected) if selected else [*query.extra_select, *query.values_select, *query.annotation_select]
    )
    width = len(names)
    rows: list[dict[str, Any]] = []
    for chunk in compiler.execute_sql(MULTI, chunked_fetch=False, chunk_size=MAX_RESULTS) or []:
        if chunk and len(chunk[0]) < width:
            raise ValueError("fewer columns than selected names")
        # zip stops at the names: columns after them (ordering helpers) are left out.
        rows.extend(dict(zip(names, row)) for row in chunk)  # noqa: B905
    return rows


def fetch_requests(query: RequestQuery, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The public service requests for a query, newest first, as GeoReport v2 dicts."""
    now = now or timezone.now()
    last_note = (
        StatusChange.objects.filter(report=OuterRef("pk"))
        .filter(~Q(public_note=""))
        .order_by("-at", "-id")
        .values("public_note")[:1]
    )
    fields = _FIELDS + (_EXTENDED_FIELDS if query.extensions else ())
    with unscoped():
        reports = _filtered(query, now).order_by("-requested_at", "-id")
        reports = reports.annotate(
            last_public_note=Subquery(last_note),
            **{f"{name}_text": Cast(name, output_field=TextField()) for name in _DATETIMES},
        ).values(*fields, "last_public_note", *(f"{name}_text" for name in _DATETIMES))
        if query.ids is None:
            offset = (query.page - 1) * query.page_size
            reports = reports[offset : offset + query.page_size]
        else:
            reports = reports[:MAX_RESULTS]
        rows = _raw_rows(reports)
        if not rows:
            return []
        services = _service_infos(query.extensions)
        targets = dict(RoutingTarget.objects.values_list("pk", "name"))
        history = _history([row["id"] for row in rows]) if query.extensions else {}
    return to_public(rows, services, targets, history, extensions=query.extensions)


def _history(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    notes: dict[int, list[dict[str, Any]]] = {}
    changes = (
        StatusChange.objects.filter(report_id__in=ids)
        .order_by("report_id", "at", "id")
        .annotate(at_text=Cast("at", output_field=TextField()))
        .values("report_id", "at_text", "to_status", "public_note")
    )
    fmt = W3CFormatter()
    for row in _raw_rows(changes):
        report_id, to_status, note = row["report_id"], row["to_status"], row["public_note"]
        notes.setdefault(report_id, []).append(
            {
                "datetime": fmt.raw(row["at_text"]),
                "status": "open" if to_status in OPEN_STATUSES else "closed",
                "detailed_status": to_status,
                "detailed_status_label": STATUS_LABELS.get(to_status, to_status),
                "description": note or None,
            }
        )
    return notes


def to_public(
    rows: list[dict[str, Any]],
    services: dict[int, _ServiceInfo],
    targets: dict[int, str],
    history: dict[int, list[dict[str, Any]]],
    *,
    extensions: bool = False,
) -> list[dict[str, Any]]:
    """Public dicts from raw report rows (see the module docstring for what is withheld)."""
    coarse_precision = str(ServiceType.Precision.COARSE.value)
    exact_precision = str(ServiceType.Precision.EXACT.value)
    coarse = [
        i
        for i, row in enumerate(rows)
        if services[row["service_id"]].precision == coarse_precision and row["x_utm"] is not None
    ]
    snapped: dict[int, tuple[float, float]] = {}
    if coarse:
        lats, lons = coarsen((rows[i]["x_utm"] for i in coarse), (rows[i]["y_utm"] for i in coarse))
        snapped = {i: (lat, lon) for i, lat, lon in zip(coarse, lats, lons, strict=True)}
    fmt = W3CFormatter()
    closed_statuses = frozenset(str(value) for value in CLOSED_STATUSES)
    rejected = str(ReportStatus.REJECTED.value)
    result = []
    for i, row in enumerate(rows):
        service = services[row["service_id"]]
        status = row["status"]
        closed = status in closed_statuses
        precision = service.precision
        if precision == exact_precision:
            lat, lon = row["lat"], row["lon"]
            address = row["address_text"] or None
            address_id = row["address_id"] or None
        elif precision == coarse_precision:
            lat, lon = snapped.get(i, (None, None))
            address = (street_only(row["address_text"]) or None) if row["address_text"] else None
            address_id = None
        else:
            lat = lon = address = address_id = None
        description = row["description"] or ""
        if description:
            if service.about_people:
                description = WITHHELD_PEOPLE
            elif status == rejected:
                description = WITHHELD_REJECTED
            else:
                description = scrub(description)
        requested_text, closed_at = row["requested_at_text"], row["closed_at_text"]
        updated_text = closed_at if closed and closed_at else row["updated_at_text"]
        requested_key, updated_key = plain_utc(requested_text), plain_utc(updated_text)
        if requested_key is not None and (updated_text is None or updated_key is not None):
            # Compared at whole seconds: within one second both are published as the same text.
            requested_at = fmt.plain(requested_key)
            updated_at = (
                requested_at if updated_key is None or updated_key < requested_key else fmt.plain(updated_key)
            )
        else:
            requested = naive_utc(requested_text)
            updated = naive_utc(updated_text)
            if updated is None or updated < requested:  # type: ignore[operator]
                updated = requested
            requested_at, updated_at = fmt(requested), fmt(updated)
        target_id = row["target_id"]
        item: dict[str, Any] = {
            "service_request_id": row["public_id"],
            "status": "closed" if closed else "open",
            "status_notes": row["last_public_note"] or None,
            "service_name": service.name,
            "service_code": service.code,
            "description": description,
            "agency_responsible": targets.get(target_id) if target_id else None,
            "service_notice": None,
            "requested_datetime": requested_at,
            "updated_datetime": updated_at,
            "expected_datetime": fmt.raw(row["due_at_text"]),
            "address": address,
            "address_id": address_id,
            "zipcode": None,
            "lat": lat,
            "long": lon,
            "media_url": None,
        }
        if extensions:
            item["detailed_status"] = status
            item["detailed_status_label"] = STATUS_LABELS.get(status, status)
            item["extended_attributes"] = _extended(row, service)
            item["notes"] = history.get(row["id"], [])
        result.append(item)
    return result


def _extended(row: dict[str, Any], service: _ServiceInfo) -> dict[str, Any]:
    answers = []
    raw = row.get("attributes") or {}
    if isinstance(raw, str):  # raw JSON text from the database
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = {}
    if isinstance(raw, dict):
        for code, (datatype, question) in service.answer_types.items():
            if code not in raw:
                continue
            value = raw[code]
            answer: dict[str, Any] = {"code": code, "description": question}
            if datatype == ServiceAttribute.Datatype.MULTI:
                answer["values"] = [str(v) for v in (value if isinstance(value, list) else [value])]
            else:
                answer["value"] = value
            answers.append(answer)
    duplicate_of = row.get("duplicate_of__public_id")
    if not row.get("duplicate_of__service__public_in_open311"):
        duplicate_of = None
    return {
        "channel": row.get("channel"),
        "supporters": row.get("supporters", 0),
        "duplicate_of": duplicate_of or None,
        "answers": answers,
    }
