"""Open311 import client against a fake GeoReport v2 server started by the test."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree.ElementTree import Element, SubElement, tostring
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel, Report, ReportStatus, StatusChange
from lagebild.citizen.open311.client import import_requests
from lagebild.core.scoping import authority_scope, unscoped

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE, OUTSIDE

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class FakeServer:
    items: list[dict] = field(default_factory=list)
    json_enabled: bool = True
    paging: bool = True
    limit: int = 1000
    calls: list[dict] = field(default_factory=list)
    url: str = ""

    def answer(self, fmt: str, params: dict[str, str]) -> tuple[int, bytes, str]:
        self.calls.append({"fmt": fmt, **params})
        if fmt == "json" and not self.json_enabled:
            return 404, b"not found", "text/plain"
        start = dt.datetime.fromisoformat(params["start_date"]) if params.get("start_date") else None
        end = dt.datetime.fromisoformat(params["end_date"]) if params.get("end_date") else None
        if start and end and end - start > dt.timedelta(days=90):
            return 400, b'[{"code":400,"description":"range"}]', "application/json"
        codes = set(params["service_code"].split(",")) if params.get("service_code") else None
        chosen = []
        for item in self.items:
            requested = dt.datetime.fromisoformat(item["requested_datetime"])
            if (start and requested < start) or (end and requested > end):
                continue
            if codes and item["service_code"] not in codes:
                continue
            chosen.append(item)
        chosen.sort(key=lambda i: i["requested_datetime"], reverse=True)
        if self.paging:
            size = int(params.get("page_size") or self.limit)
            page = int(params.get("page") or 1)
            chosen = chosen[(page - 1) * size : page * size]
        else:
            chosen = chosen[: self.limit]
        if fmt == "json":
            return 200, json.dumps(chosen, ensure_ascii=False).encode(), "application/json; charset=utf-8"
        root = Element("service_requests")
        for item in chosen:
            element = SubElement(root, "request")
            for key, value in item.items():
                SubElement(element, key).text = "" if value is None else str(value)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + tostring(
            root, encoding="utf-8", xml_declaration=False
        )
        return 200, body, "text/xml; charset=utf-8"


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    state = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(parsed.query))
            if parsed.path.endswith("/requests.json"):
                status, body, content_type = state.answer("json", params)
            elif parsed.path.endswith("/requests.xml"):
                status, body, content_type = state.answer("xml", params)
            else:
                status, body, content_type = 404, b"", "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/georeport/v2"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def noon(days_ago: int) -> dt.datetime:
    today = timezone.now().astimezone(BERLIN).replace(hour=12, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=days_ago)


def remote(rid: str, code: str = "muell", *, days_ago: int = 3, status: str = "open", **extra) -> dict:
    when = noon(days_ago)
    item = {
        "service_request_id": rid,
        "status": status,
        "status_notes": None,
        "service_name": code,
        "service_code": code,
        "description": f"Meldung {rid}",
        "requested_datetime": when.isoformat(),
        "updated_datetime": (when + dt.timedelta(hours=2)).isoformat(),
        "address": "Westenhellweg 1",
        "lat": INSIDE[0],
        "long": INSIDE[1],
    }
    item.update(extra)
    return item


def run(url: str, *args: str) -> str:
    out = io.StringIO()
    call_command("open311-import", url, *args, stdout=out)
    return out.getvalue()


def imported(fake: FakeServer) -> dict[str, Report]:
    with unscoped():
        return {r.external_id: r for r in Report.objects.filter(external_source=fake.url)}


def test_import_is_idempotent_and_follows_status(fake, services):
    fake.items = [
        remote("101", "muell", description="Sperrmüll ÄÖÜß€"),
        remote("102", "betteln", days_ago=5),
        remote("103", "betteln", days_ago=8, status="closed", status_notes="Abgeholt."),
        remote("104", "schlagloch"),
    ]
    output = run(fake.url)
    assert "4 Meldungen abgerufen" in output and "3 neu" in output
    assert "Unbekannter service_code 'schlagloch': 1" in output
    reports = imported(fake)
    assert set(reports) == {"101", "102", "103"}
    sent = {item["service_request_id"]: item for item in fake.items}
    first = reports["101"]
    assert first.channel == Channel.EXTERNAL and first.description == "Sperrmüll ÄÖÜß€"
    assert first.requested_at == dt.datetime.fromisoformat(sent["101"]["requested_datetime"])
    assert first.x_utm is not None
    # Required questions of our service are not enforced for imports (the remote asked its own).
    assert reports["102"].attributes == {} and reports["102"].status == ReportStatus.NEW
    closed = reports["103"]
    assert closed.status == ReportStatus.RESOLVED
    assert closed.closed_at == dt.datetime.fromisoformat(sent["103"]["updated_datetime"])  # noon + 2 h
    with unscoped():
        assert StatusChange.objects.filter(report=closed).last().public_note == "Abgeholt."

    again = run(fake.url)
    assert "0 neu" in again and "0 Status aktualisiert" in again
    with unscoped():
        assert Report.objects.filter(external_source=fake.url).count() == 3

    fake.items[1] = remote(
        "102", "betteln", days_ago=5, status="closed", status_notes="Personen angetroffen."
    )
    third = run(fake.url)
    assert "1 Status aktualisiert" in third
    updated = imported(fake)["102"]
    assert updated.status == ReportStatus.RESOLVED
    with unscoped():
        assert StatusChange.objects.filter(report=updated).last().public_note == "Personen angetroffen."
        assert Report.objects.filter(external_source=fake.url).count() == 3


def test_remote_reopen_only_undoes_a_sync_close(fake, services, kod_lead):
    fake.items = [remote("1", "betteln", status="closed"), remote("2", "betteln")]
    run(fake.url)
    reports = imported(fake)
    with authority_scope(kod_lead.authority):
        intake.report_transition(user=kod_lead, report=reports["2"], to_status=ReportStatus.RESOLVED)
    fake.items = [remote("1", "betteln", status="open"), remote("2", "betteln", status="open")]
    run(fake.url)
    reports = imported(fake)
    assert reports["1"].status == ReportStatus.TRIAGE  # reopened remotely after a sync close
    assert reports["2"].status == ReportStatus.RESOLVED  # closed by our staff: stays closed


def test_xml_fallback(fake, services):
    fake.json_enabled = False
    fake.items = [remote("x1", description="Müll „hier“ ÄÖÜß€"), remote("x2", "betteln", status="closed")]
    output = run(fake.url)
    assert "Format xml" in output and "2 neu" in output
    reports = imported(fake)
    assert reports["x1"].description == "Müll „hier“ ÄÖÜß€"
    assert reports["x2"].status == ReportStatus.RESOLVED
    assert {c["fmt"] for c in fake.calls} == {"json", "xml"}
    assert "0 neu" in run(fake.url)


def test_paging_and_windows_of_at_most_90_days(fake, services):
    fake.items = [remote(str(i), days_ago=i * 20) for i in range(1, 11)]  # 20 … 200 days ago
    output = run(
        fake.url, "--since", (timezone.localdate() - dt.timedelta(days=210)).isoformat(), "--page-size", "2"
    )
    assert "10 neu" in output
    assert set(imported(fake)) == {str(i) for i in range(1, 11)}
    for call in fake.calls:
        span = dt.datetime.fromisoformat(call["end_date"]) - dt.datetime.fromisoformat(call["start_date"])
        assert span <= dt.timedelta(days=90)
    assert max(int(c["page"]) for c in fake.calls) >= 2


def _windows(fake: FakeServer) -> list[tuple[dt.datetime, dt.datetime]]:
    return sorted(
        {
            (dt.datetime.fromisoformat(c["start_date"]), dt.datetime.fromisoformat(c["end_date"]))
            for c in fake.calls
        }
    )


@pytest.mark.parametrize(
    ("today", "switch"),
    [
        # The end of summer time (25 Oct 2026) lies inside the window: a Berlin day has 25 hours.
        ("2026-11-20T12:00:00+01:00", dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC)),
        # The start of summer time (29 Mar 2026) lies inside the window: a Berlin day has 23 hours.
        ("2026-05-10T12:00:00+02:00", dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)),
    ],
)
def test_windows_across_a_dst_switch_are_90_times_24_hours_of_absolute_time(
    fake, services, clock, today, switch
):
    now = clock.move_to(today)
    fake.items = [remote(str(i), days_ago=i * 15) for i in range(1, 13)]  # 15 … 180 days ago
    since = now.date() - dt.timedelta(days=200)
    output = run(fake.url, "--since", since.isoformat(), "--page-size", "5")
    assert "12 neu" in output
    windows = _windows(fake)
    assert any(start < switch < end for start, end in windows)
    assert max(end - start for start, end in windows) == dt.timedelta(hours=90 * 24)
    # Back to back, from local midnight of --since to now: nothing in between is skipped.
    assert windows[0][0] == dt.datetime.combine(since, dt.time.min, tzinfo=BERLIN)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    assert abs(windows[-1][1] - now) < dt.timedelta(minutes=1)


def test_default_window_is_the_last_90_times_24_hours(fake, services, clock):
    now = clock.move_to("2026-11-01T12:00:00+01:00")
    fake.items = [remote("inside", days_ago=89), remote("outside", days_ago=91)]
    assert "1 neu" in run(fake.url)
    ((start, end),) = _windows(fake)
    assert end - start == dt.timedelta(hours=90 * 24)
    assert abs(end - now) < dt.timedelta(minutes=1)
    assert set(imported(fake)) == {"inside"}


def test_servers_without_paging_are_asked_in_smaller_windows(fake, services):
    fake.paging = False
    fake.limit = 3
    fake.items = [remote(str(i), days_ago=i) for i in range(1, 9)]
    result = import_requests(fake.url, page_size=3)
    assert result.created == 8 and result.fetched == 8
    assert result.requests_made > 2


def test_service_code_filter_map_and_default(fake, services):
    fake.items = [remote("a", "muell"), remote("b", "hundekot"), remote("c", "schlagloch")]
    output = run(fake.url, "--service-code", "muell", "--service-code", "hundekot")
    assert all(c.get("service_code") == "muell,hundekot" for c in fake.calls)
    assert "1 neu" in output and "'hundekot': 1" in output
    output = run(fake.url, "--map", "hundekot=muell", "--default-service", "betteln")
    assert "2 neu" in output
    reports = imported(fake)
    assert reports["b"].service.code == "muell" and reports["c"].service.code == "betteln"


def test_invalid_remote_requests_are_reported(fake, services):
    fake.items = [
        remote("out", lat=OUTSIDE[0], long=OUTSIDE[1]),
        remote("noplace", lat=None, long=None, address=None),
        remote("ok"),
    ]
    output = run(fake.url)
    assert "1 neu" in output and "2 fehlerhaft" in output
    assert "außerhalb" in output


def test_unreachable_or_wrong_servers(fake, db):
    with pytest.raises(CommandError, match=r"nicht erreichbar|HTTP"):
        run("http://127.0.0.1:9/open311/v2", "--timeout", "2")
    with pytest.raises(CommandError, match="http"):
        run("ftp://example.org/open311")
    with pytest.raises(CommandError, match="Ungültiges Datum"):
        run(fake.url, "--since", "gestern")
    with pytest.raises(CommandError, match="--map"):
        run(fake.url, "--map", "ohne-gleich")


def test_imported_reports_keep_authority_scoping(fake, services, kod, polizei):
    fake.items = [remote("day", days_ago=2), remote("night", "betteln", days_ago=2)]
    fake.items[1]["requested_datetime"] = noon(2).replace(hour=23).isoformat()
    run(fake.url)
    reports = imported(fake)
    with authority_scope(kod.authority):
        visible = set(Report.objects.filter(external_source=fake.url).values_list("external_id", flat=True))
    with authority_scope(polizei.authority):
        police_visible = set(
            Report.objects.filter(external_source=fake.url).values_list("external_id", flat=True)
        )
    assert reports["night"].authority == polizei.authority
    assert visible == {"day"} and police_visible == {"night"}


def test_round_trip_with_our_own_server(live_server, services, api_client_key):
    """Our client understands our server (JSON, paging, random public ids, coarse locations)."""
    waste = intake.report_create(
        service=services["waste"], channel="web", lat=INSIDE[0], lon=INSIDE[1], description="Alte Matratze"
    )
    url = f"{live_server.url}/open311/v2"
    result = import_requests(url)
    assert result.format == "json" and result.created == 1
    with unscoped():
        copy = Report.objects.get(external_source=url, external_id=waste.public_id)
    assert copy.description == "Alte Matratze" and copy.status == waste.status
    import_requests(url)  # now also sees the copy itself, but never duplicates an id
    with unscoped():
        assert Report.objects.filter(external_source=url, external_id=waste.public_id).count() == 1
