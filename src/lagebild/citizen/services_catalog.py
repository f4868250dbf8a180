"""Loading the citizen-facing service catalogue (Open311 services and their questions).

The file lists what citizens can report, in plain language, with the category-specific
questions (Open311 attributes). Loading is idempotent: services and questions are matched
by code; missing ones are created, existing ones are left as an administrator may have
changed them unless ``update=True``. All or nothing: one bad entry loads nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from lagebild.catalog.models import Category
from lagebild.core import audit

from .models import ServiceAttribute, ServiceType

DORTMUND_SERVICES = Path(__file__).resolve().parent / "data" / "dortmund_services.json"

SERVICE_FIELDS = (
    "name",
    "description",
    "group",
    "keywords",
    "acute",
    "acute_notice",
    "about_people",
    "publish_precision",
    "public_in_open311",
    "service_level_days",
    "active",
    "sort_order",
)
ATTRIBUTE_FIELDS = (
    "description",
    "datatype",
    "datatype_description",
    "required",
    "variable",
    "order",
    "values",
)
LIST_TYPES = {ServiceAttribute.Datatype.SINGLE, ServiceAttribute.Datatype.MULTI}


@dataclass
class ServicesResult:
    services_created: int = 0
    services_updated: int = 0
    attributes_created: int = 0
    attributes_updated: int = 0
    unchanged: int = 0
    missing_categories: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return (
            self.services_created + self.services_updated + self.attributes_created + self.attributes_updated
        )


class _Invalid(Exception):
    pass


def read_services(path: Path | str = DORTMUND_SERVICES) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _service_values(raw: dict, label: str) -> dict[str, Any]:
    values: dict[str, Any] = {key: raw[key] for key in SERVICE_FIELDS if key in raw}
    for key in ("name", "description", "group", "keywords", "acute_notice"):
        if key in values:
            values[key] = str(values[key] or "").strip()
    for flag in ("acute", "about_people", "active", "public_in_open311"):
        if flag in values and not isinstance(values[flag], bool):
            raise _Invalid(f"{label}: {flag} muss true oder false sein.")
    precision = values.get("publish_precision", ServiceType.Precision.EXACT)
    if precision not in ServiceType.Precision.values:
        raise _Invalid(f"{label}: publish_precision muss exact, coarse oder hidden sein.")
    if values.get("acute") and values.get("publish_precision") not in (None, ServiceType.Precision.HIDDEN):
        raise _Invalid(f"{label}: Akute Kategorien werden nicht veröffentlicht (publish_precision hidden).")
    if values.get("about_people") and precision == ServiceType.Precision.EXACT:
        raise _Invalid(f"{label}: Kategorien über Personen nur vergröbert oder gar nicht veröffentlichen.")
    return values


def _attribute_values(raw: object, label: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise _Invalid(f"{label}: Objekt erwartet.")
    code = str(raw.get("code") or "").strip()
    if not code or not str(raw.get("description") or "").strip():
        raise _Invalid(f"{label}: 'code' und 'description' sind Pflichtangaben.")
    values: dict[str, Any] = {key: raw[key] for key in ATTRIBUTE_FIELDS if key in raw}
    values["description"] = str(values["description"]).strip()
    values.setdefault("datatype_description", "")
    values.setdefault("required", False)
    values.setdefault("variable", True)
    values.setdefault("values", [])
    if values.get("datatype") not in ServiceAttribute.Datatype.values:
        raise _Invalid(f"{label} {code}: unbekannter Datentyp {values.get('datatype')!r}.")
    options = values["values"]
    if values["datatype"] in LIST_TYPES:
        if not isinstance(options, list) or not options:
            raise _Invalid(f"{label} {code}: Auswahllisten brauchen Werte.")
        keys = [str(o.get("key", "")).strip() if isinstance(o, dict) else "" for o in options]
        if any(not k for k in keys) or len(set(keys)) != len(keys):
            raise _Invalid(f"{label} {code}: Jeder Auswahlwert braucht einen eindeutigen 'key'.")
        values["values"] = [
            {"key": k, "name": str(o.get("name") or k)} for k, o in zip(keys, options, strict=True)
        ]
    elif options:
        raise _Invalid(f"{label} {code}: Werte gibt es nur bei Auswahllisten.")
    if not isinstance(values.get("order"), int) or values["order"] < 1:
        raise _Invalid(f"{label} {code}: 'order' muss eine positive ganze Zahl sein.")
    return code, values


def _apply(instance: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(instance, key) != value:
            setattr(instance, key, value)
            changed = True
    return changed


def _save(instance: Any, label: str) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        messages = (
            [f"{key}: {m}" for key, msgs in exc.message_dict.items() for m in msgs]
            if hasattr(exc, "error_dict")
            else exc.messages
        )
        raise _Invalid(f"{label}: " + "; ".join(messages)) from exc
    instance.save()


def load_services(data: dict | None = None, *, update: bool = False) -> ServicesResult:
    """Create the services and questions of ``data`` (default: the Dortmund file).

    Running it twice changes nothing. With ``update`` the file wins over manual changes
    (questions missing from the file are kept: stored answers refer to their codes).
    """
    if data is None:
        data = read_services()
    result = ServicesResult()
    if not isinstance(data, dict) or not isinstance(data.get("services"), list):
        result.errors.append("Die Datei enthält keine Liste 'services'.")
        return result
    try:
        with transaction.atomic():
            categories = dict(Category.objects.values_list("code", "pk"))
            police_categories = set(
                Category.objects.filter(competent_authority="police").values_list("code", flat=True)
            )
            seen: set[str] = set()
            for number, raw in enumerate(data["services"], start=1):
                _load_service(raw, number, result, categories, seen, update, police_categories)
            if result.changed:
                audit.log(
                    "citizen.services.loaded", object_type="citizen.servicetype", changed=result.changed
                )
    except _Invalid as exc:
        return ServicesResult(errors=[str(exc)])
    return result


def _load_service(
    raw: object,
    number: int,
    result: ServicesResult,
    categories: dict[str, int],
    seen: set[str],
    update: bool,
    police_categories: frozenset[str] | set[str] = frozenset(),
) -> None:
    if not isinstance(raw, dict):
        raise _Invalid(f"Eintrag {number}: Objekt erwartet.")
    code = str(raw.get("code") or "").strip()
    label = f"Meldekategorie {code or number}"
    if not code or not str(raw.get("name") or "").strip():
        raise _Invalid(f"{label}: 'code' und 'name' sind Pflichtangaben.")
    if code in seen:
        raise _Invalid(f"{label}: Der Code kommt doppelt vor.")
    seen.add(code)
    values = _service_values(raw, label)
    category_code = str(raw.get("category") or "").strip()
    values["category_id"] = categories.get(category_code) if category_code else None
    if category_code and values["category_id"] is None:
        result.missing_categories.append(category_code)
    attributes = [_attribute_values(a, f"{label}, Frage") for a in raw.get("attributes") or []]
    orders = [a["order"] for _code, a in attributes]
    if len(set(orders)) != len(orders) or len({c for c, _a in attributes}) != len(attributes):
        raise _Invalid(f"{label}: Codes und Reihenfolge der Fragen müssen eindeutig sein.")

    service = ServiceType.objects.filter(code=code).first()
    created = service is None
    if service is None:
        service = ServiceType(code=code)
        # Police matters (tips on drug dealing …) stay out of the public feed unless the
        # catalogue says otherwise; everything else is published (issue 13). An update keeps
        # an administrator's decision unless the file states one.
        service.public_in_open311 = category_code not in police_categories
        _apply(service, values)
        _save(service, label)
        result.services_created += 1
    elif update and _apply(service, values):
        _save(service, label)
        result.services_updated += 1
    else:
        result.unchanged += 1

    if not (created or update):
        return  # questions an administrator removed stay removed
    existing = {a.code: a for a in ServiceAttribute.objects.filter(service=service)}
    if update:
        # Free the order numbers first: the file may swap two questions.
        for attr_code, attr_values in attributes:
            current = existing.get(attr_code)
            if current is not None and current.order != attr_values["order"]:
                ServiceAttribute.objects.filter(pk=current.pk).update(order=1000 + current.pk)
                current.order = 1000 + current.pk
    for attr_code, attr_values in attributes:
        attribute = existing.get(attr_code)
        if attribute is None:
            taken = {a.order for a in existing.values()}
            if attr_values["order"] in taken:  # an administrator's own question holds the place
                attr_values = {**attr_values, "order": max(taken) + 1}
            attribute = ServiceAttribute(service=service, code=attr_code)
            _apply(attribute, attr_values)
            _save(attribute, f"{label}, Frage {attr_code}")
            existing[attr_code] = attribute
            result.attributes_created += 1
        elif update and _apply(attribute, attr_values):
            _save(attribute, f"{label}, Frage {attr_code}")
            result.attributes_updated += 1
