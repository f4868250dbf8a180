"""Pages of transfers: the KOD hands a criminal complaint to the police, who see exactly the
snapshot and still not the incident; a third authority sees nothing; roles and bad input."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from lagebild.citizen import services as citizen_services
from lagebild.core.models import AuditEvent, Authority, Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field_services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident
from lagebild.sharing.models import Transfer, TransferEvent

from .citizen_fixtures import services as services_fixture  # noqa: F401
from .conftest import INSIDE

SECRET = "Hinweisgeber wohnt Kampstraße 7"
NOTE_ON_DISPERSAL = "Platzverweis bis 22 Uhr"


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    # Tests run without collectstatic; the manifest storage would fail on {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def federal(db) -> Authority:
    return Authority.objects.create(
        code="bundespolizei", name="Bundespolizei Dortmund", kind=Authority.Kind.OTHER
    )


@pytest.fixture
def federal_lead(make_user, federal):
    return make_user("bund-lead", federal, Role.SHIFT_LEAD)


@pytest.fixture
def incident(world, kod_lead) -> Incident:
    with authority_scope(kod_lead.authority):
        return field_services.incident_create(
            user=kod_lead,
            category=world["categories"]["drugs"],
            occurred_at=timezone.now() - dt.timedelta(hours=1),
            lat=INSIDE[0],
            lon=INSIDE[1],
            description=SECRET,
            address_text="Platz von Leeds",
            measures=[
                MeasureInput(type="dispersal_order", note=NOTE_ON_DISPERSAL),
                MeasureInput(type="criminal_complaint"),
            ],
        )


def complaint_measure(incident: Incident) -> int:
    with unscoped():
        return incident.measures.get(type="criminal_complaint").pk


def form_data(incident: Incident, recipient: Authority, **overrides) -> dict:
    data = {
        "purpose": "criminal_complaint",
        "recipient": str(recipient.pk),
        "legal_basis": "stpo_158",
        "legal_basis_text": "",
        "included": ["location"],
        "measures": [str(complaint_measure(incident))],
        "note": "Rückfragen: Leitstelle KOD",
    }
    data.update(overrides)
    return data


def share_url(incident: Incident) -> str:
    return reverse("sharing:share-incident", args=[incident.pk])


def hand_over(client, user, incident, police) -> Transfer:
    client.force_login(user)
    response = client.post(share_url(incident), {**form_data(incident, police), "confirmed": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    with unscoped():
        return Transfer.objects.get()


def not_found_body(response) -> str:
    """A 404 page without what differs on every response (masked CSRF token, the path)."""
    body = response.content.decode().replace(response.wsgi_request.path, "PATH")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "TOKEN", body)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "TOKEN", body)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_kod_lead_hands_criminal_complaint_to_police(client, incident, kod_lead, police, police_lead):
    client.force_login(kod_lead)
    detail = client.get(reverse("field:incident-detail", args=[incident.pk]))
    assert share_url(incident) in detail.content.decode()

    form = client.get(share_url(incident))
    assert form.status_code == 200
    assert "Zweck der Weitergabe" in text_of(form)

    preview = client.post(share_url(incident), form_data(incident, police))
    assert preview.status_code == 200
    page = text_of(preview)
    assert "Verbindlich weitergeben" in page
    assert "Platz von Leeds" in page and SECRET not in page
    with unscoped():
        assert not Transfer.objects.exists()  # the preview writes nothing

    done = client.post(share_url(incident), {**form_data(incident, police), "confirmed": "1"})
    with unscoped():
        transfer = Transfer.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("sharing:sent-detail", args=[transfer.pk])
    sent = client.get(reverse("sharing:sent"))
    assert f"Nr. {transfer.pk}" in text_of(sent)

    client.force_login(police_lead)
    inbox = client.get(reverse("sharing:received"))
    assert inbox.status_code == 200
    assert "Eingegangene Weitergaben" in text_of(inbox)
    assert reverse("sharing:received-detail", args=[transfer.pk]) in inbox.content.decode()
    received = client.get(reverse("sharing:received-detail", args=[transfer.pk]))
    page = text_of(received)
    assert received.status_code == 200
    # Exactly the snapshot: category, time, place, the complaint and the note ...
    assert "Drogenkonsum öffentlich" in page
    assert "Platz von Leeds" in page
    assert "Strafanzeige" in page
    assert "Rückfragen: Leitstelle KOD" in page
    assert "§ 158 StPO" in page
    # ... not the description, not the dispersal order that was left out, no link to the source.
    assert SECRET not in page
    assert "Platzverweis" not in page and NOTE_ON_DISPERSAL not in page
    assert reverse("field:incident-detail", args=[incident.pk]) not in page

    # The source itself stays invisible to the police: page and API answer 404.
    assert client.get(reverse("field:incident-detail", args=[incident.pk])).status_code == 404
    assert client.get(f"/api/v1/incidents/{incident.pk}/").status_code == 404
    listed = client.get("/api/v1/incidents/")
    assert listed.status_code == 200 and SECRET not in listed.content.decode()
    measures = client.get("/api/v1/measures/")
    assert NOTE_ON_DISPERSAL not in measures.content.decode()

    with unscoped():
        viewed = AuditEvent.objects.filter(action="sharing.transfer.viewed", user=police_lead)
        assert viewed.count() == 1
        assert viewed.get().object_id == str(transfer.pk)
        assert viewed.get().detail["side"] == "recipient"
        # ... and under the incident's own id, so "every access to this incident" lists it.
        on_source = AuditEvent.objects.get(action="sharing.record.viewed", user=police_lead)
        assert (on_source.object_type, on_source.object_id) == ("field.incident", str(incident.pk))

    ack = client.post(reverse("sharing:acknowledge", args=[transfer.pk]))
    assert ack.status_code == 302
    with unscoped():
        event = TransferEvent.objects.get()
    assert (event.kind, event.user, event.authority_id) == ("acknowledged", police_lead, police.pk)
    client.force_login(kod_lead)
    sender_view = text_of(client.get(reverse("sharing:sent-detail", args=[transfer.pk])))
    assert "bestätigt am" in sender_view and police_lead.username in sender_view


def test_third_authority_sees_nothing(client, incident, kod_lead, police, federal_lead):
    transfer = hand_over(client, kod_lead, incident, police)
    client.force_login(federal_lead)
    assert "Keine Weitergaben" in text_of(client.get(reverse("sharing:received")))
    assert "Keine Weitergaben" in text_of(client.get(reverse("sharing:sent")))
    missing = client.get(reverse("sharing:received-detail", args=[transfer.pk + 100]))
    for name in ("sharing:received-detail", "sharing:sent-detail"):
        response = client.get(reverse(name, args=[transfer.pk]))
        assert response.status_code == 404
        assert not_found_body(response) == not_found_body(missing)
    assert client.post(reverse("sharing:acknowledge", args=[transfer.pk])).status_code == 404
    assert client.get(reverse("field:incident-detail", args=[incident.pk])).status_code == 404


def test_sender_side_pages_are_not_the_recipients(client, incident, kod_lead, police, police_lead):
    transfer = hand_over(client, kod_lead, incident, police)
    client.force_login(police_lead)
    # The police's "sent" side does not hold the KOD's transfer, and it cannot withdraw it.
    assert client.get(reverse("sharing:sent-detail", args=[transfer.pk])).status_code == 404
    assert (
        client.post(reverse("sharing:withdraw", args=[transfer.pk]), {"reason": "Versehen"}).status_code
        == 404
    )
    client.force_login(kod_lead)
    # The KOD cannot acknowledge its own transfer.
    assert client.get(reverse("sharing:received-detail", args=[transfer.pk])).status_code == 404


@pytest.mark.parametrize(
    "role", [Role.ANALYST, Role.TASKFORCE, Role.LEADERSHIP, Role.DATA_PROTECTION_OFFICER]
)
def test_only_permitted_roles_can_share(client, incident, make_user, city, police, role):
    user = make_user(f"nutzer-{role}", city, role)
    client.force_login(user)
    assert (
        share_url(incident)
        not in client.get(reverse("field:incident-detail", args=[incident.pk])).content.decode()
    )
    for response in (
        client.get(share_url(incident)),
        client.post(share_url(incident), {**form_data(incident, police), "confirmed": "1"}),
    ):
        assert response.status_code == 403
        assert "Weitergeben dürfen nur Schichtleitung" in text_of(response)
    with unscoped():
        assert not Transfer.objects.exists()


def test_field_officer_may_hand_over_a_criminal_complaint(client, incident, kod, police):
    client.force_login(kod)
    form = text_of(client.get(share_url(incident)))
    assert "Gefahrenabwehr im Einzelfall" not in form  # only the complaint is offered
    refused = client.post(
        share_url(incident),
        {
            **form_data(
                incident, police, purpose="danger_prevention", legal_basis="other", legal_basis_text="x"
            ),
            "confirmed": "1",
        },
    )
    assert refused.status_code == 400
    assert "Bitte einen der angebotenen Zwecke wählen." in text_of(refused)
    done = client.post(share_url(incident), {**form_data(incident, police), "confirmed": "1"})
    assert done.status_code == 302
    # Field officers see their own transfers, not the incoming ones.
    assert client.get(reverse("sharing:received")).status_code == 403
    assert client.get(reverse("sharing:sent")).status_code == 200


def test_missing_purpose_is_a_german_field_error(client, incident, kod_lead, police):
    client.force_login(kod_lead)
    response = client.post(share_url(incident), {**form_data(incident, police, purpose=""), "confirmed": "1"})
    assert response.status_code == 400
    assert "Bitte den Zweck der Weitergabe angeben." in text_of(response)
    assert 'aria-invalid="true"' in response.content.decode()
    with unscoped():
        assert not Transfer.objects.exists()


def test_service_rules_show_at_the_fields(client, incident, kod_lead, police):
    client.force_login(kod_lead)
    no_measure = client.post(
        share_url(incident), {**form_data(incident, police, measures=[]), "confirmed": "1"}
    )
    assert no_measure.status_code == 400
    assert "Bitte die Maßnahme „Strafanzeige“ mitgeben" in text_of(no_measure)
    police_norm = client.post(
        share_url(incident),
        {**form_data(incident, police, purpose="danger_prevention", legal_basis="polg_27"), "confirmed": "1"},
    )
    assert police_norm.status_code == 400
    assert "nur die Polizei" in text_of(police_norm)
    garbage = client.post(share_url(incident), {"purpose": "x" * 5000, "recipient": "abc", "measures": ["z"]})
    assert garbage.status_code == 400
    with unscoped():
        assert not Transfer.objects.exists()


def test_foreign_and_missing_records_answer_alike(client, incident, police_lead, kod_lead):
    client.force_login(police_lead)
    foreign = client.get(reverse("sharing:share-incident", args=[incident.pk]))
    missing = client.get(reverse("sharing:share-incident", args=[incident.pk + 1000]))
    assert foreign.status_code == missing.status_code == 404
    assert not_found_body(foreign) == not_found_body(missing)
    posted = client.post(reverse("sharing:share-incident", args=[incident.pk]), {"confirmed": "1"})
    assert posted.status_code == 404 and not_found_body(posted) == not_found_body(foreign)
    client.force_login(kod_lead)
    own_missing = client.get(reverse("sharing:share-report", args=[incident.pk + 1000]))
    assert own_missing.status_code == 404


def test_withdrawn_transfer_shows_only_the_reason(client, incident, kod_lead, police, police_lead):
    transfer = hand_over(client, kod_lead, incident, police)
    empty = client.post(reverse("sharing:withdraw", args=[transfer.pk]), {"reason": ""})
    assert empty.status_code == 400
    assert "Bitte angeben, warum" in text_of(empty)
    done = client.post(reverse("sharing:withdraw", args=[transfer.pk]), {"reason": "An die falsche Stelle"})
    assert done.status_code == 302
    client.force_login(police_lead)
    page = text_of(client.get(reverse("sharing:received-detail", args=[transfer.pk])))
    assert "An die falsche Stelle" in page
    assert "Platz von Leeds" not in page
    assert "Empfang bestätigen" not in page


def test_citizen_report_forwarded_to_police(client, services_fixture, kod_lead, police, police_lead):  # noqa: F811
    local_now = timezone.localtime()
    noon = local_now.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon > local_now:
        noon -= dt.timedelta(days=1)
    with unscoped():
        report = citizen_services.report_create(
            service=services_fixture["begging"],
            channel="web",
            description="Gruppe bettelt aggressiv.",
            attributes={"personen": 4},
            lat=INSIDE[0],
            lon=INSIDE[1],
            reporter_email="melder@example.org",
            requested_at=noon,
        )
    client.force_login(kod_lead)
    url = reverse("sharing:share-report", args=[report.pk])
    assert url in client.get(reverse("office:report-detail", args=[report.pk])).content.decode()
    form = text_of(client.get(url))
    assert "Kontaktdaten der meldenden Person" in form
    assert f'hx-get="{url}"' in form  # another purpose reloads its preselection
    preselected = client.get(url, {"purpose": "competence"}).content.decode()
    checked = set(re.findall(r'name="included" value="([a-z_]+)"[^>]*checked', preselected))
    assert checked == {"location", "description", "attributes"}  # never the contact data
    data = {
        "purpose": "competence",
        "recipient": str(police.pk),
        "legal_basis": "other",
        "legal_basis_text": "Art. 6 Abs. 1 lit. e DSGVO (vom Rechtsamt zu bestätigen)",
        "included": ["description", "attributes"],
        "confirmed": "1",
    }
    assert client.post(url, data).status_code == 302
    with unscoped():
        report.refresh_from_db()
        transfer = Transfer.objects.get()
    assert report.status == "forwarded"
    client.force_login(police_lead)
    page = text_of(client.get(reverse("sharing:received-detail", args=[transfer.pk])))
    assert "Gruppe bettelt aggressiv." in page
    assert "Wie viele Personen ungefähr?: 4" in page
    assert "melder@example.org" not in page
    # The report is still the city's: the police do not see it in the back office.
    assert client.get(reverse("office:report-detail", args=[report.pk])).status_code == 404


def test_navigation_link_by_role(client, kod_lead, analyst):
    client.force_login(kod_lead)
    assert reverse("sharing:index") in client.get(reverse("field:overview")).content.decode()
    assert client.get(reverse("sharing:index"))["Location"] == reverse("sharing:received")
    client.force_login(analyst)
    assert reverse("sharing:index") not in client.get(reverse("field:overview")).content.decode()
    response = client.get(reverse("sharing:index"))
    assert response.status_code == 403
    assert "Weitergaben sehen" in text_of(response)
