"""Open311 GeoReport v2 client: import service requests of another server into the queue.

Used by ``lagebild open311-import``. Standard library only (urllib, json, ElementTree).
The remote server is asked in windows of at most 90 days (the spec's limit) and, within a
window, page by page (``page``/``page_size``, the common extension); servers that ignore
paging and cut a window at their result limit are asked again in halves. JSON is tried
first, XML is the fallback (XML is the format every server must offer).

Idempotent: a report is identified by (``external_source`` = the server URL,
``external_id`` = its ``service_request_id``); a second run creates nothing and only
follows status changes (see ``services.report_sync_status``).
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from lagebild.core.scoping import unscoped

from ..models import Channel, Report, ServiceType
from ..services import report_create, report_sync_status

# 90 × 24 hours of absolute time: the spec's limit is a duration, and a strict server measures it
# in UTC. (Wall-clock arithmetic on Berlin datetimes makes a window across the end of summer
# time 90 days and one hour long.)
WINDOW = dt.timedelta(days=90)
SPEC_LIMIT = 1000  # "first 1000 requests returned" is the spec's default limit
MIN_SPLIT = dt.timedelta(minutes=1)
MAX_PAGES = 1000
MAX_BYTES = 50 * 1024 * 1024
USER_AGENT = "Lagebild-Open311-Import/1.0"
CLOSED = frozenset({"closed", "fixed", "resolved", "done"})


class Open311ClientError(Exception):
    """The remote server cannot be used (unreachable, no GeoReport answer)."""


@dataclass
class ImportResult:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unknown_services: Counter[str] = field(default_factory=Counter)
    invalid: list[str] = field(default_factory=list)
    format: str = ""
    requests_made: int = 0


def _utc(value: dt.datetime) -> dt.datetime:
    """In UTC, so that ``+`` and ``-`` measure absolute time (aware datetimes sharing a zone
    subtract and add as wall-clock times, which is off by an hour across a DST switch)."""
    return value.astimezone(dt.UTC)


def _w3c(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_remote_datetime(value: object) -> dt.datetime | None:
    """Lenient W3C/ISO parsing for remote data; a missing time zone means local time."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        parsed = dt.datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def _xml_item(element: ElementTree.Element) -> dict[str, Any]:
    return {child.tag: (child.text or "").strip() for child in element if len(child) == 0}


class GeoReportClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str = "",
        jurisdiction: str = "",
        timeout: float = 30.0,
        page_size: int = SPEC_LIMIT,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise Open311ClientError(f"Keine http(s)-Adresse: {base_url}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.jurisdiction = jurisdiction
        self.timeout = timeout
        self.page_size = page_size
        self.format = ""
        self.requests_made = 0
        self.log = log

    def _get(self, fmt: str, params: dict[str, str]) -> list[dict[str, Any]]:
        query = {k: v for k, v in params.items() if v}
        if self.api_key:
            query["api_key"] = self.api_key
        if self.jurisdiction:
            query["jurisdiction_id"] = self.jurisdiction
        url = f"{self.base_url}/requests.{fmt}?{urllib.parse.urlencode(query)}"
        accept = "application/json" if fmt == "json" else "text/xml"
        request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": USER_AGENT})
        self.requests_made += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = exc.read(4000).decode("utf-8", "replace")
            raise Open311ClientError(f"HTTP {exc.code} von {url}: {detail[:300]}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise Open311ClientError(f"{url} nicht erreichbar: {exc}") from exc
        if len(body) > MAX_BYTES:
            raise Open311ClientError(f"Antwort von {url} ist größer als {MAX_BYTES // 1024 // 1024} MB.")
        return self._parse(fmt, body, url)

    @staticmethod
    def _parse(fmt: str, body: bytes, url: str) -> list[dict[str, Any]]:
        try:
            if fmt == "json":
                data = json.loads(body.decode("utf-8"))
                if isinstance(data, dict):  # some servers wrap the list
                    data = data.get("service_requests", data.get("requests"))
                if not isinstance(data, list):
                    raise ValueError("keine Liste")
                return [item for item in data if isinstance(item, dict)]
            # ElementTree resolves no external entities; expat limits entity expansion.
            root = ElementTree.fromstring(body)
            if root.tag == "errors":
                raise ValueError("Fehlerantwort")
            return [_xml_item(item) for item in root if item.tag == "request"]
        except (ValueError, UnicodeDecodeError, ElementTree.ParseError) as exc:
            raise Open311ClientError(f"Keine GeoReport-v2-Antwort von {url}: {exc}") from exc

    def get_requests(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """One GET requests call; the first call decides JSON or the XML fallback."""
        if self.format:
            return self._get(self.format, params)
        try:
            items = self._get("json", params)
            self.format = "json"
        except Open311ClientError as json_error:
            try:
                items = self._get("xml", params)
            except Open311ClientError as xml_error:
                raise Open311ClientError(f"{json_error} / {xml_error}") from xml_error
            self.log("JSON nicht verfügbar, verwende XML.")
            self.format = "xml"
        return items

    def window(self, start: dt.datetime, end: dt.datetime, codes: list[str]) -> Iterator[dict[str, Any]]:
        """All requests with requested_datetime in [start, end] (ids may repeat)."""
        start, end = _utc(start), _utc(end)
        base = {"start_date": _w3c(start), "end_date": _w3c(end), "service_code": ",".join(codes)}
        seen: set[str] = set()
        first_page = 0
        paging_ignored = False
        for page in range(1, MAX_PAGES + 1):
            batch = self.get_requests({**base, "page": str(page), "page_size": str(self.page_size)})
            new = [item for item in batch if str(item.get("service_request_id")) not in seen]
            if page == 1:
                first_page = len(batch)
            if not new:
                paging_ignored = page == 2 and bool(batch)
                break
            seen.update(str(item.get("service_request_id")) for item in new)
            yield from new
        if paging_ignored and first_page >= min(self.page_size, SPEC_LIMIT) and end - start > MIN_SPLIT:
            # The server ignores page and may have cut the window at its limit: halve it.
            middle = start + (end - start) / 2
            yield from self.window(start, middle, codes)
            yield from self.window(middle, end, codes)

    def requests(self, since: dt.datetime, until: dt.datetime, codes: list[str]) -> Iterator[dict[str, Any]]:
        """Requests since ``since`` in windows of at most 90 days, each id once."""
        seen: set[str] = set()
        start, until = _utc(since), _utc(until)
        while start < until:
            end = min(start + WINDOW, until)
            for item in self.window(start, end, codes):
                key = str(item.get("service_request_id") or "").strip()
                if key and key not in seen:
                    seen.add(key)
                    yield item
            start = end


def _float(value: object) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def import_requests(
    url: str,
    *,
    service_codes: list[str] | None = None,
    api_key: str = "",
    jurisdiction: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    default_service: str = "",
    code_map: dict[str, str] | None = None,
    page_size: int = SPEC_LIMIT,
    timeout: float = 30.0,
    log: Callable[[str], None] = lambda _msg: None,
) -> ImportResult:
    """Fetch the remote requests and create or update reports (channel ``external``)."""
    client = GeoReportClient(
        url, api_key=api_key, jurisdiction=jurisdiction, timeout=timeout, page_size=page_size, log=log
    )
    source = client.base_url
    until = _utc(until or timezone.now())
    since = _utc(since) if since else until - WINDOW
    result = ImportResult()
    code_map = code_map or {}
    with unscoped():
        services = {s.code: s for s in ServiceType.objects.filter(active=True)}
        fallback = services.get(default_service) if default_service else None
        if default_service and fallback is None:
            raise Open311ClientError(f"Unbekannte Standard-Kategorie: {default_service}")
        known = {
            external_id: pk
            for external_id, pk in Report.objects.filter(external_source=source).values_list(
                "external_id", "pk"
            )
        }
        for item in client.requests(since, until, list(service_codes or [])):
            result.fetched += 1
            _import_one(item, source, services, fallback, code_map, known, result)
    result.format = client.format
    result.requests_made = client.requests_made
    return result


def _import_one(
    item: dict[str, Any],
    source: str,
    services: dict[str, ServiceType],
    fallback: ServiceType | None,
    code_map: dict[str, str],
    known: dict[str, int],
    result: ImportResult,
) -> None:
    external_id = str(item.get("service_request_id") or "").strip()[:100]
    remote_code = str(item.get("service_code") or "").strip()
    closed = str(item.get("status") or "").strip().lower() in CLOSED
    notes = str(item.get("status_notes") or "")
    requested = parse_remote_datetime(item.get("requested_datetime"))
    updated = parse_remote_datetime(item.get("updated_datetime"))
    label = f"Anfrage {external_id}"
    if requested is None:
        result.invalid.append(f"{label}: requested_datetime fehlt oder ist ungültig.")
        return
    changed_at = max(updated or requested, requested)
    if changed_at > timezone.now():
        changed_at = timezone.now()
    if external_id in known:
        report = Report.objects.get(pk=known[external_id])
        if report_sync_status(report=report, closed=closed, note=notes, at=changed_at, source=source):
            result.updated += 1
        else:
            result.unchanged += 1
        return
    service = services.get(code_map.get(remote_code, remote_code)) or fallback
    if service is None:
        result.unknown_services[remote_code or "(leer)"] += 1
        return
    try:
        with transaction.atomic():
            report = report_create(
                service=service,
                channel=Channel.EXTERNAL,
                lat=_float(item.get("lat")),
                lon=_float(item.get("long", item.get("lon"))),
                address_text=str(item.get("address") or "")[:300],
                address_id=str(item.get("address_id") or "")[:64],
                description=str(item.get("description") or "")[:4000],
                requested_at=min(requested, timezone.now()),
                external_source=source,
                external_id=external_id,
            )
            if closed:
                report_sync_status(report=report, closed=True, note=notes, at=changed_at, source=source)
    except ValidationError as exc:
        messages = (
            [m for msgs in exc.message_dict.values() for m in msgs]
            if hasattr(exc, "error_dict")
            else exc.messages
        )
        result.invalid.append(f"{label}: {' '.join(messages)}")
        return
    known[external_id] = report.pk
    result.created += 1
