"""Transfers between authorities (services): snapshot, rules, audit trail, append-only log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from lagebild.citizen import services as citizen_services
from lagebild.citizen.models import Report, ReportStatus
from lagebild.core.models import AuditEvent, Authority, Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field_services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident
from lagebild.sharing import services
from lagebild.sharing.catalogue import LegalBasis, Purpose, RecordType, Regime
from lagebild.sharing.models import AppendOnlyError, Transfer, TransferEvent

from .citizen_fixtures import services as services_fixture  # noqa: F401
from .conftest import INSIDE

SECRET_DESCRIPTION = "Zeuge Herr M. wohnt Hausnummer 12, bitte nicht weitergeben"


@pytest.fixture
def federal(db) -> Authority:
    return Authority.objects.create(
        code="bundespolizei", name="Bundespolizei Dortmund", kind=Authority.Kind.OTHER
    )


@pytest.fixture
def incident(world, kod_lead) -> Incident:
    with authority_scope(kod_lead.authority):
        return field_services.incident_create(
            user=kod_lead,
            category=world["categories"]["drugs"],
            occurred_at=timezone.now() - dt.timedelta(hours=1),
            lat=INSIDE[0],
            lon=INSIDE[1],
            description=SECRET_DESCRIPTION,
            address_text="Platz von Leeds",
            measures=[MeasureInput(type="dispersal_order"), MeasureInput(type="criminal_complaint")],
        )


def measure_ids(incident: Incident, kind: str) -> list[int]:
    with unscoped():
        return list(incident.measures.filter(type=kind).values_list("pk", flat=True))


def complaint(user, incident, police, **overrides):
    arguments = {
        "record_type": RecordType.INCIDENT,
        "record_id": incident.pk,
        "recipient_id": police.pk,
        "purpose": Purpose.CRIMINAL_COMPLAINT,
        "legal_basis": LegalBasis.STPO_158,
        "fields": ["location"],
        "measure_ids": measure_ids(incident, "criminal_complaint"),
        "note": "Rückfragen an die Leitstelle des KOD.",
    }
    arguments.update(overrides)
    with authority_scope(user.authority):
        return services.transfer_create(user=user, **arguments)


def test_snapshot_holds_exactly_the_chosen_fields_and_measures(incident, kod_lead, police):
    transfer = complaint(kod_lead, incident, police)
    snapshot = transfer.snapshot
    assert [row["key"] for row in snapshot["fields"]] == ["category", "occurred_at", "location"]
    assert [m["type"] for m in snapshot["measures"]] == ["criminal_complaint"]
    assert SECRET_DESCRIPTION not in str(snapshot)
    assert "pseudonym" not in str(snapshot).lower()
    assert transfer.regime == Regime.LAW_ENFORCEMENT
    assert transfer.created_by_name == kod_lead.username
    assert transfer.included == ["location", f"measure:{measure_ids(incident, 'criminal_complaint')[0]}"]


def test_snapshot_is_frozen_when_the_source_changes(incident, kod_lead, police):
    transfer = complaint(kod_lead, incident, police, fields=["location", "description"])
    with unscoped():
        Incident.objects.filter(pk=incident.pk).update(description="geändert")
        transfer.refresh_from_db()
    assert SECRET_DESCRIPTION in str(transfer.snapshot)


def test_transfer_is_logged_with_purpose_legal_basis_who_and_when(incident, kod_lead, police, now):
    transfer = complaint(kod_lead, incident, police)
    with unscoped():
        entry = AuditEvent.objects.get(action="sharing.transfer.created")
        on_source = AuditEvent.objects.get(action="sharing.record.transferred")
    assert entry.user == kod_lead
    assert entry.object_id == str(transfer.pk)
    assert abs(entry.at - now) < dt.timedelta(minutes=5)
    assert entry.detail["transfer_purpose"] == "criminal_complaint"
    # The log's own "why" column (or, in an older log, the detail).
    assert "Strafanzeige" in (getattr(entry, "purpose", "") or entry.detail.get("purpose", ""))
    assert entry.detail["legal_basis"] == "stpo_158"
    assert entry.detail["recipient"] == police.pk
    assert entry.detail["fields"] == ["location"]
    assert entry.detail["contact_data"] is False
    assert on_source.object_type == "field.incident"
    assert on_source.object_id == str(incident.pk)
    assert on_source.detail["transfer"] == transfer.pk


def test_recipient_sees_the_transfer_third_authority_sees_nothing(incident, kod_lead, police, federal):
    transfer = complaint(kod_lead, incident, police)
    with authority_scope(police):
        assert list(Transfer.objects.values_list("pk", flat=True)) == [transfer.pk]
        assert not Incident.objects.filter(pk=incident.pk).exists()
    with authority_scope(federal):
        assert not Transfer.objects.exists()
        assert not TransferEvent.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.ANALYST, Role.TASKFORCE, Role.LEADERSHIP, Role.DATA_PROTECTION_OFFICER]
)
def test_roles_without_sharing_right_are_refused(incident, make_user, city, police, role):
    user = make_user(f"user-{role}", city, role)
    with pytest.raises(PermissionDenied, match="Weitergeben dürfen nur"):
        complaint(user, incident, police)
    with unscoped():
        assert not Transfer.objects.exists()


def test_field_officer_may_hand_over_a_criminal_complaint_only(incident, kod, police):
    with pytest.raises(ValidationError) as error:
        complaint(
            kod,
            incident,
            police,
            purpose=Purpose.DANGER_PREVENTION,
            legal_basis=LegalBasis.OTHER,
            legal_basis_text="§ 99 Beispielgesetz",
        )
    assert "nur Strafanzeigen" in str(error.value.message_dict["purpose"])
    transfer = complaint(kod, incident, police)
    assert transfer.created_by == kod


def test_missing_and_foreign_records_answer_alike(incident, polizei, police_lead, city, kod_lead, police):
    with pytest.raises(services.SourceNotFound):
        complaint(police_lead, incident, city)  # the KOD's incident, seen from the police
    missing = Incident(pk=incident.pk + 1000)
    with pytest.raises(services.SourceNotFound):
        complaint(kod_lead, missing, police, measure_ids=[])


def test_joint_incident_of_the_partner_is_not_the_partners_to_share(world, kod_lead, police_lead, city):
    with authority_scope(kod_lead.authority):
        joint = field_services.incident_create(
            user=kod_lead,
            category=world["categories"]["begging"],
            occurred_at=timezone.now() - dt.timedelta(hours=1),
            lat=INSIDE[0],
            lon=INSIDE[1],
            joint=True,
            measures=[MeasureInput(type="contact")],
        )
    with pytest.raises(services.SourceNotFound):
        complaint(police_lead, joint, city, measure_ids=[])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"purpose": ""}, "purpose", "Bitte den Zweck"),
        ({"legal_basis": ""}, "legal_basis", "Bitte die Rechtsgrundlage"),
        ({"recipient_id": ""}, "recipient", "Bitte die empfangende Behörde"),
        ({"recipient_id": 99999}, "recipient", "gibt es nicht"),
        ({"legal_basis": LegalBasis.POLG_27}, "legal_basis", "trägt nicht den Zweck"),
        ({"legal_basis": LegalBasis.OTHER}, "legal_basis_text", "Paragraf und Gesetz"),
        ({"measure_ids": []}, "measures", "Strafanzeige"),
        ({"measure_ids": [123456]}, "measures", "gehört nicht"),
        ({"fields": ["reporter_contact"]}, "fields", "Unbekannte Angabe"),
        ({"note": "x" * 1001}, "note", "1000 Zeichen"),
    ],
)
def test_bad_input_gives_german_messages_per_field(incident, kod_lead, police, overrides, field, message):
    with pytest.raises(ValidationError) as error:
        complaint(kod_lead, incident, police, **overrides)
    assert message in " ".join(error.value.message_dict[field])
    with unscoped():
        assert not Transfer.objects.exists()
        assert not AuditEvent.objects.filter(action__startswith="sharing.").exists()


def test_transfer_to_own_authority_is_refused(incident, kod_lead, city):
    with pytest.raises(ValidationError) as error:
        complaint(kod_lead, incident, city)
    assert "eigene Behörde" in error.value.message_dict["recipient"][0]


def test_police_only_legal_basis_refused_for_the_city(incident, kod_lead, police):
    with pytest.raises(ValidationError) as error:
        complaint(
            kod_lead, incident, police, purpose=Purpose.DANGER_PREVENTION, legal_basis=LegalBasis.POLG_27
        )
    assert "nur die Polizei" in " ".join(error.value.message_dict["legal_basis"])


def test_transfer_rows_are_append_only(incident, kod_lead, police):
    transfer = complaint(kod_lead, incident, police)
    transfer.note = "nachträglich geändert"
    with pytest.raises(AppendOnlyError):
        transfer.save()
    with pytest.raises(AppendOnlyError):
        transfer.delete()
    with unscoped(), pytest.raises(AppendOnlyError):
        Transfer.objects.filter(pk=transfer.pk).update(note="x")


def test_acknowledge_once_by_the_recipient(incident, kod_lead, police, police_lead, polizei):
    transfer = complaint(kod_lead, incident, police)
    with authority_scope(police), pytest.raises(PermissionDenied):
        services.transfer_acknowledge(user=polizei, transfer_id=transfer.pk)
    with authority_scope(city := kod_lead.authority), pytest.raises(services.TransferNotFound):
        services.transfer_acknowledge(user=kod_lead, transfer_id=transfer.pk)  # the sender cannot
    assert city
    with authority_scope(police):
        event = services.transfer_acknowledge(user=police_lead, transfer_id=transfer.pk)
        assert event.user_name == police_lead.username
        with pytest.raises(ValidationError, match="bereits bestätigt"):
            services.transfer_acknowledge(user=police_lead, transfer_id=transfer.pk)
    with unscoped():
        entry = AuditEvent.objects.get(action="sharing.transfer.acknowledged")
    assert entry.user == police_lead
    assert entry.authority_id == police.pk


def test_withdrawal_is_a_new_event(incident, kod_lead, kod, police, police_lead):
    transfer = complaint(kod_lead, incident, police)
    # A field officer sees (and withdraws) only own transfers: the lead's is not there for them.
    with authority_scope(kod.authority), pytest.raises(services.TransferNotFound):
        services.transfer_withdraw(user=kod, transfer_id=transfer.pk, reason="Falsche Behörde")
    with authority_scope(kod_lead.authority):
        with pytest.raises(ValidationError):
            services.transfer_withdraw(user=kod_lead, transfer_id=transfer.pk, reason="")
        services.transfer_withdraw(user=kod_lead, transfer_id=transfer.pk, reason="An die falsche Behörde")
    with authority_scope(police), pytest.raises(ValidationError, match="zurückgezogen"):
        services.transfer_acknowledge(user=police_lead, transfer_id=transfer.pk)
    with unscoped():
        transfer.refresh_from_db()
        assert transfer.snapshot["fields"]  # unchanged, kept for the log
        assert AuditEvent.objects.filter(action="sharing.transfer.withdrawn", user=kod_lead).exists()


def test_deleting_the_sender_keeps_the_name(incident, kod_lead, police):
    transfer = complaint(kod_lead, incident, police)
    name = kod_lead.username
    # No update is allowed, except that deleting the user sets the reference to NULL (also
    # through the PostgreSQL trigger).
    kod_lead.delete()
    with unscoped():
        transfer.refresh_from_db()
    assert transfer.created_by is None
    assert transfer.created_by_name == name


def test_database_refuses_changes_on_postgresql(incident, kod_lead, police):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only; SQLite relies on the model guard")
    transfer = complaint(kod_lead, incident, police)
    for sql in (
        "UPDATE sharing_transfer SET note = 'geändert' WHERE id = %s",
        "UPDATE sharing_transfer SET created_by_id = NULL, purpose = 'competence' WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="unveränderlich"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [transfer.pk])
    with unscoped():
        transfer.refresh_from_db()
    assert transfer.purpose == "criminal_complaint" and transfer.created_by == kod_lead


# --- citizen reports -------------------------------------------------------------------------


@pytest.fixture
def report(services_fixture, kod_lead) -> Report:  # noqa: F811
    # Received at the last noon before now: the routing rules send it to the KOD by day.
    local_now = timezone.localtime()
    noon = local_now.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon > local_now:
        noon -= dt.timedelta(days=1)
    with unscoped():
        created = citizen_services.report_create(
            service=services_fixture["begging"],
            channel="web",
            description="Gruppe bettelt aggressiv vor dem Eingang.",
            attributes={"personen": 3},
            lat=INSIDE[0],
            lon=INSIDE[1],
            reporter_name="Erika Muster",
            reporter_email="erika@example.org",
            reporter_phone="0231 123456",
            requested_at=noon,
        )
    assert created.authority_id == kod_lead.authority_id
    return created


def forward(user, report, recipient, **overrides):
    arguments = {
        "record_type": RecordType.CITIZEN_REPORT,
        "record_id": report.pk,
        "recipient_id": recipient.pk,
        "purpose": Purpose.COMPETENCE,
        "legal_basis": LegalBasis.OTHER,
        "legal_basis_text": "Art. 6 Abs. 1 lit. e DSGVO i. V. m. Landesrecht (vom Rechtsamt zu bestätigen)",
        "fields": ["location", "description"],
    }
    arguments.update(overrides)
    with authority_scope(user.authority):
        return services.transfer_create(user=user, **arguments)


def test_report_forwarded_without_contact_data_unless_chosen(report, kod_lead, police):
    transfer = forward(kod_lead, report, police)
    text = str(transfer.snapshot)
    assert "Erika" not in text and "erika@example.org" not in text
    with unscoped():
        report.refresh_from_db()
        last = report.history.order_by("-at", "-id").first()
    # The existing "forwarded" status of the citizen workflow, set through the transfer.
    assert report.status == ReportStatus.FORWARDED
    assert "Polizeipräsidium Dortmund" in last.public_note
    assert f"Weitergabe Nr. {transfer.pk}" in last.internal_note


def test_reporter_contact_only_for_purposes_that_need_it(report, kod_lead, police):
    with pytest.raises(ValidationError) as error:
        forward(kod_lead, report, police, purpose=Purpose.DANGER_PREVENTION, fields=["reporter_contact"])
    assert "Kontaktdaten" in " ".join(error.value.message_dict["fields"])
    transfer = forward(kod_lead, report, police, fields=["reporter_contact"])
    assert "erika@example.org" in str(transfer.snapshot)
    with unscoped():
        assert AuditEvent.objects.get(action="sharing.transfer.created").detail["contact_data"] is True


def test_field_officer_cannot_share_reports(report, kod, police):
    with pytest.raises(PermissionDenied):
        forward(kod, report, police)


def test_closed_report_cannot_be_handed_over_for_competence(report, kod_lead, police):
    with authority_scope(kod_lead.authority):
        citizen_services.report_transition(
            user=kod_lead, report=report, to_status=ReportStatus.RESOLVED, public_note="Erledigt."
        )
    with pytest.raises(ValidationError, match="Nur offene Hinweise"):
        forward(kod_lead, report, police)
    transfer = forward(
        kod_lead, report, police, purpose=Purpose.CRIMINAL_COMPLAINT, legal_basis=LegalBasis.STPO_158
    )
    assert transfer.purpose == Purpose.CRIMINAL_COMPLAINT
