"""The public Open311 feed publishes per category (issue 13): police matters such as tips on
drug dealing are not published at all by default, and public ids are random, so the feed
cannot be walked by counting. A guessed row number, an unpublished tip and an id that does not
exist get the same answer."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from lagebild.citizen import services as intake
from lagebild.citizen.models import Report, ServiceType
from lagebild.citizen.services_catalog import load_services
from lagebild.core.scoping import unscoped

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE

BASE = "/open311/v2"
TIP_MARKER = "Dealer-Hinweis-Q7X"
PUBLIC_MARKER = "Sperrmuell-Hinweis-K2Z"


@pytest.fixture
def catalogue(services):
    load_services()
    return {s.code: s for s in ServiceType.objects.all()}


def _report(service: ServiceType, description: str, **extra) -> Report:
    values = {"attributes": {"personen": 2}} if service.code == "betteln" else {"attributes": {}}
    return intake.report_create(
        service=service,
        channel="web",
        lat=INSIDE[0],
        lon=INSIDE[1],
        description=description,
        requested_at=timezone.now(),
        **values,
        **extra,
    )


@pytest.fixture
def tips(catalogue):
    return {
        "tip": _report(catalogue["drogenhandel"], TIP_MARKER),
        "waste": _report(catalogue["muell"], PUBLIC_MARKER),
    }


def test_police_matters_are_unpublished_by_default_everything_else_is_published(catalogue):
    police = {"drogenhandel", "gewalt-bedrohung", "waffen", "autorennen"}
    for code, service in catalogue.items():
        if service.category is not None and service.category.competent_authority == "police":
            assert not service.public_in_open311, code
    assert not catalogue["drogenhandel"].public_in_open311
    assert catalogue["muell"].public_in_open311 and catalogue["betteln"].public_in_open311
    # A category an administrator creates later stays unpublished until someone decides.
    assert not ServiceType.objects.create(code="neu", name="Neu").public_in_open311
    assert police & set(catalogue)  # the catalogue has police matters at all


def _bodies(client) -> list[str]:
    chunks = []
    for fmt in ("json", "xml"):
        for params in ({}, {"extensions": "true"}, {"service_code": "drogenhandel"}, {"status": "open"}):
            response = client.get(f"{BASE}/requests.{fmt}", params)
            assert response.status_code == 200
            chunks.append(response.content.decode())
    return chunks


def test_anonymous_feed_lists_no_police_tip(client, tips):
    for body in _bodies(client):
        assert TIP_MARKER not in body and "drogenhandel" not in body and "Drogenhandel" not in body
        assert tips["tip"].public_id not in body
    listed = json.loads(client.get(f"{BASE}/requests.json").content)
    assert [item["service_request_id"] for item in listed] == [tips["waste"].public_id]
    root = ET.fromstring(client.get(f"{BASE}/requests.xml").content)
    assert [e.findtext("service_request_id") for e in root] == [tips["waste"].public_id]
    # Even asked for by its id, the tip is not there.
    asked = json.loads(
        client.get(f"{BASE}/requests.json", {"service_request_id": tips["tip"].public_id}).content
    )
    assert asked == []


def test_public_ids_are_random_and_not_row_numbers(tips, catalogue):
    more = [_report(catalogue["muell"], "noch einer") for _ in range(5)]
    ids = [r.public_id for r in (tips["waste"], *more)]
    assert all(re.fullmatch(r"[a-z2-7]{16}", pid) for pid in ids)
    assert len(set(ids)) == len(ids)
    assert all(str(r.pk) != r.public_id for r in more)


def _shape(response, given: str) -> tuple[int, str, str]:
    """Status, content type and body with the asked-for id taken out."""
    body = response.content.decode().replace(f"„{given}“", "„<ID>“")
    return response.status_code, response["Content-Type"], body


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_guessed_ids_fail_exactly_like_ids_that_do_not_exist(client, tips, fmt):
    with unscoped():
        highest = Report.objects.order_by("-pk").values_list("pk", flat=True).first()
    missing_number = str(highest + 1000)
    missing_public = "aaaaaaaaaaaaaaaa"
    reference = _shape(client.get(f"{BASE}/requests/{missing_public}.{fmt}"), missing_public)
    assert reference[0] == 404
    for guess in (str(tips["tip"].pk), str(tips["waste"].pk), missing_number, tips["tip"].public_id):
        assert _shape(client.get(f"{BASE}/requests/{guess}.{fmt}"), guess) == reference, guess
    # The published report is found by its public id only.
    assert client.get(f"{BASE}/requests/{tips['waste'].public_id}.{fmt}").status_code == 200


def test_the_tracking_token_of_a_tip_reveals_nothing(client, tips):
    unknown = client.get(f"{BASE}/tokens/unbekannt-123.json")
    tip = client.get(f"{BASE}/tokens/{tips['tip'].public_token}.json")
    assert _shape(tip, tips["tip"].public_token) == _shape(unknown, "unbekannt-123")
    waste = json.loads(client.get(f"{BASE}/tokens/{tips['waste'].public_token}.json").content)
    assert waste == [{"service_request_id": tips["waste"].public_id, "token": tips["waste"].public_token}]


def test_a_tip_posted_by_an_app_is_accepted_but_not_published(client, catalogue, api_client_key):
    response = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": "test-key",
            "service_code": "drogenhandel",
            "lat": INSIDE[0],
            "long": INSIDE[1],
            "description": TIP_MARKER,
        },
    )
    assert response.status_code == 200, response.content
    [answer] = json.loads(response.content)
    assert "nicht öffentlich" in answer["service_notice"]
    assert client.get(f"{BASE}/requests/{answer['service_request_id']}.json").status_code == 404
    assert TIP_MARKER not in client.get(f"{BASE}/requests.json").content.decode()


def test_an_administrator_can_publish_a_category_deliberately(client, tips, catalogue):
    ServiceType.objects.filter(code="drogenhandel").update(public_in_open311=True)
    listed = {i["service_request_id"] for i in json.loads(client.get(f"{BASE}/requests.json").content)}
    assert tips["tip"].public_id in listed
    # Published, but still at the configured precision: no location, no description (about people).
    [item] = json.loads(client.get(f"{BASE}/requests/{tips['tip'].public_id}.json").content)
    assert item["lat"] is None and TIP_MARKER not in json.dumps(item)


def test_the_decision_is_made_in_the_admin(client, catalogue, make_user, city):
    admin_user = make_user("stadt-admin-open311", city, "admin", is_staff=True)
    client.force_login(admin_user)
    service = catalogue["drogenhandel"]
    page = client.get(f"/admin/citizen/servicetype/{service.pk}/change/")
    assert page.status_code == 200
    assert 'name="public_in_open311"' in page.content.decode()
