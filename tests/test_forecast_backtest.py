"""Rolling-origin backtest: only past data, weekly origins, warm starts, the choice, JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pytest

from lagebild.analytics.hotspots import Grid
from lagebild.forecast.backtest import BacktestResult, coverage_key, rolling_backtest, weekly_origins


@dataclass(frozen=True)
class SimpleEvents:
    """The part of ``predict.Events`` the backtest uses (sorted by t)."""

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray

    def _where(self, keep: np.ndarray) -> SimpleEvents:
        return SimpleEvents(self.x[keep], self.y[keep], self.t[keep])

    def before(self, t: float) -> SimpleEvents:
        return self._where(self.t < t)

    def between(self, start: float, end: float) -> SimpleEvents:
        return self._where((self.t >= start) & (self.t < end))


@dataclass(frozen=True)
class SimpleStudy:
    grid: Grid
    mask: np.ndarray


GRID = Grid(x0=0.0, y0=0.0, cell_size=100.0, ncols=20, nrows=20)
STUDY = SimpleStudy(GRID, np.ones(GRID.shape, bool))
HOT_CELL_CENTRE = (550.0, 1250.0)  # row 12, column 5


def _events(seed: int = 1, days: float = 200.0, hot_share: float = 0.5) -> SimpleEvents:
    """Uniform background plus one persistent hot cell, 10 events a day."""
    rng = np.random.default_rng(seed)
    count = int(days * 10)
    t = np.sort(rng.uniform(0, days, count))
    hot = rng.random(count) < hot_share
    x = np.where(hot, HOT_CELL_CENTRE[0] + rng.uniform(-40, 40, count), rng.uniform(0, 2000, count))
    y = np.where(hot, HOT_CELL_CENTRE[1] + rng.uniform(-40, 40, count), rng.uniform(0, 2000, count))
    return SimpleEvents(x, y, t)


def _no_fit(model, events, study, start, params=None, previous=None):
    return None


def _history_counts(model, events, study, start, end, params=None, fitted=None):
    """'counts' repeats the past; 'flat' predicts the same everywhere (a useless model)."""
    if model == "flat":
        return np.ones(study.grid.shape)
    return study.grid.counts(events.x, events.y).astype(float)


BASELINES = ("flat",)


def test_origins_are_weekly_and_oldest_first():
    assert weekly_origins(100.0, 3) == [86.0, 93.0, 100.0]
    with pytest.raises(ValueError):
        weekly_origins(100.0, 0)
    assert coverage_key(0.01) == "1" and coverage_key(0.05) == "5" and coverage_key(0.025) == "2.5"


def test_no_model_sees_events_at_or_after_its_origin():
    events = _events()
    seen: list[tuple[float, float, float]] = []

    def cheater(model, history, study, start, end, params=None, fitted=None):
        # Records what it got, and tries to use the evaluation window from its input.
        seen.append((float(history.t.max()), start, end))
        window = history.between(start, end)
        return study.grid.counts(window.x, window.y).astype(float)

    def fitter(model, history, study, start, params=None, previous=None):
        assert history.t.max() < start
        return None

    result = rolling_backtest(
        events,
        STUDY,
        180.0,
        10,
        models=["cheater", "flat"],
        forecaster=cheater,
        fitter=fitter,
        baselines=BASELINES,
    )
    assert len(seen) == 20
    assert all(latest < start for latest, start, _ in seen)
    # Had the window leaked, the cheater would be the oracle (PEI 1 every week).
    assert result.means["cheater"]["pei"]["5"].mean < 0.9


def test_refits_at_every_origin_from_the_previous_fit():
    calls: list[tuple[float, object]] = []

    def fitter(model, history, study, start, params=None, previous=None):
        calls.append((start, previous))
        return {"fitted_at": start}

    def forecaster(model, history, study, start, end, params=None, fitted=None):
        assert fitted == {"fitted_at": start}
        return np.ones(study.grid.shape)

    rolling_backtest(
        _events(), STUDY, 150.0, 4, models=["etas"], forecaster=forecaster, fitter=fitter, baselines=()
    )
    assert [start for start, _ in calls] == [129.0, 136.0, 143.0, 150.0]
    assert [previous for _, previous in calls] == [None] + [
        {"fitted_at": start} for start in (129.0, 136.0, 143.0)
    ]


def test_refits_every_other_origin_and_reuses_the_older_fit_in_between():
    calls: list[float] = []
    used: list[tuple[float, object]] = []

    def fitter(model, history, study, start, params=None, previous=None):
        calls.append(start)
        return {"fitted_at": start}

    def forecaster(model, history, study, start, end, params=None, fitted=None):
        assert fitted["fitted_at"] <= start
        used.append((start, fitted["fitted_at"]))
        return np.ones(study.grid.shape)

    result = rolling_backtest(
        _events(),
        STUDY,
        150.0,
        4,
        models=["etas"],
        forecaster=forecaster,
        fitter=fitter,
        baselines=(),
        refit_every=2,
    )
    assert calls == [129.0, 143.0]
    assert used == [(129.0, 129.0), (136.0, 129.0), (143.0, 143.0), (150.0, 143.0)]
    assert result.to_dict()["refit_every"] == 2


def test_a_model_that_knows_the_hotspot_is_chosen_over_a_flat_baseline():
    steps: list[tuple[int, int]] = []
    result = rolling_backtest(
        _events(),
        STUDY,
        190.0,
        20,
        models=["flat", "counts"],
        forecaster=_history_counts,
        fitter=_no_fit,
        baselines=BASELINES,
        labels={"flat": "gleichmäßig", "counts": "Zählung"},
        progress=lambda done, total, model, origin: steps.append((done, total)),
    )
    assert steps[-1] == (40, 40) and len(steps) == 40
    assert result.choice.model == "counts" and result.choice.beats_baseline
    assert result.choice.sentence.startswith("Zählung trifft bei 5 % der Fläche im Mittel ")
    assert result.comparisons["counts"]["5"].low > 0
    assert "flat" not in result.comparisons
    # One hot cell holds half of the events: flagging 1 % (4 cells) finds about that half.
    assert result.means["counts"]["hit_rate"]["1"].mean > 0.45
    assert result.means["counts"]["pai"]["1"].low > 40
    assert set(result.seconds) == {"flat", "counts"}


def test_a_useless_model_leaves_the_baseline_in_use():
    def shuffled(model, history, study, start, end, params=None, fitted=None):
        rng = np.random.default_rng(int(start))
        return rng.random(study.grid.shape)

    result = rolling_backtest(
        _events(hot_share=0.0),
        STUDY,
        190.0,
        20,
        models=["flat", "random"],
        forecaster=shuffled,
        fitter=_no_fit,
        baselines=("flat",),
    )
    assert not result.choice.beats_baseline
    assert result.choice.model == "flat"
    assert result.choice.sentence.startswith("Kein Modell schlägt die Grundlinie")


def test_weeks_without_events_are_counted_and_left_out():
    events = _events(days=100.0)
    result = rolling_backtest(
        events,
        STUDY,
        120.0,
        6,
        models=["flat", "counts"],
        forecaster=_history_counts,
        fitter=_no_fit,
        baselines=BASELINES,
    )
    # Origins 85, 92 hold events; 99 .. 120 do not (the data end at day 100, week 99 has one day).
    assert result.observed_totals[-3:] == [0, 0, 0]
    assert result.empty_weeks == 3
    assert math.isnan(result.weekly["counts"]["pai"]["5"][-1])
    assert result.means["counts"]["pai"]["5"].weeks == 3
    assert "3 von 6 Wochen ohne Vorfälle" in result.notes[0]


def test_result_round_trips_through_strict_json():
    result = rolling_backtest(
        _events(days=100.0),
        STUDY,
        120.0,
        6,
        models=["flat", "counts"],
        forecaster=_history_counts,
        fitter=_no_fit,
        baselines=BASELINES,
    )
    text = json.dumps(result.to_dict(), allow_nan=False)
    restored = BacktestResult.from_dict(json.loads(text))
    assert restored.to_dict() == result.to_dict()
    assert restored.choice == result.choice
    assert restored.table()[1]["pai_5"]["mean"] == result.means["counts"]["pai"]["5"].mean


def test_bench_data_are_seeded_inside_the_city_and_of_the_demo_volume():
    from bench.forecast_backtest import city_study, synthetic_events

    x, y, t = synthetic_events(per_year=45_000, years=2.0, seed=16)
    again = synthetic_events(per_year=45_000, years=2.0, seed=16)
    assert all(np.array_equal(a, b) for a, b in zip((x, y, t), again, strict=True))
    assert 70_000 < len(t) < 95_000
    assert np.all(np.diff(t) >= 0) and t.min() >= 0 and t.max() < 730
    grid, mask = city_study()
    rows, cols = grid.cell_index(x, y)
    assert mask[rows, cols].all()
    assert 270 < mask.sum() * grid.cell_area_km2 < 290
    # Friday and Saturday busier than Sunday (weekday 0 = Monday).
    per_weekday = np.bincount(np.floor(t).astype(int) % 7, minlength=7)
    assert per_weekday[4] > per_weekday[6] and per_weekday[5] > per_weekday[6]


# --- with the real models (lagebild.forecast.predict) ---------------------------------------------


def _real_data(extra_burst_at: float | None = None):
    from lagebild.forecast import predict

    rng = np.random.default_rng(7)
    days = 420.0
    count = int(days * 6)
    t = rng.uniform(0, days, count)
    hot = rng.random(count) < 0.4
    x = np.where(hot, rng.normal(1250, 120, count), rng.uniform(0, 4000, count))
    y = np.where(hot, rng.normal(2750, 120, count), rng.uniform(0, 4000, count))
    if extra_burst_at is not None:  # 60 events in one quiet corner cell within a day
        t = np.concatenate([t, extra_burst_at + rng.uniform(0, 1, 60)])
        x = np.concatenate([x, np.full(60, 3875.0)])
        y = np.concatenate([y, np.full(60, 125.0)])
    grid = Grid(x0=0.0, y0=0.0, cell_size=250.0, ncols=16, nrows=16)
    mask = np.ones(grid.shape, bool)
    mask[0, :3] = False  # a corner outside the city
    return predict.Events.from_arrays(x, y, t), predict.Study(grid, mask)


def test_all_real_models_run_and_the_result_is_stored_as_json():
    from lagebild.forecast import predict

    events, study = _real_data()
    result = rolling_backtest(events, study, 413.0, 3)
    assert result.models == list(predict.MODELS)
    assert result.baselines == list(predict.BASELINES)
    assert result.choice.model in predict.MODELS
    assert result.labels["etas"] == predict.MODEL_LABELS["etas"]
    assert result.parameters["ewkde"] == predict.default_parameters("ewkde")
    for model in predict.MODELS:
        pai = result.means[model]["pai"]["5"]
        assert pai.weeks == 3 and pai.mean >= 1.0, model  # the hot place is easy to find
    assert result.choice.sentence
    restored = BacktestResult.from_dict(json.loads(json.dumps(result.to_dict(), allow_nan=False)))
    assert restored.to_dict() == result.to_dict()


def test_real_models_do_not_see_a_burst_inside_the_week_they_forecast():
    from lagebild.forecast import predict

    def recording(store):
        def forecaster(model, history, study, start, end, params=None, fitted=None):
            predicted = predict.forecast(model, history, study, start, end, params, fitted)
            store[(model, start)] = predicted
            return predicted

        return forecaster

    plain: dict = {}
    burst: dict = {}
    models = ["last_4_weeks", "ewkde", "etas"]
    # The burst falls into the week from day 402 (origins 395, 402, 409).
    rolling_backtest(*_real_data(), 409.0, 3, models=models, forecaster=recording(plain))
    rolling_backtest(*_real_data(extra_burst_at=403.0), 409.0, 3, models=models, forecaster=recording(burst))
    for model in models:
        for origin in (395.0, 402.0):
            assert np.array_equal(plain[(model, origin)], burst[(model, origin)]), (model, origin)
        # The week after, every model has seen the burst: the detector is not blind.
        assert not np.array_equal(plain[(model, 409.0)], burst[(model, 409.0)]), model
