"""Open311 GeoReport v2 server at ``/open311/v2/`` (decisions documented in docs/open311.md).

Anonymous and public: reads run ``with unscoped()`` and publish only public fields
(serialize.py); POST needs an active :class:`~lagebild.citizen.models.ApiClient` key and
files the report through ``report_create(channel="open311")``. Every error answers in the
spec's format (``<errors><error><code/><description/></error></errors>`` or a JSON list)
with HTTP 400, 403, 404 or 405.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from lagebild.api.idempotency import respond_idempotently
from lagebild.core.scoping import unscoped

from .. import selectors
from ..models import ApiClient, Channel, Report, ReportStatus, ServiceType
from ..services import report_create
from . import serialize, xml

CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
READ = ("GET", "HEAD")
MAX_IDS = 1000
MAX_PAGE = 1_000_000
MAX_MEDIA_URL = 500
# Public ids are random (Report.public_id); anything else matches no request.
_PUBLIC_ID = re.compile(r"^[a-z2-7]{1,24}$")
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
# "+01:00" in an unencoded query string arrives as " 01:00"; accept it.
_SPACE_OFFSET = re.compile(r" (\d{2}:?\d{2})$")
# Messages of report_create by field, named after the Open311 parameter.
PARAMETER_NAMES = {
    "service": "service_code",
    "lat": "lat",
    "lon": "long",
    "location": "lat/long, address_string oder address_id",
    "address_text": "address_string",
    "address_id": "address_id",
    "description": "description",
    "attributes": "attribute",
    "reporter_email": "email",
    "reporter_name": "first_name/last_name",
    "reporter_phone": "phone",
}


class Open311Error(Exception):
    def __init__(self, status: int, *messages: str) -> None:
        super().__init__(messages[0] if messages else "")
        self.status = status
        self.messages = list(messages)


def _setting(name: str, env: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(env, default)
    return str(value).strip()


def jurisdiction() -> str:
    return _setting("OPEN311_JURISDICTION", "LAGEBILD_OPEN311_JURISDICTION", "dortmund.de")


# --- responses -------------------------------------------------------------------------------


def respond(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    else:
        body = xml.render(root, data)
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
    # Public open data: browser apps of other origins may read it (no cookies are used).
    response["Access-Control-Allow-Origin"] = "*"
    return response


def error_response(fmt: str, status: int, messages: list[str]) -> HttpResponse:
    return respond(fmt, "errors", [{"code": status, "description": m} for m in messages], status)


def _param(request: HttpRequest, name: str) -> str:
    """A parameter from the form body (POST) or the query string; empty means absent."""
    value = request.POST.get(name) if request.method == "POST" else None
    if value is None or not value.strip():
        value = request.GET.get(name)
    return (value or "").strip()


def endpoint(*methods: str) -> Callable:
    """Format extension, allowed methods, jurisdiction_id and the error format for a view."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, fmt: str, **kwargs: str) -> HttpResponse:
            fmt = fmt.lower()
            if fmt not in CONTENT_TYPES:
                return error_response(
                    "xml", 404, [f"Format „{fmt}“ wird nicht angeboten; verfügbar sind .xml und .json."]
                )
            if request.method not in methods:
                response = error_response(
                    fmt,
                    405,
                    [f"Methode {request.method} ist hier nicht erlaubt (erlaubt: {', '.join(methods)})."],
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                given = _param(request, "jurisdiction_id")
                if given and given.lower() != jurisdiction().lower():
                    raise Open311Error(
                        404, f"jurisdiction_id „{given}“ ist unbekannt (hier: {jurisdiction()})."
                    )
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return error_response(fmt, exc.status, exc.messages)
            except SuspiciousOperation:
                # Too many fields, a body over the upload limit: still an answer in our format.
                return error_response(fmt, 400, ["Die Anfrage ist zu groß oder fehlerhaft."])

        return wrapper

    return decorator


# --- discovery and services -------------------------------------------------------------------


@endpoint(*READ)
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(request.path.rsplit("/", 1)[0])
    data = serialize.discovery(
        base,
        serialize.catalogue_changeset(),
        contact=_setting(
            "OPEN311_CONTACT",
            "LAGEBILD_OPEN311_CONTACT",
            f"Stadt {settings.CITY_NAME} – Ordnungsamt (Kommunaler Ordnungsdienst). "
            "In akuten Gefahrenlagen: Notruf 110.",
        ),
        key_service=_setting(
            "OPEN311_KEY_SERVICE",
            "LAGEBILD_OPEN311_KEY_SERVICE",
            "Einen API-Key für Melde-Apps vergibt das Ordnungsamt auf Anfrage. "
            "Lesende Abfragen brauchen keinen Key.",
        ),
        test=settings.DEBUG,
    )
    return respond(fmt, "discovery", data)


@endpoint(*READ)
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    rows = [serialize.service_row(s) for s in serialize.public_services()]
    return respond(fmt, "services", rows)


@endpoint(*READ)
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    service = next((s for s in serialize.public_services() if s.code == code), None)
    if service is None:
        raise Open311Error(404, f"Unbekannter service_code „{code}“.")
    return respond(fmt, "service_definition", serialize.service_definition(service))


# --- requests --------------------------------------------------------------------------------


@endpoint("GET", "HEAD", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    query = parse_query(request)
    return respond(fmt, "service_requests", serialize.fetch_requests(query))


@endpoint(*READ)
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    rows = []
    if _PUBLIC_ID.match(request_id):
        extensions = _param(request, "extensions").lower() in {"true", "1"}
        rows = serialize.fetch_requests(serialize.RequestQuery(ids=[request_id], extensions=extensions))
    # A guessed row number, an unpublished (police) report and one that does not exist: one answer.
    if not rows:
        raise Open311Error(404, f"Unbekannte service_request_id „{request_id}“.")
    return respond(fmt, "service_requests", rows)


@endpoint(*READ)
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    # All services are realtime, so POST never issues a token. The tracking token of the
    # reporter's status page link resolves, so clients holding one can find the request.
    report = selectors.report_by_token(token)
    if report is None or not report.service.public_in_open311:
        raise Open311Error(404, f"Unbekannter token „{token}“.")
    return respond(fmt, "service_requests", [{"service_request_id": report.public_id, "token": token}])


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    fmt = "json" if rest.lower().endswith(".json") else "xml"
    return error_response(fmt, 404, [f"Unbekannte Open311-Ressource „{rest}“ (siehe discovery.xml)."])


# --- GET requests parameters -------------------------------------------------------------------


def parse_datetime(name: str, text: str) -> dt.datetime:
    """W3C-DTF with a time zone (Z or ±HH:MM); fractions of a second are accepted."""
    text = _SPACE_OFFSET.sub(r"+\1", text.strip())
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(
            400, f"{name}: „{text}“ ist kein W3C-Datum (z. B. 2026-11-22T14:30:00+01:00)."
        ) from None
    if value.tzinfo is None:
        raise Open311Error(400, f"{name}: Die Zeitzone fehlt (z. B. …T14:30:00+01:00 oder …T13:30:00Z).")
    if not 1970 <= value.year <= 2200:
        raise Open311Error(400, f"{name}: Das Datum liegt außerhalb des gültigen Bereichs.")
    return value


def _positive(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    text = _param(request, name)
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) < 1 or len(text) > 9:
        raise Open311Error(400, f"{name}: Bitte eine positive ganze Zahl angeben.")
    return min(int(text), maximum)


def parse_query(request: HttpRequest) -> serialize.RequestQuery:
    query = serialize.RequestQuery(extensions=_param(request, "extensions").lower() in {"true", "1"})
    ids = _param(request, "service_request_id")
    if ids:
        parts = [p.strip() for p in ids.split(",") if p.strip()]
        if len(parts) > MAX_IDS:
            raise Open311Error(400, f"service_request_id: Höchstens {MAX_IDS} Kennungen auf einmal.")
        # Ids of another form cannot exist: they simply match nothing.
        query.ids = [p for p in parts if _PUBLIC_ID.match(p)]
        return query
    codes = _param(request, "service_code")
    if codes:
        query.service_codes = [c.strip() for c in codes.split(",") if c.strip()]
    start_text, end_text = _param(request, "start_date"), _param(request, "end_date")
    query.start = parse_datetime("start_date", start_text) if start_text else None
    query.end = parse_datetime("end_date", end_text) if end_text else None
    if query.start and query.end:
        if query.end < query.start:
            raise Open311Error(400, "end_date liegt vor start_date.")
        if query.end - query.start > serialize.DEFAULT_WINDOW:
            raise Open311Error(
                400, "Der Zeitraum von start_date bis end_date darf höchstens 90 Tage umfassen."
            )
    statuses = _param(request, "status")
    if statuses:
        wanted = {s.strip().lower() for s in statuses.split(",") if s.strip()}
        if not wanted or not wanted <= {"open", "closed"}:
            raise Open311Error(400, f"status: „{statuses}“ – erlaubt sind open und closed (kommagetrennt).")
        query.statuses = frozenset(wanted)
    query.page = _positive(request, "page", 1, MAX_PAGE)
    query.page_size = _positive(request, "page_size", serialize.MAX_RESULTS, serialize.MAX_RESULTS)
    return query


# --- POST requests -------------------------------------------------------------------------------


def _attributes(request: HttpRequest) -> dict[str, object]:
    answers: dict[str, object] = {}
    for key, values in request.POST.lists():
        match = _ATTRIBUTE.match(key)
        if not match:
            continue
        code, is_list = match.group(1), bool(match.group(2))
        previous = answers.get(code)
        if previous is not None or is_list or len(values) > 1:
            merged = list(previous) if isinstance(previous, list) else ([previous] if previous else [])
            answers[code] = merged + list(values)
        else:
            answers[code] = values[0]
    return answers


def _messages(exc: ValidationError) -> list[str]:
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    return [
        f"{PARAMETER_NAMES.get(field, field)}: {message}"
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    key = _param(request, "api_key")
    client = ApiClient.objects.filter(api_key=key, active=True).first() if key else None
    if client is None:
        raise Open311Error(403, "api_key fehlt oder ist ungültig – Meldung nicht angenommen.")
    # A retried post with the same Idempotency-Key gets the first answer, not a second report.
    return respond_idempotently(
        request,
        scope=f"open311:{client.pk}",
        run=lambda: _create_report(request, fmt, client),
        refuse=lambda status, message: error_response(fmt, status, [message]),
    )


def _create_report(request: HttpRequest, fmt: str, client: ApiClient) -> HttpResponse:
    code = _param(request, "service_code")
    if not code:
        raise Open311Error(400, "service_code fehlt.")
    service = ServiceType.objects.filter(code=code, active=True).first()
    if service is None:
        raise Open311Error(404, f"Unbekannter service_code „{code}“.")
    media_url = _param(request, "media_url")
    if media_url and (len(media_url) > MAX_MEDIA_URL or not re.match(r"^https?://[^\s<>\"]+$", media_url)):
        raise Open311Error(400, "media_url: Bitte eine http- oder https-Adresse angeben.")
    name = " ".join(p for p in (_param(request, "first_name"), _param(request, "last_name")) if p)
    try:
        # report_create is atomic itself; the outer transaction only when media_url is added.
        with transaction.atomic() if media_url else contextlib.nullcontext():
            report = report_create(
                service=service,
                channel=Channel.OPEN311,
                api_client=client,
                lat=_param(request, "lat") or None,
                lon=_param(request, "long") or None,
                address_text=_param(request, "address_string"),
                address_id=_param(request, "address_id"),
                description=request.POST.get("description", ""),
                attributes=_attributes(request),
                reporter_name=name,
                reporter_email=_param(request, "email"),
                reporter_phone=_param(request, "phone"),
            )
            if media_url:
                # Kept for staff with the answers; never fetched, never published.
                with unscoped():
                    Report.objects.filter(pk=report.pk).update(
                        attributes={**report.attributes, "media_url": media_url}
                    )
    except ValidationError as exc:
        raise Open311Error(400, *_messages(exc)) from None
    return respond(
        fmt, "service_requests", [{"service_request_id": report.public_id, "service_notice": _notice(report)}]
    )


def _notice(report: Report) -> str:
    if not report.service.public_in_open311:
        return (
            "Vielen Dank, Ihr Hinweis ist eingegangen. Hinweise dieser Art werden nicht öffentlich "
            "angezeigt; den Bearbeitungsstand sieht nur, wer den Link aus der Eingangsbestätigung hat."
        )
    if report.status == ReportStatus.FORWARDED and report.target is not None:
        return (
            f"Vielen Dank. Zuständig ist {report.target.name}; wir haben Ihre Meldung dorthin weitergeleitet."
        )
    if report.due_at is not None:
        due = timezone.localtime(report.due_at)
        return f"Vielen Dank, Ihre Meldung ist eingegangen. Unser Bearbeitungsziel: bis {due:%d.%m.%Y}."
    return "Vielen Dank, Ihre Meldung ist eingegangen."
