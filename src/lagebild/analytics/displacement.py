"""Displacement analysis: WDD with standard error, WDQ and total net effect (pure, no Django).

Weighted displacement difference (Wheeler & Ratcliffe 2018, Crime Science 7:11; R ``ptools::wdd``):
with T = target, Ct = control of the target, D = buffer, Cd = control of the buffer, index 0 = before,
1 = after, every count divided by its weight w = time weight × area weight::

    local        = (T1/w − T0/w) − (Ct1/w − Ct0/w)
    displacement = (D1/w − D0/w) − (Cd1/w − Cd0/w)
    total        = local + displacement                    (< 0: fewer incidents than expected)
    Var          = Σ count / w²                            (normal approximation to Poisson counts)

When a buffer is given without its own control, the target's control serves both (as in Guerette's
WDQ with a single control area). The control then enters the total twice, so its variance is counted
four times (Var(ΔT + ΔD − 2ΔC)) rather than pretending two independent controls.

Weighted displacement quotient (Bowers & Johnson 2003; Guerette 2009, POP Tool Guide 10) with
R = target, D = buffer, C = control, b = before, a = after: success measure Ra/Ca − Rb/Cb (< 0 means
success), buffer measure Da/Ca − Db/Cb, WDQ = buffer measure / success measure, total net effect
TNE = [Rb·Ca/Cb − Ra] + [Db·Ca/Cb − Da]. The WDQ has no sampling distribution and is only meaningful
when the success measure is negative (crime fell in the target relative to the control).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import shapely
from scipy import stats
from shapely.geometry.base import BaseGeometry

MAX_RING_DISTANCE_M = 5000.0
NIGHT_HOURS = (22, 23, 0, 1, 2, 3, 4, 5)
SMALL_COUNT = 10
# Control and target levels further apart than this factor make WDD and WDQ expect different counts.
LEVEL_RATIO = 2.0

Counts = tuple[float, float]


class TimeWeights(NamedTuple):
    """Length of the before and after periods in a common unit (e.g. weeks)."""

    before: float = 1.0
    after: float = 1.0


class AreaWeights(NamedTuple):
    """Relative size of each area (e.g. km²); the estimate becomes a change per unit of area."""

    target: float = 1.0
    target_control: float = 1.0
    buffer: float = 1.0
    buffer_control: float = 1.0


# --------------------------------------------------------------------------------------------------
# German number formatting


def format_number_de(value: float, decimals: int = 0) -> str:
    """1234.5 → "1.234,5"; negative numbers with a real minus sign."""
    text = f"{abs(value):,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    if text.strip("0,.") and value < 0:
        return "−" + text
    return text


def _format_count_de(value: float) -> str:
    """Whole numbers without decimals, weighted (fractional) values with one decimal."""
    if abs(value - round(value)) < 1e-9:
        return format_number_de(round(value))
    return format_number_de(value, 1)


def _signed_de(value: float) -> str:
    text = _format_count_de(value)
    return text if text.startswith("−") or text == "0" else "+" + text


# --------------------------------------------------------------------------------------------------
# Input checks


def _counts(value: Sequence[float] | None, name: str) -> Counts | None:
    if value is None:
        return None
    try:
        before, after = (float(number) for number in value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: bitte genau zwei Zahlen angeben (vorher, nachher).") from exc
    for number in (before, after):
        if not math.isfinite(number):
            raise ValueError(f"{name}: die Zählwerte müssen endliche Zahlen sein.")
        if number < 0:
            raise ValueError(f"{name}: die Zählwerte dürfen nicht negativ sein.")
    return before, after


def _required_counts(value: Sequence[float], name: str) -> Counts:
    counts = _counts(value, name)
    if counts is None:
        raise ValueError(f"{name}: bitte die Zählwerte vorher und nachher angeben.")
    return counts


def _positive(value: float, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} ist keine Zahl.") from exc
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} muss größer als 0 sein.")
    return number


def _alpha(alpha: float) -> float:
    try:
        number = float(alpha)
    except (TypeError, ValueError) as exc:
        raise ValueError("Das Signifikanzniveau ist keine Zahl.") from exc
    if not 0 < number < 1:
        raise ValueError("Das Signifikanzniveau muss zwischen 0 und 1 liegen (z. B. 0,05).")
    return number


# --------------------------------------------------------------------------------------------------
# WDD


@dataclass(frozen=True)
class WDDResult:
    """Weighted displacement difference; negative estimates mean fewer incidents than expected."""

    local: float
    local_se: float
    displacement: float | None
    displacement_se: float | None
    total: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float
    target: Counts
    target_control: Counts
    buffer: Counts | None
    buffer_control: Counts | None
    shared_control: bool
    time_weights: TimeWeights
    area_weights: AreaWeights

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    @property
    def ci_half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2

    @property
    def weighted(self) -> bool:
        return self.time_weights != TimeWeights() or self.area_weights != AreaWeights()


def _change(counts: Counts, weight_before: float, weight_after: float) -> tuple[float, float]:
    """Weighted after − before and its Poisson variance."""
    before, after = counts
    return after / weight_after - before / weight_before, after / weight_after**2 + before / weight_before**2


def _normal_inference(estimate: float, variance: float, alpha: float) -> tuple[float, float, float, float]:
    if variance <= 0:
        raise ValueError(
            "Alle Zählwerte sind 0: ohne Fälle lässt sich kein Standardfehler und keine Aussage berechnen."
        )
    se = math.sqrt(variance)
    z = estimate / se
    quantile = float(stats.norm.ppf(1 - alpha / 2))
    return se, z, estimate - quantile * se, estimate + quantile * se


def wdd(
    target: Sequence[float],
    target_control: Sequence[float],
    buffer: Sequence[float] | None = None,
    buffer_control: Sequence[float] | None = None,
    time_weights: Sequence[float] = (1.0, 1.0),
    area_weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    alpha: float = 0.05,
) -> WDDResult:
    """WDD test; each count pair is (before, after).

    ``area_weights`` are in the order (target, target control, buffer, buffer control); ``ptools::wdd``
    takes them as (control, treated, disp_control, disp_treated). Without ``buffer_control`` the target
    control serves the buffer too (its buffer-control weight is then unused). Call once per ring for
    distance decay.
    """
    target_counts = _required_counts(target, "Zielgebiet")
    control_counts = _required_counts(target_control, "Kontrollgebiet")
    buffer_counts = _counts(buffer, "Pufferbereich")
    buffer_control_counts = _counts(buffer_control, "Kontrollgebiet des Pufferbereichs")
    if buffer_counts is None and buffer_control_counts is not None:
        raise ValueError("Ein Kontrollgebiet für den Pufferbereich braucht auch einen Pufferbereich.")
    try:
        time_before, time_after = time_weights
        weights_in = list(area_weights)
    except (TypeError, ValueError) as exc:
        raise ValueError("Gewichte: bitte zwei Zeit- und vier Flächengewichte angeben.") from exc
    if len(weights_in) != 4:
        raise ValueError(
            "Flächengewichte: bitte vier Werte angeben (Ziel, Kontrolle, Puffer, Pufferkontrolle)."
        )
    times = TimeWeights(
        _positive(time_before, "Das Zeitgewicht (vorher)"), _positive(time_after, "Das Zeitgewicht (nachher)")
    )
    areas = AreaWeights(*(_positive(weight, "Ein Flächengewicht") for weight in weights_in))
    level = _alpha(alpha)

    def weighted_change(counts: Counts, area_weight: float) -> tuple[float, float]:
        return _change(counts, times.before * area_weight, times.after * area_weight)

    target_change, target_var = weighted_change(target_counts, areas.target)
    control_change, control_var = weighted_change(control_counts, areas.target_control)
    local = target_change - control_change
    local_var = target_var + control_var

    displacement: float | None = None
    displacement_var: float | None = None
    shared_control = False
    total_var = local_var
    if buffer_counts is not None:
        buffer_change, buffer_var = weighted_change(buffer_counts, areas.buffer)
        if buffer_control_counts is None:
            shared_control = True
            displacement = buffer_change - control_change
            displacement_var = buffer_var + control_var
            total_var = target_var + buffer_var + 4 * control_var
        else:
            buffer_control_change, buffer_control_var = weighted_change(
                buffer_control_counts, areas.buffer_control
            )
            displacement = buffer_change - buffer_control_change
            displacement_var = buffer_var + buffer_control_var
            total_var = local_var + displacement_var
    total = local + (displacement or 0.0)

    se, z, ci_low, ci_high = _normal_inference(total, total_var, level)
    return WDDResult(
        local=local,
        local_se=math.sqrt(local_var),
        displacement=displacement,
        displacement_se=None if displacement_var is None else math.sqrt(displacement_var),
        total=total,
        se=se,
        z=z,
        p_value=float(2 * stats.norm.sf(abs(z))),
        ci_low=ci_low,
        ci_high=ci_high,
        alpha=level,
        target=target_counts,
        target_control=control_counts,
        buffer=buffer_counts,
        buffer_control=buffer_control_counts,
        shared_control=shared_control,
        time_weights=times,
        area_weights=areas,
    )


@dataclass(frozen=True)
class HarmResult:
    estimate: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float


def wdd_harm(results: Sequence[WDDResult], harm_weights: Sequence[float], alpha: float = 0.05) -> HarmResult:
    """Harm-weighted sum of several WDD tests (ptools ``wdd_harm``): Σ h·est, SE = √Σ h²·SE²."""
    if not results:
        raise ValueError("Für die gewichtete Gesamtbewertung wird mindestens ein Ergebnis benötigt.")
    if len(results) != len(harm_weights):
        raise ValueError("Für jede Kategorie wird genau ein Schadensgewicht benötigt.")
    weights = [_positive(weight, "Ein Schadensgewicht") for weight in harm_weights]
    level = _alpha(alpha)
    estimate = sum(weight * result.total for weight, result in zip(weights, results, strict=True))
    variance = sum(weight**2 * result.se**2 for weight, result in zip(weights, results, strict=True))
    se, z, ci_low, ci_high = _normal_inference(estimate, variance, level)
    return HarmResult(estimate, se, z, float(2 * stats.norm.sf(abs(z))), ci_low, ci_high, level)


# --------------------------------------------------------------------------------------------------
# WDQ


@dataclass(frozen=True)
class WDQResult:
    gross_effect: float
    net_effect: float
    success_measure: float
    buffer_measure: float
    wdq: float | None
    target_net_effect: float
    buffer_net_effect: float
    total_net_effect: float
    meaningful: bool
    interpretation_de: str


def _wdq_interpretation(wdq_value: float | None, success_measure: float) -> str:
    if success_measure >= 0 or wdq_value is None:
        return (
            "Im Zielgebiet gab es im Vergleich zum Kontrollgebiet keinen Rückgang. Der WDQ ist nur "
            "aussagekräftig, wenn das Erfolgsmaß negativ ist; eine Verdrängung lässt sich so nicht zuordnen."
        )
    if math.isclose(wdq_value, 0.0, abs_tol=1e-12):
        return (
            "Weder Verdrängung noch Ausstrahlung: im Pufferbereich blieb die Lage "
            "relativ zur Kontrolle gleich."
        )
    if wdq_value > 1:
        return (
            "Ausstrahlung positiver Effekte, die größer ist als der direkte Effekt im Zielgebiet: "
            "im Pufferbereich ging es relativ noch stärker zurück."
        )
    if wdq_value > 0:
        return (
            "Ausstrahlung positiver Effekte (Diffusion): auch im Pufferbereich ging es relativ zurück, "
            "der Erfolg der Maßnahme wird dadurch verstärkt."
        )
    if wdq_value >= -1:
        return (
            "Verdrängung in den Pufferbereich, aber kleiner als der direkte Nutzen im Zielgebiet: "
            "insgesamt ein Erfolg."
        )
    return (
        "Die Verdrängung in den Pufferbereich übersteigt rechnerisch den direkten Nutzen im Zielgebiet: "
        "nach Guerettes Einteilung wäre die Maßnahme insgesamt kontraproduktiv. Der WDQ hat keinen "
        "Signifikanztest; ob das gesichert ist, zeigt erst die WDD."
    )


def wdq(Rb: float, Ra: float, Db: float, Da: float, Cb: float, Ca: float) -> WDQResult:
    """Weighted displacement quotient with gross, net and total net effect (Guerette 2009, App. B/C).

    R = target (response) area, D = buffer, C = control; b = before, a = after.
    """
    rb, ra = _required_counts((Rb, Ra), "Zielgebiet")
    db, da = _required_counts((Db, Da), "Pufferbereich")
    cb, ca = _required_counts((Cb, Ca), "Kontrollgebiet")
    if cb == 0 or ca == 0:
        raise ValueError(
            "Das Kontrollgebiet hat in einem der Zeiträume keine Fälle; der WDQ teilt durch diese Zahl "
            "und ist dann nicht berechenbar. Bitte ein größeres Kontrollgebiet wählen."
        )
    success_measure = ra / ca - rb / cb
    buffer_measure = da / ca - db / cb
    wdq_value = None if success_measure == 0 else buffer_measure / success_measure
    control_trend = ca / cb
    target_net = rb * control_trend - ra
    buffer_net = db * control_trend - da
    return WDQResult(
        gross_effect=rb - ra,
        net_effect=rb / cb - ra / ca,
        success_measure=success_measure,
        buffer_measure=buffer_measure,
        wdq=wdq_value,
        target_net_effect=target_net,
        buffer_net_effect=buffer_net,
        total_net_effect=target_net + buffer_net,
        meaningful=success_measure < 0,
        interpretation_de=_wdq_interpretation(wdq_value, success_measure),
    )


# --------------------------------------------------------------------------------------------------
# Buffer rings and the temporal view


def buffer_rings(
    target_polygon_utm: BaseGeometry,
    distances_m: Sequence[float],
    exclude: BaseGeometry | None = None,
) -> list[BaseGeometry]:
    """Concentric rings around the target in metric coordinates (EPSG:25832).

    Ring k covers the distances d_{k−1} < d ≤ d_k from the target's edge; the first ring starts at the
    edge (the target itself is cut out). ``exclude`` (e.g. a control area or the river) is cut out of
    every ring. Returns Polygons or MultiPolygons.
    """
    if target_polygon_utm is None or target_polygon_utm.is_empty:
        raise ValueError("Das Zielgebiet ist leer.")
    if target_polygon_utm.geom_type not in {"Polygon", "MultiPolygon"}:
        raise ValueError("Das Zielgebiet muss eine Fläche (Polygon) sein.")
    if not target_polygon_utm.is_valid:
        raise ValueError("Die Geometrie des Zielgebiets ist ungültig.")
    if not distances_m:
        raise ValueError("Bitte mindestens einen Ringabstand angeben.")
    distances: list[float] = []
    for value in distances_m:
        try:
            distance = float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Der Ringabstand „{value}“ ist keine Zahl.") from exc
        if not math.isfinite(distance) or distance <= 0:
            raise ValueError("Die Ringabstände müssen größer als 0 m sein.")
        if distance > MAX_RING_DISTANCE_M:
            raise ValueError(f"Die Ringabstände dürfen höchstens {MAX_RING_DISTANCE_M:.0f} m betragen.")
        if distances and distance <= distances[-1]:
            raise ValueError("Die Ringabstände müssen aufsteigend sein (z. B. 100, 200, 400 m).")
        distances.append(distance)
    rings: list[BaseGeometry] = []
    inner = target_polygon_utm
    for distance in distances:
        outer = shapely.buffer(target_polygon_utm, distance, quad_segs=16)
        ring = shapely.difference(outer, inner)
        if exclude is not None and not exclude.is_empty:
            ring = shapely.difference(ring, exclude)
        if ring.is_empty or ring.area <= 0:
            raise ValueError(f"Der Ring bis {distance:.0f} m liegt vollständig im ausgeschlossenen Bereich.")
        rings.append(ring)
        inner = outer
    return rings


@dataclass(frozen=True)
class HourProfile:
    """Per-hour daily rates and shares of the target area before and after."""

    rate_before: np.ndarray  # incidents per day in each hour 0–23
    rate_after: np.ndarray
    share_before: np.ndarray  # share of the period's incidents in each hour (sums to 1, or all 0)
    share_after: np.ndarray
    night_share_before: float  # 22:00–05:59
    night_share_after: float

    @property
    def share_change(self) -> np.ndarray:
        return self.share_after - self.share_before


def _hour_counts(values: Sequence[float], name: str) -> np.ndarray:
    try:
        counts = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: die Stundenwerte müssen Zahlen sein.") from exc
    if counts.shape != (24,):
        raise ValueError(f"{name}: es werden genau 24 Stundenwerte (0–23 Uhr) benötigt.")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"{name}: die Stundenwerte dürfen nicht negativ sein.")
    return counts


def hour_profile(
    counts_by_hour_pre: Sequence[float],
    counts_by_hour_post: Sequence[float],
    days_pre: float,
    days_post: float,
) -> HourProfile:
    """Hour-of-day profile before and after: shows temporal displacement, e.g. into the night."""
    before = _hour_counts(counts_by_hour_pre, "Vorher")
    after = _hour_counts(counts_by_hour_post, "Nachher")
    days_before = _positive(days_pre, "Die Zahl der Tage (vorher)")
    days_after = _positive(days_post, "Die Zahl der Tage (nachher)")

    def shares(counts: np.ndarray) -> np.ndarray:
        total = counts.sum()
        return counts / total if total > 0 else np.zeros(24)

    share_before, share_after = shares(before), shares(after)
    night = list(NIGHT_HOURS)
    return HourProfile(
        rate_before=before / days_before,
        rate_after=after / days_after,
        share_before=share_before,
        share_after=share_after,
        night_share_before=float(share_before[night].sum()),
        night_share_after=float(share_after[night].sum()),
    )


# --------------------------------------------------------------------------------------------------
# German explanation


def _change_sentence(area_de: str, counts: Counts, noun_de: str, *, short: bool = False) -> str:
    before, after = counts
    delta = after - before
    if delta == 0:
        return f"{area_de} blieb die Zahl der {noun_de} bei {_format_count_de(before)}"
    change = f"von {_format_count_de(before)} auf {_format_count_de(after)}"
    if short:
        return f"{area_de} {change} ({_signed_de(delta)})"
    verb = (
        f"ging die Zahl der {noun_de} {change} zurück"
        if delta < 0
        else f"stieg die Zahl der {noun_de} {change}"
    )
    return f"{area_de} {verb} ({_signed_de(delta)})"


def _wdq_description(wdq_value: float) -> str:
    """What a WDQ says about the buffer relative to the target, without judging the measure."""
    if math.isclose(wdq_value, 0.0, abs_tol=1e-12):
        return "Weder Verdrängung noch Ausstrahlung: im Pufferbereich blieb die Lage wie in der Kontrolle."
    if wdq_value > 1:
        return (
            "Ausstrahlung positiver Effekte, die größer ist als der direkte Effekt im Zielgebiet: "
            "im Pufferbereich ging es relativ noch stärker zurück."
        )
    if wdq_value > 0:
        return "Ausstrahlung positiver Effekte (Diffusion): auch im Pufferbereich ging es relativ zurück."
    if wdq_value >= -1:
        return "Verdrängung in den Pufferbereich, aber kleiner als der direkte Nutzen im Zielgebiet."
    return "Rechnerisch übersteigt die Verdrängung in den Pufferbereich den direkten Nutzen im Zielgebiet."


def wdq_reading_de(wdq_result: WDQResult, result: WDDResult) -> str:
    """The WDQ read together with the WDD: an overall judgement only where the WDD supports it.

    The WDQ has no sampling distribution. "Insgesamt ein Erfolg" needs a WDD significantly below
    the control's trend, "kontraproduktiv" one significantly above it; otherwise the ratio is only
    described.
    """
    if not wdq_result.meaningful or wdq_result.wdq is None:
        return wdq_result.interpretation_de
    description = _wdq_description(wdq_result.wdq)
    ratio_says_harm = wdq_result.wdq < -1
    if not result.significant:
        return (
            f"{description} Ob die Maßnahme insgesamt genützt oder geschadet hat, ist damit nicht belegt: "
            "der WDQ hat keinen Signifikanztest, und die WDD findet keinen gesicherten Effekt."
        )
    if result.total < 0 and not ratio_says_harm:
        return f"{description} Insgesamt ein Erfolg: die WDD zeigt signifikant weniger Fälle als erwartet."
    if result.total > 0 and ratio_says_harm:
        return (
            f"{description} Die Maßnahme ist insgesamt kontraproduktiv: auch die WDD zeigt signifikant "
            "mehr Fälle als erwartet."
        )
    direction = "weniger" if result.total < 0 else "mehr"
    return (
        f"{description} Die WDD zeigt dagegen signifikant {direction} Fälle als erwartet; maßgeblich ist "
        "die WDD, weil nur sie eine Unsicherheit angibt."
    )


@dataclass(frozen=True)
class Verdict:
    """The headline of a displacement analysis and the text right below it.

    ``effect`` is "prevented" or "more" only for a significant WDD; otherwise "none" and the
    headline says that no effect is established, whatever the point estimate.
    """

    effect: str  # "prevented" | "more" | "none"
    headline: str
    text: str

    @property
    def significant(self) -> bool:
        return self.effect != "none"


def _quantile(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


def _p_de(p_value: float) -> str:
    return "p < 0,001" if p_value < 0.001 else f"p = {format_number_de(p_value, 3)}"


def _wdd_sentence(result: WDDResult, noun_de: str) -> str:
    confidence = format_number_de(100 * (1 - result.alpha))
    interval = (
        f"{confidence} %-Konfidenzintervall der Veränderung {_signed_de(round(result.ci_low))} bis "
        f"{_signed_de(round(result.ci_high))}"
    )
    amount = _format_count_de(round(abs(result.total)))
    if result.total < 0:
        estimate = f"netto {amount} {noun_de} weniger, als nach dem Trend der Kontrollgebiete zu erwarten war"
    elif result.total > 0:
        estimate = f"netto {amount} {noun_de} mehr, als nach dem Trend der Kontrollgebiete zu erwarten war"
    else:
        estimate = "keine Veränderung gegenüber dem Trend der Kontrollgebiete"
    if result.significant:
        certainty = f"das ist statistisch signifikant ({_p_de(result.p_value)})"
    else:
        certainty = (
            f"das Intervall schließt 0 ein, die Veränderung kann zufällig sein ({_p_de(result.p_value)})"
        )
    return f"Die WDD (Ziel und Puffer zusammen) zeigt {estimate} ({interval}); {certainty}."


def _wdq_sentence(wdq_result: WDQResult) -> str:
    if not wdq_result.meaningful or wdq_result.wdq is None:
        return (
            "Der WDQ (Verhältnis der Verdrängung im Puffer zum direkten Effekt im Zielgebiet) ist hier nicht "
            "aussagekräftig: im Zielgebiet gab es relativ zur Kontrolle keinen Rückgang."
        )
    return (
        "Der WDQ (Verhältnis der Verdrängung im Puffer zum direkten Effekt im Zielgebiet) beträgt "
        f"{format_number_de(wdq_result.wdq, 2)}. {_wdq_description(wdq_result.wdq)}"
    )


def _disagree(result: WDDResult, wdq_result: WDQResult) -> bool:
    """Do WDD and WDQ point in different directions for the measure as a whole?"""
    if not wdq_result.meaningful or wdq_result.wdq is None:
        return False  # the WDQ sentence already says that it has nothing to say
    ratio_says_benefit = wdq_result.wdq >= -1  # equivalently: total net effect ≥ 0
    return (result.total < 0) != ratio_says_benefit


def _disagreement_reasons(result: WDDResult, wdq_result: WDQResult, noun_de: str) -> list[str]:
    reasons: list[str] = []
    quantile = _quantile(result.alpha)
    local_z = result.local / result.local_se if result.local_se > 0 else None
    if wdq_result.meaningful and local_z is not None and abs(local_z) < quantile:
        reasons.append(
            "Der WDQ teilt durch den direkten Effekt im Zielgebiet, und der ist selbst nicht gesichert "
            f"({_signed_de(round(result.local))} {noun_de}, z = {format_number_de(local_z, 2)}): "
            "ein Verhältnis mit kleinem, unsicherem Nenner schwankt stark, schon wenige Fälle mehr oder "
            "weniger im Puffer ändern Betrag und Vorzeichen des WDQ."
        )
    target_before, control_before = result.target[0], result.target_control[0]
    control_after = result.target_control[1]
    if target_before > 0 and control_before > 0:
        ratio = control_before / target_before
        if not 1 / LEVEL_RATIO <= ratio <= LEVEL_RATIO:
            weight = result.area_weights.target_control
            control_change = control_after / (result.time_weights.after * weight) - control_before / (
                result.time_weights.before * weight
            )
            relative = 100 * (control_after / control_before - 1)
            absolute = f"{_signed_de(round(control_change, 1))} {noun_de}"
            control_text, target_text = _format_count_de(control_before), _format_count_de(target_before)
            reasons.append(
                f"Die WDD überträgt die absolute Veränderung des Kontrollgebiets ({absolute}) auf Ziel und "
                f"Puffer, der WDQ die relative ({_signed_de(round(relative))} %); das Kontrollgebiet hatte "
                f"vorher {control_text} {noun_de}, das Zielgebiet {target_text}. "
                "Bei so unterschiedlich hohen Zahlen erwarten beide Verfahren verschiedene Werte."
            )
    if not reasons:
        reasons.append(
            "Die WDD vergleicht absolute Veränderungen, der WDQ Verhältnisse zur Kontrolle; bei kleinen "
            "Veränderungen können beide in verschiedene Richtungen zeigen."
        )
    return reasons


def verdict_de(result: WDDResult, wdq_result: WDQResult | None = None, noun_de: str = "Vorfälle") -> Verdict:
    """Headline and short text that state only what the statistics support.

    The headline reports a net effect only when the WDD is significant; otherwise it says "Kein
    gesicherter Effekt". The text says what the WDD and the WDQ each show and, when they point in
    different directions, why (they measure different things; the WDQ is a ratio without a test that
    becomes unstable when the direct effect is small or uncertain).
    """
    amount = _format_count_de(round(abs(result.total)))
    spread = format_number_de(result.ci_half_width)
    if result.significant and result.total < 0:
        effect, headline = "prevented", f"Netto verhindert: {amount} ± {spread} {noun_de}"
    elif result.significant and result.total > 0:
        effect, headline = "more", f"Netto mehr als erwartet: {amount} ± {spread} {noun_de}"
    else:
        effect, headline = "none", "Kein gesicherter Effekt"
    sentences = [_wdd_sentence(result, noun_de)]
    if wdq_result is not None:
        sentences.append(_wdq_sentence(wdq_result))
        if _disagree(result, wdq_result):
            sentences.append(
                "WDD und WDQ zeigen hier in verschiedene Richtungen, weil sie Verschiedenes messen: die WDD "
                "zählt die Fälle, die in Ziel und Puffer zusammen mehr oder weniger auftraten als erwartet, "
                "und gibt ihre Unsicherheit an; der WDQ setzt die Verdrängung ins Verhältnis zum direkten "
                "Effekt und hat keinen Signifikanztest."
            )
            sentences.extend(_disagreement_reasons(result, wdq_result, noun_de))
            if result.significant:
                sentences.append("Maßgeblich ist die WDD, weil nur sie eine Unsicherheit angibt.")
    if not result.significant:
        sentences.append("Belegt ist damit weder ein Nutzen noch ein Schaden der Maßnahme.")
    return Verdict(effect, headline, " ".join(sentences))


def explain_de(result: WDDResult, wdq_result: WDQResult | None = None, noun_de: str = "Vorfälle") -> str:
    """A German paragraph explaining a WDD (and optionally WDQ) result to non-statisticians."""
    sentences: list[str] = []
    sentences.append(_change_sentence("Im Zielgebiet", result.target, noun_de) + ".")
    sentences.append(_change_sentence("Im Kontrollgebiet", result.target_control, noun_de) + ".")
    sentences.append(
        "Bereinigt um diesen allgemeinen Trend beträgt die Veränderung im Zielgebiet "
        f"{_signed_de(result.local)} {noun_de}."
    )
    quantile = float(stats.norm.ppf(1 - result.alpha / 2))
    if result.buffer is not None and result.displacement is not None and result.displacement_se:
        buffer_text = _change_sentence("Im Pufferbereich", result.buffer, noun_de)
        if result.buffer_control is not None:
            control_text = _change_sentence(
                "in dessen Kontrollgebiet", result.buffer_control, noun_de, short=True
            )
            sentences.append(f"{buffer_text}, {control_text}.")
        else:
            sentences.append(f"{buffer_text}; verglichen wird mit demselben Kontrollgebiet.")
        displacement_z = result.displacement / result.displacement_se
        if result.displacement > 0:
            meaning = "ein Hinweis auf Verdrängung in den Pufferbereich"
        elif result.displacement < 0:
            meaning = "eher eine Ausstrahlung positiver Effekte als eine Verdrängung"
        else:
            meaning = "weder Verdrängung noch Ausstrahlung"
        certainty = (
            "statistisch deutlich" if abs(displacement_z) >= quantile else "statistisch nicht gesichert"
        )
        sentences.append(
            f"Bereinigt ergibt das {_signed_de(result.displacement)} {noun_de} im Pufferbereich: {meaning}, "
            f"{certainty} (z = {format_number_de(displacement_z, 2)})."
        )
        basis = "Nach Abzug des allgemeinen Trends und einer möglichen Verdrängung"
    else:
        basis = "Nach Abzug des allgemeinen Trends"
    confidence = format_number_de(100 * (1 - result.alpha))
    ci_text = (
        f"({confidence} %-Konfidenzintervall der Veränderung: {_format_count_de(result.ci_low)} bis "
        f"{_format_count_de(result.ci_high)})"
    )
    amount = f"{_format_count_de(abs(result.total))} ± {format_number_de(result.ci_half_width)}"
    if result.total < 0:
        sentences.append(f"{basis} wurden netto etwa {amount} {noun_de} verhindert {ci_text}.")
    elif result.total > 0:
        sentences.append(
            f"{basis} gab es netto etwa {amount} {noun_de} mehr als nach dem Trend der Kontrollgebiete "
            f"zu erwarten {ci_text}."
        )
    else:
        sentences.append(f"{basis} ist keine Veränderung erkennbar {ci_text}.")
    p_text = "p < 0,001" if result.p_value < 0.001 else f"p = {format_number_de(result.p_value, 3)}"
    z_text = f"z = {format_number_de(result.z, 2)}, {p_text}"
    if result.significant:
        sentences.append(f"Das Ergebnis ist statistisch signifikant ({z_text}).")
    else:
        sentences.append(
            f"Das Ergebnis ist statistisch nicht signifikant ({z_text}); die Veränderung kann auch "
            "zufällig entstanden sein."
        )
    time_weighted = result.time_weights != TimeWeights()
    area_weighted = result.area_weights != AreaWeights()
    if time_weighted or area_weighted:
        basis_de = {
            (True, False): "gleiche Zeitraumlänge",
            (False, True): "gleiche Flächengröße",
            (True, True): "gleiche Zeitraumlänge und Flächengröße",
        }[(time_weighted, area_weighted)]
        sentences.append(
            f"Die bereinigten Werte sind auf {basis_de} umgerechnet (gewichtet), "
            "daher können Nachkommastellen auftreten."
        )
    if wdq_result is not None:
        reading = wdq_reading_de(wdq_result, result)
        if wdq_result.meaningful and wdq_result.wdq is not None:
            sentences.append(
                f"Der gewichtete Verdrängungsquotient (WDQ) beträgt {format_number_de(wdq_result.wdq, 2)}. "
                f"{reading}"
            )
        else:
            sentences.append(reading)
    if min(result.target) < SMALL_COUNT:
        sentences.append(
            "Achtung: Die Fallzahlen im Zielgebiet sind klein, die Aussage ist entsprechend unsicher."
        )
    return " ".join(sentences)
