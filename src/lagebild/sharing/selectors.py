"""Reads for transfers: always inside the active authority scope, filtered by direction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from lagebild.citizen.models import Report, ServiceAttribute
from lagebild.core.models import Authority, User
from lagebild.field.models import Incident, Measure

from .catalogue import RecordType
from .models import Transfer, TransferEvent


def shareable_incident(user: User, pk: object) -> Incident | None:
    """An incident the user's authority recorded; a partner's (even joint) or a missing one
    gives None alike, so the answer never tells which."""
    if not isinstance(pk, int):
        return None
    return (
        Incident.objects.select_related("category", "category_rule", "recorded_by", "authority")
        .filter(pk=pk, authority_id=user.authority_id)
        .first()
    )


def shareable_report(user: User, pk: object) -> Report | None:
    if not isinstance(pk, int):
        return None
    return (
        Report.objects.select_related("service", "authority")
        .filter(pk=pk, authority_id=user.authority_id)
        .first()
    )


def shareable_record(user: User, record_type: str, pk: object) -> Incident | Report | None:
    if record_type == RecordType.INCIDENT:
        return shareable_incident(user, pk)
    if record_type == RecordType.CITIZEN_REPORT:
        return shareable_report(user, pk)
    return None


def own_measures(user: User, incident: Incident) -> list[Measure]:
    """Measures of the user's own authority; a partner's measure on a joint incident is the
    partner's to share."""
    return list(
        Measure.objects.filter(incident=incident, authority_id=user.authority_id).order_by("taken_at", "id")
    )


def recipients(user: User) -> QuerySet[Authority]:
    return Authority.objects.exclude(pk=user.authority_id).order_by("name")


def attribute_rows(report: Report) -> list[dict[str, str]]:
    """The answers to the category's questions with question and value names, as text."""
    answers = report.attributes or {}
    rows = []
    for attribute in ServiceAttribute.objects.filter(service_id=report.service_id).order_by("order"):
        if attribute.code not in answers:
            continue
        value = answers[attribute.code]
        names = {str(v.get("key")): str(v.get("name") or v.get("key")) for v in attribute.values or []}
        if isinstance(value, list):
            shown = ", ".join(names.get(str(v), str(v)) for v in value)
        else:
            shown = names.get(str(value), str(value))
        rows.append({"question": attribute.description, "value": shown})
    return rows


@dataclass
class TransferRow:
    transfer: Transfer
    acknowledged: TransferEvent | None
    withdrawn: TransferEvent | None

    @property
    def status(self) -> str:
        if self.withdrawn is not None:
            return "Zurückgezogen"
        if self.acknowledged is not None:
            return "Empfang bestätigt"
        return "Offen"

    @property
    def status_class(self) -> str:
        if self.withdrawn is not None:
            return "closed"
        return "joint" if self.acknowledged is not None else "open"

    @property
    def acknowledged_at(self) -> dt.datetime | None:
        return self.acknowledged.at if self.acknowledged else None


def _rows(transfers: QuerySet[Transfer]) -> list[TransferRow]:
    transfers = transfers.select_related("sender_authority", "recipient_authority").prefetch_related("events")
    rows = []
    for transfer in transfers:
        events = {event.kind: event for event in transfer.events.all()}
        rows.append(
            TransferRow(
                transfer=transfer,
                acknowledged=events.get(TransferEvent.Kind.ACKNOWLEDGED),
                withdrawn=events.get(TransferEvent.Kind.WITHDRAWN),
            )
        )
    return rows


def _received(user: User) -> QuerySet[Transfer]:
    return Transfer.objects.filter(recipient_authority_id=user.authority_id)


def _sent(user: User) -> QuerySet[Transfer]:
    queryset = Transfer.objects.filter(sender_authority_id=user.authority_id)
    if not user.has_perm("sharing.view_all_sent"):
        queryset = queryset.filter(created_by=user)
    return queryset


def received(user: User, *, limit: int = 500) -> list[TransferRow]:
    return _rows(_received(user)[:limit])


def sent(user: User, *, limit: int = 500) -> list[TransferRow]:
    return _rows(_sent(user)[:limit])


def received_get(user: User, pk: int) -> TransferRow | None:
    rows = _rows(_received(user).filter(pk=pk))
    return rows[0] if rows else None


def sent_get(user: User, pk: int) -> TransferRow | None:
    rows = _rows(_sent(user).filter(pk=pk))
    return rows[0] if rows else None


def transfers_of_record(user: User, record_type: str, record_id: int) -> list[TransferRow]:
    return _rows(_sent(user).filter(record_type=record_type, record_id=record_id))


def record_label(record: Any) -> str:
    if isinstance(record, Incident):
        return f"Feststellung Nr. {record.pk}: {record.category.name}"
    return f"Bürgerhinweis Nr. {record.pk}: {record.service.name}"
