"""Locations that mean something (issue 11, point 2): a point gets the name of the nearest
street or place of the offline gazetteer (reverse geocoding, no external service), the entry
map opens at the officer's patrol area, and maps without tiles show named places."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident
from lagebild.geo import points
from lagebild.geo.models import Place
from lagebild.geo.selectors import NEAR_PLACE_MAX_M, PLACE_AT_POINT_M, describe_point, nearest_place

from .test_field_my_patrol import plan

HANSAPLATZ = (51.5140, 7.4640)
WESTPARK = (51.5120, 7.4480)  # in district West, outside the focus area "Zentrum"


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def gazetteer(db) -> dict[str, Place]:
    return {
        "hansaplatz": Place.objects.create(
            name="Hansaplatz", kind="place", lat=HANSAPLATZ[0], lon=HANSAPLATZ[1]
        ),
        "westpark": Place.objects.create(name="Westpark", kind="place", lat=WESTPARK[0], lon=WESTPARK[1]),
        "kampstrasse": Place.objects.create(
            name="Kampstraße", kind="street", aliases="Kampstr., Kampstr", lat=51.5155, lon=7.4655
        ),
    }


def south_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] - metres / 111_200, point[1]


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def entry(category, **overrides) -> dict:
    data = {
        "category": str(category.pk),
        "measure_types": ["dispersal_order"],
        "occurred_at": timezone.localtime(timezone.now() - dt.timedelta(minutes=5)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "source": "patrol",
        "address_text": "",
        "description": "",
    }
    data.update(overrides)
    return data


def test_distance_in_metres_is_right_within_the_city():
    # 0.001° of latitude is 111.2 m; of longitude at 51.5° it is 69.3 m.
    assert points.distance_m(51.5, 7.46, 51.501, 7.46) == pytest.approx(111.2, abs=0.3)
    assert points.distance_m(51.5, 7.46, 51.5, 7.461) == pytest.approx(69.3, abs=0.3)


def test_a_point_is_named_by_the_nearest_street_or_place(world, gazetteer):
    at = describe_point(*south_of(HANSAPLATZ, PLACE_AT_POINT_M - 30))
    assert at.text == "Hansaplatz"
    near = describe_point(*south_of(HANSAPLATZ, 200))
    assert near.text == "Nähe Hansaplatz (ca. 200 m)" and near.distance_m == 200
    # Farther than any gazetteer entry can help: the smallest named area around the point.
    assert describe_point(51.5095, 7.4745).text == "Zentrum"  # 885 m from Hansaplatz
    assert nearest_place(51.5095, 7.4745, within_m=NEAR_PLACE_MAX_M) is None
    assert describe_point(51.54, 7.43).text == "Stadtbezirk Bezirk West"


def test_reverse_lookup_endpoint_answers_json_and_refuses_bad_input(client, world, gazetteer, kod):
    url = reverse("geo:place-at-point")
    assert client.get(url, {"lat": "51.5", "lon": "7.46"}).status_code == 302  # login first
    client.force_login(kod)
    lat, lon = south_of(HANSAPLATZ, 120)
    answer = client.get(url, {"lat": f"{lat:.6f}".replace(".", ","), "lon": str(lon)}).json()
    assert answer == {
        "address_text": "Nähe Hansaplatz (ca. 120 m)",
        "place": "Hansaplatz",
        "distance_m": 120,
        "area": "",
    }
    for bad in (
        {"lat": "abc", "lon": "7.46"},
        {"lat": "51.5"},
        {"lat": "91", "lon": "7"},
        {"lat": "nan", "lon": "7"},
    ):
        response = client.get(url, bad)
        assert response.status_code == 400
        assert response.json()["error"].startswith(("Breite", "Länge"))


def test_places_for_the_map_come_only_from_the_visible_box(client, world, gazetteer, kod):
    client.force_login(kod)
    url = reverse("geo:places-geojson")
    box = "7.455,51.509,7.475,51.519"  # the focus area "Zentrum"
    names = {f["properties"]["name"] for f in client.get(url, {"bbox": box}).json()["features"]}
    assert names == {"Hansaplatz", "Kampstraße"}
    for bad in ("", "1,2,3", "a,b,c,d", "nan,51,7.5,52", "7.4,51.5,7.5,inf"):
        assert client.get(url, {"bbox": bad}).status_code == 400


def test_a_map_tap_without_address_saves_the_nearest_place_name(client, world, gazetteer, kod, polizei):
    client.force_login(kod)
    lat, lon = south_of(HANSAPLATZ, 20)
    response = client.post(
        reverse("field:incident-create"),
        entry(world["categories"]["begging"], lat=str(lat), lon=str(lon)),
        follow=True,
    )
    page = text_of(response)
    assert "Feststellung gespeichert." in page
    assert "Hansaplatz" in page and "keine Ortsangabe" not in page
    with authority_scope(kod.authority):
        incident = Incident.objects.get()
    assert incident.address_text == "Hansaplatz"

    # What the officer typed is kept as it is.
    client.post(
        reverse("field:incident-create"),
        entry(world["categories"]["begging"], lat=str(lat), lon=str(lon), address_text="Eingang Kaufhaus"),
    )
    with authority_scope(kod.authority):
        assert Incident.objects.filter(address_text="Eingang Kaufhaus").count() == 1
    # The city's record stays invisible to the police, its place name included.
    client.force_login(polizei)
    assert client.get(reverse("field:incident-detail", args=[incident.pk])).status_code == 404


def test_api_records_without_address_also_get_the_place_name(world, gazetteer, kod):
    with authority_scope(kod.authority):
        incident = services.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=timezone.now() - dt.timedelta(minutes=5),
            lat=WESTPARK[0],
            lon=WESTPARK[1] + 0.003,  # about 210 m east
            measures=[MeasureInput(type="contact")],
        )
    assert incident.address_text == "Nähe Westpark (ca. 210 m)"


def test_a_typed_gazetteer_name_gives_the_point_without_javascript(client, world, gazetteer, kod):
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"), entry(world["categories"]["begging"], address_text="  kampstr. ")
    )
    assert response.status_code == 302
    with authority_scope(kod.authority):
        incident = Incident.objects.get()
    assert (incident.lat, incident.lon) == (51.5155, 7.4655)
    assert incident.address_text == "kampstr."

    response = client.post(
        reverse("field:incident-create"), entry(world["categories"]["begging"], address_text="Nirgendwoweg")
    )
    assert response.status_code == 200
    assert "„Nirgendwoweg“ steht nicht im Ortsverzeichnis." in text_of(response)
    with unscoped():
        assert Incident.objects.count() == 1


def map_area(response) -> dict | None:
    match = re.search(
        r'<script id="entry-map-area" type="application/json">(.*?)</script>', response.content.decode()
    )
    return json.loads(match.group(1)) if match else None


def test_the_entry_map_opens_at_the_patrol_area_not_the_police_one(
    client, world, gazetteer, kod, kod_lead, polizei, police_lead
):
    centre = world["areas"]["centre"]
    client.force_login(kod)
    assert map_area(client.get(reverse("field:incident-create"))) is None  # no patrol: focus areas / position

    plan(
        police_lead,
        "Polizei West",
        [polizei],
        start=-dt.timedelta(hours=1),
        end=dt.timedelta(hours=3),
        area=world["areas"]["west"],
    )
    assert (
        map_area(client.get(reverse("field:incident-create"))) is None
    )  # the police patrol is not the city's

    plan(kod_lead, "KOD Zentrum", [kod], start=-dt.timedelta(hours=1), end=dt.timedelta(hours=3), area=centre)
    response = client.get(reverse("field:incident-create"))
    area = map_area(response)
    assert area["name"] == "Zentrum"
    assert area["bounds"] == [[centre.min_lat, centre.min_lon], [centre.max_lat, centre.max_lon]]
    assert area["feature"]["geometry"]["type"] == "Polygon"
    page = text_of(response)
    assert "Ihr Einsatzraum (Zentrum)" in page
    assert "Straßen und Plätze aus dem Ortsverzeichnis" in page  # what the map shows without tiles

    client.force_login(polizei)
    assert map_area(client.get(reverse("field:incident-create")))["name"] == "Bezirk West"
