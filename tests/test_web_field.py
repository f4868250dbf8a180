"""Web UI of field records: entry, list with filters, detail, overview and its map points."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure, Person

from .conftest import INSIDE, OUTSIDE

WEST = (51.52, 7.43)  # district west, outside the focus area
EAST = (51.52, 7.50)  # district east


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    # Tests run without collectstatic; the manifest storage would fail on {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def local_input(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def entry_data(category, **overrides) -> dict:
    data = {
        "category": str(category.pk),
        "measure_types": ["dispersal_order"],
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        "occurred_at": local_input(timezone.now() - dt.timedelta(minutes=5)),
        "source": "patrol",
        "address_text": "Platz von Leeds",
        "description": "",
    }
    data.update(overrides)
    return data


def record(user, category, *, at=None, point=INSIDE, measures=("dispersal_order",), joint=False, **extra):
    with authority_scope(user.authority):
        return services.incident_create(
            user=user,
            category=category,
            occurred_at=at or timezone.now() - dt.timedelta(hours=1),
            lat=point[0],
            lon=point[1],
            measures=[MeasureInput(type=m) for m in measures],
            joint=joint,
            **extra,
        )


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def error_text(response, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</p>', text_of(response), re.S)
    assert match, f"no error shown at {field_id}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def listed_ids(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/feststellungen/(\d+)/"', response.content.decode())}


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("field:overview", []),
        ("field:overview-points", []),
        ("field:incident-list", []),
        ("field:incident-create", []),
        ("field:incident-detail", [1]),
    ],
)
def test_pages_require_login(client, db, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=" in response["Location"]


def test_read_only_roles_cannot_record(client, world, leadership, analyst, make_user, city):
    taskforce = make_user("sonderstab", city, Role.TASKFORCE)
    begging = world["categories"]["begging"]
    for user in (leadership, analyst, taskforce):
        client.force_login(user)
        overview = client.get(reverse("field:overview"))
        assert overview.status_code == 200
        assert reverse("field:incident-create") not in overview.content.decode()
        assert "Erfassen" not in text_of(overview)
        forbidden = client.get(reverse("field:incident-create"))
        assert forbidden.status_code == 403
        assert "Keine Berechtigung" in text_of(forbidden)
        assert client.post(reverse("field:incident-create"), entry_data(begging)).status_code == 403
    with unscoped():
        assert Incident.objects.count() == 0


# --- entry ------------------------------------------------------------------------------------


def test_entry_form_offers_categories_measures_and_current_patrol(client, world, kod, kod_lead, polizei):
    with authority_scope(kod.authority):
        shift = services.shift_create(user=kod_lead, date=timezone.localdate(), kind="early")
        patrol = services.patrol_create(
            user=kod_lead,
            shift=shift,
            name="KOD 1",
            members=[kod, polizei],
            planned_start=timezone.now() - dt.timedelta(hours=1),
            planned_end=timezone.now() + dt.timedelta(hours=3),
        )
    client.force_login(kod)
    response = client.get(reverse("field:incident-create"))
    page = text_of(response)
    assert response.status_code == 200
    assert 'id="id_category"' in page and 'id="entry-map"' in page
    assert '<optgroup label="Belästigung und Verhalten">' in page
    assert 'data-caution-amount="35.00"' in page  # today's rule of aggressive begging
    assert 'value="dispersal_order"' in page
    # Police-only measures are not offered to city staff.
    assert 'value="exclusion_order"' not in page and 'value="custody"' not in page
    assert re.search(rf'<option value="{patrol.pk}" data-joint="1" selected>', page)
    assert 'name="joint"' in page and re.search(r'name="joint"[^>]*checked', page)
    assert "Meinen Standort verwenden" in page and "Koordinaten" in page
    assert re.search(r'<button type="submit"[^>]*>Speichern</button>', page)

    client.force_login(polizei)
    police_page = text_of(client.get(reverse("field:incident-create")))
    assert 'value="exclusion_order"' in police_page


@pytest.mark.parametrize(
    ("now", "typed", "stored"),
    [
        # Summer time ends at 03:00 CEST: 02:00–03:00 happens twice. At 02:50 winter time,
        # "02:40" means ten minutes ago (winter time), not an hour and ten minutes ago.
        ("2027-10-31T02:50:00+01:00", "2027-10-31T02:40", "2027-10-31T01:40:00+00:00"),
        # At 02:30 summer time, the winter-time 02:25 is still an hour away: summer time.
        ("2027-10-31T02:30:00+02:00", "2027-10-31T02:25", "2027-10-31T00:25:00+00:00"),
        # Summer time starts at 02:00 CET: 02:00–03:00 does not exist; 02:15 is 03:15 CEST.
        ("2027-03-28T03:20:00+02:00", "2027-03-28T02:15", "2027-03-28T01:15:00+00:00"),
    ],
)
def test_entry_on_the_nights_the_clocks_change(client, world, kod, clock, now, typed, stored):
    clock.move_to(now)
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"), entry_data(world["categories"]["begging"], occurred_at=typed)
    )
    assert response.status_code == 302, text_of(response)
    with authority_scope(kod.authority):
        incident = Incident.objects.get()
    assert incident.occurred_at == dt.datetime.fromisoformat(stored)


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "0001-01-01T00:30"])
def test_a_time_before_the_first_representable_instant_is_a_message_not_an_error(client, world, kod, typed):
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"), entry_data(world["categories"]["begging"], occurred_at=typed)
    )
    assert response.status_code == 200
    assert "Zeitpunkt" in text_of(response)
    with authority_scope(kod.authority):
        assert not Incident.objects.exists()


def test_officer_records_incident_with_two_measures(client, world, kod):
    begging = world["categories"]["begging"]
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"),
        entry_data(
            begging,
            measure_types=["dispersal_order", "caution_fee"],
            caution_amount="",
            description="Passanten am Eingang bedrängt",
        ),
        follow=True,
    )
    assert response.status_code == 200
    with authority_scope(kod.authority):
        incident = Incident.objects.get()
        measures = {m.type: m for m in Measure.objects.filter(incident=incident)}
    assert response.redirect_chain[-1][0] == reverse("field:incident-detail", args=[incident.pk])
    page = text_of(response)
    assert "Feststellung gespeichert." in page
    assert set(measures) == {"dispersal_order", "caution_fee"}
    assert measures["caution_fee"].amount == 35  # the category's standard amount
    assert incident.address_text == "Platz von Leeds" and incident.recorded_by == kod
    assert "Platzverweis" in page and "Verwarnung mit Verwarnungsgeld" in page
    assert "OBV Dortmund" in page and "35,00 €" in page  # the applied rule
    assert "Zentrum" in page and "Bezirk Ost" in page  # areas

    listing = client.get(reverse("field:incident-list"))
    assert incident.pk in listed_ids(listing)
    assert "Platzverweis" in text_of(listing)


def test_entry_with_typed_german_coordinates_and_seizure(client, world, polizei):
    dealing = world["categories"]["dealing"]
    client.force_login(polizei)
    response = client.post(
        reverse("field:incident-create"),
        entry_data(
            dealing,
            lat="51,5147",
            lon="7,4636",
            measure_types=["seizure", "referral"],
            seizure_kind="cash",
            cash_amount="1.250,50".replace(".", ""),
            seizure_quantity="",
            referral_service="addiction_help",
        ),
    )
    assert response.status_code == 302
    with authority_scope(polizei.authority):
        seizure = Measure.objects.get(type="seizure")
        referral = Measure.objects.get(type="referral")
    assert str(seizure.amount) == "1250.50"
    assert referral.referral_service == "addiction_help"


def test_point_outside_city_is_shown_at_the_map(client, world, kod):
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"),
        entry_data(world["categories"]["begging"], lat=str(OUTSIDE[0]), lon=str(OUTSIDE[1])),
    )
    assert response.status_code == 200
    assert "außerhalb des Stadtgebiets" in error_text(response, "location")
    page = text_of(response)
    assert re.search(r'<details class="coordinates" open>', page)  # typed values stay visible
    assert 'value="52.52"' in page
    with unscoped():
        assert Incident.objects.count() == 0


def test_missing_location_and_category_are_reported_in_german(client, world, kod):
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"),
        {"measure_types": ["dispersal_order"], "occurred_at": "", "source": "patrol"},
    )
    assert response.status_code == 200
    assert "Bitte einen Sachverhalt wählen." in error_text(response, "id_category")
    assert "Bitte den Zeitpunkt angeben." in error_text(response, "id_occurred_at")
    assert "Bitte prüfen Sie Ihre Angaben" in text_of(response)


def summary_items(response) -> list[str]:
    box = re.search(
        r'<div class="form-errors" role="alert" id="form-errors">(.*?)</div>', text_of(response), re.S
    )
    assert box, "no error summary"
    return [
        re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", box.group(1), re.S)
    ]


def test_an_empty_submit_names_every_missing_field_at_once_in_plain_words(client, world, kod):
    client.force_login(kod)
    prefilled_time = local_input(timezone.now())
    response = client.post(
        reverse("field:incident-create"),
        {"occurred_at": prefilled_time, "source": "patrol", "lat": "", "lon": "", "address_text": ""},
    )
    assert response.status_code == 200
    assert summary_items(response) == [
        "Sachverhalt: Bitte einen Sachverhalt wählen.",
        "Bitte den Ort wählen: auf die Karte tippen, Standort verwenden oder eine Ortsangabe eingeben.",
    ]
    assert "Bitte den Ort wählen" in error_text(response, "location")
    page = text_of(response)
    assert "Breite fehlt" not in page and "Länge fehlt" not in page and "Breite (WGS84):" not in page
    assert '<a href="#entry-map">' in page  # the summary leads to the map
    assert not re.search(r'<details class="coordinates" open>', page)  # nothing typed there
    with unscoped():
        assert Incident.objects.count() == 0


def test_form_checks_and_business_rules_are_reported_in_one_round(client, world, kod, polizei):
    client.force_login(kod)
    data = entry_data(
        world["categories"]["begging"],
        lat=str(OUTSIDE[0]),
        lon=str(OUTSIDE[1]),
        measure_types=["caution_fee"],
        caution_amount="70",
    )
    data["category"] = ""
    response = client.post(reverse("field:incident-create"), data)
    items = summary_items(response)
    assert "Sachverhalt: Bitte einen Sachverhalt wählen." in items
    assert any("außerhalb des Stadtgebiets" in item for item in items)
    assert "zwischen 5 und 55 €" in error_text(response, "id_caution_amount")
    # A form message is not repeated by the rule behind it.
    response = client.post(
        reverse("field:incident-create"),
        entry_data(
            world["categories"]["begging"],
            occurred_at="",
            measure_types=["caution_fee"],
            caution_amount="viel",
        ),
    )
    assert error_text(response, "id_caution_amount").strip() == "Der Betrag ist keine Zahl."
    assert error_text(response, "id_occurred_at").strip() == "Bitte den Zeitpunkt angeben."
    # A typed half coordinate is named as such, not as a missing place.
    response = client.post(
        reverse("field:incident-create"), entry_data(world["categories"]["begging"], lon="")
    )
    assert "Bitte Breite und Länge angeben" in error_text(response, "location")
    assert re.search(r'<details class="coordinates" open>', text_of(response))
    # The police see no trace of the refused entries.
    client.force_login(polizei)
    with unscoped():
        assert Incident.objects.count() == 0


def test_quick_time_offset_keeps_the_hour_that_occurs_twice(client, world, kod, clock):
    # 02:20 winter time, the second 02:20 of the night; "vor 1 h" is the first 02:20 (summer time).
    clock.move_to("2027-10-31T02:20:00+01:00")
    client.force_login(kod)
    data = entry_data(
        world["categories"]["begging"], occurred_at="2027-10-31T02:20", occurred_at_offset="+02:00"
    )
    assert client.post(reverse("field:incident-create"), data).status_code == 302
    # Typed by hand (no offset), or an offset the zone did not have: the usual reading.
    typed = entry_data(world["categories"]["begging"], occurred_at="2027-10-31T02:20", occurred_at_offset="")
    assert client.post(reverse("field:incident-create"), typed).status_code == 302
    forged = entry_data(
        world["categories"]["begging"], occurred_at="2027-10-31T02:20", occurred_at_offset="+05:00"
    )
    assert client.post(reverse("field:incident-create"), forged).status_code == 302
    with authority_scope(kod.authority):
        times = list(Incident.objects.order_by("pk").values_list("occurred_at", flat=True))
    assert [t.isoformat() for t in times] == [
        "2027-10-31T00:20:00+00:00",
        "2027-10-31T01:20:00+00:00",
        "2027-10-31T01:20:00+00:00",
    ]


def test_caution_amount_out_of_range_is_shown_at_the_amount(client, world, kod):
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"),
        entry_data(world["categories"]["begging"], measure_types=["caution_fee"], caution_amount="70"),
    )
    assert response.status_code == 200
    message = error_text(response, "id_caution_amount")
    assert "zwischen 5 und 55 €" in message
    assert "Maßnahme 1" not in message and "Verwarnung mit Verwarnungsgeld:" not in message
    page = text_of(response)
    assert re.search(r'id="id_caution_amount"[^>]*aria-invalid="true"', page) or re.search(
        r'aria-invalid="true"[^>]*id="id_caution_amount"', page
    )
    with unscoped():
        assert Incident.objects.count() == 0


def test_caution_fee_for_category_without_caution_and_police_only_measure(client, world, kod):
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"),
        entry_data(world["categories"]["drugs"], measure_types=["caution_fee"], caution_amount="20"),
    )
    assert "kein Verwarnungsgeld vorgesehen" in error_text(response, "id_measure_types")
    response = client.post(
        reverse("field:incident-create"),
        entry_data(world["categories"]["drugs"], measure_types=["custody"]),
    )
    assert "steht Ihrer Behörde nicht zur Verfügung" in error_text(response, "id_measure_types")
    response = client.post(
        reverse("field:incident-create"),
        entry_data(world["categories"]["drugs"], caution_amount="viel", measure_types=["caution_fee"]),
    )
    assert "keine Zahl" in error_text(response, "id_caution_amount")


def test_officer_creates_person_and_pseudonym_is_audited(client, world, kod, analyst, polizei):
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"),
        entry_data(
            world["categories"]["drugs"],
            measure_types=["dispersal_order", "referral"],
            referral_service="street_social_work",
            create_person="on",
            person_age_group="18-20",
            joint="on",
        ),
    )
    assert response.status_code == 302
    with authority_scope(kod.authority):
        incident = Incident.objects.get()
        person = Person.objects.get()
        assert set(Measure.objects.values_list("person_id", flat=True)) == {person.pk}
    assert incident.joint

    before = AuditEvent.objects.filter(action="field.person.viewed").count()
    detail = client.get(reverse("field:incident-detail", args=[incident.pk]))
    assert person.pseudonym in text_of(detail)
    assert "18–20" in text_of(detail)
    events = AuditEvent.objects.filter(action="field.person.viewed")
    assert events.count() == before + 1
    event = events.first()
    assert event.user == kod and event.object_id == str(incident.pk)
    assert event.detail["persons"] == [person.pseudonym]

    # Analysts see the record but never the person reference, and nothing is logged.
    client.force_login(analyst)
    detail = client.get(reverse("field:incident-detail", args=[incident.pk]))
    assert detail.status_code == 200
    assert person.pseudonym not in text_of(detail)
    assert "Person (pseudonym)" not in text_of(detail)
    # The police sees the joint incident, but persons are never shared between authorities.
    client.force_login(polizei)
    detail = client.get(reverse("field:incident-detail", args=[incident.pk]))
    assert detail.status_code == 200
    assert person.pseudonym not in text_of(detail)
    assert "Person der Partnerbehörde" in text_of(detail)
    assert AuditEvent.objects.filter(action="field.person.viewed").count() == before + 1


def test_person_requires_a_measure(client, world, kod):
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"),
        entry_data(world["categories"]["begging"], measure_types=[], create_person="on"),
    )
    assert "mindestens eine Maßnahme" in error_text(response, "id_create_person")
    with unscoped():
        assert Person.objects.count() == 0


def test_failed_entry_leaves_no_person_behind(client, world, kod):
    client.force_login(kod)
    response = client.post(
        reverse("field:incident-create"),
        entry_data(
            world["categories"]["begging"], create_person="on", lat=str(OUTSIDE[0]), lon=str(OUTSIDE[1])
        ),
    )
    assert response.status_code == 200
    with unscoped():
        assert Person.objects.count() == 0


# --- authority separation ---------------------------------------------------------------------


def test_city_cannot_see_police_only_incident_but_both_see_joint(client, world, kod, polizei):
    begging = world["categories"]["begging"]
    police_only = record(polizei, begging)
    joint = record(polizei, begging, joint=True)
    city_only = record(kod, begging)

    client.force_login(kod)
    assert client.get(reverse("field:incident-detail", args=[police_only.pk])).status_code == 404
    assert "nicht gefunden" in text_of(client.get(reverse("field:incident-detail", args=[police_only.pk])))
    assert listed_ids(client.get(reverse("field:incident-list"))) == {joint.pk, city_only.pk}
    assert client.get(reverse("field:incident-detail", args=[joint.pk])).status_code == 200
    assert (
        client.post(reverse("field:measure-add", args=[police_only.pk]), {"type": "contact"}).status_code
        == 404
    )

    client.force_login(polizei)
    assert listed_ids(client.get(reverse("field:incident-list"))) == {joint.pk, police_only.pk}
    assert client.get(reverse("field:incident-detail", args=[city_only.pk])).status_code == 404
    detail = client.get(reverse("field:incident-detail", args=[joint.pk]))
    assert "gemeinsamer Vorgang" in text_of(detail)


def test_unknown_incident_is_404(client, world, kod):
    client.force_login(kod)
    assert client.get(reverse("field:incident-detail", args=[999999])).status_code == 404


# --- list filters -----------------------------------------------------------------------------


def test_list_filters_by_category_measure_area_date_and_authority(client, world, kod, kod_lead, polizei):
    cats = world["categories"]
    areas = world["areas"]
    now = timezone.now()
    begging_west = record(kod, cats["begging"], point=WEST, at=now - dt.timedelta(days=1))
    drugs_east = record(
        kod, cats["drugs"], point=EAST, measures=("offence_report",), at=now - dt.timedelta(days=1)
    )
    old = record(kod, cats["begging"], point=EAST, at=now - dt.timedelta(days=40))
    joint_police = record(polizei, cats["drugs"], point=WEST, measures=("contact",), joint=True)
    url = reverse("field:incident-list")
    client.force_login(kod)

    assert listed_ids(client.get(url, {"category": cats["begging"].pk})) == {begging_west.pk, old.pk}
    assert listed_ids(client.get(url, {"measure_type": "offence_report"})) == {drugs_east.pk}
    assert listed_ids(client.get(url, {"area": areas["east"].pk})) == {drugs_east.pk, old.pk}
    recent = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert listed_ids(client.get(url, {"date_from": recent})) == {
        begging_west.pk,
        drugs_east.pk,
        joint_police.pk,
    }
    german_to = (timezone.localdate() - dt.timedelta(days=30)).strftime("%d.%m.%Y")
    assert listed_ids(client.get(url, {"date_to": german_to})) == {old.pk}
    assert listed_ids(client.get(url, {"authority": polizei.authority_id})) == {joint_police.pk}
    assert listed_ids(client.get(url, {"authority": kod.authority_id})) == {
        begging_west.pk,
        drugs_east.pk,
        old.pk,
    }
    assert listed_ids(client.get(url, {"joint": "1"})) == {joint_police.pk}
    assert listed_ids(client.get(url, {"area": areas["west"].pk, "measure_type": "contact"})) == {
        joint_police.pk
    }

    # Exports get the same filter query string (shift leads export; field officers do not, issue 13).
    assert "export.csv" not in client.get(url).content.decode()
    client.force_login(kod_lead)
    page = client.get(url, {"category": cats["begging"].pk, "area": ""}).content.decode()
    assert f'{reverse("field:incident-export-table")}?category={cats["begging"].pk}"' in page
    import_format = reverse("field:incident-export-csv")
    assert f'{import_format}?delimiter=semicolon&amp;category={cats["begging"].pk}"' in page
    assert f'{reverse("field:incident-export-geojson")}?category={cats["begging"].pk}"' in page


@pytest.mark.parametrize(
    ("params", "field_id", "message"),
    [
        ({"date_from": "gestern"}, "id_date_from", "Bitte ein Datum"),
        ({"date_from": "2024-02-30"}, "id_date_from", "Bitte ein Datum"),
        ({"date_from": "2025-05-01", "date_to": "2025-04-01"}, "id_date_to", "Enddatum liegt vor"),
        ({"area": "abc"}, "id_area", "aus der Liste"),
        ({"category": "999999"}, "id_category", "aus der Liste"),
        ({"measure_type": "folter"}, "id_measure_type", "aus der Liste"),
        ({"authority": "-1"}, "id_authority", "aus der Liste"),
    ],
)
def test_bad_filter_input_is_a_message_not_an_error(client, world, kod, params, field_id, message):
    record(kod, world["categories"]["begging"])
    client.force_login(kod)
    response = client.get(reverse("field:incident-list"), params)
    assert response.status_code == 200
    assert message in error_text(response, field_id)
    assert len(listed_ids(response)) == 1  # the bad filter is not applied


def test_list_is_paginated_by_fifty(client, world, kod):
    begging = world["categories"]["begging"]
    for _ in range(51):
        record(kod, begging)
    client.force_login(kod)
    first = client.get(reverse("field:incident-list"))
    assert len(listed_ids(first)) == 50
    assert "Seite 1 von 2" in text_of(first)
    second = client.get(reverse("field:incident-list"), {"seite": "2"})
    assert len(listed_ids(second)) == 1
    assert client.get(reverse("field:incident-list"), {"seite": "x"}).status_code == 200


def test_import_link_only_for_importers(client, world, kod, kod_lead):
    client.force_login(kod)
    assert reverse("field:incident-import") not in client.get(reverse("field:incident-list")).content.decode()
    client.force_login(kod_lead)
    assert reverse("field:incident-import") in client.get(reverse("field:incident-list")).content.decode()


# --- later measures ---------------------------------------------------------------------------


def test_officer_adds_later_measure_and_errors_are_shown(client, world, kod, leadership):
    incident = record(kod, world["categories"]["begging"])
    url = reverse("field:measure-add", args=[incident.pk])
    client.force_login(kod)
    response = client.post(url, {"type": "criminal_complaint", "note": "Anzeige nachgereicht"})
    assert response.status_code == 302
    with authority_scope(kod.authority):
        assert Measure.objects.filter(incident=incident, type="criminal_complaint").exists()
    response = client.post(url, {"type": "caution_fee", "amount": "70"})
    assert response.status_code == 200
    assert "zwischen 5 und 55 €" in error_text(response, "id_amount")
    assert client.get(url).status_code == 405

    client.force_login(leadership)
    assert client.post(url, {"type": "contact"}).status_code == 403
    detail = client.get(reverse("field:incident-detail", args=[incident.pk]))
    assert "Maßnahme nachtragen" not in text_of(detail)


# --- overview ---------------------------------------------------------------------------------


def test_overview_numbers_equal_direct_counts(client, world, kod, polizei):
    cats = world["categories"]
    now = timezone.now()
    record(kod, cats["begging"], point=WEST, measures=("dispersal_order", "caution_fee"))
    record(kod, cats["begging"], point=EAST, measures=("dispersal_order",), at=now - dt.timedelta(days=2))
    record(kod, cats["drugs"], point=EAST, measures=("offence_report",), at=now - dt.timedelta(days=20))
    record(polizei, cats["drugs"], point=WEST, measures=("contact",))  # invisible for the city
    record(polizei, cats["drugs"], point=WEST, measures=("contact",), joint=True)

    client.force_login(kod)
    response = client.get(reverse("field:overview"))
    assert response.status_code == 200
    figures = response.context["figures"]
    start = timezone.localdate() - dt.timedelta(days=6)
    with authority_scope(kod.authority):
        visible = Incident.objects.filter(
            occurred_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=timezone.get_current_timezone())
        )
        assert figures.incident_count == visible.count() == 3
        assert figures.measure_count == Measure.objects.filter(incident__in=visible).count() == 4
    by_category = {row["category__name"]: row["count"] for row in figures.by_category}
    assert by_category == {"Aggressives Betteln": 2, "Drogenkonsum öffentlich": 1}
    by_area = {row["area__name"]: row["count"] for row in figures.by_area}
    assert by_area == {"Bezirk West": 2, "Bezirk Ost": 1}
    page = text_of(response)
    assert "Aktivität" in page and "nicht wie groß das Problem ist" in page
    assert re.search(r"<th scope=\"row\">Platzverweis</th>\s*<td class=\"num\">2</td>", page)

    month = client.get(reverse("field:overview"), {"period": "28d"}).context["figures"]
    assert month.incident_count == 4
    west = client.get(reverse("field:overview"), {"period": "28d", "area": world["areas"]["west"].pk})
    assert west.context["figures"].incident_count == 2


def test_overview_bad_input_falls_back(client, world, kod):
    client.force_login(kod)
    response = client.get(reverse("field:overview"), {"date_from": "31.02.2025", "period": "nie"})
    assert response.status_code == 200
    assert "Bitte ein Datum" in error_text(response, "id_date_from")


def test_overview_points_return_only_visible_points(client, world, kod, polizei):
    begging = world["categories"]["begging"]
    own = record(kod, begging)
    joint = record(polizei, begging, joint=True, point=EAST)
    record(polizei, begging)
    record(kod, begging, at=timezone.now() - dt.timedelta(days=20))  # outside the default week

    client.force_login(kod)
    data = client.get(reverse("field:overview-points")).json()
    assert data["type"] == "FeatureCollection"
    assert {f["id"] for f in data["features"]} == {own.pk, joint.pk}
    feature = next(f for f in data["features"] if f["id"] == joint.pk)
    assert feature["geometry"] == {"type": "Point", "coordinates": [EAST[1], EAST[0]]}
    assert feature["properties"]["category"] == "Aggressives Betteln"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", feature["properties"]["time"])

    month = client.get(reverse("field:overview-points"), {"period": "28d"}).json()
    assert len(month["features"]) == 3
    client.force_login(polizei)
    police = client.get(reverse("field:overview-points")).json()
    assert own.pk not in {f["id"] for f in police["features"]}
