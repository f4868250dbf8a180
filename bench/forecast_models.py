"""Benchmark: forecast models (``lagebild.forecast.predict``) and the ETAS fit against a peer.

``python -m bench.forecast_models [--scales 1,10] [--repeat 3]``; pure numpy/scipy, no Django and
no database. One JSON line per figure on stdout, progress on stderr.

* ``forecast_fit``: fit + one-week forecast per model for a year of synthetic city data at the
  demo's volume (``DEMO_EVENTS_PER_YEAR``: the sum of the yearly rates of the demo generator's
  category profiles, ``lagebild.demo.profiles.PROFILES``, at scale 1) and at 10 times it, on a
  250 m grid over a 21 km × 23 km city (an ellipse as the study mask, about 6,000 cells). The
  events: the demo's hotspots' share (60 % in 21 Gaussian hotspots of 20–80 m spread, the rest
  uniform), the demo's hour-of-day and weekday profiles, plus repeat events (each event triggers
  Poisson(0.2) follow-ups, exponential delay with mean 1 day, 100 m spread) so the ETAS has
  something to find. Median of ``--repeat`` runs; ETAS also warm-started from the fit a week
  earlier (what the weekly backtest does). Target: < 30 s for fit + forecast of every model.
* ``etas_peer``: our ``fit_temporal_hawkes`` against hawkesbook 0.1 (Laub, Lee & Taimre,
  ``exp_mle``: maximum likelihood with L-BFGS-B, and ``exp_em``) on the same event times: (a) a
  simulated Hawkes process with known parameters, (b) one category group of the synthetic city
  (a tenth of the demo's volume, half a year) as a temporal process. hawkesbook's parameters
  (λ, α, β) are μ, θ·ω and ω in ours. Both parameter sets are evaluated with our likelihood and
  with hawkesbook's ``exp_log_likelihood`` (same formula), side by side with the seconds of each
  fit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from lagebild.analytics.hotspots import Grid
from lagebild.forecast import etas, predict

from .common import emit, log

DEMO_EVENTS_PER_YEAR = 42_700  # Σ PROFILES[code].rate over authorities (demo scale 1)
TARGET_SECONDS = 30.0
# hawkesbook's EM builds the full n × n responsibility matrix every iteration.
PEER_EM_ITERATIONS = 200
CELL_SIZE = 250.0
CITY_WIDTH, CITY_HEIGHT = 21_000.0, 23_000.0
ORIGIN_UTM = (383_000.0, 5_698_000.0)
DAY_HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 12, 12, 12, 11, 10, 9, 8, 6, 5, 4, 3, 2, 1], float)
WEEKDAYS = np.array([0.9, 0.95, 1.0, 1.0, 1.15, 1.2, 0.8])


def city_study() -> predict.Study:
    grid = Grid(
        x0=ORIGIN_UTM[0], y0=ORIGIN_UTM[1], cell_size=CELL_SIZE,
        ncols=int(CITY_WIDTH / CELL_SIZE), nrows=int(CITY_HEIGHT / CELL_SIZE),
    )  # fmt: skip
    cx, cy = grid.cell_centres()
    mx, my = ORIGIN_UTM[0] + CITY_WIDTH / 2, ORIGIN_UTM[1] + CITY_HEIGHT / 2
    mask = ((cx - mx) / (CITY_WIDTH / 2)) ** 2 + ((cy - my) / (CITY_HEIGHT / 2)) ** 2 <= 1
    return predict.Study(grid, mask)


def city_events(per_year: float, days: float, seed: int, study: predict.Study) -> predict.Events:
    """Hotspots + uniform background + repeat events over ``days`` days ending at ``days``."""
    rng = np.random.default_rng(seed)
    grid = study.grid
    cx, cy = grid.cell_centres()
    inside = np.column_stack([cx[study.mask], cy[study.mask]])
    # 1.25 = 1 / (1 − 0.2): the offspring share; the weekday thinning below keeps mean/max of WEEKDAYS.
    immigrants = rng.poisson(per_year * days / 365.25 / 1.25 * WEEKDAYS.max() / WEEKDAYS.mean())
    hotspot_centres = inside[rng.choice(len(inside), 21, replace=False)]
    spreads = rng.uniform(20, 80, 21)
    shares = rng.dirichlet(np.ones(21))
    in_hotspots = rng.random(immigrants) < 0.6
    which = rng.choice(21, size=immigrants, p=shares)
    x = np.where(in_hotspots, hotspot_centres[which, 0] + rng.normal(size=immigrants) * spreads[which], 0.0)
    y = np.where(in_hotspots, hotspot_centres[which, 1] + rng.normal(size=immigrants) * spreads[which], 0.0)
    spots = inside[rng.integers(0, len(inside), immigrants)]
    x = np.where(in_hotspots, x, spots[:, 0] + rng.uniform(-CELL_SIZE / 2, CELL_SIZE / 2, immigrants))
    y = np.where(in_hotspots, y, spots[:, 1] + rng.uniform(-CELL_SIZE / 2, CELL_SIZE / 2, immigrants))
    day = rng.integers(0, int(days), immigrants)
    weekday_ok = rng.random(immigrants) < WEEKDAYS[day % 7] / WEEKDAYS.max()
    day = day[weekday_ok]
    x, y = x[weekday_ok], y[weekday_ok]
    hour = rng.choice(24, size=len(day), p=DAY_HOURS / DAY_HOURS.sum())
    t = day + (hour + rng.random(len(day))) / 24
    all_x, all_y, all_t = [x], [y], [t]
    gen_x, gen_y, gen_t = x, y, t
    while len(gen_t):
        children = rng.poisson(0.2, len(gen_t))
        px, py, pt = (np.repeat(v, children) for v in (gen_x, gen_y, gen_t))
        gen_t = pt + rng.exponential(1.0, len(pt))
        gen_x = px + rng.normal(size=len(pt)) * 100
        gen_y = py + rng.normal(size=len(pt)) * 100
        keep = gen_t < days
        gen_x, gen_y, gen_t = gen_x[keep], gen_y[keep], gen_t[keep]
        all_x.append(gen_x)
        all_y.append(gen_y)
        all_t.append(gen_t)
    return predict.Events.from_arrays(np.concatenate(all_x), np.concatenate(all_y), np.concatenate(all_t))


def bench_models(args: argparse.Namespace) -> None:
    study = city_study()
    log(f"Raster {study.grid.ncols}×{study.grid.nrows}, {int(study.mask.sum())} Zellen in der Stadt")
    for scale in (float(s) for s in args.scales.split(",")):
        # Two years of data: a year of history for the fit, and the year before for "same week
        # last year" (which needs it) and the long-term average.
        events = city_events(DEMO_EVENTS_PER_YEAR * scale, 2 * 364.0 + 7, args.seed, study)
        origin = 2 * 364.0
        year = len(events.between(origin - 365, origin))
        log(
            f"Umfang ×{scale:g}: {len(events):,} Ereignisse, davon {year:,} im Jahr vor dem Prognosezeitpunkt"
        )
        load = os.getloadavg()[0]
        for model in predict.MODELS:
            repeat = args.repeat
            times, fitted = [], None
            for _ in range(repeat):
                started = time.perf_counter()
                fitted = predict.fit(model, events, study, origin)
                surface = predict.forecast(model, events, study, origin, origin + 7, fitted=fitted)
                times.append(time.perf_counter() - started)
            observed = predict._counts(events.between(origin, origin + 7), study)
            figures = {}
            if isinstance(fitted, etas.EtasFit):
                figures = {
                    "etas_iterations": fitted.iterations, "etas_converged": fitted.converged,
                    "etas_theta": round(fitted.theta, 4), "etas_omega_per_day": round(fitted.omega, 4),
                    "etas_mu_per_day": round(fitted.mu, 3),
                    "etas_kernel_own_cell": round(float(fitted.kernel[1, 1]), 4),
                }  # fmt: skip
                # Warm start: fit a week earlier, then refit at the origin from it.
                earlier = predict.fit(model, events, study, origin - 7)
                warm = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    refit = predict.fit(model, events, study, origin, previous=earlier)
                    predict.forecast(model, events, study, origin, origin + 7, fitted=refit)
                    warm.append(time.perf_counter() - started)
                figures.update(
                    warm_seconds_median=round(statistics.median(warm), 3),
                    warm_iterations=refit.iterations,
                    warm_theta=round(refit.theta, 4),
                    warm_omega_per_day=round(refit.omega, 4),
                )
            median = statistics.median(times)
            emit(
                bench="forecast_fit",
                model=model,
                scale=scale,
                events_in_year=year,
                cells=int(study.mask.sum()),
                seconds_median=round(median, 3),
                seconds_min=round(min(times), 3),
                runs=repeat,
                expected_week=round(float(surface.sum()), 1),
                observed_week=int(observed.sum()),
                **figures,
                load_1min=round(load, 2),
                target_seconds=TARGET_SECONDS,
                ok=median < TARGET_SECONDS,
            )


def _hawkesbook_loglik(times: np.ndarray, horizon: float, mu: float, theta: float, omega: float) -> float:
    import hawkesbook

    return float(hawkesbook.exp_log_likelihood(times, horizon, np.array([mu, theta * omega, omega])))


def compare_peer(name: str, times: np.ndarray, horizon: float, truth: dict | None) -> None:
    import hawkesbook

    times = np.sort(np.asarray(times, float))
    ours = etas.fit_temporal_hawkes(times, horizon)
    # Warm-up (numba compiles on the first call), then time the peer's fits.
    start_guess = np.array([len(times) / horizon / 2, 0.5, 1.0])
    hawkesbook.exp_mle(times[:50], float(times[49]) + 1, start_guess)
    hawkesbook.exp_em(times[:50], float(times[49]) + 1, start_guess, iters=2)
    started = time.perf_counter()
    mle = hawkesbook.exp_mle(times, horizon, start_guess)
    mle_seconds = time.perf_counter() - started
    started = time.perf_counter()
    em = hawkesbook.exp_em(times, horizon, start_guess, iters=PEER_EM_ITERATIONS)
    em_seconds = time.perf_counter() - started

    def as_ours(theta_peer: np.ndarray) -> dict[str, float]:
        lam, alpha, beta = (float(v) for v in theta_peer)
        return {"mu": lam, "theta": alpha / beta, "omega": beta}

    rows = {
        "ours_em": ({"mu": ours.mu, "theta": ours.theta, "omega": ours.omega}, ours.seconds, ours.iterations),
        "hawkesbook_mle": (as_ours(mle), mle_seconds, None),
        "hawkesbook_em": (as_ours(em), em_seconds, PEER_EM_ITERATIONS),
    }
    if truth:
        rows["truth"] = (truth, None, None)
    result = {}
    for label, (params, seconds, iterations) in rows.items():
        result[label] = {
            "mu_per_day": round(params["mu"], 5),
            "branching_ratio": round(params["theta"], 5),
            "omega_per_day": round(params["omega"], 5),
            "loglik_ours": round(etas.temporal_log_likelihood(times, horizon, **params), 4),
            "loglik_hawkesbook": round(_hawkesbook_loglik(times, horizon, **params), 4),
            "seconds": None if seconds is None else round(seconds, 4),
            "iterations": iterations,
        }
    best_peer = max(result["hawkesbook_mle"]["loglik_ours"], result["hawkesbook_em"]["loglik_ours"])
    formula_gap = max(abs(r["loglik_ours"] - r["loglik_hawkesbook"]) for r in result.values())
    emit(
        bench="etas_peer",
        data=name,
        events=len(times),
        horizon_days=horizon,
        peer=f"hawkesbook 0.1.0 (exp_mle: L-BFGS-B on the exact likelihood; exp_em: EM, {PEER_EM_ITERATIONS} "
        "iterations, O(n²) each)",
        **result,
        loglik_ours_minus_best_peer=round(result["ours_em"]["loglik_ours"] - best_peer, 4),
        same_likelihood_formula_max_difference=formula_gap,
        ok=result["ours_em"]["loglik_ours"] >= best_peer - 0.01 and formula_gap < 1e-6 * len(times),
    )


def bench_peer(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    truth = {"mu": 2.0, "theta": 0.4, "omega": 0.8}
    t, _, _ = etas.simulate_grid(
        rng, np.full((1, 1), truth["mu"]), truth["theta"], truth["omega"],
        np.pad(np.ones((1, 1)), 1), 0.0, 500.0,
    )  # fmt: skip
    compare_peer("simulated Hawkes (mu 2/day, branching 0.4, omega 0.8/day), 500 days", t, 500.0, truth)
    study = city_study()
    events = city_events(DEMO_EVENTS_PER_YEAR / 10, 182.0, args.seed + 1, study)
    compare_peer("synthetic city, a tenth of the demo volume (one category group), 182 days", events.t,
                 182.0, None)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--only", default="models,peer")
    args = parser.parse_args()
    parts = {part.strip() for part in args.only.split(",")}
    if "models" in parts:
        bench_models(args)
    if "peer" in parts:
        bench_peer(args)


if __name__ == "__main__":
    main()
