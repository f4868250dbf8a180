"""Figures about offence proceedings (issue 15, item 6): pure, no Django.

Input is one :class:`CaseRow` per case of the period (``figures_queries`` decides which cases
belong to a period: those opened in it, a cohort). Output are counts, durations, rates and sums,
for all cases together, per category and per authority. Every rate names its denominator here;
a rate with an empty denominator is ``None`` (shown as „–“), never 0.

Dates come from the case's events, not only from the case row: a notice withdrawn on objection
(remedy, § 69 Abs. 2 OWiG) clears the case row's notice and service dates, but the case was
still served and objected to, so ``first_notice_on``, ``first_served_on`` and ``first_objection_on``
are the dates of the first such event.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

DISCONTINUED = "discontinued"
LAPSED = "lapsed"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CaseRow:
    """What the figures need of one case (no person data)."""

    authority: str
    category: str
    state: str
    offence_date: dt.date
    first_notice_on: dt.date | None = None
    first_served_on: dt.date | None = None
    first_objection_on: dt.date | None = None
    final_on: dt.date | None = None
    fine: Decimal | None = None
    total_due: Decimal | None = None
    paid_total: Decimal = ZERO
    discontinued_reason: str = ""


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    count: int
    # Share of the discontinued cases (denominator: ``Figures.discontinued``).
    share: float | None


@dataclass(frozen=True)
class Figures:
    """Figures of a set of cases. Denominators:

    - ``days_to_notice_median`` / ``days_to_notice_p90``: days from the offence day (``offence_date``)
      to the day the first notice was issued (``first_notice_on``), over the ``notices`` cases that
      had a notice issued; median and 90th percentile by linear interpolation between the closest
      ranks (as Excel's QUANTIL.INKL and numpy's default). ``None`` without any notice.
    - ``discontinued_share``: discontinued cases / all ``cases``.
    - ``by_reason``: per discontinuation reason, count and share of the ``discontinued`` cases.
    - ``lapsed_share``: cases closed as lapsed (Verjährung) / all ``cases``.
    - ``objection_rate``: cases with an objection after service / the ``served`` cases (a notice
      was served). An objection counted here needs a service date on or before it.
    - ``payment_rate``: ``paid_in_full`` / ``final`` cases, where ``final`` are the cases whose
      notice became final with an amount due (``final_on`` and ``total_due`` set) and
      ``paid_in_full`` those of them whose payments reach the amount due.
    - ``fined_amount``: the sum of the fines (Geldbuße, without fees and expenses) of the ``final``
      cases; ``due_amount``: the sum of their amounts due (fine + fee + expenses);
      ``paid_amount``: the sum paid on them. ``paid_amount_share`` = ``paid_amount`` / ``due_amount``.
    """

    cases: int
    notices: int
    days_to_notice_median: float | None
    days_to_notice_p90: float | None
    discontinued: int
    discontinued_share: float | None
    by_reason: tuple[ReasonCount, ...]
    lapsed: int
    lapsed_share: float | None
    served: int
    objections: int
    objection_rate: float | None
    final: int
    paid_in_full: int
    payment_rate: float | None
    fined_amount: Decimal
    due_amount: Decimal
    paid_amount: Decimal
    paid_amount_share: float | None


@dataclass(frozen=True)
class Group:
    key: str
    figures: Figures


@dataclass(frozen=True)
class Report:
    total: Figures
    by_category: tuple[Group, ...]
    by_authority: tuple[Group, ...]


def share(numerator: int | Decimal, denominator: int | Decimal) -> float | None:
    """numerator / denominator, ``None`` for an empty denominator."""
    if not denominator:
        return None
    return float(numerator) / float(denominator)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0 ≤ q ≤ 1) by linear interpolation between closest ranks; ``None`` if empty.

    For sorted x₁ … xₙ the position is h = (n − 1)·q (from 0); the result is x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋).
    """
    if not 0 <= q <= 1:
        raise ValueError("q must lie between 0 and 1")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (position - low) * (ordered[high] - ordered[low]))


def _served_then_objected(row: CaseRow) -> bool:
    return (
        row.first_served_on is not None
        and row.first_objection_on is not None
        and row.first_objection_on >= row.first_served_on
    )


def figures(rows: Iterable[CaseRow]) -> Figures:
    """The figures of ``rows`` (see :class:`Figures` for the denominators)."""
    rows = list(rows)
    days = [(row.first_notice_on - row.offence_date).days for row in rows if row.first_notice_on is not None]
    discontinued = [row for row in rows if row.state == DISCONTINUED]
    reasons: dict[str, int] = {}
    for row in discontinued:
        reasons[row.discontinued_reason] = reasons.get(row.discontinued_reason, 0) + 1
    by_reason = tuple(
        ReasonCount(reason, count, share(count, len(discontinued)))
        for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    )
    lapsed = sum(1 for row in rows if row.state == LAPSED)
    served = [row for row in rows if row.first_served_on is not None]
    objections = sum(1 for row in served if _served_then_objected(row))
    final = [row for row in rows if row.final_on is not None and row.total_due is not None]
    paid_in_full = sum(1 for row in final if row.paid_total >= row.total_due)  # type: ignore[operator]
    fined = sum((row.fine or ZERO for row in final), ZERO)
    due = sum((row.total_due for row in final), ZERO)  # type: ignore[misc]
    paid = sum((row.paid_total for row in final), ZERO)
    return Figures(
        cases=len(rows),
        notices=len(days),
        days_to_notice_median=quantile(days, 0.5),
        days_to_notice_p90=quantile(days, 0.9),
        discontinued=len(discontinued),
        discontinued_share=share(len(discontinued), len(rows)),
        by_reason=by_reason,
        lapsed=lapsed,
        lapsed_share=share(lapsed, len(rows)),
        served=len(served),
        objections=objections,
        objection_rate=share(objections, len(served)),
        final=len(final),
        paid_in_full=paid_in_full,
        payment_rate=share(paid_in_full, len(final)),
        fined_amount=fined,
        due_amount=due,
        paid_amount=paid,
        paid_amount_share=share(paid, due),
    )


def _grouped(rows: list[CaseRow], key: Callable[[CaseRow], str]) -> tuple[Group, ...]:
    groups: dict[str, list[CaseRow]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return tuple(Group(name, figures(members)) for name, members in sorted(groups.items()))


def report(rows: Iterable[CaseRow]) -> Report:
    """All cases together, per category and per authority (groups sorted by name; empty groups absent)."""
    rows = list(rows)
    return Report(
        total=figures(rows),
        by_category=_grouped(rows, lambda row: row.category),
        by_authority=_grouped(rows, lambda row: row.authority),
    )


def as_json(value: Figures | Report) -> dict[str, Any]:
    """Plain JSON types: amounts as strings with two decimals (no float rounding of money)."""

    def convert(item: Any) -> Any:
        if isinstance(item, Decimal):
            return f"{item:.2f}"
        if isinstance(item, dict):
            return {k: convert(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [convert(v) for v in item]
        return item

    return convert(asdict(value))
