"""CSV import of incidents with measures; CSV and GeoJSON export of filtered incidents."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from lagebild.core.models import AuditEvent
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services
from lagebild.field.exporter import format_measure, local_time_text, measure_in_words
from lagebild.field.filters import filters_from_querydict
from lagebild.field.importer import (
    COLUMNS,
    import_incidents,
    parse_measure,
    parse_occurred_at,
    sample_csv,
)
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, IncidentArea, Measure

from .conftest import CITY_BOUNDS, INSIDE, OUTSIDE

HEADER = ",".join(COLUMNS)
# A box well inside the test city (which is a rectangle).
INNER = (CITY_BOUNDS[0] + 0.01, CITY_BOUNDS[1] + 0.01, CITY_BOUNDS[2] - 0.01, CITY_BOUNDS[3] - 0.01)


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    # Tests run without collectstatic; the manifest storage would fail on {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def row(**values: str) -> str:
    defaults = {
        "external_id": "",
        "occurred_at": "2025-03-01T10:00:00+01:00",
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        "address_text": "Platz von Leeds",
        "category": "aggressive-begging",
        "source": "patrol",
        "description": "",
        "joint": "nein",
        "measures": "dispersal_order",
    }
    defaults.update(values)
    buffer = io.StringIO()
    csv.writer(buffer).writerow([defaults[c] for c in COLUMNS])
    return buffer.getvalue().removesuffix("\r\n")


def csv_file(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def incidents_of(user) -> list[Incident]:
    with authority_scope(user.authority):
        return list(Incident.objects.order_by("occurred_at", "id"))


def messages(result) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, e.message) for e in result.errors]


# --- parsing ------------------------------------------------------------------------------


def test_measure_notation_is_parsed():
    cash = parse_measure("seizure:cash:1200")
    assert (cash.type, cash.seizure_kind, cash.amount) == ("seizure", "cash", Decimal("1200"))
    drugs = parse_measure("seizure:drugs:12,5g")
    assert (drugs.seizure_kind, drugs.quantity, drugs.quantity_unit) == ("drugs", Decimal("12.5"), "g")
    weapon = parse_measure("seizure:weapon:1")
    assert (weapon.seizure_kind, weapon.quantity, weapon.amount) == ("weapon", Decimal("1"), None)
    assert parse_measure("caution_fee:35").amount == Decimal("35")
    assert parse_measure("referral:addiction_help").referral_service == "addiction_help"
    assert parse_measure(" Dispersal_Order ").type == "dispersal_order"


def test_measure_notation_round_trips_through_export_format():
    for text in (
        "caution_fee:35",
        "seizure:cash:1200",
        "seizure:drugs:12.5g",
        "seizure:weapon:1",
        "referral:addiction_help",
        "custody",
        "seizure:other",
    ):
        measure = parse_measure(text)
        assert format_measure(vars(measure)) == text


def test_times_in_iso_and_german_notation():
    berlin = timezone.get_default_timezone()
    expected = dt.datetime(2026, 1, 22, 14, 30, tzinfo=berlin)
    assert parse_occurred_at("22.01.2026 14:30") == expected
    assert parse_occurred_at("2026-01-22 14:30") == expected
    assert parse_occurred_at("2026-01-22T13:30:00Z") == expected
    assert parse_occurred_at("2026-01-22T14:30:00+01:00") == expected
    for bad in ("", "22.01.2026", "2026-01-22", "gestern", "31.02.2026 10:00"):
        with pytest.raises(ValueError):
            parse_occurred_at(bad)


def test_filters_from_querydict_uses_list_page_parameter_names(world):
    categories = world["categories"]
    query = QueryDict(mutable=True)
    query.update(
        {
            "date_from": "2025-01-01",
            "date_to": "2025-01-31",
            "area": str(world["areas"]["west"].pk),
            "measure_type": "dispersal_order",
            "source": "patrol",
            "joint": "ja",
            "authority": "7",
        }
    )
    query.setlist("category", [str(categories["begging"].pk), str(categories["drugs"].pk)])
    filters, errors = filters_from_querydict(query)
    assert errors == {}
    assert filters.date_from == dt.date(2025, 1, 1) and filters.date_to == dt.date(2025, 1, 31)
    assert filters.area_id == world["areas"]["west"].pk
    assert filters.category_ids == [categories["begging"].pk, categories["drugs"].pk]
    assert (filters.measure_type, filters.source, filters.joint, filters.authority_id) == (
        "dispersal_order",
        "patrol",
        True,
        7,
    )

    filters, errors = filters_from_querydict(
        QueryDict("date_from=gestern&category=x&measure_type=foo&joint=vielleicht&source=?")
    )
    assert set(errors) == {"date_from", "category", "measure_type", "joint", "source"}
    assert filters.date_from is None and filters.category_ids == [] and filters.joint is None


# --- import -------------------------------------------------------------------------------


def test_sample_file_imports_incidents_areas_measures_and_one_audit_event(world, kod_lead):
    text = sample_csv(
        300,
        7,
        ["aggressive-begging", "drug-consumption-public"],
        INNER,
        caution_categories=["aggressive-begging"],
    )
    progress: list[tuple[int, int, str]] = []
    result = import_incidents(
        user=kod_lead, data=text.encode(), file_name="probe.csv", progress=lambda *args: progress.append(args)
    )
    assert result.ok, result.errors[:3]
    assert result.imported == 300
    with unscoped():
        assert Incident.objects.count() == 300
        assert Measure.objects.count() == result.measures > 0
        assert not Incident.objects.exclude(authority=kod_lead.authority).exists()
        assert set(Measure.objects.values_list("taken_by", flat=True)) == {kod_lead.pk}
        # Every point lies in the city and in exactly one of the two districts.
        assert IncidentArea.objects.filter(area=world["areas"]["city"]).count() == 300
        districts = IncidentArea.objects.filter(area__in=[world["areas"]["west"], world["areas"]["east"]])
        assert districts.count() == 300
        incident = Incident.objects.first()
        assert incident.h3_cell and incident.x_utm > 0 and incident.category_rule_id
    events = AuditEvent.objects.filter(action="field.incidents.imported")
    assert events.count() == 1
    assert events.get().detail["imported"] == 300 and events.get().detail["file"] == "probe.csv"
    assert progress[-1] == (300, 300, "written")


def test_measures_are_taken_by_importer_at_occurred_at(world, kod_lead):
    text = csv_file(
        row(
            occurred_at="22.11.2024 14:30",
            measures="caution_fee|seizure:cash:1200|seizure:drugs:12,5g|referral:addiction_help",
        )
    )
    result = import_incidents(user=kod_lead, data=text)
    assert result.ok, result.errors
    incident = incidents_of(kod_lead)[0]
    assert timezone.localtime(incident.occurred_at).strftime("%d.%m.%Y %H:%M") == "22.11.2024 14:30"
    with authority_scope(kod_lead.authority):
        measures = list(Measure.objects.filter(incident=incident).order_by("id"))
    # caution_fee without amount takes the rule's amount, as in the entry form.
    assert [(m.type, m.amount, m.seizure_kind, m.quantity, m.referral_service) for m in measures] == [
        ("caution_fee", Decimal("35"), "", None, ""),
        ("seizure", Decimal("1200"), "cash", None, ""),
        ("seizure", None, "drugs", Decimal("12.5"), ""),
        ("referral", None, "", None, "addiction_help"),
    ]
    assert {m.taken_at for m in measures} == {incident.occurred_at}
    assert {m.taken_by_id for m in measures} == {kod_lead.pk}


def test_invalid_row_means_nothing_is_imported(world, kod_lead):
    text = csv_file(row(), row(category="gibt-es-nicht"), row())
    result = import_incidents(user=kod_lead, data=text)
    assert result.imported == 0
    assert messages(result) == [(3, "category", "Unbekannter Sachverhalt „gibt-es-nicht“.")]
    assert incidents_of(kod_lead) == []
    assert not AuditEvent.objects.filter(action="field.incidents.imported").exists()


def test_skip_invalid_imports_the_valid_rows(world, kod_lead):
    text = csv_file(row(external_id="a"), row(category="gibt-es-nicht"), row(external_id="c"))
    result = import_incidents(user=kod_lead, data=text, skip_invalid=True)
    assert (result.imported, result.skipped, result.invalid_rows) == (2, 1, 1)
    assert [i.external_id for i in incidents_of(kod_lead)] == ["a", "c"]


def test_text_times_and_numbers_are_stored_exactly(world, kod_lead, police_lead):
    # Whatever the bulk path of the database (binary COPY on PostgreSQL), every character
    # and value arrives unchanged, also next to a skipped row.
    description = (
        "Tab\tmitten, CR\r\nLF\nBackslash \\ und \\N und \\t, \"Zitat\" 'x' – Ärger über Öl, "
        "Grüße 👮\u200d♀️🚓 ß\x7f\x01 Ende"
    )
    address = 'Straße\\Ecke\t"Münster" 😀'
    external_id = "Ä\\N\t😀-1"
    text = csv_file(
        row(
            external_id=external_id,
            occurred_at="2025-03-01T10:00:00.123456+01:00",
            lat="51.512345",
            lon="7.465432",
            address_text=address,
            description=description,
            measures="seizure:cash:1200,55|seizure:drugs:2,5 Stück",
        ),
        row(category="gibt-es-nicht", description="ungültig\tTab"),
        row(external_id="plain", description="\\", address_text="\\N"),
    )
    result = import_incidents(user=kod_lead, data=text, skip_invalid=True)
    assert (result.imported, result.measures, result.skipped) == (2, 3, 1)
    special, plain = sorted(incidents_of(kod_lead), key=lambda i: i.external_id != external_id)
    assert (special.external_id, special.address_text) == (external_id, address)
    assert special.description == description
    assert special.occurred_at == dt.datetime(2025, 3, 1, 9, 0, 0, 123456, tzinfo=dt.UTC)
    assert (special.lat, special.lon) == (51.512345, 7.465432)
    assert (plain.external_id, plain.description, plain.address_text) == ("plain", "\\", "\\N")
    with authority_scope(kod_lead.authority):
        measures = list(Measure.objects.filter(incident=special).order_by("id"))
    assert [(m.amount, m.quantity, m.quantity_unit) for m in measures] == [
        (Decimal("1200.55"), None, ""),
        (None, Decimal("2.5"), "Stück"),
    ]
    with authority_scope(police_lead.authority):
        assert not Incident.objects.filter(external_id__in=[external_id, "plain"]).exists()


FUTURE = (timezone.now() + dt.timedelta(days=2)).strftime("%d.%m.%Y %H:%M")


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"category": "gibt-es-nicht"}, "category", "Unbekannter Sachverhalt „gibt-es-nicht“."),
        ({"occurred_at": "32.13.2025 10:00"}, "occurred_at", "Ungültiger Zeitpunkt"),
        ({"occurred_at": ""}, "occurred_at", "Bitte den Zeitpunkt angeben."),
        ({"occurred_at": FUTURE}, "occurred_at", "Der Zeitpunkt liegt in der Zukunft."),
        ({"occurred_at": "1999-12-31 10:00"}, "occurred_at", "Der Zeitpunkt liegt vor dem Jahr 2000."),
        ({"lat": str(OUTSIDE[0]), "lon": str(OUTSIDE[1])}, "lat", "außerhalb des Stadtgebiets"),
        ({"lat": "abc"}, "lat", "Breite ist keine Zahl"),
        ({"lon": "200"}, "lon", "Länge muss zwischen"),
        ({"measures": "custody"}, "measures", "Diese Maßnahme darf nur die Polizei treffen."),
        ({"measures": "caution_fee:70"}, "measures", "Der Betrag muss zwischen 5 und 55 € liegen"),
        ({"measures": "caution_fee:3"}, "measures", "Der Betrag muss zwischen 5 und 55 € liegen"),
        (
            {"category": "drug-consumption-public", "measures": "caution_fee:20"},
            "measures",
            "Für diesen Sachverhalt ist kein Verwarnungsgeld vorgesehen.",
        ),
        ({"measures": "dispersal_order|beamen"}, "measures", "Maßnahme 2: Unbekannte Maßnahme 'beamen'."),
        ({"measures": "seizure:cash"}, "measures", "Bargeldbetrag"),
        ({"measures": "referral"}, "measures", "Hilfeangebot"),
        ({"measures": "contact:3"}, "measures", "Für diese Maßnahme ist kein Wert vorgesehen."),
        ({"source": "brieftaube"}, "source", "Unbekannte Quelle"),
        ({"joint": "vielleicht"}, "joint", "Bitte „ja“ oder „nein“ angeben."),
        (
            {"description": "x" * 4001},
            "description",
            "Die Beschreibung ist zu lang (höchstens 4000 Zeichen).",
        ),
        ({"address_text": "x" * 201}, "address_text", "Die Ortsangabe ist zu lang (höchstens 200 Zeichen)."),
        ({"external_id": "x" * 65}, "external_id", "Die externe Kennung ist zu lang"),
    ],
)
def test_each_error_is_reported_with_its_line(world, kod_lead, values, column, message):
    text = csv_file(row(), row(), row(**values), row())
    result = import_incidents(user=kod_lead, data=text)
    assert result.imported == 0
    assert [(e.line, e.column) for e in result.errors] == [(4, column)]
    assert message in result.errors[0].message


def test_police_only_measure_is_fine_for_police(world, police_lead):
    result = import_incidents(user=police_lead, data=csv_file(row(measures="custody|exclusion_order")))
    assert result.ok and result.measures == 2


def test_line_numbers_count_physical_lines_with_multiline_text(world, kod_lead):
    text = csv_file(row(description="erste Zeile\nzweite Zeile"), row(), row(category="x"))
    result = import_incidents(user=kod_lead, data=text)
    assert messages(result)[0][:2] == (5, "category")


def test_missing_columns_are_reported_once(world, kod_lead):
    text = "external_id,occurred_at,lon,address_text\n1,2025-03-01 10:00,7.46,a\n2,2025-03-01 10:00,7.46,b\n"
    result = import_incidents(user=kod_lead, data=text)
    assert result.imported == 0
    assert [(e.line, e.column) for e in result.errors] == [(1, "lat"), (1, "category")]
    assert "Pflichtspalte „lat“ fehlt" in result.errors[0].message


def test_duplicate_external_id_in_file_and_already_stored(world, kod_lead, polizei):
    first = import_incidents(user=kod_lead, data=csv_file(row(external_id="K-1")))
    assert first.imported == 1
    text = csv_file(
        row(external_id="K-2", occurred_at="2025-03-02 10:00"),
        row(external_id="K-1"),
        row(external_id="K-2", occurred_at="2025-03-01 09:00"),
    )
    result = import_incidents(user=kod_lead, data=text)
    assert result.imported == 0
    assert messages(result) == [
        (3, "external_id", "Die Feststellung „K-1“ wurde bereits importiert."),
        (4, "external_id", "Die externe Kennung „K-2“ kommt in der Datei mehrfach vor (zuerst in Zeile 2)."),
    ]
    # External ids are unique per authority: the police may use the same one.
    police_lead = polizei
    police_lead.role = "shift_lead"
    police_lead.save()
    assert import_incidents(user=police_lead, data=csv_file(row(external_id="K-1"))).imported == 1
    # Re-importing the same file with --skip-invalid only adds the new rows.
    again = import_incidents(user=kod_lead, data=text, skip_invalid=True)
    assert (again.imported, again.skipped) == (1, 2)


def test_external_id_stored_meanwhile_rolls_everything_back(world, kod_lead, monkeypatch):
    # Another import stores the same external id between our check and our write: the
    # database constraint catches it and nothing of this file is kept.
    from lagebild.field import importer

    assert import_incidents(user=kod_lead, data=csv_file(row(external_id="X-2"))).imported == 1
    monkeypatch.setattr(importer, "_check_external_ids", lambda *args: None)
    result = import_incidents(user=kod_lead, data=csv_file(row(external_id="X-1"), row(external_id="X-2")))
    assert "Es wurde nichts importiert" in result.file_error
    assert [i.external_id for i in incidents_of(kod_lead)] == ["X-2"]


def test_semicolon_decimal_comma_bom_and_german_dates(world, kod_lead):
    header = ";".join(COLUMNS)
    lines = [
        header,
        'E-1;22.11.2024 14:30;51,5147;7,4636;Platz von Leeds;aggressive-begging;;"Gruppe; laut";ja;'
        "caution_fee:35,00|seizure:cash:1200,50",
        "E-2;2024-11-22 15:00;51,52;7,43;;littering;citizen_report;;nein;",
    ]
    data = "\ufeff".encode() + "\r\n".join(lines).encode("utf-8") + b"\r\n"
    result = import_incidents(user=kod_lead, data=data)
    assert result.ok, result.errors
    first, second = incidents_of(kod_lead)
    assert (first.lat, first.lon, first.joint, first.description) == (51.5147, 7.4636, True, "Gruppe; laut")
    assert first.source == "patrol" and second.source == "citizen_report"
    with authority_scope(kod_lead.authority):
        amounts = sorted(Measure.objects.values_list("amount", flat=True))
    assert amounts == [Decimal("35"), Decimal("1200.50")]


def test_rule_of_the_day_applies(world, kod_lead):
    # Littering: caution fee 15 € until 2018, 50 € since 2019 (see conftest).
    text = csv_file(
        row(category="littering", occurred_at="10.06.2018 12:00", measures="caution_fee"),
        row(category="littering", occurred_at="10.06.2024 12:00", measures="caution_fee"),
    )
    assert import_incidents(user=kod_lead, data=text).ok
    with authority_scope(kod_lead.authority):
        amounts = list(Measure.objects.order_by("taken_at").values_list("amount", flat=True))
    assert amounts == [Decimal("15"), Decimal("50")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Die Datei ist leer."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "keine Textdatei"),
        ("occurred_at,lat,lon,category\nä".encode("latin-1"), "nicht UTF-8-kodiert"),
        (b"occurred_at,lat,lon,category\n", "nur die Kopfzeile"),
        (('occurred_at,lat,lon,category\n"' + "x" * 200_000 + "\n").encode(), "Ein Feld ist zu lang"),
    ],
)
def test_unreadable_files_give_a_message(world, kod_lead, data, message):
    result = import_incidents(user=kod_lead, data=data)
    assert message in result.file_error
    assert result.imported == 0


def test_import_requires_role(world, kod):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_incidents(user=kod, data=csv_file(row()))


# --- export and round trip ----------------------------------------------------------------


@pytest.fixture
def recorded(world, kod, polizei, now):
    """City-only, police-only and joint incidents with all kinds of measures."""
    cats = world["categories"]
    made = {}
    with authority_scope(kod.authority):
        made["person"] = services.person_create(user=kod, age_group="21+")
        made["city"] = services.incident_create(
            user=kod,
            category=cats["begging"],
            occurred_at=now - dt.timedelta(hours=3),
            lat=INSIDE[0],
            lon=INSIDE[1],
            address_text="=Platz von Leeds",
            description='Gruppe, laut; "Zitat"\tTab \\ Backslash\nZeile 2',
            measures=[
                MeasureInput(type="caution_fee", amount=Decimal("35")),
                MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("1200")),
                MeasureInput(
                    type="seizure", seizure_kind="drugs", quantity=Decimal("12.5"), quantity_unit="g"
                ),
                MeasureInput(type="referral", referral_service="addiction_help"),
            ],
        )
        made["joint"] = services.incident_create(
            user=kod,
            category=cats["drugs"],
            occurred_at=now - dt.timedelta(hours=2),
            lat=51.52,
            lon=7.43,
            measures=[MeasureInput(type="dispersal_order", person_pseudonym=made["person"].pseudonym)],
            joint=True,
            source="citizen_report",
        )
    with authority_scope(polizei.authority):
        made["police"] = services.incident_create(
            user=polizei,
            category=cats["dealing"],
            occurred_at=now - dt.timedelta(hours=1),
            lat=51.50,
            lon=7.50,
            measures=[
                MeasureInput(type="custody"),
                MeasureInput(type="seizure", seizure_kind="weapon", quantity=Decimal("1")),
            ],
        )
    return made


def download(client, user, name="field:incident-export-csv", **params) -> tuple:
    client.force_login(user)
    response = client.get(reverse(name), params)
    body = b"".join(response.streaming_content).decode("utf-8") if response.status_code == 200 else ""
    return response, body


def csv_rows(body: str, delimiter: str = ",") -> list[dict[str, str]]:
    """The rows of a CSV export; every export starts with a byte order mark for Excel."""
    assert body.startswith("\ufeff"), "the export starts with a UTF-8 BOM"
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff")), delimiter=delimiter))


def snapshot(user) -> list[tuple]:
    with authority_scope(user.authority):
        return [
            (
                i.occurred_at.replace(microsecond=0),
                i.lat,
                i.lon,
                i.category_id,
                i.source,
                i.description,
                i.address_text,
                i.joint,
                [
                    (m.type, m.amount, m.seizure_kind, m.quantity, m.quantity_unit, m.referral_service)
                    for m in Measure.objects.filter(incident=i).order_by("id")
                ],
            )
            for i in Incident.objects.filter(authority=user.authority).order_by("occurred_at")
        ]


@pytest.mark.parametrize("delimiter", ["", "semicolon"])
def test_export_reimports_to_the_same_records(client, recorded, kod, kod_lead, delimiter):
    before = snapshot(kod)
    response, body = download(client, kod_lead, delimiter=delimiter)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    # Both variants start with a UTF-8 BOM, so Excel shows umlauts; the import skips it.
    assert body.startswith("\ufeff")
    # Importing it again into the same installation is recognised …
    again = import_incidents(user=kod_lead, data=body.encode())
    assert again.imported == 0 and len(again.errors) == 2
    assert all("bereits importiert" in e.message for e in again.errors)
    # … and after deleting the originals, the import recreates them field by field.
    with unscoped():
        Incident.objects.filter(authority=kod.authority).delete()
    result = import_incidents(user=kod_lead, data=body.encode())
    assert result.ok, result.errors
    # The export holds the city's own and the joint incident, never the police-only one.
    assert result.imported == 2
    assert snapshot(kod) == before


def test_police_export_never_contains_city_only_incidents(client, recorded, police_lead):
    _, body = download(client, police_lead)
    ids = {r["external_id"] for r in csv_rows(body)}
    assert ids == {f"lagebild-{recorded['joint'].pk}", f"lagebild-{recorded['police'].pk}"}
    _, body = download(client, police_lead, "field:incident-export-geojson")
    data = json.loads(body)
    assert {f["properties"]["id"] for f in data["features"]} == {recorded["joint"].pk, recorded["police"].pk}


def test_city_import_is_visible_to_the_city_only(world, kod_lead, police_lead):
    assert import_incidents(user=kod_lead, data=csv_file(row(external_id="nur-stadt"))).imported == 1
    with authority_scope(police_lead.authority):
        assert not Incident.objects.filter(external_id="nur-stadt").exists()
        assert not Measure.objects.exists()
    with authority_scope(kod_lead.authority):
        assert Incident.objects.get(external_id="nur-stadt").authority == kod_lead.authority


def test_geojson_export_has_points_properties_and_no_person_data(client, recorded, kod_lead, world):
    response, body = download(client, kod_lead, "field:incident-export-geojson")
    assert response["Content-Type"].startswith("application/geo+json")
    data = json.loads(body)
    assert data["type"] == "FeatureCollection"
    feature = next(f for f in data["features"] if f["id"] == recorded["city"].pk)
    assert feature["geometry"] == {"type": "Point", "coordinates": [INSIDE[1], INSIDE[0]]}
    props = feature["properties"]
    assert props["category"] == "aggressive-begging" and props["category_name"] == "Aggressives Betteln"
    assert props["authority"] == "stadt" and props["joint"] is False
    assert props["occurred_at"] == timezone.localtime(recorded["city"].occurred_at).isoformat(
        timespec="seconds"
    )
    assert set(props["areas"]) == {"testcity", "east", "centre"}
    assert [m["type"] for m in props["measures"]] == ["caution_fee", "seizure", "seizure", "referral"]
    assert props["measures"][1] == {
        "type": "seizure",
        "label": "Sicherstellung / Beschlagnahme",
        "amount": 1200.0,
        "seizure_kind": "cash",
    }
    # Nothing about persons: no pseudonym, no officer who recorded or took a measure.
    assert recorded["person"].pseudonym not in body and "person" not in body
    assert "Kim" not in body and kod_lead.username not in body and "recorded_by" not in body
    _, csv_body = download(client, kod_lead)
    assert recorded["person"].pseudonym not in csv_body and "Kim" not in csv_body


def test_export_applies_list_filters_and_is_audited(client, recorded, kod_lead, world):
    _, body = download(client, kod_lead, category=world["categories"]["drugs"].pk)
    rows = list(csv_rows(body))
    assert [r["category"] for r in rows] == ["drug-consumption-public"]
    _, body = download(client, kod_lead, joint="nein", measure_type="caution_fee")
    assert [r["external_id"] for r in csv_rows(body)] == [f"lagebild-{recorded['city'].pk}"]
    event = AuditEvent.objects.filter(action="field.incidents.exported").order_by("-id").first()
    assert event.detail["count"] == 1 and event.detail["filters"] == {
        "measure_type": "caution_fee",
        "joint": "0",
    }
    assert event.user == kod_lead


def test_excel_export_guards_formulas_and_import_takes_the_guard_off(client, recorded, kod, kod_lead):
    _, body = download(client, kod_lead, delimiter="semicolon")
    assert ";'=Platz von Leeds;" in body
    assert "51,5147" in body and ";nein;" in body


# --- the readable table -----------------------------------------------------------------


def test_readable_export_has_german_headers_and_words_instead_of_codes(client, recorded, kod_lead):
    response, body = download(client, kod_lead, "field:incident-export-table")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "feststellungen-tabelle-" in response["Content-Disposition"]
    rows = csv_rows(body, delimiter=";")
    assert list(rows[0]) == [
        "Nr.",
        "Datum",
        "Uhrzeit",
        "Behörde",
        "Gemeinsam mit Partnerbehörde",
        "Sachverhalt",
        "Maßnahmen",
        "Verwarnungsgeld in €",
        "Ortsangabe",
        "Stadtbezirk",
        "Statistischer Bezirk",
        "Streifenbereich",
        "Schwerpunktraum",
        "Videobeobachteter Ort",
        "Eigenes Gebiet",
        "Quelle",
        "Beschreibung",
        "Breite (WGS84)",
        "Länge (WGS84)",
        "Importkennung",
    ]
    # The city's own and the joint incident, oldest first, each with its number in Lagebild.
    assert [r["Nr."] for r in rows] == [str(recorded["city"].pk), str(recorded["joint"].pk)]
    city, joint = rows
    local = timezone.localtime(recorded["city"].occurred_at)
    # (On the October night, a time in the repeated hour also says "Sommerzeit" or "Winterzeit".)
    assert city["Datum"] == f"{local:%d.%m.%Y}" and city["Uhrzeit"].startswith(f"{local:%H:%M}")
    assert city["Behörde"] == "Stadt Dortmund – Ordnungsamt"
    assert city["Gemeinsam mit Partnerbehörde"] == "nein" and joint["Gemeinsam mit Partnerbehörde"] == "ja"
    assert city["Sachverhalt"] == "Aggressives Betteln"
    assert city["Maßnahmen"] == (
        "Verwarnung mit Verwarnungsgeld (35 €); "
        "Sicherstellung / Beschlagnahme (Bargeld, 1.200 €); "
        "Sicherstellung / Beschlagnahme (Betäubungsmittel, 12,5 g); "
        "Vermittlung ins Hilfesystem (Suchthilfe / Drogenberatung)"
    )
    assert city["Verwarnungsgeld in €"] == "35" and joint["Verwarnungsgeld in €"] == ""
    assert city["Stadtbezirk"] == "Bezirk Ost" and city["Schwerpunktraum"] == "Zentrum"
    assert joint["Stadtbezirk"] == "Bezirk West" and joint["Schwerpunktraum"] == ""
    assert city["Ortsangabe"] == "'=Platz von Leeds"  # Excel shows it as text, never runs it
    assert city["Quelle"] == "Streife" and joint["Quelle"] == "Bürgerhinweis"
    assert city["Breite (WGS84)"] == str(INSIDE[0]).replace(".", ",")
    assert joint["Maßnahmen"] == "Platzverweis" and joint["Importkennung"] == ""
    for code in ("aggressive-begging", "caution_fee", "seizure", "addiction_help", "patrol", "true"):
        assert code not in body
    # Nothing about persons, as in the other formats.
    assert recorded["person"].pseudonym not in body and kod_lead.username not in body


def test_readable_export_of_each_authority_holds_no_record_of_the_other(
    client, recorded, kod_lead, police_lead
):
    _, city_body = download(client, kod_lead, "field:incident-export-table")
    _, police_body = download(client, police_lead, "field:incident-export-table")
    city_numbers = {r["Nr."] for r in csv_rows(city_body, delimiter=";")}
    police_numbers = {r["Nr."] for r in csv_rows(police_body, delimiter=";")}
    assert city_numbers == {str(recorded["city"].pk), str(recorded["joint"].pk)}
    assert police_numbers == {str(recorded["police"].pk), str(recorded["joint"].pk)}
    assert "Rauschgifthandel" not in city_body and "Ingewahrsamnahme" not in city_body
    assert "Aggressives Betteln" not in police_body and "Bargeld" not in police_body


def test_readable_export_applies_the_list_filters(client, recorded, kod_lead, world):
    _, body = download(client, kod_lead, "field:incident-export-table", measure_type="caution_fee")
    assert [r["Nr."] for r in csv_rows(body, delimiter=";")] == [str(recorded["city"].pk)]
    event = AuditEvent.objects.filter(action="field.incidents.exported").order_by("-id").first()
    assert event.detail["format"] == "tabelle" and event.detail["count"] == 1


def test_readable_time_names_the_hour_that_occurs_twice_in_october():
    berlin = timezone.get_default_timezone()
    summer = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)  # 02:30 summer time
    winter = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)  # 02:30 again, winter time
    assert local_time_text(summer, berlin) == ("25.10.2026", "02:30 Sommerzeit")
    assert local_time_text(winter, berlin) == ("25.10.2026", "02:30 Winterzeit")
    assert local_time_text(dt.datetime(2026, 10, 25, 3, 30, tzinfo=dt.UTC), berlin) == ("25.10.2026", "04:30")


def test_measures_in_words_with_german_amounts():
    def measure(**values: object) -> dict:
        blank = {
            "amount": None,
            "seizure_kind": "",
            "quantity": None,
            "quantity_unit": "",
            "referral_service": "",
        }
        return {**blank, **values}

    assert measure_in_words(measure(type="dispersal_order")) == "Platzverweis"
    assert measure_in_words(measure(type="caution_fee", amount=Decimal("12.50"))) == (
        "Verwarnung mit Verwarnungsgeld (12,50 €)"
    )
    assert measure_in_words(measure(type="seizure", seizure_kind="weapon", quantity=Decimal("2"))) == (
        "Sicherstellung / Beschlagnahme (Waffe, 2)"
    )
    assert measure_in_words(measure(type="seizure", seizure_kind="cash", amount=Decimal("12345.5"))) == (
        "Sicherstellung / Beschlagnahme (Bargeld, 12.345,50 €)"
    )


def test_readable_table_uploaded_by_mistake_gets_one_plain_message(client, recorded, kod_lead):
    _, body = download(client, kod_lead, "field:incident-export-table")
    result = import_incidents(user=kod_lead, data=body.encode())
    assert result.imported == 0
    assert messages(result) == [
        (
            1,
            "",
            "Diese Datei ist die lesbare Tabelle aus dem Export und lässt sich nicht importieren. "
            "Bitte beim Export „Importformat (CSV)“ wählen.",
        )
    ]


def test_list_offers_each_export_format_with_a_plain_description(client, recorded, kod_lead, world):
    client.force_login(kod_lead)
    category = world["categories"]["begging"].pk
    page = client.get(reverse("field:incident-list"), {"category": category}).content.decode()
    section = page.split('<details class="export-choice">', 1)[1].split("</details>", 1)[0]
    assert f'href="/feststellungen/tabelle.csv?category={category}"' in section
    assert f'href="/feststellungen/export.csv?delimiter=semicolon&amp;category={category}"' in section
    assert f'href="/feststellungen/export.geojson?category={category}"' in section
    for name, words in (
        ("Lesbare Tabelle (CSV für Excel)", "Maßnahmen in Worten"),
        ("Importformat (CSV)", "erneuten Importieren"),
        ("Kartendaten (GeoJSON)", "Kartenprogramme"),
    ):
        assert name in section and words in section


def test_import_format_from_the_list_uploads_again_through_the_page(client, recorded, kod, kod_lead):
    """Round trip as a user does it: export the import format (with BOM), delete, upload."""
    before = snapshot(kod)
    client.force_login(kod_lead)
    response = client.get(reverse("field:incident-export-csv"), {"delimiter": "semicolon"})
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
    with unscoped():
        Incident.objects.filter(authority=kod.authority).delete()
    page = upload(client, kod_lead, data, name="feststellungen.csv")
    assert page.status_code == 200
    assert "<strong>2</strong> Feststellungen mit 5 Maßnahmen importiert" in page.content.decode()
    assert snapshot(kod) == before


def test_export_with_bad_filter_is_400_and_anonymous_is_sent_to_login(client, recorded, kod_lead):
    client.force_login(kod_lead)
    response = client.get(reverse("field:incident-export-csv"), {"date_from": "morgen"})
    assert response.status_code == 400
    assert "date_from" in response.content.decode()
    client.logout()
    response = client.get(reverse("field:incident-export-geojson"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- upload page --------------------------------------------------------------------------


def upload(client, user, content: bytes, name: str = "feststellungen.csv", **extra):
    client.force_login(user)
    data = {
        "file": SimpleUploadedFile(name, content, content_type=extra.pop("content_type", "text/csv")),
        **extra,
    }
    return client.post(reverse("field:incident-import"), data)


def test_upload_page_for_shift_lead(client, world, kod_lead):
    client.force_login(kod_lead)
    page = client.get(reverse("field:incident-import"))
    assert page.status_code == 200
    assert 'type="file"' in page.content.decode()
    response = upload(client, kod_lead, csv_file(row(), row(measures="dispersal_order|contact")).encode())
    text = response.content.decode()
    assert response.status_code == 200
    assert "<strong>2</strong> Feststellungen mit 3 Maßnahmen importiert" in text
    assert len(incidents_of(kod_lead)) == 2


def test_upload_shows_error_table_and_imports_nothing(client, world, kod_lead):
    response = upload(client, kod_lead, csv_file(row(), row(category="gibt-es-nicht")).encode())
    text = response.content.decode()
    assert "nichts importiert" in text
    assert '<td class="num">3</td><td>category</td><td>Unbekannter Sachverhalt „gibt-es-nicht“.</td>' in text
    assert incidents_of(kod_lead) == []
    response = upload(
        client, kod_lead, csv_file(row(), row(category="gibt-es-nicht")).encode(), skip_invalid="on"
    )
    assert "<strong>1</strong> Feststellung mit 1 Maßnahme importiert" in response.content.decode()


def test_upload_lists_first_500_errors_and_counts_the_rest(client, world, kod_lead):
    content = csv_file(*[row(category="x")] * 600).encode()
    text = upload(client, kod_lead, content).content.decode()
    assert text.count("Unbekannter Sachverhalt") == 500
    assert "… und 100 weitere Fehler" in text


def test_field_officer_may_not_import(client, world, kod):
    client.force_login(kod)
    assert client.get(reverse("field:incident-import")).status_code == 403
    assert upload(client, kod, csv_file(row()).encode()).status_code == 403
    assert incidents_of(kod) == []


@pytest.mark.parametrize(
    ("content", "name", "content_type", "message"),
    [
        (b"", "leer.csv", "text/csv", "Die Datei ist leer."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "bild.csv", "text/csv", "keine Textdatei"),
        (b"GIF89a", "bild.gif", "image/gif", "Bitte eine CSV-Datei (.csv) hochladen."),
        (
            "occurred_at;lat;lon;category\nMünster".encode("cp1252"),
            "excel.csv",
            "text/csv",
            "nicht UTF-8-kodiert",
        ),
        (HEADER.encode(), "kopf.csv", "text/csv", "nur die Kopfzeile"),
        ((HEADER + '\n"' + "x" * 300_000).encode(), "lang.csv", "text/csv", "Ein Feld ist zu lang"),
        (b"\n\n", "leer2.csv", "text/csv", "Die Datei ist leer."),
    ],
)
def test_bad_uploads_give_a_message_not_a_500(client, world, kod_lead, content, name, content_type, message):
    response = upload(client, kod_lead, content, name=name, content_type=content_type)
    assert response.status_code == 200
    text = response.content.decode()
    assert message in text
    assert 'aria-invalid="true"' in text
    assert incidents_of(kod_lead) == []


def test_too_large_upload_is_refused(client, world, kod_lead, monkeypatch):
    from lagebild.field import views_io

    monkeypatch.setattr(views_io, "MAX_FILE_BYTES", 1000)
    response = upload(client, kod_lead, csv_file(*[row()] * 20).encode())
    assert "größer als 20 MB" in response.content.decode()
    assert incidents_of(kod_lead) == []


def test_upload_without_file(client, world, kod_lead):
    client.force_login(kod_lead)
    response = client.post(reverse("field:incident-import"), {})
    assert "Bitte eine CSV-Datei auswählen." in response.content.decode()


# --- commands -----------------------------------------------------------------------------


def test_import_command_all_or_nothing_and_skip_invalid(world, kod_lead, tmp_path, capsys):
    path = tmp_path / "daten.csv"
    path.write_text(csv_file(row(external_id="1"), row(external_id="2", lat="0")), encoding="utf-8")
    with pytest.raises(CommandError, match="1 von 2 Zeilen fehlerhaft – nichts importiert"):
        call_command("import-incidents", str(path), user=kod_lead.username)
    assert "Zeile 3, Spalte lat" in capsys.readouterr().err
    assert incidents_of(kod_lead) == []
    call_command("import-incidents", str(path), user=kod_lead.username, skip_invalid=True)
    out = capsys.readouterr()
    assert "1 Feststellungen mit 1 Maßnahmen importiert, 1 fehlerhafte Zeilen übersprungen" in out.out
    assert "… 1 von 1 Feststellungen gespeichert" in out.err
    with pytest.raises(CommandError, match="Kein aktiver Benutzer"):
        call_command("import-incidents", str(path), user="niemand")


def test_export_command_writes_a_file_with_filters(recorded, kod_lead, tmp_path):
    path = tmp_path / "export.geojson"
    call_command(
        "export-incidents",
        user=kod_lead.username,
        format="geojson",
        category=["aggressive-begging"],
        output=path,
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [f["properties"]["category"] for f in data["features"]] == ["aggressive-begging"]
    path = tmp_path / "export.csv"
    day = timezone.localdate(recorded["city"].occurred_at).isoformat()
    call_command("export-incidents", user=kod_lead.username, date_from=day, date_to=day, output=path)
    assert len(list(csv.DictReader(path.open(encoding="utf-8")))) >= 1
    with pytest.raises(CommandError, match="Unbekannter Sachverhalt"):
        call_command("export-incidents", user=kod_lead.username, category=["gibt-es-nicht"], output=path)
    path = tmp_path / "tabelle.csv"
    call_command("export-incidents", user=kod_lead.username, format="tabelle", output=path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeffNr.;Datum;Uhrzeit;Behörde;")
    assert "Aggressives Betteln" in text and "Rauschgifthandel" not in text


def test_example_in_the_documentation_imports(world, kod_lead):
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "import-export.md").read_text(encoding="utf-8")
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    result = import_incidents(user=kod_lead, data=example.encode())
    assert result.ok, result.errors
    assert result.imported == 3 and result.measures == 5


def test_export_pages_through_equal_times_without_gaps_or_repeats(client, world, kod_lead, monkeypatch):
    from lagebild.field import exporter

    rows = [
        row(external_id=f"P-{n}", occurred_at="2025-03-01 10:00" if n < 5 else "2025-03-02 10:00")
        for n in range(8)
    ]
    assert import_incidents(user=kod_lead, data=csv_file(*rows)).imported == 8
    monkeypatch.setattr(exporter, "PAGE_SIZE", 3)
    _, body = download(client, kod_lead)
    assert sorted(r["external_id"] for r in csv_rows(body)) == [f"P-{n}" for n in range(8)]
    _, body = download(client, kod_lead, "field:incident-export-geojson")
    assert len(json.loads(body)["features"]) == 8


def test_fast_datetime_adapter_matches_django(db):
    from django.db import connection

    from lagebild.field.importer import _datetime_adapter

    berlin = timezone.get_default_timezone()
    adapt = _datetime_adapter()
    for value in (
        dt.datetime(2025, 3, 30, 2, 30, tzinfo=berlin),
        dt.datetime(2025, 10, 26, 2, 30, 5, 123456, tzinfo=berlin),
        dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=dt.UTC),
        parse_occurred_at("2026-01-22T14:30:00+05:30"),
    ):
        assert adapt(value) == connection.ops.adapt_datetimefield_value(value)
