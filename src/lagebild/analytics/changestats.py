"""Change statistics for the CompStat cockpit (pure, no Django).

For counts the headline is the absolute change and the Poisson change statistic
``z = 2(√current − √prior)`` (variance-stabilising square-root transform; Wheeler): |z| ≥ 2 is
flagged, |z| ≥ 3 (about one in a thousand under no change) flagged strongly. Percent change is shown
but misleads for small counts and is undefined when the prior value is 0.

``poisson_e_test`` is the more exact two-sided test of Krishnamoorthy & Thomson (2004) for two Poisson
counts (optionally rates over exposures ``t_current``, ``t_prior``), as ``ptools::e_test`` in R.

Amounts that are not counts (staff hours, euros) get absolute and percent change only: a Poisson
statistic would depend on the unit (hours vs minutes) and mean nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

FLAG_THRESHOLD = 2.0
STRONG_FLAG_THRESHOLD = 3.0

_TAIL_WIDTH_SD = 40.0  # Poisson mass beyond 40 standard deviations of the mean is far below 1e-300
_TIE_TOLERANCE = 1e-9


def _check_value(value: float, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} ist keine Zahl.") from exc
    if not math.isfinite(number):
        raise ValueError(f"{name} ist keine endliche Zahl.")
    if number < 0:
        raise ValueError(f"{name} darf nicht negativ sein.")
    return number


def _check_count(value: float, name: str) -> int:
    number = _check_value(value, name)
    if number != int(number):
        raise ValueError(f"{name} muss eine ganze Zahl (Anzahl) sein.")
    return int(number)


def poisson_z(current: float, prior: float) -> float:
    """2(√current − √prior): approximately standard normal when both are Poisson with equal means."""
    current_value = _check_value(current, "Der aktuelle Wert")
    prior_value = _check_value(prior, "Der Vorjahreswert")
    return 2.0 * (math.sqrt(current_value) - math.sqrt(prior_value))


def change_flag(z: float | None) -> int:
    """0, ±2 or ±3: the threshold |z| reaches, with the sign of the change (0 for amounts)."""
    if z is None or not math.isfinite(z):
        return 0
    magnitude = abs(z)
    if magnitude >= STRONG_FLAG_THRESHOLD:
        level = 3
    elif magnitude >= FLAG_THRESHOLD:
        level = 2
    else:
        return 0
    return level if z > 0 else -level


FLAG_LABELS_DE = {
    3: "starker Anstieg (z ≥ 3)",
    2: "auffälliger Anstieg (z ≥ 2)",
    0: "keine auffällige Veränderung",
    -2: "auffälliger Rückgang (z ≤ −2)",
    -3: "starker Rückgang (z ≤ −3)",
}


def percent_change(current: float, prior: float) -> float | None:
    """(current − prior) / prior in percent; None when there is no prior value to relate to."""
    current_value = _check_value(current, "Der aktuelle Wert")
    prior_value = _check_value(prior, "Der Vorjahreswert")
    if prior_value == 0:
        return None
    return 100.0 * (current_value - prior_value) / prior_value


def _statistic(x1: np.ndarray, x2: np.ndarray, t1: float, t2: float) -> np.ndarray:
    """Krishnamoorthy–Thomson statistic (x1/t1 − x2/t2) / √(x1/t1² + x2/t2²); 0 where both are 0."""
    variance = x1 / t1**2 + x2 / t2**2
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (x1 / t1 - x2 / t2) / np.sqrt(variance)
    return np.where(variance > 0, value, 0.0)


def poisson_e_test(current: float, prior: float, t_current: float = 1.0, t_prior: float = 1.0) -> float:
    """Two-sided p-value of the E-test for equal Poisson rates (Krishnamoorthy & Thomson 2004).

    p = Σ P(X1 = x1) P(X2 = x2) over all (x1, x2) whose statistic is at least as extreme as the
    observed one, with X1 ~ Poisson(t_current·λ̂), X2 ~ Poisson(t_prior·λ̂) and the pooled rate
    λ̂ = (current + prior)/(t_current + t_prior). Returns 1.0 when the observed rates are equal
    (including 0 vs 0: no evidence of a change).
    """
    k1 = _check_count(current, "Der aktuelle Wert")
    k2 = _check_count(prior, "Der Vorjahreswert")
    t1 = _check_value(t_current, "Der Zeitraum (aktuell)")
    t2 = _check_value(t_prior, "Der Zeitraum (Vorjahr)")
    if t1 == 0 or t2 == 0:
        raise ValueError("Die Zeiträume müssen länger als 0 sein.")
    observed = abs(float(_statistic(np.array(k1, float), np.array(k2, float), t1, t2)))
    if observed == 0:
        return 1.0
    threshold = observed * (1 - _TIE_TOLERANCE)  # ties (the observed pair itself) count as extreme
    pooled_rate = (k1 + k2) / (t1 + t2)
    mean1, mean2 = t1 * pooled_rate, t2 * pooled_rate
    spread = _TAIL_WIDTH_SD * math.sqrt(mean1) + _TAIL_WIDTH_SD
    x1 = np.arange(max(0, math.floor(mean1 - spread)), math.ceil(mean1 + spread) + 1, dtype=float)
    # The statistic falls strictly as x2 grows (x1 fixed), so for each x1 the extreme x2 form two tails:
    # x2 ≤ low (statistic ≥ threshold) and x2 ≥ high (statistic ≤ −threshold). Solve the quadratic for the
    # boundaries, then correct the integer rounding by evaluating the statistic itself.
    a = x1 / t1
    b = x1 / t1**2
    c = threshold**2 / t2
    root = np.sqrt(4 * a * c + c * c + 4 * threshold**2 * b)
    u_low = ((2 * a + c) - root) / 2
    u_high = ((2 * a + c) + root) / 2
    low = np.maximum(np.floor(u_low * t2), -1)  # -1: no x2 in the lower tail
    high = np.maximum(np.ceil(u_high * t2), 0)
    for _ in range(2):
        low = np.where(_statistic(x1, low + 1, t1, t2) >= threshold, low + 1, low)
        low_checked = np.maximum(low, 0)
        low = np.where((low >= 0) & (_statistic(x1, low_checked, t1, t2) < threshold), low - 1, low)
        high_before = np.maximum(high - 1, 0)
        high = np.where((high > 0) & (_statistic(x1, high_before, t1, t2) <= -threshold), high - 1, high)
        high = np.where(_statistic(x1, high, t1, t2) > -threshold, high + 1, high)
    tails = np.where(low >= 0, stats.poisson.cdf(low, mean2), 0.0) + stats.poisson.sf(high - 1, mean2)
    p_value = float(np.sum(stats.poisson.pmf(x1, mean1) * tails))
    return min(1.0, max(0.0, p_value))


@dataclass(frozen=True)
class Change:
    """Current vs prior value of one indicator in one window."""

    current: float
    prior: float
    delta: float
    percent: float | None
    z: float | None
    flag: int
    is_count: bool

    @classmethod
    def of(cls, current: float, prior: float, *, is_count: bool = True) -> Change:
        current_value = _check_value(current, "Der aktuelle Wert")
        prior_value = _check_value(prior, "Der Vorjahreswert")
        z = poisson_z(current_value, prior_value) if is_count else None
        return cls(
            current=current_value,
            prior=prior_value,
            delta=current_value - prior_value,
            percent=percent_change(current_value, prior_value),
            z=z,
            flag=change_flag(z),
            is_count=is_count,
        )

    @property
    def flag_label(self) -> str:
        return FLAG_LABELS_DE[self.flag]

    def e_test_p(self, t_current: float = 1.0, t_prior: float = 1.0) -> float | None:
        """Two-sided E-test p-value for counts; None for amounts."""
        if not self.is_count:
            return None
        return poisson_e_test(self.current, self.prior, t_current, t_prior)
