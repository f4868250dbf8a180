"""What schemathesis found in API v1, one plain test each (the generated run is in
tests/test_api_schemathesis.py): the schema documents what the API answers, and the API
refuses what the schema does not allow, with a 400 and German messages at the parameter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from lagebild.core.scoping import authority_scope
from lagebild.field import services
from lagebild.field.measures import MeasureInput

from .api_support import record, token_client


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _parameter(openapi: dict, path: str, name: str) -> dict:
    (found,) = [p for p in openapi["paths"][path]["get"]["parameters"] if p["name"] == name]
    return found["schema"]


def test_empty_seizure_kind_and_missing_patrol_are_documented(world, kod, now, openapi):
    incident = record(kod, world["categories"]["begging"], now)
    body = token_client(kod).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["patrol"] is None and body["measures"][0]["seizure_kind"] == ""
    schemas = openapi["components"]["schemas"]
    assert schemas["Incident"]["properties"]["patrol"]["nullable"] is True
    kinds = schemas["Measure"]["properties"]["seizure_kind"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in kinds["oneOf"]
    assert schemas["Shift"]["properties"]["lead"]["nullable"] is True
    assert schemas["Patrol"]["properties"]["area"]["nullable"] is True


def test_ids_and_pages_have_their_lower_bound_in_the_schema(openapi):
    for name in ("area", "patrol", "page", "page_size"):
        assert _parameter(openapi, "/api/v1/incidents/", name)["minimum"] == 1, name
    alpha = _parameter(openapi, "/api/v1/analytics/displacement/", "alpha")
    assert (alpha["minimum"], alpha["maximum"], alpha["exclusiveMinimum"]) == (0, 1, True)


def test_every_list_documents_bad_pages_and_every_detail_its_404(openapi):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            names = {p["name"] for p in operation.get("parameters", [])}
            if "page" in names:
                assert {"400", "404"} <= codes, (method, path)


@pytest.mark.parametrize("page", ["0", "-1", "x", "1.5", "", "last"])
def test_a_page_that_is_no_number_is_a_400(world, kod, page):
    response = token_client(kod).get("/api/v1/shifts/", {"page": page})
    assert response.status_code == 400
    assert response.json() == {"page": ["Bitte eine ganze Zahl ab 1 als Seitenzahl angeben."]}


def test_a_page_past_the_last_is_the_documented_404(world, kod):
    response = token_client(kod).get("/api/v1/shifts/", {"page": "2"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Diese Seite gibt es nicht."}


@pytest.mark.parametrize("size", ["0", "-5", "x", "null", ""])
def test_a_page_size_that_is_no_number_is_a_400_and_a_large_one_is_capped(world, kod, size):
    client = token_client(kod)
    response = client.get("/api/v1/categories/", {"page_size": size})
    assert response.status_code == 400 and "page_size" in response.json()
    assert client.get("/api/v1/categories/", {"page_size": str(10**30)}).status_code == 200


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/incidents/", {"date_to": ""}),
        ("/api/v1/incidents/", {"occurred_before": ""}),
        ("/api/v1/incidents/", {"measure_type": ""}),
        ("/api/v1/incidents/", {"joint": "vielleicht"}),
        ("/api/v1/patrols/", {"joint": "null"}),
        ("/api/v1/measures/", {"type": ""}),
        ("/api/v1/shifts/", {"kind": ""}),
        ("/api/v1/categories/", {"include_inactive": "null"}),
        ("/api/v1/areas/", {"geometry": "null"}),
    ],
)
def test_empty_or_unreadable_filters_are_refused_not_ignored(world, kod, url, params):
    response = token_client(kod).get(url, params)
    assert response.status_code == 400
    (name,) = params
    assert response.json()[name][0] in (
        "Bitte einen Wert angeben oder den Parameter weglassen.",
        "Bitte true oder false angeben.",
    )


def test_far_dates_in_filters_are_moved_to_the_nearest_end(world, kod, now):
    incident = record(kod, world["categories"]["begging"], now)
    client = token_client(kod)
    for params in (
        {"date_to": "4815-09-14"},
        {"date_from": "0375-04-24"},
        {"occurred_after": "0001-01-01T00:00:00+14:00"},
    ):
        response = client.get("/api/v1/incidents/", params)
        assert response.status_code == 200, (params, response.json())
        assert [row["id"] for row in response.json()["results"]] == [incident.pk], params
    assert client.get("/api/v1/incidents/", {"date_from": "9999-12-31"}).json()["count"] == 0


def test_starting_a_patrol_twice_is_a_conflict(world, kod_lead, kod):
    with authority_scope(kod_lead.authority):
        # Yesterday's early shift: its start lies in the past at any time of day the suite runs.
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        shift = services.shift_create(user=kod_lead, date=yesterday, kind="early")
        patrol = services.patrol_create(user=kod_lead, shift=shift, name="Nord", members=[kod])
    client = token_client(kod)
    at = (patrol.planned_start + dt.timedelta(minutes=5)).isoformat()
    ended_early = client.post(f"/api/v1/patrols/{patrol.pk}/end/", {"at": at}, format="json")
    assert ended_early.status_code == 409
    assert ended_early.json() == {"actual_end": ["Die Streife wurde noch nicht begonnen."]}
    assert client.post(f"/api/v1/patrols/{patrol.pk}/start/", {"at": at}, format="json").status_code == 200
    again = client.post(f"/api/v1/patrols/{patrol.pk}/start/", {"at": at}, format="json")
    assert again.status_code == 409 and again.json()["actual_start"] == [
        "Die Streife wurde bereits begonnen."
    ]


def test_another_authoritys_record_still_answers_like_a_missing_one(world, kod, polizei, now):
    police_only = record(
        polizei, world["categories"]["dealing"], now, measures=[MeasureInput(type="custody")]
    )
    client = token_client(kod)
    hidden = client.get(f"/api/v1/incidents/{police_only.pk}/")
    missing = client.get("/api/v1/incidents/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
