"""Indicators are data: the seeded Dortmund set, validation, and evaluation over counts."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from lagebild.analytics import selectors
from lagebild.analytics.indicators import GroupKey, IndicatorDef, value
from lagebild.analytics.models import Indicator, IndicatorSet
from lagebild.analytics.services import IndicatorFileError, load_indicators
from lagebild.catalog.services import DORTMUND_CATALOGUE, load_catalogue


@pytest.fixture
def dortmund(db, city, police) -> None:
    load_catalogue(json.loads(DORTMUND_CATALOGUE.read_text(encoding="utf-8")))
    load_indicators()


def test_dortmund_indicators_cover_activity_problem_and_outcome(dortmund, police):
    kinds = set(Indicator.objects.values_list("kind", flat=True))
    assert kinds == {"activity", "problem", "outcome"}
    codes = set(Indicator.objects.values_list("code", flat=True))
    for expected in ("dispersal-orders", "drug-consumption-observed", "begging-reports", "citizen-complaints",
                     "weapons-seized", "cash-seized", "staff-hours", "measures-per-100h"):  # fmt: skip
        assert expected in codes
    weekly = selectors.indicators_for("wochenlage")
    assert [d.code for d in weekly][:2] == ["drug-consumption-observed", "drug-dealing-observed"]
    police_hours = selectors.indicators_for(codes=["police-staff-hours"])[0]
    assert police_hours.authority_ids == {police.pk}
    # Loading twice changes nothing (idempotent seed).
    before = Indicator.objects.count(), IndicatorSet.objects.count()
    call_command("load-indicators", verbosity=0)
    assert (Indicator.objects.count(), IndicatorSet.objects.count()) == before


def test_indicator_file_with_an_unknown_category_loads_nothing(dortmund, tmp_path):
    Indicator.objects.all().delete()
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "indicators": [
                    {"code": "ok", "name": "OK", "kind": "problem", "fact": "incident"},
                    {
                        "code": "bad",
                        "name": "Bad",
                        "kind": "problem",
                        "fact": "incident",
                        "categories": ["nope"],
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(IndicatorFileError, match="bad: unbekannte Sachverhalte nope"):
        load_indicators(path)
    assert not Indicator.objects.exists()


def test_indicator_validation_speaks_german(db):
    indicator = Indicator(
        code="x", name="X", kind="activity", fact="incident", measure_types=["dispersal_order", "teleport"]
    )
    with pytest.raises(ValidationError) as error:
        indicator.full_clean()
    assert "Unbekannte Maßnahmen: teleport" in str(error.value)
    indicator = Indicator(code="y", name="Y", kind="activity", fact="incident", value="amount")
    with pytest.raises(ValidationError, match="Summen gibt es nur"):
        indicator.full_clean()


def test_rates_per_100_staff_hours_and_without_hours():
    totals = {
        GroupKey("measure", 1, "dispersal_order", "", 1, False): (30, 0.0),
        GroupKey("measure", 2, "contact", "", 2, True): (10, 0.0),
        GroupKey("staff_hours", 0, "", "", 1, False): (4, 150.0),
        GroupKey("staff_hours", 0, "", "", 2, True): (2, 50.0),
    }
    per_100 = IndicatorDef(code="m", name="M", kind="activity", fact="measure", per_100_staff_hours=True)
    assert value(per_100, totals) == pytest.approx(40 / 200 * 100)
    city_only = IndicatorDef(
        code="c",
        name="C",
        kind="activity",
        fact="measure",
        per_100_staff_hours=True,
        authority_ids=frozenset({1}),
    )
    assert value(city_only, totals) == pytest.approx(30 / 150 * 100)
    no_hours = {k: v for k, v in totals.items() if k.fact != "staff_hours"}
    assert value(per_100, no_hours) is None
    assert not per_100.is_count
