"""API v1: GET /api/v1/analytics/displacement/ – the displacement analysis as JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from lagebild.analytics.models import Indicator
from lagebild.core.scoping import authority_scope
from lagebild.field import services as field
from lagebild.geo.models import Area
from lagebild.geo.services import area_save

from .api_support import token_client
from .conftest import _box

URL = "/api/v1/analytics/displacement/"
BERLIN = ZoneInfo("Europe/Berlin")
TARGET_POINT = (51.514, 7.465)  # focus area "centre"
BUFFER_POINT = (51.514, 7.484)
CONTROL_POINT = (51.547, 7.42)


def _record(user, category, day: dt.date, point: tuple[float, float], n: int) -> None:
    with authority_scope(user.authority_id):
        for i in range(n):
            field.incident_create(
                user=user,
                category=category,
                occurred_at=dt.datetime.combine(day, dt.time(14, i), tzinfo=BERLIN),
                lat=point[0],
                lon=point[1],
            )


@pytest.fixture
def design(world) -> dict:
    """Target = focus area "centre", a buffer area east of it and a control area far away."""
    today = timezone.localdate()
    buffer = area_save(
        area=Area(kind=Area.Kind.CUSTOM, code="puffer", name="Puffer Ost"),
        geometry=_box(7.478, 51.509, 7.49, 51.519),
    )
    control = area_save(
        area=Area(kind=Area.Kind.CUSTOM, code="kontrolle", name="Kontrolle"),
        geometry=_box(7.41, 51.54, 7.43, 51.555),
    )
    query = {
        "target": str(world["areas"]["centre"].pk),
        "buffer_areas": str(buffer.pk),
        "control": str(control.pk),
        "pre_start": (today - dt.timedelta(days=41)).isoformat(),
        "pre_end": (today - dt.timedelta(days=28)).isoformat(),
        "post_start": (today - dt.timedelta(days=14)).isoformat(),
        "post_end": (today - dt.timedelta(days=1)).isoformat(),
    }
    return {"query": query, "buffer": buffer, "control": control, "today": today}


@pytest.fixture
def data(design, world, kod, polizei) -> dict:
    """Target 8 → 3 (one of them police-only), buffer area 3 → 5, control 6 → 6."""
    begging = world["categories"]["begging"]
    pre_day, post_day = design["today"] - dt.timedelta(days=30), design["today"] - dt.timedelta(days=5)
    _record(kod, begging, pre_day, TARGET_POINT, 8)
    _record(kod, begging, post_day, TARGET_POINT, 2)
    _record(polizei, world["categories"]["dealing"], post_day, TARGET_POINT, 1)
    _record(kod, begging, pre_day, BUFFER_POINT, 3)
    _record(kod, begging, post_day, BUFFER_POINT, 5)
    _record(kod, begging, pre_day, CONTROL_POINT, 6)
    _record(kod, begging, post_day, CONTROL_POINT, 6)
    return design


def test_happy_path_matches_hand_computed_wdd_and_wdq_for_both_partners(data, kod, polizei):
    answers = {}
    for user in (kod, polizei):
        response = token_client(user).get(URL, data["query"])
        assert response.status_code == 200, response.content
        answers[user.username] = response.json()
    body = answers["kod"]
    assert body == answers["polizei"]  # shared figures: the police-only record counts for the city too

    assert body["areas"]["target"]["name"] == "Zentrum"
    assert [a["name"] for a in body["areas"]["buffer_areas"]] == ["Puffer Ost"]
    assert [a["id"] for a in body["areas"]["control"]] == [data["control"].pk]
    assert body["areas"]["rings_m"] == [] and body["areas"]["buffer_control"] == []
    assert body["periods"]["pre"]["days"] == 14 and body["periods"]["post"]["days"] == 14
    assert body["weights"]["time"] == {"pre_days": 14, "post_days": 14, "pre": 1.0, "post": 1.0}
    assert body["counted"]["kind"] == "categories" and body["counted"]["indicator"] is None
    counts = {row["key"]: (row["pre"], row["post"]) for row in body["counts"]}
    assert counts == {"target": (8, 3), f"buffer-{data['buffer'].pk}": (3, 5), "control": (6, 6)}

    total = body["wdd"]["total"]
    se = math.sqrt(8 + 3 + 3 + 5 + 4 * (6 + 6))  # the control serves target and buffer
    assert total["local"] == pytest.approx((3 - 8) - 0)
    assert total["displacement"] == pytest.approx((5 - 3) - 0)
    assert total["estimate"] == pytest.approx(-3)
    assert total["se"] == pytest.approx(se)
    assert total["z"] == pytest.approx(-3 / se)
    assert total["ci_low"] == pytest.approx(-3 - 1.959964 * se, abs=1e-4)
    assert total["shared_control"] is True
    assert 0 < total["p"] < 1
    [buffer] = body["wdd"]["buffers"]
    assert buffer["area_id"] == data["buffer"].pk and buffer["estimate"] == pytest.approx(-3)

    wdq = body["wdq"]
    assert wdq["success_measure"] == pytest.approx(3 / 6 - 8 / 6)
    assert wdq["buffer_measure"] == pytest.approx(5 / 6 - 3 / 6)
    assert wdq["wdq"] == pytest.approx((2 / 6) / (-5 / 6))
    assert wdq["total_net_effect"] == pytest.approx((8 - 3) + (3 - 5))
    assert wdq["meaningful"] is True and "Verdrängung" in wdq["interpretation"]

    hours = body["hour_profile"]
    assert hours["pre_counts"][14] == 8 and hours["post_counts"][14] == 3
    assert hours["pre_per_day"][14] == pytest.approx(8 / 14)
    # −3 ± 16 cases is no established effect: the headline says so, the verdict explains both measures.
    assert body["headline"] == "Kein gesicherter Effekt" and body["effect"] == "none"
    assert body["verdict"].startswith("Die WDD (Ziel und Puffer zusammen) zeigt netto 3 Fälle weniger")
    assert "das Intervall schließt 0 ein" in body["verdict"] and "WDQ" in body["verdict"]
    assert "nicht belegt" in wdq["interpretation"] and "Erfolg" not in wdq["interpretation"]
    assert "Zielgebiet" in body["explanation"]


def test_only_a_significant_result_is_headlined_as_prevented(design, world, kod, polizei):
    """Target 40 → 5 (the police records count for the city too), buffer and control unchanged."""
    begging = world["categories"]["begging"]
    pre_day, post_day = design["today"] - dt.timedelta(days=30), design["today"] - dt.timedelta(days=5)
    _record(kod, begging, pre_day, TARGET_POINT, 30)
    _record(polizei, begging, pre_day, TARGET_POINT, 10)
    _record(polizei, begging, post_day, TARGET_POINT, 5)
    for day in (pre_day, post_day):
        _record(kod, begging, day, BUFFER_POINT, 3)
        _record(kod, begging, day, CONTROL_POINT, 6)
    bodies = [token_client(user).get(URL, design["query"]).json() for user in (kod, polizei)]
    assert bodies[0] == bodies[1]
    body = bodies[0]
    assert body["wdd"]["total"]["estimate"] == pytest.approx(-35) and body["wdd"]["total"]["p"] < 0.05
    half_width = body["wdd"]["total"]["ci_high"] - body["wdd"]["total"]["estimate"]
    assert body["headline"] == f"Netto verhindert: 35 ± {round(half_width)} Fälle"
    assert body["effect"] == "prevented"
    assert "das ist statistisch signifikant" in body["verdict"]
    assert "Insgesamt ein Erfolg" in body["wdq"]["interpretation"]


def test_rings_indicator_and_unequal_periods(data, world, kod):
    Indicator.objects.create(code="betteln", name="Betteln festgestellt", kind="problem", fact="incident")
    Indicator.objects.get(code="betteln").categories.add(world["categories"]["begging"])
    query = {
        **data["query"],
        "buffer_areas": "",
        "rings": "200,400",
        "indicator": "betteln",
        "pre_start": (data["today"] - dt.timedelta(days=55)).isoformat(),  # 28 days
        "alpha": "0.1",
    }
    response = token_client(kod).get(URL, query)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["areas"]["rings_m"] == [200.0, 400.0]
    assert body["weights"]["time"] == {"pre_days": 28, "post_days": 14, "pre": 2.0, "post": 1.0}
    assert body["counted"]["indicator"]["code"] == "betteln"
    assert [(b["key"], b["inner_m"], b["outer_m"]) for b in body["wdd"]["buffers"]] == [
        ("ring-1", 0.0, 200.0),
        ("ring-2", 200.0, 400.0),
    ]
    counts = {row["key"]: (row["pre"], row["post"]) for row in body["counts"]}
    assert counts["target"] == (8, 2)  # the police record is drug dealing, not begging
    # About 600 m east of the target, the buffer area's incidents are outside both rings.
    assert counts["ring-1"] == (0, 0) and counts["ring-2"] == (0, 0)
    assert body["wdd"]["total"]["local"] == pytest.approx((2 - 8 / 2) - (6 - 6 / 2))
    assert body["alpha"] == 0.1


def test_path_without_trailing_slash_answers_the_same(data, kod):
    client = token_client(kod)
    assert client.get(URL.rstrip("/"), data["query"]).json() == client.get(URL, data["query"]).json()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"target": None}, "target"),
        ({"target": "abc"}, "target"),
        ({"target": "999999"}, "target"),
        ({"control": None}, "control"),
        ({"control": "1,x"}, "control"),
        ({"pre_start": "gestern"}, "pre_start"),
        ({"post_end": "2026-02-30"}, "post_end"),
        ({"pre_end": "1960-01-01", "pre_start": "1960-01-01"}, "pre_start"),
        ({"post_end": "2000-01-01"}, "post_end"),
        ({"rings": "200,100"}, "rings"),
        ({"rings": "200"}, "rings"),  # together with buffer_areas
        ({"buffer_areas": None}, "rings"),  # neither rings nor buffer areas
        ({"buffer_areas": "999999"}, "buffer_areas"),
        ({"indicator": "gibt-es-nicht"}, "indicator"),
        ({"indicator": "x", "categories": "aggressive-begging"}, "indicator"),
        ({"categories": "gibt-es-nicht"}, "categories"),
        ({"alpha": "2"}, "alpha"),
        ({"alpha": "nan"}, "alpha"),
        ({"pre_start": "2199-12-31"}, "pre_end"),
    ],
)
def test_bad_parameters_answer_400_with_a_german_message_per_parameter(design, kod, change, key):
    query = {**design["query"]}
    for name, value in change.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    response = token_client(kod).get(URL, query)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert key in errors, errors
    assert all(isinstance(message, str) and message for message in errors[key])


def test_post_period_before_pre_period_and_empty_data_are_400(data, world, kod):
    client = token_client(kod)
    swapped = {
        **data["query"],
        "pre_start": data["query"]["post_start"],
        "pre_end": data["query"]["post_end"],
        "post_start": data["query"]["pre_start"],
        "post_end": data["query"]["pre_end"],
    }
    response = client.get(URL, swapped)
    assert response.status_code == 400 and "Nachher-Zeitraum" in response.json()["post_start"][0]
    long_ago = {
        **data["query"],
        "pre_start": "2001-01-01",
        "pre_end": "2001-01-31",
        "post_start": "2001-02-01",
        "post_end": "2001-02-28",
    }
    response = client.get(URL, long_ago)
    assert response.status_code == 400 and "Standardfehler" in response.json()["non_field_errors"][0]


def test_without_token_401_and_wrong_token_401(design):
    response = APIClient().get(URL, design["query"])
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert client.get(URL, design["query"]).status_code == 401


def test_schema_documents_the_endpoint_with_every_parameter(world):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)
    operation = schema["paths"]["/api/v1/analytics/displacement/"]["get"]
    assert "/api/v1/analytics/displacement" not in schema["paths"]  # the alias is not documented twice
    names = {p["name"] for p in operation["parameters"]}
    assert names == {
        "target",
        "rings",
        "buffer_areas",
        "control",
        "buffer_control",
        "pre_start",
        "pre_end",
        "post_start",
        "post_end",
        "indicator",
        "categories",
        "alpha",
    }
    assert {"200", "400", "401"} <= set(operation["responses"])
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"areas", "periods", "counted", "weights", "counts", "wdd", "wdq", "hour_profile"} <= set(
        component["properties"]
    )
    assert {"tokenAuth": []} in operation["security"]
