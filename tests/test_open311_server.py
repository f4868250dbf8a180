"""Open311 GeoReport v2 server: every endpoint in XML and JSON, every error case of the
conformance plan (research/citizen_reporting.md 1.12), privacy of public output, extensions.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from lagebild.citizen import services as intake
from lagebild.citizen.models import ApiClient, Channel, Report, ReportStatus, ServiceAttribute, ServiceType
from lagebild.citizen.open311 import serialize
from lagebild.citizen.services_catalog import load_services
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.geo.points import to_utm32

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE, OUTSIDE

BERLIN = ZoneInfo("Europe/Berlin")
BASE = "/open311/v2"
FORMATS = ["xml", "json"]
LISTS = {
    "services",
    "service_requests",
    "attributes",
    "values",
    "endpoints",
    "formats",
    "notes",
    "errors",
    "answers",
}
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


# --- helpers -------------------------------------------------------------------------------------


def _from_xml(element: ET.Element):
    if element.tag in LISTS:
        return [_from_xml(child) for child in element]
    if len(element):
        return {child.tag: _from_xml(child) for child in element}
    return element.text


def parse(response, fmt: str):
    """Check the envelope (content type, XML declaration) and return the body as data."""
    content_type = response["Content-Type"]
    if fmt == "json":
        assert content_type == "application/json; charset=utf-8"
        return json.loads(response.content.decode("utf-8"))
    assert content_type == "text/xml; charset=utf-8"
    assert response.content.lower().startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return _from_xml(ET.fromstring(response.content))


def errors(response, fmt: str, status: int) -> list[str]:
    """ER1/ER2: an error status and a parsable errors/error[code, description] body."""
    assert response.status_code == status, response.content
    body = parse(response, fmt)
    assert isinstance(body, list) and body
    for error in body:
        assert str(error["code"]) == str(status)
        assert error["description"]
    return [e["description"] for e in body]


def text(value) -> str | None:
    """XML gives strings, JSON typed values: compare as text."""
    if value is None:
        return None
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


@pytest.fixture
def catalogue_services(services):
    load_services()
    return services


def submit(service, when=None, *, lat=INSIDE[0], lon=INSIDE[1], **extra):
    values = {"description": "Beschreibung", "attributes": {}}
    if service.code == "betteln":
        values["attributes"] = {"personen": 2}
    values.update(extra)
    return intake.report_create(
        service=service, channel="web", lat=lat, lon=lon, requested_at=when or timezone.now(), **values
    )


def post(client, fmt="json", **fields):
    data = {"api_key": "test-key", "service_code": "muell", "lat": INSIDE[0], "long": INSIDE[1]}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{BASE}/requests.{fmt}", data)


def get_requests(client, fmt="json", **params):
    return client.get(f"{BASE}/requests.{fmt}", params)


def ids(body) -> list[str]:
    return [text(item["service_request_id"]) for item in body]


# --- discovery -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_lists_endpoint_and_formats(client, db, fmt):
    response = client.get(f"{BASE}/discovery.{fmt}")
    assert response.status_code == 200  # D1
    body = parse(response, fmt)
    for key in ("changeset", "contact", "key_service", "endpoints"):  # D2
        assert body[key]
    changeset = dt.datetime.fromisoformat(body["changeset"])  # D3
    assert W3C.match(body["changeset"]) and changeset <= timezone.now()
    [endpoint] = body["endpoints"]  # D4
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] in {"production", "test"} and W3C.match(endpoint["changeset"])
    assert "text/xml" in endpoint["formats"] and "application/json" in endpoint["formats"]


def test_discovery_changeset_follows_catalogue_loads(client, db):
    before = dt.datetime.fromisoformat(parse(client.get(f"{BASE}/discovery.json"), "json")["changeset"])
    load_services()
    after = dt.datetime.fromisoformat(parse(client.get(f"{BASE}/discovery.json"), "json")["changeset"])
    assert after >= before and timezone.now() - after < dt.timedelta(minutes=1)


# --- services --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list(client, catalogue_services, fmt):
    response = client.get(f"{BASE}/services.{fmt}")
    assert response.status_code == 200
    body = parse(response, fmt)
    assert body  # S1
    for service in body:  # S2
        assert service["service_code"] and service["service_name"]
        assert service["type"] == "realtime"
        assert text(service["metadata"]) in {"true", "false"}
        for key in ("description", "keywords", "group"):
            assert service[key] is None or isinstance(service[key], str)
    codes = [s["service_code"] for s in body]
    assert len(codes) == len(set(codes))  # S3
    # Acute services are not offered: the public must call 110 instead.
    assert "gewalt" not in codes and "gewalt-bedrohung" not in codes and "waffen" not in codes
    assert {"betteln", "muell", "wilder-muell", "hund-ohne-leine"} <= set(codes)
    begging = next(s for s in body if s["service_code"] == "betteln")
    assert text(begging["metadata"]) == "true"


def test_service_list_is_the_same_in_both_formats(client, catalogue_services):
    as_json = parse(client.get(f"{BASE}/services.json"), "json")
    as_xml = parse(client.get(f"{BASE}/services.xml"), "xml")
    assert [{k: text(v) or "" for k, v in s.items()} for s in as_json] == [
        {k: v or "" for k, v in s.items()} for s in as_xml
    ]  # S4


@pytest.mark.parametrize("fmt", FORMATS)
def test_jurisdiction_is_optional_but_a_wrong_one_is_not_found(client, catalogue_services, settings, fmt):
    settings.OPEN311_JURISDICTION = "dortmund.de"
    assert client.get(f"{BASE}/services.{fmt}").status_code == 200
    assert client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": ""}).status_code == 200
    assert client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "Dortmund.de"}).status_code == 200
    response = client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "koeln.de"})
    assert "jurisdiction_id" in errors(response, fmt, 404)[0]  # S5
    response = post(client, fmt, jurisdiction_id="koeln.de")
    errors(response, fmt, 404)
    errors(client.get(f"{BASE}/requests.{fmt}", {"jurisdiction_id": "koeln.de"}), fmt, 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definitions(client, catalogue_services, fmt):
    listed = parse(client.get(f"{BASE}/services.{fmt}"), fmt)
    datatypes = set()
    for service in listed:
        if text(service["metadata"]) != "true":
            continue
        response = client.get(f"{BASE}/services/{service['service_code']}.{fmt}")
        assert response.status_code == 200  # SD1
        body = parse(response, fmt)
        assert body["service_code"] == service["service_code"]
        orders = []
        for attribute in body["attributes"]:  # SD2
            assert text(attribute["variable"]) in {"true", "false"}
            assert text(attribute["required"]) in {"true", "false"}
            assert attribute["code"] and attribute["description"]
            assert attribute["datatype"] in ServiceAttribute.Datatype.values
            assert int(attribute["order"]) >= 1
            orders.append(int(attribute["order"]))
            datatypes.add(attribute["datatype"])
            if attribute["datatype"].endswith("valuelist"):  # SD4
                assert attribute["values"]
                assert all(v["key"] and v["name"] for v in attribute["values"])
            else:
                assert "values" not in attribute
        assert orders == sorted(set(orders))  # SD3: unique, shown in order
    assert datatypes == set(ServiceAttribute.Datatype.values)  # all six datatypes are in use


def test_service_definition_content(client, catalogue_services):
    body = parse(client.get(f"{BASE}/services/hund-ohne-leine.json"), "json")
    size = body["attributes"][0]
    assert size == {
        "variable": True,
        "code": "hundegroesse",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "Wie groß ist der Hund?",
        "values": [
            {"key": "klein", "name": "klein (bis Kniehöhe)"},
            {"key": "mittel", "name": "mittel"},
            {"key": "gross", "name": "groß (ab Hüfthöhe)"},
        ],
    }
    camping = parse(client.get(f"{BASE}/services/lagern-campieren.xml"), "xml")
    info = camping["attributes"][0]
    assert info["variable"] == "false" and "112" in info["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_or_acute_service_definition_is_not_found(client, catalogue_services, fmt):
    errors(client.get(f"{BASE}/services/gibt-es-nicht.{fmt}"), fmt, 404)  # SD5
    errors(client.get(f"{BASE}/services/gewalt-bedrohung.{fmt}"), fmt, 404)


# --- POST requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_creates_a_report_and_returns_its_id(client, services, api_client_key, fmt):
    response = post(
        client,
        fmt,
        service_code="betteln",
        **{"attribute[personen]": "3", "attribute[tageszeit][]": ["morgens", "abends"]},
        description="Zwei Personen halten Passanten fest.",
        email="buerger@example.org",
        first_name="Erika",
        last_name="Muster",
        phone="0231 1234567",
        device_id="geraet-1",
        account_id="konto-1",
    )
    assert response.status_code == 200
    [item] = parse(response, fmt)
    assert "token" not in item  # P13: realtime
    assert re.fullmatch(r"[a-z2-7]{16}", text(item["service_request_id"]))
    assert isinstance(item["service_notice"], str) and item["service_notice"]  # P14
    with unscoped():
        report = Report.objects.get(public_id=text(item["service_request_id"]))
    assert report.channel == Channel.OPEN311 and report.api_client == api_client_key
    assert report.attributes == {"personen": 3, "tageszeit": ["abends", "morgens"]}  # P10
    assert report.reporter_name == "Erika Muster" and report.reporter_email == "buerger@example.org"
    assert report.reporter_phone == "0231 1234567"
    assert report.x_utm and report.target is not None


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_needs_an_active_api_key(client, services, api_client_key, fmt):
    errors(post(client, fmt, api_key=None), fmt, 403)  # P1
    errors(post(client, fmt, api_key="falsch"), fmt, 403)  # P2
    ApiClient.objects.filter(pk=api_client_key.pk).update(active=False)
    errors(post(client, fmt), fmt, 403)
    with unscoped():
        assert Report.objects.count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_api_key_in_the_query_string_is_accepted(client, services, api_client_key, fmt):
    data = {"service_code": "muell", "lat": INSIDE[0], "long": INSIDE[1]}
    response = client.post(f"{BASE}/requests.{fmt}?api_key=test-key", data)
    assert response.status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_validation_errors(client, services, api_client_key, fmt):
    assert "service_code" in errors(post(client, fmt, service_code=None), fmt, 400)[0]  # P3
    errors(post(client, fmt, service_code="gibt-es-nicht"), fmt, 404)  # P4
    assert "Ort" in errors(post(client, fmt, lat=None, long=None), fmt, 400)[0]  # P5
    assert errors(post(client, fmt, long=None), fmt, 400)[0].startswith("lat:")  # P6
    assert errors(post(client, fmt, lat=None), fmt, 400)
    assert "außerhalb" in errors(post(client, fmt, lat=OUTSIDE[0], long=OUTSIDE[1]), fmt, 400)[0]
    assert errors(post(client, fmt, lat="abc"), fmt, 400)
    # P8: a required attribute is missing.
    messages = errors(post(client, fmt, service_code="betteln"), fmt, 400)
    assert messages == ["attribute: Wie viele Personen ungefähr?: Bitte beantworten."]
    # P9: a value that is not among the keys.
    errors(post(client, fmt, **{"attribute[menge]": "riesig"}), fmt, 400)
    errors(
        post(
            client,
            fmt,
            service_code="betteln",
            **{"attribute[personen]": "2", "attribute[tageszeit][]": "immer"},
        ),
        fmt,
        400,
    )
    # P11: more than 4,000 characters are refused (not truncated).
    assert errors(post(client, fmt, description="x" * 4001), fmt, 400)[0].startswith("description:")
    assert post(client, fmt, description="x" * 4000).status_code == 200
    errors(post(client, fmt, email="keine-adresse"), fmt, 400)
    errors(post(client, fmt, media_url="javascript:alert(1)"), fmt, 400)
    # Several problems at once: several errors in one body.
    assert len(errors(post(client, fmt, lat=None, long=None, email="x"), fmt, 400)) == 2
    with unscoped():
        assert Report.objects.count() == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_acute_service_answers_with_the_emergency_number(client, services, api_client_key, fmt):
    messages = errors(post(client, fmt, service_code="gewalt"), fmt, 400)
    assert "110" in messages[0]


@pytest.mark.parametrize(
    "location",
    [
        {"lat": INSIDE[0], "long": INSIDE[1]},
        {"lat": None, "long": None, "address_string": "Westenhellweg 10, 44137 Dortmund"},
        {"lat": None, "long": None, "address_id": "ALKIS-4711"},
    ],
)
def test_each_location_alternative_alone_is_enough(client, services, api_client_key, location):
    response = post(client, "json", **location)  # P7
    assert response.status_code == 200, response.content
    with unscoped():
        report = Report.objects.get()
    if "address_id" in location:
        assert report.address_id == "ALKIS-4711"
    if "address_string" in location:
        assert report.address_text == "Westenhellweg 10, 44137 Dortmund"


def test_html_is_stripped_and_media_url_kept_for_staff_only(client, services, api_client_key):
    response = post(
        client,
        description="<script>alert(1)</script><b>Sperrmüll</b> am Baum",
        media_url="https://app.example.org/fotos/1.jpg",
    )  # P12
    [item] = parse(response, "json")
    with unscoped():
        report = Report.objects.get(public_id=text(item["service_request_id"]))
    assert report.description == "Sperrmüll am Baum"
    assert report.attributes["media_url"] == "https://app.example.org/fotos/1.jpg"
    [public] = parse(client.get(f"{BASE}/requests/{report.public_id}.json", {"extensions": "true"}), "json")
    assert public["media_url"] is None
    assert "app.example.org" not in json.dumps(public)


@pytest.mark.parametrize("fmt", FORMATS)
def test_utf8_round_trip(client, services, api_client_key, fmt):
    body = urllib.parse.urlencode(
        {
            "api_key": "test-key",
            "service_code": "muell",
            "lat": INSIDE[0],
            "long": INSIDE[1],
            "description": "ÄÖÜß€ – Müll „hier“",
        },
        encoding="utf-8",
    )
    response = client.post(
        f"{BASE}/requests.{fmt}", body, content_type="application/x-www-form-urlencoded; charset=utf-8"
    )  # P15
    assert response.status_code == 200
    request_id = text(parse(response, fmt)[0]["service_request_id"])
    [item] = parse(client.get(f"{BASE}/requests/{request_id}.{fmt}"), fmt)  # E3
    assert item["description"] == "ÄÖÜß€ – Müll „hier“"
    assert "ÄÖÜß€".encode() in client.get(f"{BASE}/requests/{request_id}.{fmt}").content


# --- tokens ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_tokens(client, services, fmt):
    report = submit(services["waste"])
    response = client.get(f"{BASE}/tokens/{report.public_token}.{fmt}")
    assert response.status_code == 200  # T1
    [item] = parse(response, fmt)
    assert text(item["service_request_id"]) == report.public_id and item["token"] == report.public_token
    errors(client.get(f"{BASE}/tokens/unbekannt.{fmt}"), fmt, 404)  # T2


# --- GET requests -----------------------------------------------------------------------------------------


@pytest.fixture
def history(services, kod_lead, police_lead):
    """Reports at known times (at noon: routed to the KOD), open and closed, two services,
    one outside the default window."""
    now = timezone.now().replace(microsecond=0)
    base = (now.astimezone(BERLIN) - dt.timedelta(days=1)).replace(hour=12, minute=0, second=0)
    begging = submit(services["begging"], base - dt.timedelta(days=1))
    waste = submit(services["waste"], base - dt.timedelta(days=4))  # forwarded → closed
    resolved = submit(services["begging"], base - dt.timedelta(days=10, minutes=-7, seconds=-3))
    older = submit(services["begging"], base - dt.timedelta(days=20))
    old = submit(services["begging"], base - dt.timedelta(days=120))
    with authority_scope(kod_lead.authority):
        intake.report_transition(
            user=kod_lead,
            report=resolved,
            to_status=ReportStatus.RESOLVED,
            public_note="Personen angesprochen.",
            internal_note="Interne Notiz: Person X bekannt.",
        )
    return {"begging": begging, "waste": waste, "resolved": resolved, "older": older, "old": old, "now": now}


def _lead_for(report):
    from lagebild.core.models import User

    return User.objects.filter(authority=report.authority, role="shift_lead").first()


@pytest.mark.parametrize("fmt", FORMATS)
def test_default_window_and_order(client, history, fmt):
    body = parse(get_requests(client, fmt), fmt)
    h = history
    expected = [h["begging"], h["waste"], h["resolved"], h["older"]]
    assert ids(body) == [r.public_id for r in expected]  # R1 (90 days), R2 (newest first)
    for item in body:
        requested = dt.datetime.fromisoformat(item["requested_datetime"])
        assert h["now"] - requested <= dt.timedelta(days=90)


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_filter(client, history, fmt):
    h = history
    open_ids = ids(parse(get_requests(client, fmt, status="open"), fmt))
    closed_ids = ids(parse(get_requests(client, fmt, status="closed"), fmt))
    both = ids(parse(get_requests(client, fmt, status="open,closed"), fmt))
    assert open_ids == [h["begging"].public_id, h["older"].public_id]  # R3
    assert closed_ids == [h["waste"].public_id, h["resolved"].public_id]
    assert sorted(both) == sorted(open_ids + closed_ids)
    assert ids(parse(get_requests(client, fmt, status="OPEN, closed"), fmt)) == both
    assert "status" in errors(get_requests(client, fmt, status="bogus"), fmt, 400)[0]  # R9
    errors(get_requests(client, fmt, status="open,bogus"), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_code_filter(client, history, fmt):
    h = history
    assert ids(parse(get_requests(client, fmt, service_code="muell"), fmt)) == [h["waste"].public_id]  # R4
    both = ids(parse(get_requests(client, fmt, service_code="muell,betteln"), fmt))
    assert len(both) == 4
    assert ids(parse(get_requests(client, fmt, service_code="gibt-es-nicht"), fmt)) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_date_bounds_are_inclusive(client, history, fmt):
    at = history["resolved"].requested_at.replace(microsecond=0)
    one = dt.timedelta(seconds=1)

    def query(**params):
        values = {k: serialize.w3c(v) for k, v in params.items()}
        return ids(parse(get_requests(client, fmt, **values), fmt))

    pk = history["resolved"].public_id
    assert pk in query(start_date=at, end_date=at)  # R5: both bounds inclusive
    assert pk in query(start_date=at - dt.timedelta(days=1), end_date=at)
    assert pk in query(start_date=at, end_date=at + dt.timedelta(days=1))
    assert pk not in query(start_date=at + one, end_date=at + dt.timedelta(days=1))
    assert pk not in query(start_date=at - dt.timedelta(days=1), end_date=at - one)
    # A start alone means 90 days from it; an end alone the 90 days before it.
    assert history["old"].public_id in query(start_date=history["old"].requested_at - one)
    assert history["old"].public_id not in query(end_date=at)
    # Z and a numeric offset mean the same instant; "+" sent unencoded arrives as a space.
    utc = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert pk in ids(parse(get_requests(client, fmt, start_date=utc, end_date=utc), fmt))
    raw = serialize.w3c(at).replace("+", " ")
    assert pk in ids(parse(client.get(f"{BASE}/requests.{fmt}?start_date={raw}&end_date={raw}"), fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_date_errors(client, history, fmt):
    now = history["now"]
    assert (
        "Zeitzone" in errors(get_requests(client, fmt, start_date="2026-11-01T00:00:00"), fmt, 400)[0]
    )  # R8
    errors(get_requests(client, fmt, end_date="2026-11-01"), fmt, 400)
    errors(get_requests(client, fmt, start_date="gestern"), fmt, 400)
    # R6: more than 90 days is refused (not clamped); exactly 90 days is fine.
    start = serialize.w3c(now - dt.timedelta(days=91))
    assert (
        "90 Tage"
        in errors(get_requests(client, fmt, start_date=start, end_date=serialize.w3c(now)), fmt, 400)[0]
    )
    exactly = get_requests(
        client, fmt, start_date=serialize.w3c(now - dt.timedelta(days=90)), end_date=serialize.w3c(now)
    )
    assert exactly.status_code == 200
    reversed_range = get_requests(
        client, fmt, start_date=serialize.w3c(now), end_date=serialize.w3c(now - dt.timedelta(days=1))
    )
    errors(reversed_range, fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_id_overrides_all_other_arguments(client, history, fmt):
    h = history
    wanted = f"{h['old'].public_id}, {h['resolved'].public_id},abc,999999,{h['old'].pk}"
    body = parse(
        get_requests(client, fmt, service_request_id=wanted, status="open", service_code="muell"), fmt
    )
    assert ids(body) == [h["resolved"].public_id, h["old"].public_id]  # R7, also outside the 90 days
    errors(get_requests(client, fmt, service_request_id=",".join(["1"] * 1001)), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_parameters_are_absent(client, history, fmt):
    plain = get_requests(client, fmt).content
    empty = get_requests(
        client, fmt, status="", service_code="", start_date="", end_date="", service_request_id="", page=""
    ).content
    assert plain == empty  # R10


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_fields_follow_the_schema(client, history, fmt):
    body = parse(get_requests(client, fmt), fmt)
    for item in body:  # R11
        assert re.fullmatch(r"[a-z2-7]{16}", text(item["service_request_id"]))
        assert item["status"] in {"open", "closed"}
        assert item["service_code"] and item["service_name"]
        for key in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert W3C.match(item[key]), item[key]
        requested = dt.datetime.fromisoformat(item["requested_datetime"])
        updated = dt.datetime.fromisoformat(item["updated_datetime"])
        assert updated >= requested
        if item["lat"] is not None:
            assert -90 <= float(item["lat"]) <= 90 and -180 <= float(item["long"]) <= 180
        for key in ("address", "address_id", "zipcode", "media_url", "agency_responsible", "status_notes"):
            assert key in item
        assert len(item["description"] or "") <= 4000
    if fmt == "json":
        assert all(isinstance(item["service_request_id"], str) for item in body)
        assert all(isinstance(item["lat"], float) for item in body)
    resolved = next(i for i in body if text(i["service_request_id"]) == history["resolved"].public_id)
    history["resolved"].refresh_from_db()
    assert resolved["updated_datetime"] == serialize.w3c(history["resolved"].closed_at)
    assert resolved["status_notes"] == "Personen angesprochen."
    assert resolved["agency_responsible"] == "KOD"
    waste = next(i for i in body if text(i["service_request_id"]) == history["waste"].public_id)
    assert waste["status"] == "closed" and waste["agency_responsible"] == "EDG Entsorgung"


def test_first_thousand_and_paging(client, services):
    """R1 volume limit, and the page/page_size extension."""
    now = timezone.now().replace(microsecond=0)
    with unscoped():
        authority = intake.default_authority()
        Report.objects.bulk_create(
            Report(
                authority=authority,
                service=services["waste"],
                requested_at=now - dt.timedelta(minutes=i),
                updated_at=now - dt.timedelta(minutes=i),
                lat=INSIDE[0],
                lon=INSIDE[1],
            )
            for i in range(1005)
        )
        newest = list(Report.objects.order_by("-requested_at", "-id").values_list("public_id", flat=True))
    body = parse(get_requests(client, "json"), "json")
    assert ids(body) == [str(pk) for pk in newest[:1000]]
    second = parse(get_requests(client, "json", page=2), "json")
    assert ids(second) == [str(pk) for pk in newest[1000:]]
    small = parse(get_requests(client, "xml", page=3, page_size=10), "xml")
    assert ids(small) == [str(pk) for pk in newest[20:30]]
    assert len(parse(get_requests(client, "json", page_size=5000), "json")) == 1000  # clamped
    for bad in ("0", "-1", "abc", "1.5"):
        errors(get_requests(client, "json", page=bad), "json", 400)
        errors(get_requests(client, "xml", page_size=bad), "xml", 400)


# --- GET request -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_single_request(client, history, fmt):
    pk = history["old"].public_id  # outside the default window: single requests have no window
    response = client.get(f"{BASE}/requests/{pk}.{fmt}")
    assert response.status_code == 200
    single = parse(response, fmt)
    assert isinstance(single, list) and len(single) == 1  # G1
    listed = parse(get_requests(client, fmt, service_request_id=str(pk)), fmt)
    assert single == listed  # G3
    errors(client.get(f"{BASE}/requests/99999999.{fmt}"), fmt, 404)  # G2
    errors(client.get(f"{BASE}/requests/abc.{fmt}"), fmt, 404)


# --- errors, methods, formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_methods(client, services, fmt):
    response = client.delete(f"{BASE}/requests.{fmt}")
    errors(response, fmt, 405)
    assert response["Allow"] == "GET, HEAD, POST"
    errors(client.post(f"{BASE}/services.{fmt}", {}), fmt, 405)
    errors(client.put(f"{BASE}/discovery.{fmt}"), fmt, 405)
    assert client.head(f"{BASE}/services.{fmt}").status_code == 200


def test_unsupported_formats_and_unknown_paths(client, services):
    for path in ("services.yaml", "requests.html", "discovery.csv", "requests/1.txt"):
        errors(client.get(f"{BASE}/{path}"), "xml", 404)  # E4
    errors(client.get(f"{BASE}/"), "xml", 404)
    errors(client.get(f"{BASE}/unbekannt.json"), "json", 404)
    errors(client.get(f"{BASE}/services"), "xml", 404)
    assert client.get(f"{BASE}/services.JSON").status_code == 200


# --- privacy ---------------------------------------------------------------------------------------------


def _all_public_output(client, report_ids):
    chunks = []
    for fmt in FORMATS:
        for params in ({}, {"extensions": "true"}):
            chunks.append(get_requests(client, fmt, **params).content.decode())
            for pk in report_ids:
                chunks.append(client.get(f"{BASE}/requests/{pk}.{fmt}", params).content.decode())
    return "\n".join(chunks)


def test_no_personal_data_in_public_output(client, catalogue_services, api_client_key, kod_lead, polizei):
    waste = post(
        client,
        description="Müll vor der Tür. Rückruf: 0231 9876543 oder erika@example.org, Täter DO-XY 987",
        email="erika@example.org",
        first_name="Erika",
        last_name="Geheim",
        phone="0171 5555555",
    )
    plate = post(
        client,
        service_code="wilder-muell",
        **{"attribute[menge]": "gross", "attribute[fahrzeug]": "DO-QQ 42 weißer Transporter"},
    )
    begging = post(
        client,
        service_code="betteln",
        description="Herr Mustermann aus Haus 5 bettelt",
        **{"attribute[personen]": "1"},
        email="nachbar@example.org",
    )
    pks = [text(parse(r, "json")[0]["service_request_id"]) for r in (waste, plate, begging)]
    with unscoped():
        report = Report.objects.get(public_id=pks[2])
    with authority_scope(report.authority):
        lead = kod_lead if report.authority == kod_lead.authority else _lead_for(report)
        intake.report_transition(
            user=lead,
            report=report,
            to_status=ReportStatus.TRIAGE,
            internal_note="Vertraulich: Streife informiert",
        )
    output = _all_public_output(client, pks)
    for secret in (
        "Erika",
        "Geheim",
        "erika@example.org",
        "nachbar@example.org",
        "0171 5555555",
        "9876543",
        "DO-XY 987",
        "DO-QQ",
        "Mustermann",
        "Vertraulich",
        "test-key",
        "Test-App",
    ):
        assert secret not in output, secret
    [item] = parse(client.get(f"{BASE}/requests/{pks[0]}.json"), "json")
    assert item["description"] == "Müll vor der Tür. Rückruf: [entfernt] oder [entfernt], Täter [entfernt]"
    [person] = parse(client.get(f"{BASE}/requests/{pks[2]}.json"), "json")
    assert person["description"] == serialize.WITHHELD_PEOPLE
    extended = parse(client.get(f"{BASE}/requests/{pks[1]}.json", {"extensions": "true"}), "json")[0]
    assert [a["code"] for a in extended["extended_attributes"]["answers"]] == ["menge"]


def test_location_precision_per_service(client, catalogue_services, kod):
    exact = submit(catalogue_services["waste"], address_text="Westenhellweg 10, 44137 Dortmund")
    coarse = submit(catalogue_services["begging"], address_text="Westenhellweg 10a, 44137 Dortmund")
    with unscoped():
        hidden_service = ServiceType.objects.get(code="gewalt-bedrohung")
    # A police matter, unpublished by default (issue 13); published here to show "hidden".
    hidden_service.public_in_open311 = True
    hidden_service.save(update_fields=["public_in_open311"])
    hidden = intake.report_create(
        service=hidden_service,
        channel="phone",
        entered_by=kod,
        lat=INSIDE[0],
        lon=INSIDE[1],
        address_text="Kampstraße 1",
        address_id="A-1",
    )
    body = {text(i["service_request_id"]): i for i in parse(get_requests(client, "json"), "json")}
    e, c, h = body[exact.public_id], body[coarse.public_id], body[hidden.public_id]
    assert (e["lat"], e["long"], e["address"]) == (exact.lat, exact.lon, "Westenhellweg 10, 44137 Dortmund")
    # Coarse: the centre of the 100 m UTM cell, street name only, no address id.
    assert (c["lat"], c["long"]) != (coarse.lat, coarse.lon)
    x, y = to_utm32(c["lat"], c["long"])
    assert abs(x % 100 - 50) < 0.5 and abs(y % 100 - 50) < 0.5
    assert abs(x - coarse.x_utm) <= 51 and abs(y - coarse.y_utm) <= 51
    assert c["address"] == "Westenhellweg" and c["address_id"] is None
    assert (h["lat"], h["long"], h["address"], h["address_id"]) == (None, None, None, None)
    xml_body = parse(get_requests(client, "xml"), "xml")
    hidden_xml = next(i for i in xml_body if i["service_request_id"] == hidden.public_id)
    assert hidden_xml["lat"] is None and hidden_xml["address"] is None


def test_rejected_descriptions_are_not_published(client, services, kod_lead):
    report = submit(services["waste"], description="Beleidigender Text")
    with unscoped():
        Report.objects.filter(pk=report.pk).update(status=ReportStatus.REJECTED)
    [item] = parse(client.get(f"{BASE}/requests/{report.public_id}.json"), "json")
    assert item["description"] == serialize.WITHHELD_REJECTED


def test_scrub_and_street_only():
    assert serialize.scrub("Ruf an: +49 231 12345-67, Mail a.b@c.de") == "Ruf an: [entfernt], Mail [entfernt]"
    assert (
        serialize.scrub("Am 22.11.2026 um 14:30 waren 3 Personen da")
        == "Am 22.11.2026 um 14:30 waren 3 Personen da"
    )
    assert serialize.scrub("Kennzeichen DO AB 1234 an der U 47") == "Kennzeichen [entfernt] an der U 47"
    assert serialize.street_only("Brüderweg 6–8, 44135 Dortmund") == "Brüderweg"
    assert serialize.street_only("44137 Dortmund") == "Dortmund"
    assert serialize.street_only("Platz von Leeds") == "Platz von Leeds"


def test_cross_authority_public_feed_shows_both_but_staff_scopes_stay_separate(
    client, services, kod, polizei
):
    noon = timezone.now().astimezone(BERLIN).replace(hour=12, minute=0, second=0, microsecond=0)
    city_report = submit(services["begging"], noon - dt.timedelta(days=1))
    police_report = submit(services["begging"], noon.replace(hour=23) - dt.timedelta(days=1))
    assert city_report.authority == kod.authority and police_report.authority == polizei.authority
    # The public feed lists both authorities' reports with public fields only ...
    body = parse(get_requests(client, "json"), "json")
    assert set(ids(body)) == {city_report.public_id, police_report.public_id}
    agencies = {text(i["service_request_id"]): i["agency_responsible"] for i in body}
    assert agencies[police_report.public_id] == "Polizei"
    # ... while staff of one authority still cannot see the other's report.
    with authority_scope(kod.authority):
        assert list(Report.objects.values_list("pk", flat=True)) == [city_report.pk]
    with authority_scope(polizei.authority):
        assert list(Report.objects.values_list("pk", flat=True)) == [police_report.pk]


# --- extensions ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_extensions_add_detailed_status_history_and_answers(client, history, fmt):
    pk = history["resolved"].public_id
    [plain] = parse(client.get(f"{BASE}/requests/{pk}.{fmt}"), fmt)
    assert "notes" not in plain and "detailed_status" not in plain
    [item] = parse(client.get(f"{BASE}/requests/{pk}.{fmt}", {"extensions": "true"}), fmt)
    assert item["detailed_status"] == "resolved" and item["detailed_status_label"] == "Erledigt"
    notes = item["notes"]
    assert [n["detailed_status"] for n in notes] == ["new", "resolved"]
    assert [n["status"] for n in notes] == ["open", "closed"]
    assert notes[-1]["description"] == "Personen angesprochen."
    assert all(W3C.match(n["datetime"]) for n in notes)
    extended = item["extended_attributes"]
    assert extended["channel"] == "web" and text(extended["supporters"]) == "0"
    assert [text(a.get("value")) for a in extended["answers"]] == ["2"]
    assert (
        "Interne Notiz"
        not in client.get(f"{BASE}/requests/{pk}.{fmt}", {"extensions": "true"}).content.decode()
    )
    listed = parse(get_requests(client, fmt, extensions="true"), fmt)
    assert all("notes" in i and "detailed_status" in i for i in listed)


# --- the demo key -------------------------------------------------------------------------------------------


def test_demo_creates_the_demo_key_and_the_catalogue(db, client):
    from lagebild.demo.service import DemoConfig, setup_demo

    setup_demo(DemoConfig(end_date=timezone.localdate(), months=1, scale=0.02, seed=3))
    assert ApiClient.objects.filter(api_key="demo-key", active=True, name="Demo-Client").exists()
    assert ServiceType.objects.filter(active=True).count() >= 12
    response = client.post(
        f"{BASE}/requests.json",
        {"api_key": "demo-key", "service_code": "graffiti", "address_string": "Westenhellweg 10"},
    )
    assert response.status_code == 200, response.content


# --- the service catalogue ------------------------------------------------------------------------------


def test_service_catalogue_loads_idempotently(world):
    result = load_services()
    assert not result.errors and result.services_created >= 12
    services = {s.code: s for s in ServiceType.objects.prefetch_related("attributes")}
    assert services["betteln"].category == world["categories"]["begging"]
    for service in services.values():
        if service.acute:
            assert service.acute_notice == "Akute Gefahr? Rufen Sie sofort den Notruf 110 an."
            assert service.publish_precision == ServiceType.Precision.HIDDEN
        if service.about_people:
            assert service.publish_precision != ServiceType.Precision.EXACT
    assert {"gewalt-bedrohung", "waffen"} <= {code for code, s in services.items() if s.acute}
    assert all(
        services[c].about_people for c in ("betteln", "drogenkonsum", "lagern-campieren", "belaestigung")
    )
    datatypes = {a.datatype for s in services.values() for a in s.attributes.all()}
    assert datatypes == set(ServiceAttribute.Datatype.values)
    counts = (ServiceType.objects.count(), ServiceAttribute.objects.count())
    again = load_services()
    assert again.changed == 0 and not again.errors
    assert (ServiceType.objects.count(), ServiceAttribute.objects.count()) == counts


def test_service_catalogue_keeps_admin_changes_unless_update(db):
    load_services()
    ServiceType.objects.filter(code="graffiti").update(name="Schmiererei")
    ServiceAttribute.objects.filter(service__code="graffiti", code="inhalt").delete()
    load_services()
    graffiti = ServiceType.objects.get(code="graffiti")
    assert graffiti.name == "Schmiererei" and graffiti.attributes.count() == 1
    result = load_services(update=True)
    graffiti.refresh_from_db()
    assert result.services_updated == 1 and result.attributes_created == 1
    assert graffiti.name == "Graffiti oder Schmierereien" and graffiti.attributes.count() == 2


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"code": "x", "name": "X", "publish_precision": "public"}, "publish_precision"),
        ({"code": "x", "name": "X", "about_people": True, "publish_precision": "exact"}, "Personen"),
        ({"code": "x", "name": "X", "acute": True, "publish_precision": "coarse"}, "Akute"),
        (
            {
                "code": "x",
                "name": "X",
                "attributes": [{"code": "a", "description": "?", "datatype": "farbe"}],
            },
            "Datentyp",
        ),
        (
            {
                "code": "x",
                "name": "X",
                "attributes": [{"code": "a", "description": "?", "datatype": "singlevaluelist", "order": 1}],
            },
            "Werte",
        ),
        (
            {
                "code": "x",
                "name": "X",
                "attributes": [
                    {"code": "a", "description": "?", "datatype": "number", "order": 1},
                    {"code": "b", "description": "?", "datatype": "number", "order": 1},
                ],
            },
            "eindeutig",
        ),
    ],
)
def test_service_catalogue_rejects_bad_entries_and_loads_nothing(db, entry, message):
    good = {"code": "ok", "name": "OK"}
    result = load_services({"services": [good, entry]})
    assert result.errors and message in result.errors[0]
    assert not ServiceType.objects.exists()


def test_load_services_command(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("load-services", stdout=out)
    assert "angelegt" in out.getvalue()
    out = StringIO()
    call_command("load-services", stdout=out)
    assert "Meldekategorien: 0 angelegt, 0 aktualisiert" in out.getvalue()


def test_control_characters_do_not_break_the_xml(client, services):
    report = submit(services["waste"], description="Zeile\x0bmit\x1fSteuerzeichen")
    response = client.get(f"{BASE}/requests/{report.public_id}.xml")
    [item] = parse(response, "xml")
    assert item["description"] == "ZeilemitSteuerzeichen"


def test_oversized_form_answers_in_the_error_format(client, services, api_client_key):
    body = "&".join(f"f{i}=x" for i in range(1100))  # more than DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = client.post(f"{BASE}/requests.json", body, content_type="application/x-www-form-urlencoded")
    errors(response, "json", 400)
