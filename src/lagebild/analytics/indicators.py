"""Evaluating indicator definitions over pre-aggregated counts (pure, no Django).

A count table row is summarised as a :class:`GroupKey` with (count, amount). An indicator
selects rows by fact and filters and sums either the count or the amount; effort-normalised
indicators divide by the staff hours of patrols in the same area and period (× 100).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

STAFF_HOURS_FACT = "staff_hours"


class GroupKey(NamedTuple):
    fact: str
    category_id: int
    measure_type: str
    detail: str
    authority_id: int
    joint: bool


Totals = Mapping[GroupKey, tuple[int, float]]


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    kind: str
    fact: str
    value: str = "count"
    category_ids: frozenset[int] = field(default_factory=frozenset)
    measure_types: frozenset[str] = field(default_factory=frozenset)
    details: frozenset[str] = field(default_factory=frozenset)
    authority_ids: frozenset[int] = field(default_factory=frozenset)
    per_100_staff_hours: bool = False
    unit: str = "Anzahl"
    description: str = ""

    @property
    def is_count(self) -> bool:
        """Whether the value is a count of events, so that Poisson statistics apply."""
        return self.value == "count" and not self.per_100_staff_hours

    def matches(self, key: GroupKey) -> bool:
        return (
            key.fact == self.fact
            and (not self.category_ids or key.category_id in self.category_ids)
            and (not self.measure_types or key.measure_type in self.measure_types)
            and (not self.details or key.detail in self.details)
            and (not self.authority_ids or key.authority_id in self.authority_ids)
        )


def raw_value(indicator: IndicatorDef, totals: Totals) -> float:
    """The indicator's count or amount before any normalisation."""
    position = 0 if indicator.value == "count" else 1
    return sum(values[position] for key, values in totals.items() if indicator.matches(key))


def staff_hours(totals: Totals, authority_ids: Iterable[int] = ()) -> float:
    wanted = frozenset(authority_ids)
    return sum(
        amount
        for key, (_count, amount) in totals.items()
        if key.fact == STAFF_HOURS_FACT and (not wanted or key.authority_id in wanted)
    )


def value(indicator: IndicatorDef, totals: Totals) -> float | None:
    """The indicator's value; ``None`` for a rate when no staff hours were worked."""
    raw = raw_value(indicator, totals)
    if indicator.value != "count":
        raw = round(raw, 2)  # sums of money and hours: no float noise on the page
    if not indicator.per_100_staff_hours:
        return raw
    hours = staff_hours(totals, indicator.authority_ids)
    return None if hours <= 0 else raw / hours * 100
