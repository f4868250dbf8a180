"""Data minimisation (issue 13): each role sees the level of detail its purpose needs.

* Task force, leadership, executive board, data-protection officer and platform administration:
  aggregates and a map of counts per 100 m cell; no incident list, detail or export (403, the
  same for an id that exists, one of the other authority and one that does not exist).
* Analysts: single records with exact place and time but without free text or person
  references; exports without free text, logged; the hotspot pages keep working.
* Operational roles: everything of their authority; bulk exports for the shift lead and the
  administration only, each logged with format, count and filters.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import authority_scope
from lagebild.field import services
from lagebild.field.measures import MeasureInput

from .api_support import token_client
from .conftest import INSIDE
from .security_matrix import normalise

CITY_TEXT = "Freitext-Stadt-M4RK3R"
CITY_PLACE = "Ortsangabe-Stadt-P1ACE"
POLICE_TEXT = "Freitext-Polizei-M4RK3R"
AGGREGATE_ONLY = [
    Role.TASKFORCE,
    Role.LEADERSHIP,
    Role.EXECUTIVE_BOARD,
    Role.DATA_PROTECTION_OFFICER,
    Role.PLATFORM_ADMIN,
]


@pytest.fixture
def records(world, kod, polizei, now):
    cats = world["categories"]
    with authority_scope(kod.authority):
        person = services.person_create(user=kod, age_group="21+")
        city = services.incident_create(
            user=kod,
            category=cats["begging"],
            occurred_at=now.replace(microsecond=0) - dt.timedelta(hours=2),
            lat=INSIDE[0],
            lon=INSIDE[1],
            description=CITY_TEXT,
            address_text=CITY_PLACE,
            measures=[
                MeasureInput(type="dispersal_order", person_pseudonym=person.pseudonym, note=CITY_TEXT)
            ],
        )
    with authority_scope(polizei.authority):
        police = services.incident_create(
            user=polizei,
            category=cats["dealing"],
            occurred_at=now.replace(microsecond=0) - dt.timedelta(hours=1),
            lat=51.50,
            lon=7.50,
            description=POLICE_TEXT,
            measures=[MeasureInput(type="custody")],
        )
    return {"city": city, "police": police, "person": person}


def _get(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, params)
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return response.status_code, body.decode("utf-8", "replace")


@pytest.mark.parametrize("role", AGGREGATE_ONLY)
@pytest.mark.parametrize("side", ["city", "police"])
def test_aggregate_only_roles_get_no_single_incidents(client, records, make_user, city, police, role, side):
    user = make_user(f"nur-zahlen-{role}-{side}", city if side == "city" else police, role)
    own = records[side]
    other = records["police" if side == "city" else "city"]
    missing = max(own.pk, other.pk) + 1000
    detail = [
        _get(client, user, reverse("field:incident-detail", args=[pk])) for pk in (own.pk, other.pk, missing)
    ]
    assert {status for status, _ in detail} == {403}
    shapes = {
        normalise(body, str(pk)) for (_, body), pk in zip(detail, (own.pk, other.pk, missing), strict=True)
    }
    assert len(shapes) == 1, "exists, not yours and missing answer alike"
    for name in (
        "field:incident-list",
        "field:incident-export-csv",
        "field:incident-export-table",
        "field:incident-export-geojson",
    ):
        status, body = _get(client, user, reverse(name))
        assert status == 403, name
        assert CITY_TEXT not in body and POLICE_TEXT not in body
    api = token_client(user)
    for url in (
        "/api/v1/incidents/",
        f"/api/v1/incidents/{own.pk}/",
        f"/api/v1/incidents/{missing}/",
        f"/api/v1/incidents/{own.pk}/measures/",
        "/api/v1/measures/",
        f"/api/v1/measures/{missing}/",
    ):
        response = api.get(url)
        assert response.status_code == 403, url
        assert "zusammengefasste Zahlen" in response.json()["detail"]
    assert not AuditEvent.objects.filter(action="field.incidents.exported", user=user).exists()


@pytest.mark.parametrize("role", AGGREGATE_ONLY)
def test_aggregate_only_roles_see_citizen_report_statistics_not_the_reports(
    client, records, make_user, city, kod, role
):
    from lagebild.citizen import services as intake
    from lagebild.citizen.models import ServiceType

    service = ServiceType.objects.create(code="laerm-dm", name="Lärm")
    report = intake.report_create(
        service=service,
        channel="phone",
        entered_by=kod,
        lat=INSIDE[0],
        lon=INSIDE[1],
        description=CITY_TEXT,
    )
    user = make_user(f"nur-zahlen-hinweise-{role}", city, role)
    for url in (
        reverse("office:queue"),
        reverse("office:report-points"),
        reverse("office:patrol-reports"),
        reverse("office:report-detail", args=[report.pk]),
        reverse("office:report-detail", args=[report.pk + 1000]),
    ):
        status, body = _get(client, user, url)
        assert status == 403, url
        assert CITY_TEXT not in body
    status, body = _get(client, user, reverse("office:statistics"))
    assert status == 200 and CITY_TEXT not in body
    assert reverse("office:statistics") in body  # the navigation leads there


@pytest.mark.parametrize("role", [Role.LEADERSHIP, Role.TASKFORCE, Role.EXECUTIVE_BOARD])
def test_aggregate_only_roles_see_the_overview_and_a_coarse_map(client, records, make_user, city, role):
    user = make_user(f"leitung-{role}", city, role)
    status, page = _get(client, user, reverse("field:overview"))
    assert status == 200 and CITY_TEXT not in page
    status, body = _get(client, user, reverse("field:overview-points"))
    assert status == 200
    data = json.loads(body)
    [feature] = data["features"]  # the city's incident; never the police's
    assert data["coarsened_m"] == 100
    assert "id" not in feature and "url" not in feature["properties"] and "time" not in feature["properties"]
    assert feature["properties"]["count"] == 1
    lon, lat = feature["geometry"]["coordinates"]
    assert (lat, lon) != (records["city"].lat, records["city"].lon)
    assert abs(lat - records["city"].lat) < 0.001 and abs(lon - records["city"].lon) < 0.0015


def test_operational_roles_still_see_exact_points(client, records, kod):
    status, body = _get(client, kod, reverse("field:overview-points"))
    assert status == 200
    [feature] = json.loads(body)["features"]
    assert feature["id"] == records["city"].pk
    assert feature["geometry"]["coordinates"] == [records["city"].lon, records["city"].lat]


def test_analyst_sees_records_without_free_text_or_persons(client, records, analyst):
    incident = records["city"]
    status, page = _get(client, analyst, reverse("field:incident-detail", args=[incident.pk]))
    assert status == 200
    assert CITY_TEXT not in page and CITY_PLACE not in page and records["person"].pseudonym not in page
    assert f"{incident.lat:.5f}".replace(".", ",") in page or f"{incident.lat:.5f}" in page
    assert "Datenminimierung" in page
    status, listing = _get(client, analyst, reverse("field:incident-list"))
    assert status == 200 and CITY_TEXT not in listing and CITY_PLACE not in listing
    # A text search would count hits in text the analyst may not read: it is ignored.
    status, searched = _get(client, analyst, reverse("field:incident-list"), q="gibt-es-nicht")
    assert status == 200 and f"/feststellungen/{incident.pk}/" in searched
    # The police's incident stays invisible, like one that does not exist.
    other = _get(client, analyst, reverse("field:incident-detail", args=[records["police"].pk]))
    missing = _get(client, analyst, reverse("field:incident-detail", args=[records["police"].pk + 1000]))
    assert other[0] == missing[0] == 404

    api = token_client(analyst)
    detail = api.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert detail["description"] == "" and detail["address_text"] == ""
    assert detail["lat"] == incident.lat and detail["measures"][0]["person"] is None
    assert detail["measures"][0]["note"] == ""
    listed = api.get("/api/v1/incidents/").content.decode()
    assert CITY_TEXT not in listed and CITY_PLACE not in listed and POLICE_TEXT not in listed
    assert CITY_TEXT not in api.get("/api/v1/measures/").content.decode()


@pytest.mark.parametrize(
    "name", ["field:incident-export-csv", "field:incident-export-table", "field:incident-export-geojson"]
)
def test_analyst_exports_place_and_time_without_free_text_and_it_is_logged(client, records, analyst, name):
    status, body = _get(client, analyst, reverse(name), q="gibt-es-nicht")
    assert status == 200
    assert CITY_TEXT not in body and CITY_PLACE not in body and POLICE_TEXT not in body
    assert "51.5147" in body or "51,5147" in body
    event = AuditEvent.objects.filter(action="field.incidents.exported", user=analyst).latest("id")
    assert event.detail["count"] == 1  # the ignored text search did not narrow it


def test_exports_only_for_roles_whose_purpose_needs_them(client, records, kod, kod_lead, polizei):
    for officer in (kod, polizei):
        status, _ = _get(client, officer, reverse("field:incident-export-csv"))
        assert status == 403
    status, body = _get(client, kod_lead, reverse("field:incident-export-csv"))
    assert status == 200 and CITY_TEXT in body and POLICE_TEXT not in body
    event = AuditEvent.objects.filter(action="field.incidents.exported", user=kod_lead).latest("id")
    assert event.detail["format"] == "csv" and event.detail["count"] == 1


def test_analyst_keeps_the_hotspot_pages(client, records, analyst):
    for name in ("analytics:hotspots", "analytics:hotspots-map"):
        status, body = _get(client, analyst, reverse(name))
        assert status == 200, name
        assert CITY_TEXT not in body and POLICE_TEXT not in body
