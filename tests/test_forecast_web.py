"""Forecast pages under /prognose/: who sees which map, the GeoJSON of a zone, the backtest report
and its PDF, and that no incident's free text ever appears (issue 16)."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from pypdf import PdfReader
from shapely.geometry import shape

from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope
from lagebild.field import services as field_services
from lagebild.field.models import Shift
from lagebild.forecast import services
from lagebild.forecast.documents import TABLE_HEADING
from lagebild.geo.geometry import parse_polygon

from .security_matrix import CITY_MARKER, POLICE_MARKER
from .test_forecast_services import WEEK_START, forecast_world  # noqa: F401  (fixture)

MARKERS = (CITY_MARKER, POLICE_MARKER, "Beschreibung", "Ort STADT", "Ort POLIZEI")


@pytest.fixture
def stored(forecast_world):  # noqa: F811
    """A backtest of "all", the week's forecast and its shift forecasts."""
    report = services.run_backtest("all", weeks=3)
    week = services.run_forecast("all", WEEK_START)
    shifts = services.run_shift_forecasts("all", WEEK_START)
    return {**forecast_world, "report": report, "week": week, "shifts": shifts}


@pytest.fixture
def on_patrol(stored, kod, polizei, kod_lead):
    """kod (city) and polizei (police) on a joint patrol in the zone "Zentrum", now (early shift)."""
    from django.utils import timezone

    with authority_scope(kod_lead.authority_id):
        shift = field_services.shift_create(user=kod_lead, date=timezone.localdate(), kind=Shift.Kind.EARLY)
        field_services.patrol_create(
            user=kod_lead, shift=shift, name="Streife Zentrum", members=[kod, polizei],
            area_id=stored["zones"]["centre"].pk,
        )  # fmt: skip
    return stored


def _zone_url(area, name: str = "forecast:zone") -> str:
    return reverse(name, args=[area.pk])


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


# --- overview ---------------------------------------------------------------------------------


def test_overview_names_the_model_in_use_and_the_backtest_sentence(client, stored, kod_lead):
    page = _get(client, kod_lead, reverse("forecast:index")).content.decode()
    report = stored["report"]
    assert "Modell je Sachverhaltsgruppe" in page and "Alle Sachverhalte" in page
    assert report.sentence.split(":")[0] in page
    assert reverse("forecast:zone", args=[stored["zones"]["centre"].pk]) in page
    assert reverse("forecast:backtest-pdf") in page


def test_roles_without_forecasts_get_403_and_anonymous_the_login(client, stored, make_user, city):
    for role in (Role.DATA_PROTECTION_OFFICER, Role.PROCEEDINGS, Role.PLATFORM_ADMIN):
        user = make_user(f"u-{role}", city, role)
        client.force_login(user)
        for url in (
            reverse("forecast:index"),
            reverse("forecast:backtest"),
            reverse("forecast:backtest-pdf"),
            _zone_url(stored["zones"]["centre"]),
        ):
            assert client.get(url).status_code == 403, (role, url)
    client.logout()
    response = client.get(reverse("forecast:index"))
    assert response.status_code == 302 and "/anmelden/" in response["Location"]


# --- risk map of a zone -----------------------------------------------------------------------


def test_shift_lead_sees_every_zone_with_the_top_cells_and_their_expected_counts(client, stored, kod_lead):
    zone = stored["zones"]["centre"]
    response = _get(client, kod_lead, _zone_url(zone))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Risikokarte Streifenbereich Zentrum" in page
    assert (
        "Top 20 Zellen nach erwarteten Feststellungen" in page
        or "Zellen nach erwarteten Feststellungen" in page
    )
    assert '<th scope="row">1</th>' in page
    assert 'id="forecast-map"' in page and "forecast/risk-map.js" in page
    # The week and its shifts are on offer; a shift can be chosen.
    assert "ganze Woche" in page and "Frühschicht" in page
    late = stored["shifts"][1]
    chosen = client.get(_zone_url(zone), {"woche": WEEK_START.isoformat(), "schicht": f"{WEEK_START}:late"})
    assert "Spätschicht" in chosen.content.decode() and "14:00–22:00 Uhr" in chosen.content.decode()
    assert chosen.context["run"] == late
    assert _get(client, kod_lead, _zone_url(stored["zones"]["north"])).status_code == 200
    assert _get(client, kod_lead, _zone_url(stored["areas"]["west"])).status_code == 200  # a district


def test_field_officer_on_a_patrol_in_a_district_sees_that_district(client, stored, kod, kod_lead):
    from django.utils import timezone

    west = stored["areas"]["west"]
    with authority_scope(kod_lead.authority_id):
        shift = field_services.shift_create(user=kod_lead, date=timezone.localdate(), kind=Shift.Kind.EARLY)
        field_services.patrol_create(
            user=kod_lead, shift=shift, name="Bezirk West", members=[kod], area_id=west.pk
        )
    assert _get(client, kod, _zone_url(west)).status_code == 200
    assert "Bezirk West" in client.get(reverse("forecast:index")).content.decode()
    assert client.get(_zone_url(stored["zones"]["centre"])).status_code == 404


def test_field_officer_sees_the_own_patrol_zone_only(client, on_patrol, kod):
    centre, north = on_patrol["zones"]["centre"], on_patrol["zones"]["north"]
    city_area = on_patrol["areas"]["city"]
    assert _get(client, kod, _zone_url(centre)).status_code == 200
    assert client.get(_zone_url(centre, "forecast:zone-geojson")).status_code == 200
    for area in (north, city_area, on_patrol["areas"]["west"], on_patrol["areas"]["centre"]):
        assert client.get(_zone_url(area)).status_code == 404
        assert client.get(_zone_url(area, "forecast:zone-geojson")).status_code == 404
    # Not yours = does not exist.
    assert client.get(reverse("forecast:zone", args=[999999])).status_code == 404
    assert client.get(reverse("forecast:backtest")).status_code == 403
    page = client.get(reverse("forecast:index")).content.decode()
    assert "Streifenbereich Zentrum" in page and "Streifenbereich Nord" not in page


def test_field_officer_without_a_patrol_sees_no_zone(client, stored, kod):
    assert _get(client, kod, _zone_url(stored["zones"]["centre"])).status_code == 404
    page = client.get(reverse("forecast:index")).content.decode()
    assert "keiner Streife mit Einsatzraum zugeordnet" in page


def test_officers_of_both_authorities_see_the_same_aggregate_map(client, on_patrol, kod, polizei):
    url = _zone_url(on_patrol["zones"]["centre"], "forecast:zone-geojson")
    city_view = json.loads(_get(client, kod, url).content)
    police_view = json.loads(_get(client, polizei, url).content)
    assert city_view == police_view and city_view["features"]


def test_geojson_holds_only_the_zones_cells_as_valid_polygons(client, stored, analyst):
    zone = stored["zones"]["centre"]
    response = _get(client, analyst, _zone_url(zone, "forecast:zone-geojson"))
    assert response["Content-Type"] == "application/geo+json"
    assert "attachment" in response["Content-Disposition"] and ".geojson" in response["Content-Disposition"]
    collection = json.loads(response.content)
    assert collection["type"] == "FeatureCollection" and collection["features"]
    polygon = parse_polygon(zone.geometry)
    ranks = []
    for feature in collection["features"]:
        geometry = feature["geometry"]
        assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == 5
        cell = shape(geometry)
        assert cell.is_valid and polygon.contains(cell.centroid)
        assert feature["properties"]["expected"] > 0
        ranks.append(feature["properties"]["rank"])
    assert ranks == list(range(1, len(ranks) + 1))
    expected = [f["properties"]["expected"] for f in collection["features"]]
    assert expected == sorted(expected, reverse=True)
    assert collection["properties"]["area"] == zone.name and collection["properties"]["group"] == "all"
    # Less than the city's cells: the zone is a small part of it.
    assert len(expected) < len(stored["week"].cells)


def test_aggregate_roles_see_the_city_map_and_the_backtest_but_no_zone(
    client, stored, make_user, city, police
):
    city_area = stored["areas"]["city"]
    for side, authority in (("stadt", city), ("polizei", police)):
        for role in (Role.TASKFORCE, Role.LEADERSHIP, Role.EXECUTIVE_BOARD):
            user = make_user(f"{side}-{role}", authority, role)
            client.force_login(user)
            assert client.get(_zone_url(city_area)).status_code == 200
            assert client.get(_zone_url(stored["zones"]["centre"])).status_code == 404
            assert client.get(reverse("forecast:backtest")).status_code == 200
            assert client.get(reverse("forecast:backtest-pdf")).status_code == 200


# --- backtest report and PDF ------------------------------------------------------------------


def test_backtest_page_compares_every_model_with_the_baselines(client, stored, analyst):
    from lagebild.forecast.predict import MODEL_LABELS, PARAMETER_DOCS

    page = _get(client, analyst, reverse("forecast:backtest")).content.decode()
    assert stored["report"].sentence.split(",")[0] in page
    for coverage in ("1 %", "5 %", "10 %"):
        assert f"{TABLE_HEADING}: {coverage} der Fläche" in page
    for label in MODEL_LABELS.values():
        assert label in page
    best_baseline = MODEL_LABELS[stored["report"].result["choice"]["best_baseline"]]
    for header in (
        "Trefferquote",
        "PAI",
        "PEI*",
        "Recapture (RRI)",
        f"Δ PAI zu {best_baseline} (beste Grundlinie)",
    ):
        assert header in page
    assert "Datenaufteilung" in page and "3 Prüfwochen" in page
    first_doc = next(iter(PARAMETER_DOCS["etas"].values()))
    assert first_doc[:40] in page
    assert page.count("<caption") >= 3 + len(MODEL_LABELS)


def test_backtest_pdf_parses_and_holds_the_table(client, stored, kod_lead):
    response = _get(client, kod_lead, reverse("forecast:backtest-pdf"))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert TABLE_HEADING in text and "Datenaufteilung" in text and "Parameter der Modelle" in text


def test_backtest_without_a_report_says_so(client, forecast_world, analyst):  # noqa: F811
    page = _get(client, analyst, reverse("forecast:backtest")).content.decode()
    assert "noch keinen Backtest" in page
    assert client.get(reverse("forecast:backtest-pdf")).status_code == 404


# --- no free text anywhere ------------------------------------------------------------------


def test_no_incident_free_text_in_any_forecast_answer(client, on_patrol, kod, polizei, kod_lead, analyst):
    zone = on_patrol["zones"]["centre"]
    urls = [
        reverse("forecast:index"),
        _zone_url(zone),
        _zone_url(zone, "forecast:zone-geojson"),
        reverse("forecast:backtest"),
    ]
    for user in (kod, polizei, kod_lead, analyst):
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                continue
            body = response.content.decode()
            for marker in MARKERS:
                assert marker not in body, (user.username, url, marker)
    client.force_login(analyst)
    pdf = client.get(reverse("forecast:backtest-pdf")).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert not any(marker in text for marker in MARKERS)
