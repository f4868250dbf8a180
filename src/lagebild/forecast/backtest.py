"""Rolling-origin backtest of the forecast models (pure numpy, no Django).

For each of the last ``weeks`` origins (every 7 days back from ``last_origin``) every model
forecasts ``[origin, origin + horizon)`` from the events before the origin only, and the
forecast is scored against the events that then happened in the mask (``evaluation``). Models
with a fitted state (ETAS) are refitted at every origin, starting from the previous origin's
fit (warm start). The result holds every weekly figure, the means with bootstrap intervals, the
paired PAI differences to the best baseline and the choice of the model in use; ``to_dict`` is
what the Django side stores. Conventions: docs/forecast-backtest.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .evaluation import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CHOICE_COVERAGE,
    COVERAGES,
    METRIC_NAMES,
    Choice,
    Interval,
    bootstrap_mean,
    choose,
    hit_metrics,
    paired_bootstrap,
)

WEEK_DAYS = 7.0
# Forecast(model, events, study, start, end, params, fitted) -> expected events per cell.
Forecaster = Callable[..., np.ndarray]
# Fitter(model, events, study, start, params, previous) -> fitted state or None.
Fitter = Callable[..., object]
# Progress(done, total, model, origin) after each model × origin.
Progress = Callable[[int, int, str, float], None]


def coverage_key(coverage: float) -> str:
    """``0.05`` → ``"5"``: the percent as a string, for JSON keys and template lookups."""
    percent = coverage * 100
    return str(round(percent)) if abs(percent - round(percent)) < 1e-9 else f"{percent:g}"


def _default_models() -> tuple[str, ...]:
    from . import predict

    return tuple(predict.MODELS)


def _baselines() -> tuple[str, ...]:
    try:
        from . import predict
    except ImportError:  # the models module is optional for the pure metrics
        return ("last_4_weeks", "same_week_last_year", "long_term_average")
    return tuple(predict.BASELINES)


def _labels() -> dict[str, str]:
    try:
        from . import predict
    except ImportError:
        return {}
    return dict(predict.MODEL_LABELS)


def _parameters(
    models: Sequence[str], params: Mapping[str, Mapping[str, float]] | None
) -> dict[str, dict[str, float]]:
    """The parameters each model runs with: its defaults, overridden by ``params[model]``."""
    try:
        from . import predict

        defaults = predict.default_parameters
    except ImportError:

        def defaults(model: str) -> dict[str, float]:
            return {}

    used: dict[str, dict[str, float]] = {}
    for model in models:
        try:
            base = dict(defaults(model))
        except (KeyError, ValueError):
            base = {}
        base.update((params or {}).get(model, {}))
        used[model] = {key: float(value) for key, value in base.items()}
    return used


@dataclass
class BacktestResult:
    """Every weekly figure, the means with intervals, paired comparisons and the choice.

    ``weekly[model][metric][coverage_key]`` is one value per origin (NaN in a week without
    events); ``means`` has the same keys with an ``Interval``; ``comparisons[model][coverage_key]``
    is the paired PAI difference of the model to the best baseline (absent for the best
    baseline itself).
    """

    models: list[str]
    baselines: list[str]
    labels: dict[str, str]
    origins: list[float]
    horizon: float
    coverages: list[float]
    parameters: dict[str, dict[str, float]]
    observed_totals: list[int]
    weekly: dict[str, dict[str, dict[str, list[float]]]]
    means: dict[str, dict[str, dict[str, Interval]]]
    comparisons: dict[str, dict[str, Interval]]
    choice: Choice
    seconds: dict[str, float]
    resamples: int = BOOTSTRAP_RESAMPLES
    seed: int = BOOTSTRAP_SEED
    refit_every: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def weeks(self) -> int:
        return len(self.origins)

    @property
    def empty_weeks(self) -> int:
        """Weeks without any observed event: no PAI, left out of every mean."""
        return sum(1 for total in self.observed_totals if total == 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: dicts, lists, strings, numbers, booleans; NaN becomes None."""
        return {
            "models": list(self.models),
            "baselines": list(self.baselines),
            "labels": dict(self.labels),
            "origins": [float(origin) for origin in self.origins],
            "horizon": float(self.horizon),
            "coverages": [float(coverage) for coverage in self.coverages],
            "parameters": {model: dict(values) for model, values in self.parameters.items()},
            "observed_totals": [int(total) for total in self.observed_totals],
            "empty_weeks": self.empty_weeks,
            "weekly": {
                model: {
                    metric: {key: [_json(value) for value in values] for key, values in per_coverage.items()}
                    for metric, per_coverage in per_metric.items()
                }
                for model, per_metric in self.weekly.items()
            },
            "means": {
                model: {
                    metric: {key: interval.to_dict() for key, interval in per_coverage.items()}
                    for metric, per_coverage in per_metric.items()
                }
                for model, per_metric in self.means.items()
            },
            "comparisons": {
                model: {key: interval.to_dict() for key, interval in per_coverage.items()}
                for model, per_coverage in self.comparisons.items()
            },
            "choice": self.choice.to_dict(),
            "seconds": {model: float(seconds) for model, seconds in self.seconds.items()},
            "resamples": self.resamples,
            "seed": self.seed,
            "refit_every": self.refit_every,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BacktestResult:
        return cls(
            models=list(data["models"]),
            baselines=list(data["baselines"]),
            labels=dict(data["labels"]),
            origins=[float(origin) for origin in data["origins"]],
            horizon=float(data["horizon"]),
            coverages=[float(coverage) for coverage in data["coverages"]],
            parameters={model: dict(values) for model, values in data["parameters"].items()},
            observed_totals=[int(total) for total in data["observed_totals"]],
            weekly={
                model: {
                    metric: {
                        key: [_unjson(value) for value in values] for key, values in per_coverage.items()
                    }
                    for metric, per_coverage in per_metric.items()
                }
                for model, per_metric in data["weekly"].items()
            },
            means={
                model: {
                    metric: {key: Interval.from_dict(interval) for key, interval in per_coverage.items()}
                    for metric, per_coverage in per_metric.items()
                }
                for model, per_metric in data["means"].items()
            },
            comparisons={
                model: {key: Interval.from_dict(interval) for key, interval in per_coverage.items()}
                for model, per_coverage in data["comparisons"].items()
            },
            choice=Choice.from_dict(data["choice"]),
            seconds={model: float(seconds) for model, seconds in data["seconds"].items()},
            resamples=int(data.get("resamples", BOOTSTRAP_RESAMPLES)),
            seed=int(data.get("seed", BOOTSTRAP_SEED)),
            refit_every=int(data.get("refit_every", 1)),
            notes=list(data.get("notes", [])),
        )

    def table(self, metrics: Sequence[str] = ("pai", "pei", "hit_rate")) -> list[dict[str, Any]]:
        """One row per model: mean and interval of each metric at each coverage (for reports)."""
        rows = []
        for model in self.models:
            row: dict[str, Any] = {"model": model, "label": self.labels.get(model, model)}
            for metric in metrics:
                for key, interval in self.means[model][metric].items():
                    row[f"{metric}_{key}"] = interval.to_dict()
            rows.append(row)
        return rows


def _json(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _unjson(value: float | None) -> float:
    return math.nan if value is None else float(value)


def weekly_origins(last_origin: float, weeks: int) -> list[float]:
    """``weeks`` origins, every 7 days back from ``last_origin``, oldest first."""
    if weeks < 1:
        raise ValueError("Der Rückblick braucht mindestens eine Woche.")
    return [last_origin - WEEK_DAYS * back for back in range(weeks - 1, -1, -1)]


def rolling_backtest(
    events: Any,
    study: Any,
    last_origin: float,
    weeks: int,
    models: Sequence[str] | None = None,
    horizon: float = WEEK_DAYS,
    params: Mapping[str, Mapping[str, float]] | None = None,
    forecaster: Forecaster | None = None,
    fitter: Fitter | None = None,
    progress: Progress | None = None,
    refit_every: int = 1,
    coverages: Sequence[float] = COVERAGES,
    baselines: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> BacktestResult:
    """Score every model on every weekly origin and choose the model in use.

    ``events`` must offer ``before(t)`` and ``between(start, end)`` with ``x``/``y`` arrays
    (``predict.Events``); ``study`` a ``grid`` and a boolean ``mask``. Each model sees only
    ``events.before(origin)``: the evaluation window is never in its input. ``forecaster`` and
    ``fitter`` default to ``predict.forecast`` and ``predict.fit`` (tests inject others).
    ``refit_every`` = n refits models with a state at every n-th origin only (warm-started from
    the last fit); in between the last fit forecasts from the newer events (1 = every week).
    """
    if refit_every < 1:
        raise ValueError("Die Neuanpassung braucht einen Abstand von mindestens einer Woche.")
    if forecaster is None or fitter is None:
        from . import predict

        forecaster = forecaster or predict.forecast
        fitter = fitter or predict.fit
    models = list(models if models is not None else _default_models())
    if not models:
        raise ValueError("Es ist kein Modell zur Auswertung gewählt.")
    baselines = list(baselines if baselines is not None else _baselines())
    labels = dict(labels if labels is not None else _labels())
    parameters = _parameters(models, params)
    origins = weekly_origins(last_origin, weeks)
    mask = np.asarray(study.mask, dtype=bool)
    keys = [coverage_key(coverage) for coverage in coverages]

    observed_totals: list[int] = []
    observed_by_origin: list[np.ndarray] = []
    for origin in origins:
        window = events.between(origin, origin + horizon)
        counts = study.grid.counts(window.x, window.y)
        observed_by_origin.append(counts)
        observed_totals.append(round(float(counts[mask].sum())))

    weekly = {model: {metric: {key: [] for key in keys} for metric in METRIC_NAMES} for model in models}
    seconds = dict.fromkeys(models, 0.0)
    total_steps = len(models) * len(origins)
    done = 0
    for model in models:
        previous: object | None = None
        for index, (origin, observed) in enumerate(zip(origins, observed_by_origin, strict=True)):
            started = time.perf_counter()
            history = events.before(origin)
            if previous is None or index % refit_every == 0:
                fitted = fitter(model, history, study, origin, parameters[model], previous)
                if fitted is not None:
                    previous = fitted
            else:
                fitted = previous  # fitted on data before an earlier origin: still no leak
            predicted = np.asarray(
                forecaster(model, history, study, origin, origin + horizon, parameters[model], fitted),
                dtype=float,
            )
            for coverage, key in zip(coverages, keys, strict=True):
                metrics = hit_metrics(predicted, observed, mask, coverage)
                for metric in METRIC_NAMES:
                    weekly[model][metric][key].append(float(getattr(metrics, metric)))
            seconds[model] += time.perf_counter() - started
            done += 1
            if progress is not None:
                progress(done, total_steps, model, origin)

    means = {
        model: {
            metric: {key: bootstrap_mean(values, resamples, seed) for key, values in per_coverage.items()}
            for metric, per_coverage in per_metric.items()
        }
        for model, per_metric in weekly.items()
    }
    choice_key = coverage_key(CHOICE_COVERAGE)
    if choice_key not in keys:
        raise ValueError("Die Auswahl des Modells braucht den Flächenanteil 5 %.")
    pai_at_choice = {model: means[model]["pai"][choice_key] for model in models}
    weekly_pai_at_choice = {model: weekly[model]["pai"][choice_key] for model in models}
    choice = choose(pai_at_choice, weekly_pai_at_choice, baselines, labels, CHOICE_COVERAGE, resamples, seed)

    comparisons: dict[str, dict[str, Interval]] = {}
    if choice.best_baseline:
        reference = choice.best_baseline
        for model in models:
            if model == reference:
                continue
            comparisons[model] = {
                key: paired_bootstrap(
                    weekly[model]["pai"][key], weekly[reference]["pai"][key], resamples, seed
                )
                for key in keys
            }
    notes = []
    empty = sum(1 for total in observed_totals if total == 0)
    if empty:
        notes.append(f"{empty} von {len(origins)} Wochen ohne Vorfälle: in den Mittelwerten nicht enthalten.")
    return BacktestResult(
        models=models,
        baselines=[model for model in baselines if model in models],
        labels={model: labels.get(model, model) for model in models},
        origins=origins,
        horizon=float(horizon),
        coverages=[float(coverage) for coverage in coverages],
        parameters=parameters,
        observed_totals=observed_totals,
        weekly=weekly,
        means=means,
        comparisons=comparisons,
        choice=choice,
        seconds=seconds,
        resamples=resamples,
        seed=seed,
        refit_every=refit_every,
        notes=notes,
    )
