"""Loading the catalogue of categories and versioned rules from JSON."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from lagebild.catalog.models import Category, CategoryRule, limitation_months
from lagebild.catalog.selectors import rule_for
from lagebild.catalog.services import load_catalogue, read_catalogue
from lagebild.core.scoping import authority_scope
from lagebild.field import services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident

from .conftest import INSIDE


@pytest.fixture
def dortmund() -> dict:
    return read_catalogue()


def test_loads_the_bundled_catalogue_and_second_run_changes_nothing(db, dortmund):
    first = load_catalogue(dortmund)
    assert first.errors == []
    assert first.categories_created == len(dortmund["categories"]) == Category.objects.count()
    assert first.rules_created == sum(len(c["rules"]) for c in dortmund["categories"])
    assert CategoryRule.objects.count() == first.rules_created
    before = list(CategoryRule.objects.order_by("pk").values())

    second = load_catalogue(dortmund)
    assert second.errors == []
    assert second.changed == 0
    assert list(CategoryRule.objects.order_by("pk").values()) == before


def test_versioned_rules_are_picked_by_date(db, dortmund):
    load_catalogue(dortmund)
    littering = Category.objects.get(code="littering")
    assert rule_for(littering, dt.date(2018, 6, 1)).caution_amount == Decimal("15.00")
    assert rule_for(littering, dt.date(2020, 6, 1)).caution_amount == Decimal("50.00")
    assert rule_for(littering, dt.date(2013, 6, 1)) is None
    drugs = Category.objects.get(code="drug-consumption-public")
    assert rule_for(drugs, dt.date(2024, 3, 31)).max_fine == Decimal("1000.00")
    assert rule_for(drugs, dt.date(2024, 4, 1)).max_fine == Decimal("30000.00")


@pytest.mark.parametrize(
    ("max_fine", "months"),
    [
        ("55", 6),
        ("1000", 6),
        ("1000.01", 12),
        ("2500", 12),
        ("2500.01", 24),
        ("15000", 24),
        ("15000.01", 36),
        ("100000", 36),
    ],
)
def test_limitation_period_follows_section_31_owig(max_fine, months):
    assert limitation_months(Decimal(max_fine)) == months


def test_loaded_rules_carry_the_limitation_period(db, dortmund):
    load_catalogue(dortmund)

    def months(code: str) -> int | None:
        return rule_for(Category.objects.get(code=code), dt.date(2025, 1, 1)).limitation_months

    assert months("aggressive-begging") == 6  # up to 1 000 €
    assert months("illegal-trade") == 24  # 5 000 €
    assert months("dog-off-leash") == 36  # 100 000 €
    assert months("drug-dealing") is None  # a crime, not an administrative offence


def test_changed_file_updates_in_place(db, dortmund):
    load_catalogue(dortmund)
    changed = copy.deepcopy(dortmund)
    begging = next(c for c in changed["categories"] if c["code"] == "aggressive-begging")
    begging["name"] = "Aggressives Betteln (geändert)"
    begging["rules"][0]["caution_amount"] = "40.00"

    result = load_catalogue(changed)

    assert result.errors == []
    assert (result.categories_updated, result.rules_updated, result.rules_created) == (1, 1, 0)
    category = Category.objects.get(code="aggressive-begging")
    assert category.name == "Aggressives Betteln (geändert)"
    assert category.rules.get().caution_amount == Decimal("40.00")


def test_open_rule_can_be_closed_and_succeeded(db, dortmund):
    load_catalogue(dortmund)
    changed = copy.deepcopy(dortmund)
    dogs = next(c for c in changed["categories"] if c["code"] == "dog-off-leash")
    dogs["rules"][0]["valid_to"] = "2025-12-31"
    dogs["rules"].append(
        {**dogs["rules"][0], "valid_from": "2026-01-01", "valid_to": None, "caution_amount": "30.00"}
    )

    result = load_catalogue(changed)

    assert result.errors == []
    assert (result.rules_updated, result.rules_created) == (1, 1)
    category = Category.objects.get(code="dog-off-leash")
    assert rule_for(category, dt.date(2026, 2, 1)).caution_amount == Decimal("30.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"caution_amount": "70.00"}, "55"),
        ({"caution_allowed": False}, "Regelsatz"),
        ({"valid_from": "not a date"}, "Datum"),
    ],
)
def test_invalid_rule_loads_nothing(db, dortmund, change, message):
    broken = copy.deepcopy(dortmund)
    broken["categories"][-1]["rules"][0].update({"caution_allowed": True, "caution_amount": "20.00"})
    broken["categories"][-1]["rules"][0].update(change)

    result = load_catalogue(broken)

    assert result.errors
    assert message in " ".join(result.errors)
    assert Category.objects.count() == 0
    assert CategoryRule.objects.count() == 0


def test_overlapping_rules_in_the_file_are_rejected(db, dortmund):
    broken = copy.deepcopy(dortmund)
    littering = next(c for c in broken["categories"] if c["code"] == "littering")
    littering["rules"][0]["valid_to"] = "2019-06-30"

    result = load_catalogue(broken)

    assert any("überschneiden" in error for error in result.errors)
    assert Category.objects.count() == 0


def test_not_a_catalogue(db):
    assert load_catalogue({"foo": 1}).errors == ["Die Datei enthält keine Liste 'categories'."]
    assert load_catalogue([]).errors  # type: ignore[arg-type]


def test_command_loads_default_file_and_reports_errors(db, tmp_path, capsys):
    call_command("load-catalogue")
    assert "angelegt" in capsys.readouterr().out
    call_command("load-catalogue")
    assert "Regeln: 0 angelegt, 0 aktualisiert" in capsys.readouterr().out

    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(CommandError, match="Keine gültige JSON-Datei"):
        call_command("load-catalogue", str(bad))
    with pytest.raises(CommandError, match="nicht gefunden"):
        call_command("load-catalogue", str(tmp_path / "missing.json"))


def test_catalogue_is_shared_but_records_stay_separated(geography, kod, polizei, dortmund, now):
    load_catalogue(dortmund)
    dealing = Category.objects.get(code="drug-dealing")
    with authority_scope(polizei.authority):
        police_only = services.incident_create(
            user=polizei,
            category=dealing,
            occurred_at=now,
            lat=INSIDE[0],
            lon=INSIDE[1],
            measures=[MeasureInput(type="criminal_complaint")],
        )
    assert police_only.category_rule is not None
    with authority_scope(kod.authority):
        assert not Incident.objects.filter(pk=police_only.pk).exists()
        # Both authorities work with the same catalogue.
        assert Category.objects.filter(code="drug-dealing").exists()
    with authority_scope(polizei.authority):
        assert Incident.objects.filter(pk=police_only.pk).exists()
