"""API v1: recording incidents with measures, reading them back, filters and pagination."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure
from lagebild.geo.services import area_index

from .api_support import incident_payload, record, token_client
from .conftest import INSIDE

URL = "/api/v1/incidents/"
WEST = (51.52, 7.43)  # district west, outside the focus area


def _count_incidents() -> int:
    with unscoped():
        return Incident.objects.count()


# --- recording ------------------------------------------------------------------------------


def test_create_incident_with_measures_in_one_request(world, kod, now):
    payload = incident_payload(
        now,
        measures=[
            {"type": "dispersal_order"},
            {"type": "caution_fee", "amount": "35.00"},
            {"type": "seizure", "seizure_kind": "cash", "amount": "1200"},
            {"type": "referral", "referral_service": "addiction_help"},
        ],
        external_id="KOD-2025-0001",
    )

    response = token_client(kod).post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["authority"] == "stadt"
    assert body["category"] == "aggressive-begging"
    assert body["recorded_by"] == kod.pk
    assert [m["type"] for m in body["measures"]] == ["dispersal_order", "caution_fee", "seizure", "referral"]
    assert body["measures"][1]["amount"] == "35.00"
    assert body["measures"][2]["amount"] == "1200.00"
    assert body["measures"][3]["referral_service"] == "addiction_help"
    # Location was computed: UTM32N, H3 cell and the areas it lies in.
    assert 390000 < body["x_utm"] < 400000 and 5700000 < body["y_utm"] < 5720000
    assert len(body["h3_cell"]) == 15
    assert {a["code"] for a in body["areas"]} == {"testcity", "east", "centre"}
    centre = world["areas"]["centre"]
    assert {"id": centre.pk, "kind": "focus_area", "code": "centre", "name": "Zentrum"} in body["areas"]
    # The rule that applied at the time of the act, with the limitation period.
    assert body["category_rule"]["caution_amount"] == "35.00"
    assert body["category_rule"]["limitation_months"] == 6
    assert body["external_id"] == "KOD-2025-0001"

    detail = token_client(kod).get(f"{URL}{body['id']}/")
    assert detail.status_code == 200
    assert detail.json() == body


def test_caution_fee_without_amount_takes_the_rule_amount(world, kod, now):
    payload = incident_payload(now, category="littering", measures=[{"type": "caution_fee"}])
    response = token_client(kod).post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["measures"][0]["amount"] == "50.00"  # rule valid since 2019


def test_joint_follows_the_patrol_unless_given(world, kod, kod_lead, polizei, now):
    with authority_scope(kod.authority):
        shift = services.shift_create(user=kod_lead, date=timezone.localdate(), kind="early")
        patrol = services.patrol_create(
            user=kod_lead, shift=shift, name="Doppelstreife 1", members=[kod, polizei]
        )
    client = token_client(kod)

    joint = client.post(URL, incident_payload(now, patrol=patrol.pk), format="json")
    own = client.post(URL, incident_payload(now, patrol=patrol.pk, joint=False), format="json")

    assert joint.status_code == 201 and joint.json()["joint"] is True
    assert joint.json()["patrol"] == patrol.pk
    assert own.status_code == 201 and own.json()["joint"] is False


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"lat": 52.52, "lon": 13.405}, "lat", "außerhalb des Stadtgebiets"),
        ({"lat": "abc"}, "lat", "keine Zahl"),
        ({"lon": [7.46]}, "lon", "Bitte eine Zahl angeben"),
        ({"category": "gibt-es-nicht"}, "category", "existiert nicht"),
        ({"occurred_at": "2025-05-01T14:30:00"}, "occurred_at", "Zeitzone"),
        ({"occurred_at": "2099-05-01T14:30:00+02:00"}, "occurred_at", "Zukunft"),
        ({"occurred_at": "1999-12-31T23:00:00+00:00"}, "occurred_at", "1.1.2000"),
        ({"occurred_at": "gestern"}, "occurred_at", "Datums- und Zeitangabe"),
        ({"source": "hellseher"}, "source", "keine gültige Option"),
        ({"measures": "dispersal_order"}, "measures", "als Liste"),
        ({"measures": [{"type": "warp"}]}, "measures", "Maßnahme 1: Art:"),
        (
            {"measures": [{"type": "dispersal_order"}, {"type": "caution_fee", "amount": "80"}]},
            "measures",
            "Maßnahme 2: Verwarnung mit Verwarnungsgeld: Der Betrag muss zwischen 5 und 55 €",
        ),
        (
            {"measures": [{"type": "exclusion_order"}]},
            "measures",
            "Maßnahme 1: Aufenthaltsverbot: Diese Maßnahme darf nur die Polizei treffen.",
        ),
        (
            {"category": "drug-consumption-public", "measures": [{"type": "caution_fee", "amount": "20"}]},
            "measures",
            "kein Verwarnungsgeld vorgesehen",
        ),
        ({"measures": [{"type": "seizure", "seizure_kind": "cash"}]}, "measures", "Bargeldbetrag"),
        ({"measures": [{"type": "caution_fee", "amount": "35.123"}]}, "measures", "Nachkommastellen"),
        ({"measures": [{"type": "referral"}]}, "measures", "Hilfeangebot"),
        ({"measures": [{"type": "contact", "person": "P-UNBEKANNT"}]}, "measures", "unbekannt"),
        ({"patrol": 999999}, "patrol", "existiert nicht"),
        ({"joint": "vielleicht"}, "joint", "Wahrheitswert"),
    ],
)
def test_invalid_input_answers_400_with_german_messages_per_field(
    world, kod, now, overrides, field, fragment
):
    response = token_client(kod).post(URL, incident_payload(now, **overrides), format="json")

    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert any(fragment in message for message in errors[field]), errors
    assert _count_incidents() == 0


def test_every_error_comes_in_one_answer(world, kod, polizei, now):
    payload = incident_payload(
        now,
        category="gibt-es-nicht",
        lat=52.52,
        lon=13.405,
        measures=[{"type": "caution_fee", "amount": "80"}],
    )
    del payload["occurred_at"]
    response = token_client(kod).post(URL, payload, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"category", "occurred_at", "lat", "measures"}, errors
    assert "außerhalb des Stadtgebiets" in errors["lat"][0]
    assert "zwischen 5 und 55 €" in errors["measures"][0]
    assert _count_incidents() == 0
    # The same for the police; nothing was written for anyone.
    assert token_client(polizei).post(URL, payload, format="json").status_code == 400
    assert _count_incidents() == 0


def test_duplicate_external_id_is_a_validation_error(world, kod, now):
    client = token_client(kod)
    first = client.post(URL, incident_payload(now, external_id="X-1"), format="json")
    second = client.post(URL, incident_payload(now, external_id="X-1"), format="json")
    assert first.status_code == 201
    assert second.status_code == 400
    assert "bereits erfasst" in second.json()["external_id"][0]


def test_police_may_take_police_only_measures(world, polizei, now):
    payload = incident_payload(now, category="drug-dealing", measures=[{"type": "custody"}])
    response = token_client(polizei).post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["authority"] == "polizei"


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LEADERSHIP, Role.TASKFORCE])
def test_read_only_roles_cannot_record(world, make_user, city, now, role):
    user = make_user(f"nur-lesen-{role}", city, role)
    client = token_client(user)

    response = client.post(URL, incident_payload(now), format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Ihre Rolle erlaubt diese Aktion nicht."
    assert _count_incidents() == 0
    # Analysts read records (without free text); the others see aggregates only (issue 13).
    assert client.get(URL).status_code == (200 if role == Role.ANALYST else 403)


# --- measures added later -------------------------------------------------------------------


def test_measure_added_later_to_a_visible_incident(world, kod, polizei, now):
    joint = record(kod, world["categories"]["begging"], now, joint=True)

    response = token_client(polizei).post(
        f"{URL}{joint.pk}/measures/", {"type": "criminal_complaint", "note": "Nachträglich"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["authority"] == "polizei"
    assert response.json()["incident"] == joint.pk
    listed = token_client(kod).get(f"{URL}{joint.pk}/measures/")
    assert [m["type"] for m in listed.json()] == ["dispersal_order", "criminal_complaint"]


def test_measure_added_later_is_validated(world, kod, now):
    incident = record(kod, world["categories"]["begging"], now)
    client = token_client(kod)

    custody = client.post(f"{URL}{incident.pk}/measures/", {"type": "custody"}, format="json")
    bad_amount = client.post(
        f"{URL}{incident.pk}/measures/", {"type": "caution_fee", "amount": "x"}, format="json"
    )
    future = client.post(
        f"{URL}{incident.pk}/measures/",
        {"type": "contact", "taken_at": (now + dt.timedelta(days=2)).isoformat()},
        format="json",
    )

    assert custody.status_code == 400
    assert "nur die Polizei" in custody.json()["measures"][0]
    assert bad_amount.status_code == 400 and "amount" in bad_amount.json()
    assert future.status_code == 400 and "Zukunft" in future.json()["measures"][0]
    with unscoped():
        assert Measure.objects.filter(incident=incident).count() == 1


# --- authority separation -------------------------------------------------------------------


def test_cross_authority_incidents_and_measures(world, kod, polizei, now):
    begging = world["categories"]["begging"]
    city_only = record(kod, begging, now)
    police_only = record(polizei, begging, now)
    joint = record(kod, begging, now, joint=True)
    city, police = token_client(kod), token_client(polizei)

    assert {r["id"] for r in city.get(URL).json()["results"]} == {city_only.pk, joint.pk}
    assert {r["id"] for r in police.get(URL).json()["results"]} == {police_only.pk, joint.pk}
    # Records of the other authority do not exist for the client: 404, not 403.
    assert police.get(f"{URL}{city_only.pk}/").status_code == 404
    assert city.get(f"{URL}{police_only.pk}/").status_code == 404
    assert police.get(f"{URL}{city_only.pk}/measures/").status_code == 404
    assert (
        police.post(f"{URL}{city_only.pk}/measures/", {"type": "contact"}, format="json").status_code == 404
    )
    assert police.get(f"{URL}{joint.pk}/").status_code == 200
    assert city.get(f"{URL}{joint.pk}/").json()["authority"] == "stadt"
    # Filtering by the other authority shows only its joint records (none here).
    assert city.get(URL, {"authority": "polizei"}).json()["count"] == 0


def test_patrol_of_the_other_authority_cannot_be_referenced(world, kod, polizei, police_lead, now):
    with authority_scope(police_lead.authority):
        shift = services.shift_create(user=police_lead, date=timezone.localdate(), kind="late")
        patrol = services.patrol_create(user=police_lead, shift=shift, name="Zivil 3", members=[polizei])

    response = token_client(kod).post(URL, incident_payload(now, patrol=patrol.pk), format="json")

    assert response.status_code == 400
    assert "patrol" in response.json()


def test_person_pseudonyms_only_for_operational_roles_of_the_own_authority(world, kod, polizei, analyst, now):
    with authority_scope(kod.authority):
        person = services.person_create(user=kod, age_group="18-20")
    incident = record(
        kod,
        world["categories"]["begging"],
        now,
        joint=True,
        measures=[MeasureInput(type="dispersal_order", person_pseudonym=person.pseudonym)],
    )
    url = f"{URL}{incident.pk}/"

    assert token_client(kod).get(url).json()["measures"][0]["person"] == person.pseudonym
    assert token_client(analyst).get(url).json()["measures"][0]["person"] is None
    assert token_client(polizei).get(url).json()["measures"][0]["person"] is None
    assert AuditEvent.objects.filter(action="api.persons.viewed", user=kod).count() == 1


# --- filters, ordering, pagination ----------------------------------------------------------


@pytest.fixture
def spread(world, kod, polizei, now):
    """Incidents at known times, places, categories and sources."""
    cats = world["categories"]
    # Noon yesterday, so that every time below lies in the past whenever the test runs.
    day = (timezone.localtime(now) - dt.timedelta(days=1)).replace(hour=12, minute=0, second=0)
    rows = {}

    def add(key, user, category, when, *, point=INSIDE, **kwargs):
        kwargs.setdefault("measures", [MeasureInput(type="dispersal_order")])
        with authority_scope(user.authority):
            rows[key] = services.incident_create(
                user=user, category=category, occurred_at=when, lat=point[0], lon=point[1], **kwargs
            )

    add("old", kod, cats["begging"], day - dt.timedelta(days=10))
    add("west", kod, cats["drugs"], day - dt.timedelta(days=3), point=WEST, source="citizen_report")
    add("yesterday", kod, cats["litter"], day - dt.timedelta(days=1), measures=[MeasureInput(type="contact")])
    add("today", kod, cats["begging"], day - dt.timedelta(hours=2), joint=True)
    add("police", polizei, cats["dealing"], day - dt.timedelta(days=2), joint=True)
    add("police_private", polizei, cats["dealing"], day - dt.timedelta(days=2))
    return {"day": day, **rows}


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_filters(spread, kod):
    client = token_client(kod)
    day = spread["day"].date()
    pk = {key: obj.pk for key, obj in spread.items() if key != "day"}

    assert _ids(client.get(URL)) == [pk["today"], pk["yesterday"], pk["police"], pk["west"], pk["old"]]
    assert _ids(client.get(URL, {"ordering": "occurred_at"}))[0] == pk["old"]
    assert set(_ids(client.get(URL, {"date_from": day - dt.timedelta(days=2)}))) == {
        pk["today"],
        pk["yesterday"],
        pk["police"],
    }
    assert _ids(
        client.get(URL, {"date_from": day - dt.timedelta(days=3), "date_to": day - dt.timedelta(days=3)})
    ) == [pk["west"]]
    after = (spread["day"] - dt.timedelta(days=1, hours=1)).isoformat()
    assert set(_ids(client.get(URL, {"occurred_after": after}))) == {pk["today"], pk["yesterday"]}
    assert set(_ids(client.get(URL, {"occurred_before": str(day - dt.timedelta(days=2))}))) == {
        pk["west"],
        pk["old"],
    }
    assert set(_ids(client.get(URL, {"category": ["drug-consumption-public", "littering"]}))) == {
        pk["west"],
        pk["yesterday"],
    }
    assert set(_ids(client.get(URL, {"category": "drug-consumption-public,littering"}))) == {
        pk["west"],
        pk["yesterday"],
    }
    west_area = client.get("/api/v1/areas/", {"code": "west"}).json()["results"][0]["id"]
    assert _ids(client.get(URL, {"area": west_area})) == [pk["west"]]
    assert _ids(client.get(URL, {"measure_type": "contact"})) == [pk["yesterday"]]
    assert _ids(client.get(URL, {"source": "citizen_report"})) == [pk["west"]]
    assert set(_ids(client.get(URL, {"joint": "true"}))) == {pk["today"], pk["police"]}
    assert _ids(client.get(URL, {"authority": "polizei"})) == [pk["police"]]
    assert _ids(client.get(URL, {"q": "gibt es nicht"})) == []


@pytest.mark.parametrize(
    "params",
    [
        {"category": "gibt-es-nicht"},
        {"date_from": "2024-13-45"},
        {"date_to": "9999-99-99"},
        {"occurred_after": "morgen"},
        {"occurred_before": "0001-13-01T00:00:00+14:00"},
        {"area": "abc"},
        {"area": str(10**30)},
        {"patrol": "-1"},
        {"measure_type": "warp"},
        {"authority": "feuerwehr"},
        {"ordering": "description"},
    ],
)
def test_invalid_filters_answer_400(world, kod, params):
    response = token_client(kod).get(URL, params)
    assert response.status_code == 400
    assert set(params) & set(response.json())


def test_pagination(world, kod, now):
    for _ in range(5):
        record(kod, world["categories"]["begging"], now)
    client = token_client(kod)

    first = client.get(URL, {"page_size": 2}).json()
    last = client.get(URL, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]
    assert len(last["results"]) == 1 and last["next"] is None
    assert client.get(URL, {"page": 99}).status_code == 404
    assert client.get(URL, {"page_size": 100000}).json()["count"] == 5


def test_list_does_not_query_per_incident(world, kod, polizei, now, django_assert_max_num_queries):
    begging = world["categories"]["begging"]
    for number in range(25):
        record(
            kod if number % 2 else polizei,
            begging,
            now,
            joint=True,
            measures=[MeasureInput(type="dispersal_order"), MeasureInput(type="caution_fee", amount=None)],
        )
    client = token_client(kod)

    # token, count, page, measures of the page, areas of the page
    with django_assert_max_num_queries(5):
        response = client.get(URL, {"page_size": 100})
    assert len(response.json()["results"]) == 25
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/measures/", {"page_size": 100}).json()["count"] == 50


def test_create_stays_lean(world, kod, now, django_assert_max_num_queries):
    client = token_client(kod)
    area_index()  # built once per process in a running server
    # token and its last use, category, area index version, rule, 4 inserts, audit (the chain
    # head locked, then entry and new head: one statement on PostgreSQL, two on SQLite),
    # 2 savepoints, read-back of
    # measures and areas, and the count tables: a check for pending bulk imports, then for the
    # incident and for its measures one statement upserting all five tables (PostgreSQL) or
    # one lookup of the rows' years and one upsert per table (SQLite): nothing that grows with
    # the number of stored records.
    from django.db import connection

    with django_assert_max_num_queries(17 if connection.vendor == "postgresql" else 28):
        response = client.post(URL, incident_payload(now), format="json")
    assert response.status_code == 201


def test_hand_written_output_matches_the_declared_serializer_fields(world, kod, now):
    """The fast ``to_representation`` of incidents and measures equals DRF's generic output."""
    from django.db.models import prefetch_related_objects
    from rest_framework import serializers as drf
    from rest_framework.test import APIRequestFactory

    from lagebild.api.serializers import IncidentSerializer, MeasureSerializer
    from lagebild.api.views import _incident_prefetches

    incident = record(
        kod,
        world["categories"]["begging"],
        now,
        measures=[
            MeasureInput(type="caution_fee", amount=None),
            MeasureInput(type="seizure", seizure_kind="drugs", quantity=Decimal("1.5"), quantity_unit="g"),
        ],
        description="Text",
        external_id="E-1",
    )
    request = APIRequestFactory().get("/")
    request.user = kod
    with authority_scope(kod.authority):
        incident = Incident.objects.select_related("authority", "category", "category_rule").get(
            pk=incident.pk
        )
        prefetch_related_objects([incident], *_incident_prefetches())
        context = {"request": request, "show_persons": True}
        fast = IncidentSerializer(incident, context=context).data
        generic_serializer = IncidentSerializer(context=context)
        generic = drf.ModelSerializer.to_representation(generic_serializer, incident)
        measure = incident.measures.all()[1]
        fast_measure = MeasureSerializer(measure, context=context).data
        generic_measure = drf.ModelSerializer.to_representation(MeasureSerializer(context=context), measure)

    assert list(fast) == list(generic_serializer.fields)
    assert fast == generic
    assert fast_measure == generic_measure
    assert fast_measure["quantity"] == "1.500"
