"""The frozen copy of what a transfer carries: display-ready, nothing beyond the choice.

A snapshot is a document, like the printout that used to be faxed: labels and values as
the sender saw them at the moment of the transfer (local time, German labels). The
recipient reads only this; later changes to the source do not change what was sent.
Person pseudonyms never go along: they mean something only inside the recording authority.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from .catalogue import RecordType, field_specs

SNAPSHOT_VERSION = 1


def local(moment: dt.datetime | None) -> str:
    if moment is None:
        return "–"
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M Uhr")


def _euro(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return f"{amount:.2f} €".replace(".", ",")


def _location(address_text: str, lat: float | None, lon: float | None) -> str:
    parts = [address_text or "keine Ortsangabe"]
    if lat is not None and lon is not None:
        parts.append(f"{lat:.5f}, {lon:.5f} (WGS84)")
    return "; ".join(parts)


def _user_label(user: Any) -> str:
    if user is None:
        return "–"
    name = user.get_full_name() or user.username
    return f"{name} (Dienstnummer {user.service_number})" if user.service_number else name


def _area_names(areas: list[Any]) -> str:
    names = [f"{area.name} ({area.get_kind_display()})" for area in areas if area.kind != "city"]
    return ", ".join(names) or "–"


def measure_details(measure: Any) -> str:
    """The details column of the incident page, as text."""
    parts: list[str] = []
    if measure.type == "caution_fee" and measure.amount is not None:
        parts.append(_euro(measure.amount))
    if measure.type == "seizure":
        if measure.seizure_kind:
            parts.append(measure.get_seizure_kind_display())
        if measure.quantity is not None:
            parts.append(f"{measure.quantity.normalize():f} {measure.quantity_unit}".strip())
        if measure.amount is not None:
            parts.append(_euro(measure.amount))
    if measure.type == "referral" and measure.referral_service:
        parts.append(measure.get_referral_service_display())
    if measure.note:
        parts.append(measure.note)
    return "; ".join(parts)


def _row(key: str, label: str, value: str) -> dict[str, str]:
    return {"key": key, "label": label, "value": value}


def incident_snapshot(incident: Any, *, fields: list[str], measures: list[Any], areas: list[Any]) -> dict:
    rows = [
        _row("category", "Sachverhalt", incident.category.name),
        _row("occurred_at", "Zeitpunkt", local(incident.occurred_at)),
    ]
    values = {
        "location": lambda: _location(incident.address_text, incident.lat, incident.lon),
        "description": lambda: incident.description or "–",
        "areas": lambda: _area_names(areas),
        "source": lambda: incident.get_source_display(),
        "rule": lambda: _rule_text(incident.category_rule),
        "recorded_by": lambda: _user_label(incident.recorded_by),
    }
    for spec in field_specs(RecordType.INCIDENT):
        if spec.key in fields:
            rows.append(_row(spec.key, spec.short, values[spec.key]()))
    return {
        "version": SNAPSHOT_VERSION,
        "record": {
            "type": RecordType.INCIDENT.value,
            "id": incident.pk,
            "label": f"Feststellung Nr. {incident.pk}",
        },
        "fields": rows,
        "measures": [
            {
                "id": measure.pk,
                "type": measure.type,
                "label": measure.get_type_display(),
                "taken_at": local(measure.taken_at),
                "details": measure_details(measure),
            }
            for measure in measures
        ],
    }


def _rule_text(rule: Any) -> str:
    if rule is None:
        return "keine Regel im Katalog"
    kinds = []
    if rule.is_offence:
        kinds.append("Ordnungswidrigkeit")
    if rule.is_crime:
        kinds.append("Straftat möglich")
    return f"{rule.legal_basis}" + (f" ({', '.join(kinds)})" if kinds else "")


def report_snapshot(report: Any, *, fields: list[str], attribute_rows: list[dict], areas: list[Any]) -> dict:
    rows = [
        _row("service", "Kategorie", report.service.name),
        _row("requested_at", "Eingegangen", local(report.requested_at)),
    ]
    values = {
        "location": lambda: _location(report.address_text, report.lat, report.lon),
        "description": lambda: report.description or "–",
        "attributes": lambda: (
            "; ".join(f"{row['question']}: {row['value']}" for row in attribute_rows) or "–"
        ),
        "areas": lambda: _area_names(areas),
        "channel": lambda: report.get_channel_display(),
        "reporter_contact": lambda: _contact(report),
    }
    for spec in field_specs(RecordType.CITIZEN_REPORT):
        if spec.key in fields:
            rows.append(_row(spec.key, spec.short, values[spec.key]()))
    return {
        "version": SNAPSHOT_VERSION,
        "record": {
            "type": RecordType.CITIZEN_REPORT.value,
            "id": report.pk,
            "label": f"Bürgerhinweis Nr. {report.pk}",
        },
        "fields": rows,
        "measures": [],
    }


def _contact(report: Any) -> str:
    if report.anonymised_at:
        return "Kontaktdaten wurden nach Ablauf der Aufbewahrungsfrist gelöscht."
    parts = [
        f"Name: {report.reporter_name}" if report.reporter_name else "",
        f"E-Mail: {report.reporter_email}" if report.reporter_email else "",
        f"Telefon: {report.reporter_phone}" if report.reporter_phone else "",
    ]
    return "; ".join(p for p in parts if p) or "anonym gemeldet"


def contains_contact_data(snapshot: dict) -> bool:
    return any(row.get("key") == "reporter_contact" for row in snapshot.get("fields", []))
