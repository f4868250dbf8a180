"""How far a goal is, where its trend leads by the target date, and its status (no Django).

A quantitative goal compares an indicator over a window as long as its baseline period (e.g. 28
days) with a baseline value and a target value. The caller supplies the current value (the same
window length, ending on the day of assessment) and a weekly series in the same unit (counts
scaled from a week to the window length; rates as they are), from the end of the baseline on.

Status rule (also shown in German on the goal page and in docs/taskforce.md):

* ``achieved`` (erreicht): the current value is at or beyond the target.
* After the target date without that: ``off_track`` (nicht im Plan).
* Fewer than ``MIN_WEEKS_FOR_TREND`` weeks since the baseline: the current value is compared with
  the planned path, the straight line from the baseline value at the end of the baseline period
  to the target value at the target date: on or ahead of it ``on_track``, behind it ``at_risk``.
* Otherwise a straight-line trend (least squares) through the last ``TREND_WEEKS`` weekly values
  is projected to the target date, with a prediction interval (``CONFIDENCE``, t-distribution):
  the projection reaches the target ``on_track``; it misses but the interval still reaches it
  ``at_risk``; the whole interval misses it ``off_track``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scipy import stats

Direction = Literal["decrease", "increase"]
Status = Literal["achieved", "on_track", "at_risk", "off_track"]

MIN_WEEKS_FOR_TREND = 4
TREND_WEEKS = 26
CONFIDENCE = 0.9

STATUS_LABELS: dict[str, str] = {
    "achieved": "erreicht",
    "on_track": "im Plan",
    "at_risk": "gefährdet",
    "off_track": "nicht im Plan",
}


@dataclass(frozen=True)
class Trend:
    slope_per_week: float
    projection: float  # at the target date
    low: float  # prediction interval at the target date
    high: float
    weeks: int


@dataclass(frozen=True)
class Progress:
    status: Status
    reason_de: str
    baseline: float
    target: float
    current: float | None
    direction: Direction
    target_date: dt.date
    as_of: dt.date
    planned_now: float  # where the planned path stands today
    share_of_way: float | None  # 0 = baseline, 1 = target reached (may be < 0 or > 1)
    trend: Trend | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def reaches(value: float, target: float, direction: Direction) -> bool:
    return value <= target if direction == "decrease" else value >= target


def wrong_direction(baseline: float, target: float, direction: Direction) -> bool:
    """A target that is not an improvement on the baseline in the goal's direction."""
    return target >= baseline if direction == "decrease" else target <= baseline


def _planned(baseline: float, target: float, start: dt.date, target_date: dt.date, day: dt.date) -> float:
    span = (target_date - start).days
    if span <= 0:
        return target
    share = min(max((day - start).days / span, 0.0), 1.0)
    return baseline + (target - baseline) * share


def _trend(points: Sequence[tuple[dt.date, float]], target_date: dt.date) -> Trend | None:
    recent = list(points)[-TREND_WEEKS:]
    n = len(recent)
    if n < MIN_WEEKS_FOR_TREND:
        return None
    origin = recent[0][0]
    xs = [(day - origin).days / 7 for day, _ in recent]
    ys = [value for _, value in recent]
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    residual_ss = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    spread = math.sqrt(residual_ss / (n - 2)) if n > 2 else 0.0
    x0 = (target_date - origin).days / 7
    projection = intercept + slope * x0
    half_width = (
        float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 2))
        * spread
        * math.sqrt(1 + 1 / n + (x0 - mean_x) ** 2 / sxx)
    )
    return Trend(slope, projection, projection - half_width, projection + half_width, n)


def assess(
    *,
    direction: Direction,
    baseline: float,
    target: float,
    baseline_end: dt.date,
    target_date: dt.date,
    as_of: dt.date,
    current: float | None,
    weekly: Sequence[tuple[dt.date, float]] = (),
) -> Progress:
    """The goal's status on ``as_of`` (see the module docstring for the rule)."""
    planned_now = _planned(baseline, target, baseline_end, target_date, as_of)
    share = None
    if current is not None and baseline != target:
        share = (baseline - current) / (baseline - target)
    trend = _trend([(d, v) for d, v in weekly if d > baseline_end and d <= as_of], target_date)

    def result(status: Status, reason: str) -> Progress:
        return Progress(
            status,
            reason,
            baseline,
            target,
            current,
            direction,
            target_date,
            as_of,
            planned_now,
            share,
            trend,
        )

    if current is not None and reaches(current, target, direction):
        return result("achieved", "Der aktuelle Wert hat den Zielwert erreicht.")
    if as_of > target_date:
        return result("off_track", "Das Zieldatum ist verstrichen, ohne dass der Zielwert erreicht wurde.")
    if trend is None:
        if current is None:
            return result("at_risk", "Es gibt noch keinen aktuellen Wert.")
        if reaches(current, planned_now, direction):
            return result(
                "on_track",
                "Noch zu wenige Wochen für eine Trendaussage; "
                "der aktuelle Wert liegt auf oder vor dem geplanten Pfad.",
            )
        return result(
            "at_risk",
            "Noch zu wenige Wochen für eine Trendaussage; der aktuelle Wert liegt hinter dem geplanten Pfad.",
        )
    if reaches(trend.projection, target, direction):
        return result("on_track", "Der Trend der letzten Wochen erreicht den Zielwert bis zum Zieldatum.")
    optimistic = trend.low if direction == "decrease" else trend.high
    if reaches(optimistic, target, direction):
        return result(
            "at_risk",
            "Der Trend verfehlt den Zielwert knapp; innerhalb der Unsicherheit ist er noch erreichbar.",
        )
    return result("off_track", "Auch im günstigen Fall der Unsicherheit verfehlt der Trend den Zielwert.")
