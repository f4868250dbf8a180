"""Writes of the catalogue: loading categories and their versioned rules from a JSON file."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Category, CategoryRule

DORTMUND_CATALOGUE = Path(__file__).resolve().parent / "data" / "dortmund_catalogue.json"

CATEGORY_FIELDS = ("name", "group", "competent_authority", "description", "sort_order", "active")
RULE_FIELDS = (
    "valid_to",
    "legal_basis",
    "is_offence",
    "is_crime",
    "caution_allowed",
    "caution_amount",
    "max_fine",
    "limitation_override_months",
    "is_demo_value",
    "source",
)
RULE_DEFAULTS: dict[str, Any] = {
    "valid_to": None,
    "is_offence": True,
    "is_crime": False,
    "caution_allowed": False,
    "caution_amount": None,
    "max_fine": None,
    "limitation_override_months": None,
    "is_demo_value": False,
    "source": "",
}


@dataclass
class CatalogueResult:
    categories_created: int = 0
    categories_updated: int = 0
    rules_created: int = 0
    rules_updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.categories_created + self.categories_updated + self.rules_created + self.rules_updated


class _Invalid(Exception):
    pass


def read_catalogue(path: Path | str = DORTMUND_CATALOGUE) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _date(value: object, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise _Invalid(f"{label}: ungültiges Datum {value!r} (erwartet JJJJ-MM-TT).") from exc


def _decimal(value: object, label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise _Invalid(f"{label}: {value!r} ist keine Zahl.") from exc
    if not number.is_finite():
        raise _Invalid(f"{label}: {value!r} ist keine Zahl.")
    return number


def _rule_values(raw: dict, label: str) -> dict[str, Any]:
    values = dict(RULE_DEFAULTS)
    values.update({key: raw[key] for key in RULE_FIELDS if key in raw})
    values["valid_to"] = _date(values["valid_to"], f"{label}, valid_to")
    values["caution_amount"] = _decimal(values["caution_amount"], f"{label}, caution_amount")
    values["max_fine"] = _decimal(values["max_fine"], f"{label}, max_fine")
    values["legal_basis"] = str(values.get("legal_basis") or "").strip()
    values["source"] = str(values.get("source") or "").strip()
    for flag in ("is_offence", "is_crime", "caution_allowed", "is_demo_value"):
        if not isinstance(values[flag], bool):
            raise _Invalid(f"{label}: {flag} muss true oder false sein.")
    return values


def _messages(exc: ValidationError, label: str) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{label}, {key}: {msg}" for key, msgs in exc.message_dict.items() for msg in msgs]
    return [f"{label}: {msg}" for msg in exc.messages]


def _apply(instance: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(instance, key) != value:
            setattr(instance, key, value)
            changed = True
    return changed


def _check_overlaps(code: str, periods: list[tuple[dt.date, dt.date | None]]) -> None:
    ordered = sorted(periods)
    for (start_a, end_a), (start_b, _end_b) in itertools.pairwise(ordered):
        if end_a is None or end_a >= start_b:
            raise _Invalid(
                f"Sachverhalt {code}: Die Regeln ab {start_a:%d.%m.%Y} und ab {start_b:%d.%m.%Y} "
                "überschneiden sich."
            )


def load_catalogue(data: dict) -> CatalogueResult:
    """Create or update categories and rules from catalogue data (all or nothing).

    Categories are matched by ``code``, rules by category and ``valid_from`` (a rule is a
    version of the law, so its start date identifies it). Rules missing from the file are
    kept: incidents refer to them. Running the same file twice changes nothing.
    """
    result = CatalogueResult()
    if not isinstance(data, dict) or not isinstance(data.get("categories"), list):
        result.errors.append("Die Datei enthält keine Liste 'categories'.")
        return result
    try:
        with transaction.atomic():
            for number, raw in enumerate(data["categories"], start=1):
                _load_category(raw, number, result)
            if result.errors:
                raise _Invalid("rollback")
    except _Invalid as exc:
        if str(exc) != "rollback":
            result.errors.append(str(exc))
        return CatalogueResult(errors=result.errors)
    return result


def _load_category(raw: object, number: int, result: CatalogueResult) -> None:
    if not isinstance(raw, dict):
        raise _Invalid(f"Eintrag {number}: Objekt erwartet.")
    code = str(raw.get("code") or "").strip()
    label = f"Sachverhalt {code or number}"
    if not code or not str(raw.get("name") or "").strip():
        raise _Invalid(f"{label}: 'code' und 'name' sind Pflichtangaben.")
    values = {key: raw[key] for key in CATEGORY_FIELDS if key in raw}
    values["name"] = str(values["name"]).strip()
    category = Category.objects.filter(code=code).first()
    created = category is None
    if created:
        category = Category(code=code)
    changed = _apply(category, values)
    if created or changed:
        try:
            category.full_clean()
        except ValidationError as exc:
            result.errors.extend(_messages(exc, label))
            return
        category.save()
        if created:
            result.categories_created += 1
        else:
            result.categories_updated += 1
    else:
        result.unchanged += 1

    rules_raw = raw.get("rules") or []
    if not isinstance(rules_raw, list):
        raise _Invalid(f"{label}: 'rules' muss eine Liste sein.")
    parsed: list[tuple[dt.date, dict[str, Any]]] = []
    for rule_number, rule_raw in enumerate(rules_raw, start=1):
        rule_label = f"{label}, Regel {rule_number}"
        if not isinstance(rule_raw, dict):
            raise _Invalid(f"{rule_label}: Objekt erwartet.")
        valid_from = _date(rule_raw.get("valid_from"), f"{rule_label}, valid_from")
        if valid_from is None:
            raise _Invalid(f"{rule_label}: 'valid_from' ist Pflicht.")
        parsed.append((valid_from, _rule_values(rule_raw, rule_label)))
    _check_overlaps(code, [(start, values["valid_to"]) for start, values in parsed])

    existing = {rule.valid_from: rule for rule in CategoryRule.objects.filter(category=category)}
    # Existing versions first (in date order), so that shortening an open-ended rule
    # happens before its successor is created; clean() checks overlaps against the DB.
    ordered = sorted(parsed, key=lambda item: (item[0] not in existing, item[0]))
    for valid_from, rule_values in ordered:
        rule = existing.get(valid_from)
        is_new = rule is None
        if is_new:
            rule = CategoryRule(category=category, valid_from=valid_from)
        if not _apply(rule, rule_values) and not is_new:
            result.unchanged += 1
            continue
        try:
            rule.full_clean()
        except ValidationError as exc:
            result.errors.extend(_messages(exc, f"{label}, Regel ab {valid_from:%d.%m.%Y}"))
            continue
        rule.save()
        if is_new:
            result.rules_created += 1
        else:
            result.rules_updated += 1
