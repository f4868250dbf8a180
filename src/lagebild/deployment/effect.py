"""Effect of patrols on patrolled cells: matched difference-in-differences (pure, no Django).

Question: did the counts in the patrolled grid cells change differently from the counts in comparable
cells that were not patrolled? Method and reading: ``docs/deployment-effect.md``.

Input
    ``pre`` and ``post``: counts per cell and week, shape ``(cells, weeks)``, for the weeks before and
    the weeks of the patrols. ``treated``: the patrolled cells (the Django side decides what
    "patrolled" means). ``excluded``: cells that may not serve as controls although not treated (the
    buffer ring around treated cells, where displacement or diffusion would contaminate the
    comparison, and cells patrolled too little to count as treated but too much to count as
    unpatrolled). Every other cell is a candidate control.

Matching (k nearest neighbours with replacement, ties included)
    Features per cell: mean count per week in the pre period and the pre-period trend (ordinary
    least-squares slope of the weekly counts on the week number, cases per week per week), or
    features supplied by the caller (pre-period only). Each feature is divided by its standard
    deviation over the pool (treated + candidate controls); features without spread are left out.
    The distance is the Euclidean distance of these standardised features (a Mahalanobis distance
    with diagonal covariance). Every treated cell takes the ``k`` nearest candidate controls; all
    controls at the same distance as the k-th are taken too (with equal shares), so the result does
    not depend on the order of the cells. A control may serve several treated cells.

Estimate
    d_i = post mean − pre mean of cell i (cases per cell and week). For treated cell i with control
    set M(i): τ_i = d_i − mean_{j∈M(i)} d_j. The estimate is the mean of τ_i over the treated cells,
    which equals (post_T − pre_T) − (post_C − pre_C) with control means weighted by
    w_j = (1/n_T) Σ_i 1[j ∈ M(i)] / |M(i)| (Σ w_j = 1).

Standard error (cells are the units; reuse of controls counted)
    SE² = s_T² / n_T + s_C² · Σ_j w_j²; s_T² is the sample variance of d over the treated cells,
    s_C² over the distinct controls used. A control used for many treated cells gets a large weight
    and adds correspondingly more variance (Abadie & Imbens 2006, homoscedastic within group).
    Degrees of freedom by Welch–Satterthwaite; CI and p value from Student's t.

Pre-trend check (placebo)
    The same procedure inside the pre period: the first half of the pre weeks plays "before", the
    second half "after" (the middle week is dropped for an odd number), matching on the first half's
    mean and trend only. Nobody was patrolled differently between the halves, so a significant
    placebo estimate says treated and control cells were already drifting apart before the patrols.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy import ndimage, stats

from lagebild.analytics.displacement import format_number_de

DEFAULT_K = 5
DEFAULT_ALPHA = 0.05
MIN_TREATED = 2
MIN_CONTROLS = 2
FEW_TREATED = 10
# Standardised mean difference above which a matched feature is called unbalanced (Stuart 2010).
SMD_LIMIT = 0.25
# Treated cells patrolled before at least this share of their post-period hours: the comparison
# then measures a change of patrolling, not patrolling as such (set by the Django side).
PRE_PATROL_SHARE_WARNING = 0.5
TIE_TOLERANCE = 1e-9
CHUNK_ROWS = 256  # treated cells per block of the distance matrix (memory: 256 × controls floats)

Tone = Literal["fewer", "more", "none", "unclear"]
FEATURE_LABELS = ("Mittelwert je Woche vorher", "Trend vorher (Fälle je Woche und Woche)")


class EffectInputError(ValueError):
    """Input that cannot be evaluated; the message is German and meant for the page."""


# --- input --------------------------------------------------------------------------------------


def _counts(values: object, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2:
        raise EffectInputError(f"{name}: erwartet werden Zahlen je Zelle und Woche (zweidimensional).")
    if not np.isfinite(array).all() or (array < 0).any():
        raise EffectInputError(f"{name}: die Zahlen müssen endlich und nicht negativ sein.")
    return array


def _flags(values: object, cells: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=bool).ravel()
    if array.shape != (cells,):
        raise EffectInputError(f"{name}: es muss genau einen Wert je Zelle geben ({cells}).")
    return array


def trend_per_week(weekly: np.ndarray) -> np.ndarray:
    """OLS slope of each row's weekly counts on the week number (0 for fewer than two weeks)."""
    weeks = weekly.shape[1]
    if weeks < 2:
        return np.zeros(weekly.shape[0])
    t = np.arange(weeks, dtype=float) - (weeks - 1) / 2
    return weekly @ t / float(t @ t)


def pre_features(pre: np.ndarray) -> np.ndarray:
    """Default matching features: pre-period mean per week and pre-period trend, shape (cells, 2)."""
    counts = np.asarray(pre, dtype=float)
    return np.column_stack([counts.mean(axis=1), trend_per_week(counts)])


def buffer_ring(treated: np.ndarray, cell_size: float, distance_m: float) -> np.ndarray:
    """Cells whose centre lies within ``distance_m`` of a treated cell's centre, treated cells excluded.

    ``treated`` is a 2-D grid of flags (rows × columns, square cells of ``cell_size`` metres).
    """
    grid = np.asarray(treated, dtype=bool)
    if grid.ndim != 2:
        raise EffectInputError("Der Pufferring braucht ein Raster (Zeilen × Spalten).")
    if distance_m <= 0 or not grid.any():
        return np.zeros_like(grid)
    reach = math.floor(distance_m / cell_size + TIE_TOLERANCE)
    if reach < 1:
        return np.zeros_like(grid)
    offsets = np.arange(-reach, reach + 1)
    rows, cols = np.meshgrid(offsets, offsets, indexing="ij")
    disk = (rows**2 + cols**2) * cell_size**2 <= distance_m**2 * (1 + TIE_TOLERANCE)
    return ndimage.binary_dilation(grid, structure=disk) & ~grid


# --- matching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matching:
    """Controls of each treated cell and the resulting control weights."""

    treated_index: np.ndarray  # (n_T,) cell indices
    control_index: np.ndarray  # (n_C,) candidate control cell indices
    members: tuple[np.ndarray, ...]  # per treated cell: positions in control_index
    weights: np.ndarray  # (n_C,) w_j, summing to 1 over the candidates
    scale: np.ndarray  # standard deviation used per feature (0: feature left out)
    mean_distance: float

    @property
    def used(self) -> np.ndarray:
        return self.weights > 0

    @property
    def controls_used(self) -> int:
        return int(np.count_nonzero(self.used))


def match(features: np.ndarray, treated: np.ndarray, candidates: np.ndarray, k: int = DEFAULT_K) -> Matching:
    """k nearest candidate controls per treated cell (standardised Euclidean distance, ties included)."""
    if k < 1:
        raise EffectInputError("Die Zahl der Vergleichszellen je bestreifter Zelle muss mindestens 1 sein.")
    values = np.asarray(features, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    treated_index = np.flatnonzero(treated)
    control_index = np.flatnonzero(candidates)
    pool = values[np.concatenate([treated_index, control_index])]
    scale = pool.std(axis=0) if len(pool) else np.zeros(values.shape[1])
    keep = scale > 0
    standardised = np.zeros((values.shape[0], int(keep.sum())))
    if keep.any():
        standardised = values[:, keep] / scale[keep]
    controls = standardised[control_index]
    members: list[np.ndarray] = []
    weights = np.zeros(len(control_index))
    distances: list[float] = []
    take = min(k, len(control_index))
    for start in range(0, len(treated_index), CHUNK_ROWS):
        block = standardised[treated_index[start : start + CHUNK_ROWS]]
        squared = ((block[:, None, :] - controls[None, :, :]) ** 2).sum(axis=2)
        kth = np.partition(squared, take - 1, axis=1)[:, take - 1]
        for row, limit in zip(squared, kth, strict=True):
            chosen = np.flatnonzero(row <= limit + TIE_TOLERANCE * max(1.0, limit))
            members.append(chosen)
            weights[chosen] += 1.0 / len(chosen)
            distances.append(float(np.sqrt(row[chosen]).mean()))
    weights /= max(len(treated_index), 1)
    return Matching(
        treated_index=treated_index,
        control_index=control_index,
        members=tuple(members),
        weights=weights,
        scale=np.where(keep, scale, 0.0),
        mean_distance=float(np.mean(distances)) if distances else 0.0,
    )


# --- estimate -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DidEstimate:
    """Difference-in-differences in cases per cell and week (negative: fewer than expected)."""

    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float | None
    alpha: float
    pre_treated: float
    post_treated: float
    pre_control: float
    post_control: float

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < self.alpha

    @property
    def change_treated(self) -> float:
        return self.post_treated - self.pre_treated

    @property
    def change_control(self) -> float:
        return self.post_control - self.pre_control


def _weighted_mean_variance(values: np.ndarray, weights: np.ndarray) -> float:
    """Variance of Σ w·x for independent x: Σ w² (x − x̄_w)² / (1 − Σ w²) (weights sum to 1).

    With equal weights 1/n this is the familiar s² / n. Each cell brings its own spread (cells with
    many cases vary more), so a control that is used often weighs in with its own squared deviation.
    """
    centre = float(weights @ values)
    concentration = float(weights @ weights)
    if concentration >= 1:
        return 0.0
    return float((weights**2) @ (values - centre) ** 2) / (1 - concentration)


def _did(
    changes: np.ndarray, matching: Matching, pre_mean: np.ndarray, post_mean: np.ndarray, alpha: float
) -> DidEstimate:
    t_changes = changes[matching.treated_index]
    c_changes = changes[matching.control_index]
    w = matching.weights
    n_t = len(t_changes)
    estimate = float(t_changes.mean() - w @ c_changes)
    var_t = _weighted_mean_variance(t_changes, np.full(n_t, 1 / n_t))
    var_c = _weighted_mean_variance(c_changes, w)
    variance = var_t + var_c
    se = math.sqrt(variance)
    # Welch–Satterthwaite with the effective number of controls 1 / Σ w².
    n_c = 1 / float(w @ w)
    denominator = var_t**2 / (n_t - 1) + (var_c**2 / (n_c - 1) if n_c > 1 else 0.0)
    df = variance**2 / denominator if denominator > 0 else float(n_t + n_c - 2)
    if se > 0:
        quantile = float(stats.t.ppf(1 - alpha / 2, df))
        p_value: float | None = float(2 * stats.t.sf(abs(estimate) / se, df))
    else:
        quantile, p_value = 0.0, (1.0 if estimate == 0 else None)
    return DidEstimate(
        estimate=estimate,
        se=se,
        df=float(df),
        ci_low=estimate - quantile * se,
        ci_high=estimate + quantile * se,
        p_value=p_value,
        alpha=alpha,
        pre_treated=float(pre_mean[matching.treated_index].mean()),
        post_treated=float(post_mean[matching.treated_index].mean()),
        pre_control=float(w @ pre_mean[matching.control_index]),
        post_control=float(w @ post_mean[matching.control_index]),
    )


@dataclass(frozen=True)
class BalanceRow:
    label: str
    treated: float
    control: float
    smd: float  # standardised mean difference (treated − matched controls) / pooled SD

    @property
    def balanced(self) -> bool:
        return abs(self.smd) <= SMD_LIMIT


@dataclass(frozen=True)
class Placebo:
    """Pre-trend check: the same DiD between the two halves of the pre period."""

    available: bool
    weeks_per_half: int
    result: DidEstimate | None
    note: str

    @property
    def passed(self) -> bool | None:
        """True: no sign of diverging trends; False: significant placebo; None: not checkable."""
        if not self.available or self.result is None or self.result.p_value is None:
            return None
        return not self.result.significant


@dataclass(frozen=True)
class GroupTotals:
    """Plain sums for the counts table (cases in all cells of the group and period)."""

    label: str
    cells: int
    pre: float
    post: float


@dataclass(frozen=True)
class EffectResult:
    ok: bool
    message: str  # German: why there is no estimate (empty when ok)
    weeks_pre: int
    weeks_post: int
    k: int
    n_treated: int
    n_candidates: int
    n_excluded: int
    controls_used: int
    did: DidEstimate | None = None
    placebo: Placebo | None = None
    balance: tuple[BalanceRow, ...] = ()
    totals: tuple[GroupTotals, ...] = ()
    counterfactual: float | None = None  # expected post mean of the treated cells without patrols
    relative: float | None = None  # estimate / counterfactual
    relative_ci: tuple[float, float] | None = None
    cases_total: float | None = None  # estimate × treated cells × post weeks
    cases_ci: tuple[float, float] | None = None
    mean_distance: float = 0.0
    tone: Tone = "none"
    headline_de: str = ""
    sentence_de: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def significant(self) -> bool:
        return self.did is not None and self.did.significant

    @property
    def coloured(self) -> bool:
        """The headline may be coloured only when the statistics support a direction."""
        return self.tone in ("fewer", "more")


def _balance(features: np.ndarray, matching: Matching, labels: Sequence[str]) -> tuple[BalanceRow, ...]:
    rows = []
    treated = features[matching.treated_index]
    controls = features[matching.control_index]
    for column, label in enumerate(labels):
        t_mean = float(treated[:, column].mean())
        c_mean = float(matching.weights @ controls[:, column])
        pooled = math.sqrt((treated[:, column].var() + controls[matching.used, column].var()) / 2)
        smd = (t_mean - c_mean) / pooled if pooled > 0 else 0.0
        rows.append(BalanceRow(label=label, treated=t_mean, control=c_mean, smd=smd))
    return tuple(rows)


def _placebo(pre: np.ndarray, treated: np.ndarray, candidates: np.ndarray, k: int, alpha: float) -> Placebo:
    weeks = pre.shape[1]
    half = weeks // 2
    if half < 1:
        return Placebo(
            False, 0, None, "Für den Placebo-Test braucht der Vorher-Zeitraum mindestens zwei Wochen."
        )
    # Matched on the level only: matching on the pre trend as well would make the halves agree by
    # construction, and matching on the first half alone would flag every deployment that followed a
    # recent rise (docs/deployment-effect.md, "Pre-trend check").
    matching = match(pre.mean(axis=1)[:, None], treated, candidates, k)
    if matching.controls_used < MIN_CONTROLS:
        return Placebo(False, half, None, "Zu wenige Vergleichszellen für den Placebo-Test.")
    first_mean, second_mean = pre[:, :half].mean(axis=1), pre[:, weeks - half :].mean(axis=1)
    result = _did(second_mean - first_mean, matching, first_mean, second_mean, alpha)
    dropped = " (die mittlere Woche bleibt weg)" if weeks % 2 else ""
    note = (
        f"Erste {half} gegen letzte {half} Wochen des Vorher-Zeitraums{dropped}; verglichen mit den "
        f"{k} Zellen, deren Niveau im Vorher-Zeitraum dem der bestreiften Zelle am nächsten kommt."
    )
    return Placebo(True, half, result, note)


# --- German text --------------------------------------------------------------------------------


def number_de(value: float, decimals: int = 2, *, sign: bool = False) -> str:
    text = format_number_de(value, decimals)
    if sign and not text.startswith("−") and text.strip("0,.") and value > 0:
        return "+" + text
    return text


def p_de(p_value: float | None) -> str:
    if p_value is None:
        return "nicht bestimmbar"
    return "< 0,001" if p_value < 0.001 else number_de(p_value, 3)


def p_phrase_de(p_value: float | None) -> str:
    """ "p < 0,001" or "p = 0,362" (for running text)."""
    text = p_de(p_value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def percent_de(value: float | None, *, sign: bool = True) -> str:
    return "–" if value is None else f"{number_de(100 * value, 0, sign=sign)} %"


def _texts(result: EffectResult) -> tuple[Tone, str, str]:
    did = result.did
    assert did is not None
    confidence = number_de(100 * (1 - did.alpha), 0)
    low, high = number_de(did.ci_low, 2, sign=True), number_de(did.ci_high, 2, sign=True)
    interval = f"{confidence} %-Konfidenzintervall {low} bis {high}"
    amount = number_de(abs(did.estimate), 2)
    relative = (
        f", {percent_de(result.relative)} gegenüber dem Vergleich" if result.relative is not None else ""
    )
    if did.estimate < 0:
        direction = f"{amount} Fälle je Zelle und Woche weniger"
    elif did.estimate > 0:
        direction = f"{amount} Fälle je Zelle und Woche mehr"
    else:
        direction = "genauso viele Fälle je Zelle und Woche"
    core = (
        f"In den {result.n_treated} bestreiften Zellen gab es {direction}, als nach der Entwicklung "
        f"vergleichbarer nicht bestreifter Zellen zu erwarten war ({interval}{relative}; "
        f"{p_phrase_de(did.p_value)})."
    )
    placebo = result.placebo
    trend_failed = placebo is not None and placebo.passed is False
    if did.significant and not trend_failed:
        tone: Tone = "fewer" if did.estimate < 0 else "more"
        headline = (
            "Weniger Fälle in bestreiften Zellen (statistisch signifikant)"
            if tone == "fewer"
            else "Mehr Fälle in bestreiften Zellen (statistisch signifikant)"
        )
        verdict = "Der Unterschied ist statistisch signifikant."
        if tone == "more":
            verdict += (
                " Mehr Feststellungen bei mehr Streifen können auch heißen, dass Streifen mehr sehen; "
                "ein Beleg für mehr Probleme ist das nicht."
            )
    elif did.significant:
        tone, headline = "unclear", "Unterschied statistisch signifikant, Grundlage aber unsicher"
        verdict = (
            "Für sich ist der Unterschied statistisch signifikant. Schon vor den Streifen entwickelten sich "
            "die bestreiften Zellen aber anders als Zellen mit gleichem Niveau (Placebo-Test signifikant): "
            "entweder haben sie einen eigenen Trend, oder die Streifen wurden wegen eines Anstiegs "
            "geschickt, der auch von selbst zurückgehen kann. Der Abgleich über den Trend fängt das nur "
            "teilweise auf; eine Wirkung der Streifen ist damit nicht sicher belegt."
        )
    else:
        tone, headline = "none", "Keine gesicherte Wirkung"
        verdict = (
            "Der Unterschied ist statistisch nicht signifikant: das Intervall schließt 0 ein, er kann Zufall "
            "sein. Belegt ist damit weder eine Wirkung noch ihr Fehlen."
        )
    if placebo is not None and placebo.passed is True:
        verdict += (
            " Im Vorher-Zeitraum entwickelten sich die bestreiften Zellen nicht erkennbar anders als "
            "Zellen mit gleichem Niveau (Placebo-Test nicht signifikant)."
        )
    elif placebo is not None and placebo.passed is False and not did.significant:
        verdict += (
            " Zudem entwickelten sich die bestreiften Zellen schon vorher anders als Zellen mit gleichem "
            "Niveau (Placebo-Test signifikant)."
        )
    elif placebo is not None and placebo.passed is None:
        verdict += " Ob sich die Zellen schon vorher unterschiedlich entwickelten, ließ sich nicht prüfen."
    return tone, headline, f"{core} {verdict}"


# --- main entry ---------------------------------------------------------------------------------


def estimate_effect(
    pre: object,
    post: object,
    treated: object,
    excluded: object | None = None,
    features: object | None = None,
    *,
    k: int = DEFAULT_K,
    alpha: float = DEFAULT_ALPHA,
    feature_labels: Sequence[str] | None = None,
) -> EffectResult:
    """Matched difference-in-differences of patrolled against comparable unpatrolled cells.

    ``pre``/``post``: counts (cells × weeks); ``treated``/``excluded``: flags per cell; ``features``:
    optional pre-period matching features (cells × f), default mean and trend of ``pre``.
    Raises :class:`EffectInputError` (German) for malformed input; too few cells give ``ok=False``.
    """
    pre_counts = _counts(pre, "Vorher")
    post_counts = _counts(post, "Nachher")
    cells = pre_counts.shape[0]
    if post_counts.shape[0] != cells:
        raise EffectInputError("Vorher und Nachher müssen dieselben Zellen haben.")
    if pre_counts.shape[1] < 1 or post_counts.shape[1] < 1:
        raise EffectInputError("Vorher- und Nachher-Zeitraum brauchen je mindestens eine Woche.")
    if not 0 < alpha < 1:
        raise EffectInputError("Das Signifikanzniveau muss zwischen 0 und 1 liegen.")
    treated_flags = _flags(treated, cells, "Bestreift")
    excluded_flags = (
        np.zeros(cells, dtype=bool) if excluded is None else _flags(excluded, cells, "Ausgeschlossen")
    )
    excluded_flags = excluded_flags & ~treated_flags
    candidates = ~treated_flags & ~excluded_flags
    if features is None:
        matrix = pre_features(pre_counts)
        labels = list(FEATURE_LABELS)
    else:
        matrix = np.asarray(features, dtype=float)
        matrix = matrix[:, None] if matrix.ndim == 1 else matrix
        if matrix.shape[0] != cells or not np.isfinite(matrix).all():
            raise EffectInputError("Die Merkmale müssen endliche Zahlen je Zelle sein.")
        labels = list(feature_labels or [f"Merkmal {i + 1}" for i in range(matrix.shape[1])])
    base = {
        "weeks_pre": pre_counts.shape[1],
        "weeks_post": post_counts.shape[1],
        "k": k,
        "n_treated": int(treated_flags.sum()),
        "n_candidates": int(candidates.sum()),
        "n_excluded": int(excluded_flags.sum()),
    }
    if base["n_treated"] < MIN_TREATED:
        return EffectResult(
            ok=False,
            message=(
                f"Zu wenige bestreifte Zellen ({base['n_treated']}); für eine Schätzung mit Standardfehler "
                f"braucht es mindestens {MIN_TREATED}."
            ),
            controls_used=0,
            **base,
        )
    matching = match(matrix, treated_flags, candidates, k)
    if matching.controls_used < MIN_CONTROLS:
        return EffectResult(
            ok=False,
            message=(
                f"Zu wenige nicht bestreifte Vergleichszellen ({base['n_candidates']}); es braucht "
                f"mindestens {MIN_CONTROLS}."
            ),
            controls_used=matching.controls_used,
            **base,
        )
    pre_mean, post_mean = pre_counts.mean(axis=1), post_counts.mean(axis=1)
    did = _did(post_mean - pre_mean, matching, pre_mean, post_mean, alpha)
    placebo = _placebo(pre_counts, treated_flags, candidates, k, alpha)
    counterfactual = did.pre_treated + did.change_control
    relative = relative_ci = None
    if counterfactual > 0:
        relative = did.estimate / counterfactual
        relative_ci = (did.ci_low / counterfactual, did.ci_high / counterfactual)
    scale = base["n_treated"] * base["weeks_post"]
    used = matching.control_index[matching.used]
    totals = (
        GroupTotals(
            "Bestreifte Zellen",
            base["n_treated"],
            float(pre_counts[treated_flags].sum()),
            float(post_counts[treated_flags].sum()),
        ),
        GroupTotals(
            "Gewählte Vergleichszellen",
            len(used),
            float(pre_counts[used].sum()),
            float(post_counts[used].sum()),
        ),
        GroupTotals(
            "Alle möglichen Vergleichszellen",
            base["n_candidates"],
            float(pre_counts[candidates].sum()),
            float(post_counts[candidates].sum()),
        ),
        GroupTotals(
            "Pufferring (ausgeschlossen)",
            base["n_excluded"],
            float(pre_counts[excluded_flags].sum()),
            float(post_counts[excluded_flags].sum()),
        ),
    )
    balance = _balance(matrix, matching, labels)
    warnings = []
    if base["n_treated"] < FEW_TREATED:
        warnings.append(
            f"Nur {base['n_treated']} bestreifte Zellen: Standardfehler und Intervall sind selbst unsicher."
        )
    unbalanced = [row.label for row in balance if not row.balanced]
    if unbalanced:
        warnings.append(
            "Die Vergleichszellen sind den bestreiften nicht ähnlich genug bei: "
            + ", ".join(unbalanced)
            + f" (standardisierte Differenz über {number_de(SMD_LIMIT, 2)}); "
            "die Schätzung kann verzerrt sein."
        )
    if did.pre_treated < 0.1:
        warnings.append(
            "Sehr wenige Fälle in den bestreiften Zellen (unter 0,1 je Zelle und Woche vorher): "
            "ein Rückgang lässt sich kaum messen."
        )
    result = EffectResult(
        ok=True,
        message="",
        controls_used=matching.controls_used,
        did=did,
        placebo=placebo,
        balance=balance,
        totals=totals,
        counterfactual=counterfactual,
        relative=relative,
        relative_ci=relative_ci,
        cases_total=did.estimate * scale,
        cases_ci=(did.ci_low * scale, did.ci_high * scale),
        mean_distance=matching.mean_distance,
        warnings=tuple(warnings),
        **base,
    )
    tone, headline, sentence = _texts(result)
    return replace(result, tone=tone, headline_de=headline, sentence_de=sentence)


def with_patrol_dose(result: EffectResult, hours_before: float, hours_during: float) -> EffectResult:
    """Take the patrol hours per patrolled cell and week before and during into account.

    When the patrolled cells were patrolled before at least ``PRE_PATROL_SHARE_WARNING`` of the hours
    they got during the patrol weeks, the comparison is not "patrols against none" but "about as much
    patrolling as before": a warning is added and a significant difference loses its colour, since it
    cannot be put down to the patrols.
    """
    if not result.ok or hours_during <= 0 or hours_before < PRE_PATROL_SHARE_WARNING * hours_during:
        return result
    warning = (
        "Die bestreiften Zellen wurden schon im Vorher-Zeitraum ähnlich viel bestreift "
        f"({number_de(hours_before, 1)} gegenüber {number_de(hours_during, 1)} Stunden je Zelle und Woche): "
        "verglichen wird dann eine Veränderung der Bestreifung, nicht Streife gegen keine Streife."
    )
    changes: dict[str, object] = {"warnings": (*result.warnings, warning)}
    if result.coloured:
        changes.update(
            tone="unclear",
            headline_de="Unterschied statistisch signifikant, Bestreifung aber kaum verändert",
            sentence_de=result.sentence_de
            + " Die Zellen wurden aber schon vorher ähnlich viel bestreift; der Unterschied lässt sich "
            "deshalb nicht den Streifen zuschreiben.",
        )
    return replace(result, **changes)  # type: ignore[arg-type]
