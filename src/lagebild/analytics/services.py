"""Writes of the analytics app: the indicator catalogue."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from lagebild.catalog.models import Category

from .models import Fact, Indicator, IndicatorSet, IndicatorSetEntry

DEFAULT_INDICATORS = Path(__file__).resolve().parent / "data" / "dortmund_indicators.json"


class IndicatorFileError(ValueError):
    pass


@transaction.atomic
def load_indicators(path: Path = DEFAULT_INDICATORS) -> tuple[int, int]:
    """Create or update indicators and sets from a JSON file; returns (indicators, sets).

    All or nothing: an unknown category code, fact or measure type aborts the whole load
    with a message naming the indicator.
    """
    from lagebild.field.models import MeasureType

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    categories = dict(Category.objects.values_list("code", "pk"))
    problems: list[str] = []
    loaded: dict[str, Indicator] = {}
    for position, item in enumerate(data.get("indicators", [])):
        code = item.get("code", f"#{position + 1}")
        unknown = [c for c in item.get("categories", []) if c not in categories]
        if unknown:
            problems.append(f"{code}: unbekannte Sachverhalte {', '.join(unknown)}")
        if item.get("fact") not in Fact.values:
            problems.append(f"{code}: unbekannte Zählart {item.get('fact')!r}")
        bad_types = [t for t in item.get("measure_types", []) if t not in MeasureType.values]
        if bad_types:
            problems.append(f"{code}: unbekannte Maßnahmen {', '.join(bad_types)}")
        if problems:
            continue
        indicator, _ = Indicator.objects.update_or_create(
            code=code,
            defaults={
                "name": item["name"],
                "description": item.get("description", ""),
                "kind": item["kind"],
                "fact": item["fact"],
                "value": item.get("value", Indicator.Value.COUNT),
                "measure_types": item.get("measure_types", []),
                "details": item.get("details", []),
                "authority_kinds": item.get("authority_kinds", []),
                "per_100_staff_hours": bool(item.get("per_100_staff_hours", False)),
                "unit": item.get("unit", "Anzahl"),
                "sort_order": (position + 1) * 10,
            },
        )
        indicator.full_clean()
        indicator.categories.set([categories[c] for c in item.get("categories", [])])
        loaded[code] = indicator
    if problems:
        raise IndicatorFileError("; ".join(problems))
    sets = 0
    for position, item in enumerate(data.get("sets", [])):
        indicator_set, _ = IndicatorSet.objects.update_or_create(
            code=item["code"], defaults={"name": item["name"], "sort_order": (position + 1) * 10}
        )
        codes = (
            [code for code, indicator in loaded.items() if indicator.fact != Fact.PROCEEDINGS]
            if item["indicators"] == "*"
            else item["indicators"]
        )
        missing = [c for c in codes if c not in loaded and not Indicator.objects.filter(code=c).exists()]
        if missing:
            raise IndicatorFileError(f"{item['code']}: unbekannte Kennzahlen {', '.join(missing)}")
        indicator_set.entries.all().delete()
        IndicatorSetEntry.objects.bulk_create(
            IndicatorSetEntry(
                indicator_set=indicator_set, indicator=Indicator.objects.get(code=c), position=i
            )
            for i, c in enumerate(codes)
        )
        sets += 1
    return len(loaded), sets
