"""Writes for transfers: hand a record over, acknowledge it, withdraw it; each one logged.

A transfer copies the chosen fields of one record of the sender's own authority into a
frozen snapshot (``snapshot.py``) that the receiving authority reads; the source record
stays scoped to its authority and never becomes visible to the recipient. Purpose, legal
basis, who and when are stored on the transfer and written to the audit log (cf. § 76
BDSG, § 29 Abs. 2 PolG NRW: a transfer log of who, what, when, why and to whom).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from lagebild.citizen import services as citizen_services
from lagebild.citizen.models import OPEN_STATUSES, Report, ReportStatus
from lagebild.core import audit
from lagebild.core.models import Authority, User
from lagebild.field.models import Incident

from . import catalogue, selectors
from .catalogue import MEASURE_FOR_PURPOSE, Purpose, RecordType
from .models import Transfer, TransferEvent
from .snapshot import contains_contact_data, incident_snapshot, report_snapshot

NOT_PERMITTED = (
    "Weitergeben dürfen nur Schichtleitung / Leitstelle und Administration; "
    "der Außendienst gibt nur Strafanzeigen zu eigenen Feststellungen an die Polizei weiter."
)
FIELD_OFFICER_PURPOSE = (
    "Der Außendienst darf nur Strafanzeigen weitergeben; über andere Weitergaben entscheidet "
    "die Schichtleitung / Leitstelle."
)


class SourceNotFound(Exception):
    """The record does not exist or is not the user's authority's: both answer alike."""


class TransferNotFound(Exception):
    """The transfer does not exist or is not visible in this direction."""


@dataclass
class PreparedTransfer:
    """A checked transfer, shown on the confirmation page before it is made."""

    record: Incident | Report
    record_type: str
    recipient: Authority
    purpose: str
    legal_basis: str
    legal_basis_text: str
    regime: str
    fields: list[str]
    measure_ids: list[int]
    note: str
    snapshot: dict = field(default_factory=dict)

    @property
    def purpose_label(self) -> str:
        return Purpose(self.purpose).label

    @property
    def legal_basis_label(self) -> str:
        return catalogue.LegalBasis(self.legal_basis).label

    @property
    def regime_label(self) -> str:
        return catalogue.Regime(self.regime).label


def may_share_record_type(user: User, record_type: str) -> bool:
    if not user.has_perm("sharing.share"):
        return False
    # Field officers: criminal complaints about incidents only (see rules.py).
    return record_type == RecordType.INCIDENT or user.has_perm("sharing.share_any_purpose")


def _require_share(user: User, record_type: str) -> None:
    if not may_share_record_type(user, record_type):
        raise PermissionDenied(NOT_PERMITTED)


def _user_name(user: User) -> str:
    return (user.get_full_name() or user.username)[:200]


def _user_ref(user: User) -> str:
    return f"{user.username} (Nr. {user.pk})"[:200]


def transfer_prepare(
    *,
    user: User,
    record_type: str,
    record_id: object,
    recipient_id: object,
    purpose: str,
    legal_basis: str,
    legal_basis_text: str = "",
    fields: list[str] | tuple[str, ...] = (),
    measure_ids: list[int] | tuple[int, ...] = (),
    note: str = "",
) -> PreparedTransfer:
    """Check everything and build the snapshot; writes nothing.

    Raises ``PermissionDenied`` (role), ``SourceNotFound`` (missing or another authority's
    record, alike) or ``ValidationError`` with German messages per form field."""
    _require_share(user, record_type)
    record = selectors.shareable_record(user, record_type, record_id)
    if record is None:
        raise SourceNotFound
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    recipient = None
    if recipient_id in (None, ""):
        add("recipient", "Bitte die empfangende Behörde wählen.")
    elif str(recipient_id) == str(user.authority_id):
        add("recipient", "Eine Weitergabe an die eigene Behörde ist keine Weitergabe.")
    else:
        recipient = selectors.recipients(user).filter(pk=_as_int(recipient_id)).first()
        if recipient is None:
            add("recipient", "Diese Behörde gibt es nicht.")
    purpose = (purpose or "").strip()
    legal_basis = (legal_basis or "").strip()
    chosen = [key for key in dict.fromkeys(fields) if key]
    legal_text, text_too_long = citizen_services.clean_text(legal_basis_text, 300)
    if text_too_long:
        add("legal_basis_text", "Höchstens 300 Zeichen.")
    for key, messages in catalogue.rule_errors(
        record_type=record_type,
        purpose=purpose,
        legal_basis=legal_basis,
        legal_basis_text=legal_text,
        fields=chosen,
        sender_kind=user.authority.kind,
    ).items():
        for message in messages:
            add(key, message)
    if (
        purpose in Purpose.values
        and purpose != Purpose.CRIMINAL_COMPLAINT
        and not user.has_perm("sharing.share_any_purpose")
    ):
        add("purpose", FIELD_OFFICER_PURPOSE)
    note_text, note_too_long = citizen_services.clean_text(note, 1000)
    if note_too_long:
        add("note", "Die Mitteilung hat höchstens 1000 Zeichen.")

    measures: list[Any] = []
    wanted = {_as_int(value) for value in measure_ids}
    if isinstance(record, Incident):
        available = selectors.own_measures(user, record)
        measures = [m for m in available if m.pk in wanted]
        if len(measures) != len(wanted):
            add("measures", "Diese Maßnahme gehört nicht zu der Feststellung Ihrer Behörde.")
        needed = MEASURE_FOR_PURPOSE.get(purpose)
        if needed and not any(m.type == needed for m in measures):
            label = {"criminal_complaint": "Strafanzeige", "offence_report": "OWi-Anzeige"}[needed]
            add(
                "measures",
                f"Bitte die Maßnahme „{label}“ mitgeben; fehlt sie, zuerst auf der Feststellung "
                "unter „Maßnahme nachtragen“ erfassen.",
            )
    elif wanted:
        add("measures", "Ein Bürgerhinweis hat keine Maßnahmen.")
    if isinstance(record, Report) and purpose == Purpose.COMPETENCE and record.status not in OPEN_STATUSES:
        add("purpose", "Nur offene Hinweise können wegen Zuständigkeit abgegeben werden.")
    if errors:
        raise ValidationError(errors)
    assert recipient is not None
    if isinstance(record, Incident):
        snapshot = incident_snapshot(record, fields=chosen, measures=measures, areas=_incident_areas(record))
    else:
        snapshot = report_snapshot(
            record,
            fields=chosen,
            attribute_rows=selectors.attribute_rows(record),
            areas=_report_areas(record),
        )
    return PreparedTransfer(
        record=record,
        record_type=record_type,
        recipient=recipient,
        purpose=purpose,
        legal_basis=legal_basis,
        legal_basis_text=legal_text,
        regime=catalogue.regime_for(purpose, user.authority.kind),
        fields=chosen,
        measure_ids=[m.pk for m in measures],
        note=note_text,
        snapshot=snapshot,
    )


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _incident_areas(incident: Incident) -> list[Any]:
    from lagebild.field import selectors as field_selectors

    return field_selectors.incident_areas(incident)


def _report_areas(report: Report) -> list[Any]:
    from lagebild.citizen import selectors as citizen_selectors

    return list(citizen_selectors.report_areas(report))


@transaction.atomic
def transfer_create(*, user: User, **arguments: Any) -> Transfer:
    """Make the transfer: snapshot, audit entries; a citizen report handed over because the
    recipient is competent is closed here as "Weitergeleitet" (the reporter sees that)."""
    prepared = transfer_prepare(user=user, **arguments)
    now = timezone.now()
    transfer = Transfer.objects.create(
        sender_authority_id=user.authority_id,
        recipient_authority=prepared.recipient,
        record_type=prepared.record_type,
        record_id=prepared.record.pk,
        purpose=prepared.purpose,
        legal_basis=prepared.legal_basis,
        legal_basis_text=prepared.legal_basis_text,
        regime=prepared.regime,
        included=[*prepared.fields, *(f"measure:{pk}" for pk in prepared.measure_ids)],
        snapshot=prepared.snapshot,
        note=prepared.note,
        created_at=now,
        created_by=user,
        created_by_name=_user_name(user),
        created_by_ref=_user_ref(user),
    )
    if (
        isinstance(prepared.record, Report)
        and prepared.purpose == Purpose.COMPETENCE
        and prepared.record.status != ReportStatus.FORWARDED
    ):
        citizen_services.report_transition(
            user=user,
            report=prepared.record,
            to_status=ReportStatus.FORWARDED,
            public_note=f"Weitergeleitet an: {prepared.recipient.name}.",
            internal_note=f"Weitergabe Nr. {transfer.pk} (Zuständigkeit der empfangenden Behörde).",
        )
    detail = {
        "transfer_purpose": prepared.purpose,
        "legal_basis": prepared.legal_basis,
        "legal_basis_text": prepared.legal_basis_text,
        "regime": prepared.regime,
        "recipient": prepared.recipient.pk,
        "recipient_name": prepared.recipient.name,
        "record_type": prepared.record_type,
        "record_id": prepared.record.pk,
        "fields": prepared.fields,
        "measures": prepared.measure_ids,
        "contact_data": contains_contact_data(prepared.snapshot),
    }
    # Audit entries last: the log's chain head is locked until the transaction commits.
    why = f"Weitergabe: {prepared.purpose_label}"
    audit.log("sharing.transfer.created", user=user, obj=transfer, purpose=why, **detail)
    # The same act on the source record, so a search for "who saw / got this report"
    # (data-protection officer) finds the transfer too.
    audit.log(
        "sharing.record.transferred",
        user=user,
        obj=prepared.record,
        purpose=why,
        transfer=transfer.pk,
        **detail,
    )
    return transfer


SOURCE_OBJECT_TYPES = {RecordType.INCIDENT: "field.incident", RecordType.CITIZEN_REPORT: "citizen.report"}


def record_view(*, user: User, row: selectors.TransferRow, side: str) -> None:
    """Every reading of a transfer's content is logged (recipient and sender alike): on the
    transfer, and on the source record's id, so that "every access to this report" includes
    the other authority reading its copy (the source itself is not loaded for that)."""
    transfer = row.transfer
    detail = {
        "side": side,
        "transfer_purpose": transfer.purpose,
        "record_type": transfer.record_type,
        "record_id": transfer.record_id,
        "contact_data": contains_contact_data(transfer.snapshot),
        "withdrawn": row.withdrawn is not None,
    }
    why = f"Weitergabe lesen: {transfer.get_purpose_display()}"
    with transaction.atomic():
        audit.log("sharing.transfer.viewed", user=user, obj=transfer, purpose=why, **detail)
        if row.withdrawn is None:
            audit.log(
                "sharing.record.viewed",
                user=user,
                object_type=SOURCE_OBJECT_TYPES[transfer.record_type],
                object_id=transfer.record_id,
                purpose=why,
                transfer=transfer.pk,
                **detail,
            )


def _event(*, user: User, transfer: Transfer, kind: str, reason: str = "") -> TransferEvent:
    try:
        with transaction.atomic():
            return TransferEvent.objects.create(
                transfer=transfer,
                kind=kind,
                at=timezone.now(),
                authority_id=user.authority_id,
                user=user,
                user_name=_user_name(user),
                user_ref=_user_ref(user),
                reason=reason,
            )
    except IntegrityError:
        # A colleague did the same a moment ago (unique per transfer and kind).
        message = (
            "Der Empfang wurde bereits bestätigt."
            if kind == TransferEvent.Kind.ACKNOWLEDGED
            else "Die Weitergabe wurde bereits zurückgezogen."
        )
        raise ValidationError({"__all__": [message]}) from None


@transaction.atomic
def transfer_acknowledge(*, user: User, transfer_id: int) -> TransferEvent:
    if not user.has_perm("sharing.acknowledge"):
        raise PermissionDenied("Den Empfang bestätigen nur Schichtleitung / Leitstelle und Administration.")
    row = selectors.received_get(user, transfer_id)
    if row is None:
        raise TransferNotFound
    if row.withdrawn is not None:
        raise ValidationError({"__all__": ["Die Weitergabe wurde zurückgezogen."]})
    if row.acknowledged is not None:
        raise ValidationError({"__all__": ["Der Empfang wurde bereits bestätigt."]})
    event = _event(user=user, transfer=row.transfer, kind=TransferEvent.Kind.ACKNOWLEDGED)
    audit.log(
        "sharing.transfer.acknowledged",
        user=user,
        obj=row.transfer,
        sender=row.transfer.sender_authority_id,
        purpose=f"Empfang bestätigen: {row.transfer.get_purpose_display()}",
        transfer_purpose=row.transfer.purpose,
    )
    return event


@transaction.atomic
def transfer_withdraw(*, user: User, transfer_id: int, reason: str) -> TransferEvent:
    """The sender withdraws a transfer (e.g. sent to the wrong authority): the recipient
    then sees only that it was withdrawn and why, no longer its content."""
    row = selectors.sent_get(user, transfer_id) if user.has_perm("sharing.view_sent") else None
    if row is None:
        raise TransferNotFound
    if not (user.has_perm("sharing.withdraw_any") or row.transfer.created_by_id == user.pk):
        raise PermissionDenied(
            "Zurückziehen dürfen die Person, die weitergegeben hat, und die Schichtleitung."
        )
    text, too_long = citizen_services.clean_text(reason, 1000)
    if len(text) < 5:
        raise ValidationError({"reason": ["Bitte angeben, warum die Weitergabe zurückgezogen wird."]})
    if too_long:
        raise ValidationError({"reason": ["Höchstens 1000 Zeichen."]})
    if row.withdrawn is not None:
        raise ValidationError({"reason": ["Die Weitergabe wurde bereits zurückgezogen."]})
    event = _event(user=user, transfer=row.transfer, kind=TransferEvent.Kind.WITHDRAWN, reason=text)
    audit.log(
        "sharing.transfer.withdrawn",
        user=user,
        obj=row.transfer,
        recipient=row.transfer.recipient_authority_id,
        reason=text,
    )
    return event
