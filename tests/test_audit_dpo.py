"""The data-protection officer's pages: search the log, accesses to a person or a report,
CSV and PDF reports; their own authority's entries only, and every reading logged."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from lagebild.core import audit
from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import authority_scope
from lagebild.field import services as field_services

from .citizen_fixtures import services  # noqa: F401
from .conftest import INSIDE

URL = "/datenschutz/protokoll/"
ACCESSES = "/datenschutz/protokoll/zugriffe/"


def main_of(response) -> str:
    page = response.content.decode()
    return page[page.index("<main") : page.index("</main>")]


@pytest.fixture(autouse=True)
def _anchors(tmp_path, settings):
    settings.LAGEBILD_AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")


@pytest.fixture
def city_dpo(make_user, city):
    return make_user("dsb-stadt", city, Role.DATA_PROTECTION_OFFICER, first_name="Dana", last_name="Schutz")


@pytest.fixture
def police_dpo(make_user, police):
    return make_user("dsb-polizei", police, Role.DATA_PROTECTION_OFFICER)


@pytest.fixture
def entries(kod, polizei):
    """A city and a police entry, one of them shaped like a spreadsheet formula."""
    audit.log("field.incident.viewed", user=kod, object_type="field.incident", object_id=11)
    audit.log("=1+2", user=kod, object_type="field.incident", object_id="@SUM(A1)")
    audit.log("field.incident.viewed", user=polizei, object_type="field.incident", object_id=22)


def test_dpo_searches_own_authority_entries_only(client, city_dpo, entries):
    client.force_login(city_dpo)
    page = client.get(URL).content.decode()
    assert "Kim Ordnung (kod)" in page
    assert "Pat Streife" not in page  # a police officer's reads are not the city's to see
    assert ">22<" not in page and "field.incident 22" not in page
    filtered = client.get(URL, {"action": "field.incident", "object_id": "11"}).content.decode()
    assert "field.incident 11" in filtered and "@SUM(A1)" not in filtered


def test_police_dpo_sees_police_entries_only(client, police_dpo, entries):
    client.force_login(police_dpo)
    page = client.get(URL).content.decode()
    assert "Pat Streife (polizei)" in page
    assert "Kim Ordnung" not in page


def test_search_by_time_range_and_actor(client, city_dpo, entries, kod):
    client.force_login(city_dpo)
    today = timezone.localdate()
    page = client.get(URL, {"start": today.isoformat(), "end": today.isoformat(), "actor": "kod"})
    assert page.context["page"].paginator.count == 2
    yesterday = today - timezone.timedelta(days=1)
    page = client.get(URL, {"end": yesterday.isoformat()})
    assert page.context["page"].paginator.count == 0
    by_id = client.get(URL, {"actor": str(kod.pk)})
    assert by_id.context["page"].paginator.count == 2


def test_bad_range_is_a_message_at_the_field(client, city_dpo):
    client.force_login(city_dpo)
    response = client.get(URL, {"start": "2026-05-02", "end": "2026-05-01"})
    assert response.status_code == 200
    assert "Das Ende liegt vor dem Anfang." in response.content.decode()
    response = client.get(URL, {"start": "kein Datum"})
    assert response.status_code == 200


def test_csv_export_neutralises_formulas_and_is_logged(client, city_dpo, entries):
    client.force_login(city_dpo)
    response = client.get(URL, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Laufnummer", "Zeitpunkt", "Handelnde Person"]
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=1+2" in cells and "'@SUM(A1)" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert "Pat Streife (polizei)" not in cells
    exported = AuditEvent.objects.get(action="audit.exported")
    assert (exported.user_id, exported.detail["format"], exported.detail["entries"]) == (
        city_dpo.pk,
        "csv",
        3,
    )


def test_pdf_export(client, city_dpo, entries):
    from pypdf import PdfReader

    client.force_login(city_dpo)
    response = client.get(URL, {"format": "pdf", "action": "field"})
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Protokollauszug" in text
    assert "Kim Ordnung (kod)" in text
    assert "Pat Streife" not in text
    assert AuditEvent.objects.filter(action="audit.exported", detail__format="pdf").count() == 1


def test_reading_the_log_is_itself_logged(client, city_dpo, entries):
    client.force_login(city_dpo)
    client.get(URL, {"action": "field"})
    searched = AuditEvent.objects.get(action="audit.searched")
    assert searched.user_id == city_dpo.pk
    assert searched.detail["criteria"] == {"action": "field", "scope": "own"}


def test_every_access_to_a_person(client, city_dpo, kod, polizei):
    with authority_scope(kod.authority_id):
        person = field_services.person_create(user=kod)
    audit.log(
        "field.person.viewed", user=kod, object_type="field.incident", object_id=5, persons=[person.pseudonym]
    )
    audit.log("api.persons.viewed", user=kod, object_type="field.person", pseudonyms=["ANDERE-1"])
    client.force_login(city_dpo)
    response = client.get(ACCESSES, {"kind": "person", "key": person.pseudonym})
    actions = [event.action for event in response.context["page"].object_list]
    assert actions == ["field.person.viewed", "field.person.created"]
    assert AuditEvent.objects.filter(action="audit.accesses_viewed", detail__found=True).count() == 1
    csv_text = client.get(ACCESSES, {"kind": "person", "key": person.pseudonym, "format": "csv"}).content
    assert person.pseudonym.encode() in csv_text


def test_police_person_is_not_found_by_the_city_dpo(client, city_dpo, police_dpo, polizei):
    with authority_scope(polizei.authority_id):
        person = field_services.person_create(user=polizei)
    client.force_login(city_dpo)
    theirs = client.get(ACCESSES, {"kind": "person", "key": person.pseudonym})
    missing = client.get(ACCESSES, {"kind": "person", "key": "GIBT-ES-NICHT"})
    # "Not yours" reads exactly like "does not exist".
    assert theirs.status_code == missing.status_code == 200
    assert theirs.context["not_found"] and missing.context["not_found"]
    assert main_of(theirs).replace(person.pseudonym, "X") == main_of(missing).replace("GIBT-ES-NICHT", "X")
    client.force_login(police_dpo)
    ours = client.get(ACCESSES, {"kind": "person", "key": person.pseudonym})
    assert [event.action for event in ours.context["page"].object_list] == ["field.person.created"]


def test_every_access_to_a_citizen_report(client, city_dpo, police_dpo, kod, polizei, services):  # noqa: F811
    from lagebild.citizen.services import report_create

    report = report_create(
        service=services["begging"],
        channel="web",
        lat=INSIDE[0],
        lon=INSIDE[1],
        description="Am Eingang",
        attributes={"personen": 2},
        reporter_email="melder@example.org",
    )
    # Routed by the time of day (at night to the police): the DPO of the receiving authority.
    own, other = (
        (city_dpo, police_dpo) if report.authority_id == city_dpo.authority_id else (police_dpo, city_dpo)
    )
    assert report.authority_id == own.authority_id
    reader = kod if own is city_dpo else polizei
    audit.log("citizen.reporter.viewed", user=reader, obj=report)
    client.force_login(own)
    response = client.get(ACCESSES, {"kind": "report", "key": str(report.pk)})
    actions = [event.action for event in response.context["page"].object_list]
    assert actions[0] == "citizen.reporter.viewed"
    assert "citizen.report.created" in actions
    client.force_login(other)
    assert client.get(ACCESSES, {"kind": "report", "key": str(report.pk)}).context["not_found"]


@pytest.mark.parametrize(
    "role",
    [Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ANALYST, Role.ADMIN, Role.LEADERSHIP, Role.PLATFORM_ADMIN],
)
def test_other_roles_are_refused(client, make_user, city, role, entries):
    client.force_login(make_user(f"u-{role}", city, role, is_staff=role == Role.ADMIN))
    for url in (URL, ACCESSES, URL + "?format=csv"):
        assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="audit.").exists()


def test_anonymous_is_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/anmelden/" in response["Location"]


def test_nav_link_for_the_dpo_only(client, city_dpo, kod):
    client.force_login(city_dpo)
    assert f'href="{URL}"' in client.get(URL).content.decode()
    client.force_login(kod)
    assert f'href="{URL}"' not in client.get("/").content.decode()
