"""Parsing of the incident filter GET parameters, shared by the list page, the map and the exports.

Parameter names (keep them stable, links and bookmarks depend on them):

``date_from``, ``date_to``  YYYY-MM-DD (local dates, both inclusive)
``area``                    area id
``category``                category id, may repeat (``?category=1&category=2``)
``measure_type``            a measure type code (``dispersal_order`` …)
``authority``               authority id
``source``                  incident source code (``patrol`` …)
``joint``                   ``1``/``ja``/``true`` or ``0``/``nein``/``false``; empty = all
``patrol``                  patrol id (optional extra)
``q``                       free text in description/address (optional extra)

Invalid values are not applied; they come back as German messages keyed by parameter name,
so a page can show them next to the field instead of failing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .models import Incident, MeasureType
from .selectors import IncidentFilter

FILTER_PARAMS = (
    "date_from",
    "date_to",
    "area",
    "category",
    "measure_type",
    "authority",
    "source",
    "joint",
    "patrol",
    "q",
)

TRUE_WORDS = frozenset({"1", "ja", "true", "yes", "on", "j", "wahr"})
FALSE_WORDS = frozenset({"0", "nein", "false", "no", "off", "n", "falsch"})
MAX_ID = 2**63 - 1


def _values(querydict: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(querydict, "getlist", None)
    if getlist is not None:
        raw = getlist(key)
    else:
        value = querydict.get(key)
        raw = value if isinstance(value, list | tuple) else ([] if value is None else [value])
    return [str(v).strip() for v in raw if v is not None and str(v).strip()]


def _first(querydict: Mapping[str, Any], key: str) -> str:
    values = _values(querydict, key)
    return values[0] if values else ""


def _parse_id(text: str) -> int | None:
    if not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _parse_date(text: str) -> dt.date | None:
    """ISO dates, and the German forms the list's date fields accept (22.11.2026, 22.11.26)."""
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def filters_from_querydict(querydict: Mapping[str, Any]) -> tuple[IncidentFilter, dict[str, str]]:
    """Build an IncidentFilter from GET parameters; bad values are skipped and reported."""
    filters = IncidentFilter()
    errors: dict[str, str] = {}

    for key in ("date_from", "date_to"):
        text = _first(querydict, key)
        if not text:
            continue
        day = _parse_date(text)
        if day is None:
            errors[key] = "Bitte ein Datum im Format JJJJ-MM-TT angeben."
        else:
            setattr(filters, key, day)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["date_to"] = "Das Enddatum liegt vor dem Anfangsdatum."
        filters.date_to = None

    for key, attr, message in (
        ("area", "area_id", "Unbekanntes Gebiet."),
        ("authority", "authority_id", "Unbekannte Behörde."),
        ("patrol", "patrol_id", "Unbekannte Streife."),
    ):
        text = _first(querydict, key)
        if not text:
            continue
        number = _parse_id(text)
        if number is None:
            errors[key] = message
        else:
            setattr(filters, attr, number)

    category_ids: list[int] = []
    for text in _values(querydict, "category"):
        number = _parse_id(text)
        if number is None:
            errors["category"] = "Unbekannter Sachverhalt."
        elif number not in category_ids:
            category_ids.append(number)
    filters.category_ids = category_ids

    measure_type = _first(querydict, "measure_type")
    if measure_type:
        if measure_type in MeasureType.values:
            filters.measure_type = measure_type
        else:
            errors["measure_type"] = "Unbekannte Maßnahme."

    source = _first(querydict, "source")
    if source:
        if source in Incident.Source.values:
            filters.source = source
        else:
            errors["source"] = "Unbekannte Quelle."

    joint = _first(querydict, "joint").lower()
    if joint:
        if joint in TRUE_WORDS:
            filters.joint = True
        elif joint in FALSE_WORDS:
            filters.joint = False
        else:
            errors["joint"] = "Bitte „ja“ oder „nein“ wählen."

    text = _first(querydict, "q")
    if text:
        filters.text = text[:200]

    return filters, errors


def filters_to_dict(filters: IncidentFilter) -> dict[str, Any]:
    """The applied filters in GET-parameter form (for audit records and links)."""
    data: dict[str, Any] = {}
    if filters.date_from:
        data["date_from"] = filters.date_from.isoformat()
    if filters.date_to:
        data["date_to"] = filters.date_to.isoformat()
    if filters.area_id:
        data["area"] = filters.area_id
    if filters.category_ids:
        data["category"] = list(filters.category_ids)
    if filters.measure_type:
        data["measure_type"] = filters.measure_type
    if filters.authority_id:
        data["authority"] = filters.authority_id
    if filters.source:
        data["source"] = filters.source
    if filters.joint is not None:
        data["joint"] = "1" if filters.joint else "0"
    if filters.patrol_id:
        data["patrol"] = filters.patrol_id
    if filters.text:
        data["q"] = filters.text
    return data
