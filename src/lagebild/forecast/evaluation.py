"""Forecast evaluation: hit rate, PAI, PEI, PEI*, recapture rate, bootstrap intervals, the choice.

Pure numpy (no Django). Formulas and conventions: docs/forecast-backtest.md and
../shared/research/crime_analysis.md section 3.

Conventions fixed here (the report page names them):

* Cells are of equal size, so area shares are cell shares. At a coverage ``c`` the flagged set
  holds ``k = round_half_up(c × M)`` of the ``M`` mask cells, at least 1 and at most ``M``; the
  area share used in PAI is the share actually flagged, ``k / M`` (so PAI stays exact when
  ``c × M`` is not a whole number).
* Ranking (ptools, Wheeler & Steenbeek 2021): cells sorted by predicted count descending, ties
  broken by ascending observed count. A tie therefore never flatters a model: among equally
  ranked cells the ones with fewer observed events are flagged first (the minimum PAI).
* PEI (Hunt 2016) compares with the oracle: the ``k`` cells with the most observed events.
* PEI* (White, Hunt & Green 2023; NIJ challenge): ``(n / k) / (n* / k*)``, where ``k*`` is the
  number of those oracle cells that actually hold events (fewer than ``k`` when fewer than ``k``
  cells had any event). A forecast cannot fill empty cells with events, but PEI* still asks it to
  not waste area.
* Recapture rate follows ptools' RRI: predicted / observed events in the flagged cells (1 = the
  forecast expected as many events there as happened; > 1 overestimates). Levine's RRI (a ratio
  of period ratios) is a different number; we do not report it.
* A week without any observed event has no hit rate, PAI or PEI (0 / 0): its metrics are NaN,
  it is left out of every mean and counted separately (``empty_weeks``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

COVERAGES = (0.01, 0.05, 0.10)
CHOICE_COVERAGE = 0.05
METRIC_NAMES = ("hit_rate", "pai", "pei", "pei_star", "recapture")
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 16
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Metrics:
    """Accuracy of one forecast over one evaluation period at one coverage."""

    coverage: float  # requested share of the area
    cells: int  # k: flagged cells
    area_share: float  # k / M: share actually flagged
    observed_total: int  # N: events in the mask
    captured: int  # n: events in the flagged cells
    best_captured: int  # n*: events in the k cells with the most events
    best_cells: int  # k*: of those, cells holding at least one event
    predicted_flagged: float  # predicted events in the flagged cells
    hit_rate: float  # n / N
    pai: float  # (n / N) / (k / M)
    pei: float  # n / n*
    pei_star: float  # (n / k) / (n* / k*)
    recapture: float  # ptools RRI: predicted / observed in the flagged cells


def flagged_cell_count(mask_cells: int, coverage: float) -> int:
    """k = round half up (coverage × mask cells), at least 1 and at most all mask cells."""
    if mask_cells <= 0:
        raise ValueError("Das Auswertungsgebiet enthält keine Zellen.")
    if not 0 < coverage <= 1:
        raise ValueError("Der Flächenanteil muss zwischen 0 und 1 liegen.")
    return min(mask_cells, max(1, math.floor(coverage * mask_cells + 0.5)))


def ranking(predicted: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Indices by predicted descending, ties by observed ascending (ptools; conservative)."""
    return np.lexsort((observed, -predicted))


def _masked(values: Any, mask: np.ndarray | None) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if mask is None:
        return array.ravel()
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != array.shape:
        raise ValueError(f"Maske {mask.shape} und Werte {array.shape} haben verschiedene Formen.")
    return array[mask]


def metrics_for_cells(predicted: Any, observed: Any, cells: int, coverage: float | None = None) -> Metrics:
    """Metrics when the ``cells`` top-ranked of the given (equal-size) cells are flagged."""
    predicted = np.asarray(predicted, dtype=float).ravel()
    observed = np.asarray(observed, dtype=float).ravel()
    total_cells = len(predicted)
    if len(observed) != total_cells:
        raise ValueError("Vorhersage und Beobachtung haben verschiedene Längen.")
    if not 1 <= cells <= total_cells:
        raise ValueError("Die Zahl der markierten Zellen liegt außerhalb des Gebiets.")
    order = ranking(predicted, observed)[:cells]
    total = float(observed.sum())
    captured = float(observed[order].sum())
    predicted_flagged = float(predicted[order].sum())
    oracle = np.sort(observed)[::-1][:cells]
    best_captured = float(oracle.sum())
    best_cells = int(np.count_nonzero(oracle > 0))
    area_share = cells / total_cells
    if total > 0:
        hit_rate = captured / total
        pai = hit_rate / area_share
        pei = captured / best_captured
        pei_star = (captured / cells) / (best_captured / best_cells)
    else:
        hit_rate = pai = pei = pei_star = math.nan
    recapture = predicted_flagged / captured if captured > 0 else math.nan
    return Metrics(
        coverage=area_share if coverage is None else coverage,
        cells=cells,
        area_share=area_share,
        observed_total=round(total),
        captured=round(captured),
        best_captured=round(best_captured),
        best_cells=best_cells,
        predicted_flagged=predicted_flagged,
        hit_rate=hit_rate,
        pai=pai,
        pei=pei,
        pei_star=pei_star,
        recapture=recapture,
    )


def hit_metrics(predicted: Any, observed: Any, mask: Any, coverage: float) -> Metrics:
    """Metrics of a cell forecast against observed counts, flagging ``coverage`` of the mask."""
    predicted_cells = _masked(predicted, mask)
    observed_cells = _masked(observed, mask)
    cells = flagged_cell_count(len(predicted_cells), coverage)
    return metrics_for_cells(predicted_cells, observed_cells, cells, coverage)


# ---------------------------------------------------------------------------------------------
# Bootstrap over weeks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A mean over weeks with its percentile bootstrap interval (NaN when no week counts)."""

    mean: float
    low: float
    high: float
    weeks: int

    def to_dict(self) -> dict[str, Any]:
        return {key: _json_float(value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interval:
        return cls(
            mean=_from_json_float(data["mean"]),
            low=_from_json_float(data["low"]),
            high=_from_json_float(data["high"]),
            weeks=int(data["weeks"]),
        )


def _json_float(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _from_json_float(value: Any) -> float:
    return math.nan if value is None else float(value)


def bootstrap_indices(
    weeks: int, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> np.ndarray:
    """(resamples × weeks) week indices drawn with replacement; the same seed gives the same draw."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, weeks, size=(resamples, weeks))


def _interval(values: np.ndarray, resamples: int, seed: int, confidence: float) -> Interval:
    if len(values) == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    means = values[bootstrap_indices(len(values), resamples, seed)].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(float(values.mean()), float(low), float(high), len(values))


def bootstrap_mean(
    values: Sequence[float] | np.ndarray,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Mean over weeks and its percentile interval; NaN weeks (no events) are left out."""
    array = np.asarray(values, dtype=float)
    return _interval(array[np.isfinite(array)], resamples, seed, confidence)


def paired_bootstrap(
    values: Sequence[float] | np.ndarray,
    reference: Sequence[float] | np.ndarray,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Mean of ``values − reference`` week by week; each resample draws the same weeks for both."""
    a = np.asarray(values, dtype=float)
    b = np.asarray(reference, dtype=float)
    if a.shape != b.shape:
        raise ValueError("Die gepaarten Reihen haben verschiedene Längen.")
    both = np.isfinite(a) & np.isfinite(b)
    return _interval(a[both] - b[both], resamples, seed, confidence)


# ---------------------------------------------------------------------------------------------
# German numbers and the choice of the model in use
# ---------------------------------------------------------------------------------------------


def german_number(value: float, digits: int = 1, signed: bool = False) -> str:
    """``1234.56`` → ``1.234,6``; ``signed`` adds + (and uses the typographic minus −)."""
    if not math.isfinite(value):
        return "–"
    rounded = round(value, digits)
    if rounded == 0:
        rounded = 0.0  # no "−0,0"
    text = f"{abs(rounded):,.{digits}f}".replace(",", "\u202f").replace(".", ",").replace("\u202f", ".")
    if rounded < 0:
        return f"−{text}"
    return f"+{text}" if signed else text


def german_percent(share: float) -> str:
    percent = share * 100
    digits = 0 if abs(percent - round(percent)) < 1e-9 else 1
    return f"{german_number(percent, digits)} %"


def _digits(difference: Interval) -> int:
    """Two decimals when the difference and its interval are all below 1 (else "+0,0 bis +0,2")."""
    values = [
        abs(value) for value in (difference.mean, difference.low, difference.high) if math.isfinite(value)
    ]
    return 2 if values and max(values) < 1 else 1


def _ratio_text(ratio: float) -> str:
    return german_number(ratio, 2 if abs(ratio - 1) < 0.1 else 1)


def _difference_text(difference: Interval, digits: int) -> str:
    return (
        f"Differenz {german_number(difference.mean, digits, signed=True)} "
        f"({german_percent(CONFIDENCE)}-KI {german_number(difference.low, digits, signed=True)} bis "
        f"{german_number(difference.high, digits, signed=True)})"
    )


@dataclass(frozen=True)
class Choice:
    """Which model forecasts this category group, and why (German sentence for the report)."""

    model: str
    best_model: str  # the best mean PAI at the choice coverage, baseline or not
    best_baseline: str
    coverage: float
    model_pai: float
    baseline_pai: float
    difference: Interval  # PAI of best_model − PAI of best_baseline, paired over weeks
    ratio: float  # model_pai / baseline_pai of the best model
    beats_baseline: bool
    weeks: int
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        data = {key: _json_float(value) for key, value in asdict(self).items() if key != "difference"}
        data["difference"] = self.difference.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Choice:
        return cls(
            model=data["model"],
            best_model=data["best_model"],
            best_baseline=data["best_baseline"],
            coverage=float(data["coverage"]),
            model_pai=_from_json_float(data["model_pai"]),
            baseline_pai=_from_json_float(data["baseline_pai"]),
            difference=Interval.from_dict(data["difference"]),
            ratio=_from_json_float(data["ratio"]),
            beats_baseline=bool(data["beats_baseline"]),
            weeks=int(data["weeks"]),
            sentence=data["sentence"],
        )


def _best(models: Sequence[str], pai: Mapping[str, Interval]) -> str | None:
    ranked = [model for model in models if math.isfinite(pai[model].mean)]
    if not ranked:
        return None
    # max keeps the first of equal means: the given order (baselines first) breaks ties.
    return max(ranked, key=lambda model: pai[model].mean)


def choose(
    pai: Mapping[str, Interval],
    weekly_pai: Mapping[str, Sequence[float] | np.ndarray],
    baselines: Sequence[str],
    labels: Mapping[str, str] | None = None,
    coverage: float = CHOICE_COVERAGE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Choice:
    """The model in use: the best mean PAI at ``coverage``, if it beats the best baseline.

    A model that is not a baseline is used only when the paired bootstrap interval of its PAI
    difference to the best baseline lies entirely above 0; otherwise the best baseline is used
    and the sentence says plainly that no model beats the baseline.
    """
    labels = labels or {}

    def label(model: str) -> str:
        return labels.get(model, model)

    models = list(pai)
    baseline_models = [model for model in models if model in baselines]
    area = german_percent(coverage)
    best_model = _best(models, pai)
    best_baseline = _best(baseline_models, pai)
    if best_model is None:
        fallback = baseline_models[0] if baseline_models else models[0]
        nothing = Interval(math.nan, math.nan, math.nan, 0)
        return Choice(
            model=fallback,
            best_model=fallback,
            best_baseline=fallback,
            coverage=coverage,
            model_pai=math.nan,
            baseline_pai=math.nan,
            difference=nothing,
            ratio=math.nan,
            beats_baseline=False,
            weeks=0,
            sentence=(
                "Keine Bewertung möglich: In den ausgewerteten Wochen gab es keine Vorfälle. "
                f"Verwendet wird die Grundlinie ({label(fallback)})."
            ),
        )
    if best_baseline is None:
        # Without a baseline nothing can be beaten; the report says so instead of claiming a win.
        interval = pai[best_model]
        return Choice(
            model=best_model,
            best_model=best_model,
            best_baseline="",
            coverage=coverage,
            model_pai=interval.mean,
            baseline_pai=math.nan,
            difference=Interval(math.nan, math.nan, math.nan, 0),
            ratio=math.nan,
            beats_baseline=False,
            weeks=interval.weeks,
            sentence=(
                f"Es wurde keine Grundlinie ausgewertet: {label(best_model)} erreicht bei {area} der "
                f"Fläche im Mittel PAI {german_number(interval.mean)} über {interval.weeks} Wochen; "
                "ob es besser ist als eine einfache Grundlinie, ist nicht geprüft."
            ),
        )
    difference = paired_bootstrap(weekly_pai[best_model], weekly_pai[best_baseline], resamples, seed)
    model_pai = pai[best_model].mean
    baseline_pai = pai[best_baseline].mean
    ratio = model_pai / baseline_pai if baseline_pai > 0 else math.nan
    weeks = difference.weeks if best_model != best_baseline else pai[best_model].weeks
    digits = _digits(difference)
    interval_text = f"{_difference_text(difference, digits)} über {weeks} Wochen"
    if best_model == best_baseline:
        challengers = [model for model in models if model not in baselines and math.isfinite(pai[model].mean)]
        runner_digits = 1
        if challengers:
            runner_up = max(challengers, key=lambda model: pai[model].mean)
            runner = paired_bootstrap(weekly_pai[runner_up], weekly_pai[best_baseline], resamples, seed)
            runner_digits = _digits(runner)
            detail = (
                f" Das beste Modell, {label(runner_up)}, erreicht PAI "
                f"{german_number(pai[runner_up].mean, runner_digits)}: "
                f"{_difference_text(runner, runner_digits)}."
            )
            difference = runner
        else:
            detail = ""
        sentence = (
            f"Kein Modell schlägt die Grundlinie: Die beste Grundlinie ({label(best_baseline)}) "
            f"erreicht bei {area} der Fläche im Mittel PAI {german_number(baseline_pai, runner_digits)} über "
            f"{weeks} Wochen.{detail} Verwendet wird die Grundlinie."
        )
        return Choice(
            model=best_baseline,
            best_model=best_model,
            best_baseline=best_baseline,
            coverage=coverage,
            model_pai=baseline_pai,
            baseline_pai=baseline_pai,
            difference=difference,
            ratio=1.0,
            beats_baseline=False,
            weeks=weeks,
            sentence=sentence,
        )
    beats = math.isfinite(difference.low) and difference.low > 0
    if beats:
        sentence = (
            f"{label(best_model)} trifft bei {area} der Fläche im Mittel "
            f"{_ratio_text(ratio)} Mal so viele Vorfälle wie die beste Grundlinie "
            f"({label(best_baseline)}): PAI {german_number(model_pai, digits)} statt "
            f"{german_number(baseline_pai, digits)}, {interval_text}."
        )
    else:
        sentence = (
            f"Kein Modell schlägt die Grundlinie sicher: {label(best_model)} erreicht bei {area} der "
            f"Fläche im Mittel PAI {german_number(model_pai, digits)} statt "
            f"{german_number(baseline_pai, digits)} "
            f"(beste Grundlinie: {label(best_baseline)}), {interval_text}; das Intervall schließt "
            f"0 ein. Verwendet wird daher die Grundlinie ({label(best_baseline)})."
        )
    return Choice(
        model=best_model if beats else best_baseline,
        best_model=best_model,
        best_baseline=best_baseline,
        coverage=coverage,
        model_pai=model_pai,
        baseline_pai=baseline_pai,
        difference=difference,
        ratio=ratio,
        beats_baseline=beats,
        weeks=weeks,
        sentence=sentence,
    )
