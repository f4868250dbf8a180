"""API v1: measures, shifts, patrols, areas and categories."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lagebild.catalog.models import Category
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Patrol, Shift

from .api_support import record, token_client


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def _plan(lead, members, *, kind="early", day=None, name="Streife 1") -> Patrol:
    with authority_scope(lead.authority):
        shift = Shift.objects.filter(date=day or timezone.localdate(), kind=kind).first()
        if shift is None:
            shift = services.shift_create(user=lead, date=day or timezone.localdate(), kind=kind)
        return services.patrol_create(user=lead, shift=shift, name=name, members=members)


# --- measures -------------------------------------------------------------------------------


def test_measures_cross_authority_and_filters(world, kod, polizei, now):
    begging = world["categories"]["begging"]
    city_only = record(kod, begging, now, measures=[MeasureInput(type="dispersal_order")])
    police_only = record(polizei, begging, now, measures=[MeasureInput(type="custody")])
    joint = record(
        kod,
        begging,
        now,
        joint=True,
        measures=[MeasureInput(type="contact"), MeasureInput(type="caution_fee", amount=None)],
    )
    with authority_scope(polizei.authority):
        later = services.measure_add(
            user=polizei, incident=joint, measure=MeasureInput(type="criminal_complaint")
        )
    city, police = token_client(kod), token_client(polizei)

    city_rows = city.get("/api/v1/measures/").json()["results"]
    police_rows = police.get("/api/v1/measures/").json()["results"]

    assert {r["incident"] for r in city_rows} == {city_only.pk, joint.pk}
    assert {r["incident"] for r in police_rows} == {police_only.pk, joint.pk}
    city_measure = next(r["id"] for r in city_rows if r["incident"] == city_only.pk)
    police_measure = next(r["id"] for r in police_rows if r["incident"] == police_only.pk)
    assert police.get(f"/api/v1/measures/{city_measure}/").status_code == 404
    assert city.get(f"/api/v1/measures/{police_measure}/").status_code == 404
    assert city.get(f"/api/v1/measures/{later.pk}/").json()["authority"] == "polizei"
    # Filters: type (several), authority, incident, days.
    types = city.get("/api/v1/measures/", {"type": "contact,caution_fee"}).json()["results"]
    assert sorted(r["type"] for r in types) == ["caution_fee", "contact"]
    assert [r["id"] for r in city.get("/api/v1/measures/", {"authority": "polizei"}).json()["results"]] == [
        later.pk
    ]
    assert city.get("/api/v1/measures/", {"incident": city_only.pk}).json()["count"] == 1
    assert city.get("/api/v1/measures/", {"incident": police_only.pk}).json()["count"] == 0
    today = timezone.localdate()
    assert city.get("/api/v1/measures/", {"date_from": today + dt.timedelta(days=1)}).json()["count"] == 0
    assert city.get("/api/v1/measures/", {"date_to": today}).json()["count"] == 4
    assert city.get("/api/v1/measures/", {"type": "warp"}).status_code == 400


def test_measures_are_read_only(world, kod, now):
    incident = record(kod, world["categories"]["begging"], now)
    client = token_client(kod)
    measure = client.get("/api/v1/measures/").json()["results"][0]["id"]

    assert (
        client.post(
            "/api/v1/measures/", {"incident": incident.pk, "type": "contact"}, format="json"
        ).status_code
        == 405
    )
    assert client.delete(f"/api/v1/measures/{measure}/").status_code == 405
    assert client.patch(f"/api/v1/measures/{measure}/", {"note": "x"}, format="json").status_code == 405


# --- shifts ---------------------------------------------------------------------------------


def test_shift_lead_creates_shift(world, kod_lead):
    client = token_client(kod_lead)
    day = timezone.localdate() + dt.timedelta(days=1)

    response = client.post(
        "/api/v1/shifts/",
        {"date": str(day), "kind": "night", "note": "Sonderlage", "lead": kod_lead.pk},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["authority"] == "stadt" and body["kind_label"] == "Nachtschicht"
    assert body["starts_at"].startswith(f"{day}T22:00")
    assert body["ends_at"].startswith(f"{day + dt.timedelta(days=1)}T06:00")
    assert body["lead"] == kod_lead.pk and body["patrol_count"] == 0
    again = client.post("/api/v1/shifts/", {"date": str(day), "kind": "night"}, format="json")
    assert again.status_code == 400
    assert "bereits angelegt" in again.json()["kind"][0]
    assert client.get(f"/api/v1/shifts/{body['id']}/").json()["note"] == "Sonderlage"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"date": "9999-12-31", "kind": "night"}, "date"),
        ({"date": "2199-12-31", "kind": "early"}, "date"),
        ({"date": "morgen", "kind": "early"}, "date"),
        ({"kind": "early"}, "date"),
        ({"date": "2025-05-01", "kind": "mittag"}, "kind"),
        ({"date": "2025-05-01", "kind": "early", "lead": 10**25}, "lead"),
        ({"date": "2025-05-01", "kind": "early", "note": "x" * 2001}, "note"),
    ],
)
def test_shift_validation(world, kod_lead, payload, field):
    response = token_client(kod_lead).post("/api/v1/shifts/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_shift_lead_must_belong_to_the_own_authority(world, kod_lead, police_lead):
    response = token_client(kod_lead).post(
        "/api/v1/shifts/", {"date": "2025-05-01", "kind": "early", "lead": police_lead.pk}, format="json"
    )
    assert response.status_code == 400
    assert "lead" in response.json()


@pytest.mark.parametrize("username", ["kod", "analyse", "leitung"])
def test_only_planning_roles_create_shifts(world, analyst, leadership, username):
    from lagebild.core.models import User

    user = User.objects.get(username=username)
    response = token_client(user).post(
        "/api/v1/shifts/", {"date": "2025-05-01", "kind": "early"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Ihre Rolle erlaubt diese Aktion nicht."


def test_shifts_cross_authority(world, kod_lead, police_lead):
    day = timezone.localdate()
    with authority_scope(kod_lead.authority):
        city_shift = services.shift_create(user=kod_lead, date=day, kind="early")
    with authority_scope(police_lead.authority):
        police_shift = services.shift_create(user=police_lead, date=day, kind="early")
    city, police = token_client(kod_lead), token_client(police_lead)

    assert _ids(city.get("/api/v1/shifts/")) == {city_shift.pk}
    assert _ids(police.get("/api/v1/shifts/")) == {police_shift.pk}
    assert police.get(f"/api/v1/shifts/{city_shift.pk}/").status_code == 404
    assert city.get(f"/api/v1/shifts/{police_shift.pk}/").status_code == 404
    assert _ids(city.get("/api/v1/shifts/", {"kind": "late"})) == set()
    assert _ids(city.get("/api/v1/shifts/", {"date_from": day, "date_to": day})) == {city_shift.pk}


# --- patrols --------------------------------------------------------------------------------


def test_shift_lead_plans_a_joint_patrol(world, kod_lead, kod, polizei):
    client = token_client(kod_lead)
    shift = client.post(
        "/api/v1/shifts/", {"date": str(timezone.localdate()), "kind": "late"}, format="json"
    ).json()

    response = client.post(
        "/api/v1/patrols/",
        {
            "shift": shift["id"],
            "name": "Doppelstreife Nordstadt",
            "members": [kod.pk, polizei.pk],
            "area": world["areas"]["centre"].pk,
            "clothing": "plain",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["joint"] is True and body["member_count"] == 2
    assert body["staff_hours"] == "16.00"
    assert {m["authority"] for m in body["members"]} == {"stadt", "polizei"}
    assert body["area"] == world["areas"]["centre"].pk and body["clothing_label"] == "Zivil"
    # The police partner sees the joint patrol, though its shift belongs to the city.
    assert token_client(polizei).get(f"/api/v1/patrols/{body['id']}/").status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "A"}, "shift"),
        ({"name": "", "members": "MEMBERS"}, "name"),
        ({"name": "A", "members": []}, "members"),
        ({"name": "A", "members": "1,2"}, "members"),
        ({"name": "A", "members": [10**25]}, "members"),
        ({"name": "A", "members": "MEMBERS", "clothing": "tarn"}, "clothing"),
        ({"name": "A", "members": "MEMBERS", "planned_start": "2025-05-01T08:00:00"}, "planned_start"),
        (
            {
                "name": "A",
                "members": "MEMBERS",
                "planned_start": "2025-05-01T08:00:00+02:00",
                "planned_end": "2025-05-02T08:00:00+02:00",
            },
            "planned_end",
        ),
        ({"name": "A", "members": "MEMBERS", "area": 999999}, "area"),
    ],
)
def test_patrol_validation(world, kod_lead, kod, payload, field):
    client = token_client(kod_lead)
    shift = client.post("/api/v1/shifts/", {"date": "2025-05-01", "kind": "early"}, format="json").json()
    payload = {"shift": shift["id"], **payload}
    if payload.get("members") == "MEMBERS":
        payload["members"] = [kod.pk]
    if field == "shift":
        payload.pop("shift")

    response = client.post("/api/v1/patrols/", payload, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()


def test_patrol_in_a_shift_of_the_other_authority_is_rejected(world, kod_lead, police_lead, polizei):
    with authority_scope(police_lead.authority):
        police_shift = services.shift_create(user=police_lead, date=timezone.localdate(), kind="early")

    response = token_client(kod_lead).post(
        "/api/v1/patrols/", {"shift": police_shift.pk, "name": "X", "members": [polizei.pk]}, format="json"
    )

    assert response.status_code == 400
    assert "shift" in response.json()


def test_field_officers_cannot_plan_patrols(world, kod):
    response = token_client(kod).post(
        "/api/v1/patrols/", {"shift": 1, "name": "X", "members": [kod.pk]}, format="json"
    )
    assert response.status_code == 403


def test_members_start_and_end_their_patrol(world, kod_lead, kod, polizei, make_user, city, analyst):
    patrol = _plan(kod_lead, [kod, polizei], kind="early", day=timezone.localdate() - dt.timedelta(days=1))
    start = patrol.planned_start + dt.timedelta(minutes=5)
    end = patrol.planned_end - dt.timedelta(minutes=30)
    outsider = make_user("kod-2", city)
    url = f"/api/v1/patrols/{patrol.pk}/"

    assert token_client(outsider).post(f"{url}start/", {}, format="json").status_code == 403
    assert token_client(analyst).post(f"{url}start/", {}, format="json").status_code == 403
    started = token_client(polizei).post(f"{url}start/", {"at": start.isoformat()}, format="json")
    twice = token_client(kod).post(f"{url}start/", {"at": start.isoformat()}, format="json")
    too_late = token_client(kod).post(f"{url}end/", {"at": "2099-01-01T00:00:00+00:00"}, format="json")
    ended = token_client(kod).post(f"{url}end/", {"at": end.isoformat()}, format="json")

    assert started.status_code == 200, started.json()
    assert started.json()["actual_start"] is not None
    assert twice.status_code == 409 and "bereits begonnen" in twice.json()["actual_start"][0]
    assert too_late.status_code == 400 and "at" in too_late.json()
    assert ended.status_code == 200, ended.json()
    assert ended.json()["staff_hours"] == "14.83"  # 2 members × 7 h 25 min


def test_patrols_cross_authority(world, kod_lead, police_lead, kod, polizei):
    city_only = _plan(kod_lead, [kod], name="KOD 1")
    police_only = _plan(police_lead, [polizei], name="Polizei 1")
    joint = _plan(kod_lead, [kod, polizei], name="Doppelstreife", kind="late")
    city, police = token_client(kod), token_client(polizei)

    assert _ids(city.get("/api/v1/patrols/")) == {city_only.pk, joint.pk}
    assert _ids(police.get("/api/v1/patrols/")) == {police_only.pk, joint.pk}
    assert police.get(f"/api/v1/patrols/{city_only.pk}/").status_code == 404
    assert city.get(f"/api/v1/patrols/{police_only.pk}/").status_code == 404
    assert police.post(f"/api/v1/patrols/{city_only.pk}/start/", {}, format="json").status_code == 404
    assert _ids(city.get("/api/v1/patrols/", {"joint": "true"})) == {joint.pk}
    assert _ids(city.get("/api/v1/patrols/", {"shift": city_only.shift_id})) == {city_only.pk}


def test_patrol_list_does_not_query_per_patrol(world, kod_lead, kod, polizei, django_assert_max_num_queries):
    day = timezone.localdate()  # once: all twelve on one shift, also when midnight passes meanwhile
    for number in range(12):
        _plan(kod_lead, [kod, polizei], day=day, name=f"Streife {number}")
    client = token_client(kod)
    with django_assert_max_num_queries(4):  # token, count, page, members
        response = client.get("/api/v1/patrols/")
    assert response.json()["count"] == 12
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/shifts/").json()["results"][0]["patrol_count"] == 12


# --- areas and categories -------------------------------------------------------------------


def test_areas_without_and_with_geometry(world, polizei, django_assert_max_num_queries):
    client = token_client(polizei)

    with django_assert_max_num_queries(3):
        listed = client.get("/api/v1/areas/").json()
    with_geometry = client.get("/api/v1/areas/", {"geometry": "1", "kind": "district"}).json()
    centre = world["areas"]["centre"]
    detail = client.get(f"/api/v1/areas/{centre.pk}/").json()

    assert listed["count"] == 4
    assert all(row["geometry"] is None for row in listed["results"])
    assert {row["code"] for row in with_geometry["results"]} == {"west", "east"}
    assert all(row["geometry"]["type"] == "Polygon" for row in with_geometry["results"])
    assert detail["geometry"]["type"] == "Polygon"
    assert detail["bbox"] == pytest.approx([7.455, 51.509, 7.475, 51.519])
    assert detail["kind_label"] == "Schwerpunktraum"
    assert client.get("/api/v1/areas/", {"kind": "district,focus_area"}).json()["count"] == 3
    assert client.get("/api/v1/areas/", {"kind": "planet"}).status_code == 400
    assert client.get("/api/v1/areas/999999/").status_code == 404
    assert client.post("/api/v1/areas/", {"name": "x"}, format="json").status_code == 405


def test_categories_with_versioned_rules(world, kod):
    client = token_client(kod)
    Category.objects.create(code="alt", name="Nicht mehr verwendet", active=False)

    listed = client.get("/api/v1/categories/").json()
    litter = client.get("/api/v1/categories/littering/").json()

    assert listed["count"] == 4
    assert [r["valid_from"] for r in litter["rules"]] == ["2019-01-01", "2014-01-01"]
    assert litter["rules"][1]["valid_to"] == "2018-12-31"
    assert litter["current_rule"]["caution_amount"] == "50.00"
    assert litter["current_rule"]["limitation_months"] == 6
    assert litter["current_rule"]["limitation_label"] == "6 Monate"
    dealing = client.get("/api/v1/categories/drug-dealing/").json()
    assert dealing["competent_authority"] == "police" and dealing["current_rule"]["limitation_months"] is None
    assert client.get("/api/v1/categories/", {"include_inactive": "true"}).json()["count"] == 5
    assert client.get("/api/v1/categories/", {"group": "drugs"}).json()["count"] == 1
    assert client.get("/api/v1/categories/gibt-es-nicht/").status_code == 404
    assert client.post("/api/v1/categories/", {"code": "x"}, format="json").status_code == 405


def test_inactive_category_cannot_be_recorded(world, kod, now):
    from .api_support import incident_payload

    Category.objects.filter(code="littering").update(active=False)
    response = token_client(kod).post(
        "/api/v1/incidents/", incident_payload(now, category="littering", measures=[]), format="json"
    )
    assert response.status_code == 400
    assert "category" in response.json()
    with unscoped():
        assert not Incident.objects.exists()
