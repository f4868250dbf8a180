"""Benchmark: the weekly rolling-origin backtest of all forecast models (``lagebild.forecast.backtest``).

``python -m bench.forecast_backtest [--weeks 52] [--per-year 45000] [--years 2] [--models …]``;
pure numpy/scipy, no Django and no database. One JSON line per figure on stdout, progress on
stderr.

Data: ``--years`` years (default 2, like the demo, so "same week last year" has a year to look
back on; the backtest covers the last ``--weeks`` weeks) of synthetic incidents at the demo's
volume (``--per-year``, about 45,000: the demo profiles' 42,700 a year plus its operations) in a
city-sized ellipse of about 280 km² on the 250 m grid. The process is generated independently of
the models and not tuned to favour any of them; it mixes what real public-order data show:

* 45 % at 30 persistent places (Gaussian, 80–400 m wide, log-normal weights), each with its
  own slow seasonal swing (± 40 %, random phase) and a few places that open or close during the
  period (a scene that moves);
* 35 % diffuse background, uniform over the city;
* near-repeat bursts: every event has Poisson(0.2) follow-up events (so 20 % of the events
  are triggered ones in expectation), after Exp(mean 1.5 days), within Normal(0, 120 m), and
  these can trigger further ones (a branching process with ratio 0.2);
* a weekly cycle (Friday/Saturday 1.4×, Sunday 0.8×) and a daily cycle (peak in the evening,
  low at 05:00) for the background and the places, and a yearly season (summer 1.25×).

Figures: ``forecast_backtest_data`` (events, mask cells, seconds to generate),
``forecast_backtest`` (total seconds against the 300 s target and seconds per model),
``forecast_backtest_model`` (one line per model: mean PAI, PEI, PEI*, hit rate at 1, 5 and 10 %
with 95 % bootstrap intervals, and the paired PAI difference to the best baseline), and
``forecast_backtest_choice`` (the model in use and the German sentence).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from typing import Any

import numpy as np

from lagebild.analytics.hotspots import Grid

from .common import emit, log

TARGET_SECONDS = 300.0
CELL_SIZE = 250.0
CITY_CENTRE = (393_700.0, 5_708_300.0)  # Dortmund, EPSG:25832
CITY_SEMI_AXES = (10_500.0, 8_500.0)  # π · 10.5 km · 8.5 km ≈ 280 km²
PLACE_SHARE = 0.45
BACKGROUND_SHARE = 0.35
BRANCHING_RATIO = 0.2
TRIGGER_MEAN_DAYS = 1.5
TRIGGER_SPREAD_M = 120.0
PLACES = 30
WEEKDAY_WEIGHTS = np.array([1.0, 0.95, 1.0, 1.05, 1.4, 1.4, 0.8])  # Monday … Sunday
# Hour of day (local wall clock): low at 05:00, high in the evening.
HOUR_WEIGHTS = 1.0 + 0.8 * np.cos(2 * np.pi * (np.arange(24) - 20) / 24)


def city_study() -> tuple[Grid, np.ndarray]:
    """A 250 m grid over an elliptic city; the mask holds the cells whose centre lies inside."""
    cx, cy = CITY_CENTRE
    ax, ay = CITY_SEMI_AXES
    x0 = math.floor((cx - ax) / CELL_SIZE) * CELL_SIZE
    y0 = math.floor((cy - ay) / CELL_SIZE) * CELL_SIZE
    grid = Grid(
        x0=x0,
        y0=y0,
        cell_size=CELL_SIZE,
        ncols=math.ceil((cx + ax - x0) / CELL_SIZE),
        nrows=math.ceil((cy + ay - y0) / CELL_SIZE),
    )
    xs, ys = grid.cell_centres()
    mask = ((xs - cx) / ax) ** 2 + ((ys - cy) / ay) ** 2 <= 1.0
    return grid, mask


def _uniform_in_city(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    radius = np.sqrt(rng.random(count))
    angle = rng.uniform(0, 2 * np.pi, count)
    return (
        CITY_CENTRE[0] + CITY_SEMI_AXES[0] * radius * np.cos(angle),
        CITY_CENTRE[1] + CITY_SEMI_AXES[1] * radius * np.sin(angle),
    )


def _times(rng: np.random.Generator, day_rates: np.ndarray) -> np.ndarray:
    """Event times (days since the Monday epoch) for expected counts per day, with the daily cycle."""
    counts = rng.poisson(day_rates)
    days = np.repeat(np.arange(len(day_rates)), counts)
    hours = rng.choice(24, size=len(days), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    return days + (hours + rng.random(len(days))) / 24.0


def synthetic_events(
    per_year: float = 45_000, years: float = 2.0, seed: int = 16
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y (EPSG:25832 m) and t (days since a Monday) of the synthetic city, sorted by t."""
    rng = np.random.default_rng(seed)
    n_days = round(365 * years)
    day = np.arange(n_days)
    weekly = WEEKDAY_WEIGHTS[day % 7] / WEEKDAY_WEIGHTS.mean()
    season = 1.0 + 0.25 * np.cos(2 * np.pi * (day - 196) / 365.25)  # mid-July high
    # Immigrants (places + background) carry 1 − branching of the volume; triggering adds the rest.
    immigrants_per_day = per_year / 365.25 * (1 - BRANCHING_RATIO)

    xs, ys, ts = [], [], []
    background = _times(
        rng, immigrants_per_day * BACKGROUND_SHARE / (PLACE_SHARE + BACKGROUND_SHARE) * weekly * season
    )
    bx, by = _uniform_in_city(rng, len(background))
    xs.append(bx), ys.append(by), ts.append(background)

    place_x, place_y = _uniform_in_city(rng, PLACES)
    place_x = CITY_CENTRE[0] + 0.6 * (place_x - CITY_CENTRE[0])  # places gather towards the centre
    place_y = CITY_CENTRE[1] + 0.6 * (place_y - CITY_CENTRE[1])
    widths = rng.uniform(80, 400, PLACES)
    weights = rng.lognormal(0, 1, PLACES)
    weights /= weights.sum()
    phases = rng.uniform(0, 2 * np.pi, PLACES)
    # A few places open or close once during the period.
    opens = np.full(PLACES, -1.0)
    closes = np.full(PLACES, float(n_days + 1))
    moving = rng.choice(PLACES, size=6, replace=False)
    opens[moving[:3]] = rng.uniform(0.2, 0.9, 3) * n_days
    closes[moving[3:]] = rng.uniform(0.2, 0.9, 3) * n_days
    place_rate = immigrants_per_day * PLACE_SHARE / (PLACE_SHARE + BACKGROUND_SHARE)
    for place in range(PLACES):
        swing = 1.0 + 0.4 * np.sin(2 * np.pi * day / 365.25 + phases[place])
        active = (day >= opens[place]) & (day < closes[place])
        times = _times(rng, place_rate * weights[place] * weekly * season * swing * active)
        xs.append(place_x[place] + rng.normal(0, widths[place], len(times)))
        ys.append(place_y[place] + rng.normal(0, widths[place], len(times)))
        ts.append(times)

    x, y, t = np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)
    generation = (x, y, t)
    while len(generation[0]):
        parents_x, parents_y, parents_t = generation
        children = rng.poisson(BRANCHING_RATIO, len(parents_t))
        cx = np.repeat(parents_x, children) + rng.normal(0, TRIGGER_SPREAD_M, children.sum())
        cy = np.repeat(parents_y, children) + rng.normal(0, TRIGGER_SPREAD_M, children.sum())
        ct = np.repeat(parents_t, children) + rng.exponential(TRIGGER_MEAN_DAYS, children.sum())
        keep = ct < n_days
        generation = (cx[keep], cy[keep], ct[keep])
        x, y, t = np.concatenate([x, cx[keep]]), np.concatenate([y, cy[keep]]), np.concatenate([t, ct[keep]])
    # Only what falls into the mask's cells counts (as in the app, where the mask is the city).
    grid, mask = city_study()
    rows, cols = grid.cell_index(x, y)
    keep = (rows >= 0) & (rows < grid.nrows) & (cols >= 0) & (cols < grid.ncols)
    keep[keep] = mask[rows[keep], cols[keep]]
    x, y, t = x[keep], y[keep], t[keep]
    order = np.argsort(t, kind="stable")
    return x[order], y[order], t[order]


def _interval(data: dict[str, Any]) -> list[float | None]:
    return [None if data[key] is None else round(data[key], 3) for key in ("mean", "low", "high")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--per-year", type=float, default=45_000)
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--refit-every", type=int, default=1, help="refit ETAS every n weeks (1 = weekly)")
    parser.add_argument("--models", default="", help="comma-separated (default: all of predict.MODELS)")
    args = parser.parse_args(argv)

    from lagebild.forecast import backtest, predict

    started = time.perf_counter()
    x, y, t = synthetic_events(args.per_year, args.years, args.seed)
    grid, mask = city_study()
    generate_seconds = time.perf_counter() - started
    events = predict.Events(x=x, y=y, t=t)
    study = predict.Study(grid=grid, mask=mask)
    emit(
        bench="forecast_backtest_data",
        events=len(t),
        days=round(float(np.ceil(t.max())) if len(t) else 0),
        per_year=args.per_year,
        mask_cells=int(mask.sum()),
        grid=f"{grid.ncols}x{grid.nrows}",
        cell_size_m=CELL_SIZE,
        seed=args.seed,
        generate_seconds=round(generate_seconds, 2),
    )
    models = [model.strip() for model in args.models.split(",") if model.strip()] or list(predict.MODELS)
    last_origin = math.floor(float(t.max()) / 7.0) * 7.0 - 7.0  # the last whole week with data
    log(f"Backtest: {len(models)} Modelle × {args.weeks} Wochen, {len(t)} Ereignisse")

    def progress(done: int, total: int, model: str, origin: float) -> None:
        if done % 13 == 0 or done == total:
            log(f"{done}/{total} ({model}, Tag {origin:.0f}) nach {time.perf_counter() - started:.0f} s")

    load_1min = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = backtest.rolling_backtest(
        events, study, last_origin, args.weeks, models=models, progress=progress, refit_every=args.refit_every
    )
    total = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    data = result.to_dict()
    emit(
        bench="forecast_backtest",
        weeks=args.weeks,
        models=models,
        refit_every=args.refit_every,
        events=len(t),
        seconds=round(total, 1),
        target_seconds=TARGET_SECONDS,
        ok=total < TARGET_SECONDS,
        seconds_per_model={model: round(seconds, 1) for model, seconds in result.seconds.items()},
        # On a shared machine the wall time includes waiting: the process's CPU time and the
        # load before the run show how much.
        cpu_seconds=round(cpu_seconds, 1),
        load_1min=None if load_1min is None else round(load_1min, 2),
        empty_weeks=result.empty_weeks,
        mean_events_per_week=round(float(np.mean(result.observed_totals)), 1),
    )
    for model in models:
        means = data["means"][model]
        emit(
            bench="forecast_backtest_model",
            model=model,
            label=result.labels.get(model, model),
            baseline=model in result.baselines,
            seconds=round(result.seconds[model], 1),
            **{
                f"{metric}_{key}": _interval(means[metric][key])
                for metric in ("pai", "pei", "pei_star", "hit_rate")
                for key in means[metric]
            },
            pai_difference_to_best_baseline={
                key: _interval(value) for key, value in data["comparisons"].get(model, {}).items()
            },
        )
    emit(
        bench="forecast_backtest_choice",
        model=result.choice.model,
        best_model=result.choice.best_model,
        best_baseline=result.choice.best_baseline,
        beats_baseline=result.choice.beats_baseline,
        sentence=result.choice.sentence,
    )


if __name__ == "__main__":
    main()
