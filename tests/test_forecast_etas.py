"""Grid ETAS fitted by EM (lagebild.forecast.etas): check value, exact likelihood, recovery, warm start.

Check value from the research notes §3.3: μ = 0.1/day, θ = 0.5, ω = 0.2/day, past events 1 and
3 days ago → λ = 0.1 + 0.1 (e^{−0.2} + e^{−0.6}) = 0.236754/day.
"""

import math

import numpy as np
import pytest

from lagebild.forecast import etas


def brute_force_log_likelihood(data, background, theta, omega, kernel):
    """O(n²) evaluation of the grid ETAS log-likelihood straight from its definition."""
    nrows, ncols = data.shape
    total = 0.0
    for j in range(len(data.t)):
        rate = background.ravel()[data.cell[j]]
        for i in range(len(data.t)):
            if data.t[i] < data.t[j]:
                dr = data.cell[j] // ncols - data.cell[i] // ncols
                dc = data.cell[j] % ncols - data.cell[i] % ncols
                if abs(dr) <= 1 and abs(dc) <= 1:
                    rate += (
                        theta * omega * math.exp(-omega * (data.t[j] - data.t[i])) * kernel[dr + 1, dc + 1]
                    )
        total += math.log(rate)
    compensator = (data.end - data.start) * background[data.mask].sum()
    for i in range(len(data.t)):
        inside = 0.0
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                r, c = data.cell[i] // ncols + dr, data.cell[i] % ncols + dc
                if 0 <= r < nrows and 0 <= c < ncols and data.mask[r, c]:
                    inside += kernel[dr + 1, dc + 1]
        compensator += theta * inside * (1 - math.exp(-omega * (data.end - data.t[i])))
    return total - compensator


def test_intensity_check_value_from_the_research_notes():
    assert etas.temporal_intensity(3.0, np.array([0.0, 2.0]), 0.1, 0.5, 0.2) == pytest.approx(
        0.236754, abs=1e-6
    )
    # The vectorised recursion the EM uses gives the same intensity at an event 1 and 3 days later.
    data = etas._one_cell(np.array([0.0, 2.0, 3.0]), 0.0, 10.0)
    excitation = etas._excitation(data, 0.2)
    assert 0.1 + 0.5 * 0.2 * excitation[2, 0] == pytest.approx(0.236754, abs=1e-6)


@pytest.mark.parametrize("omega", [0.05, 0.7, 30.0])
def test_log_likelihood_equals_brute_force(omega):
    rng = np.random.default_rng(7)
    mask = np.ones((3, 4), bool)
    mask[0, 0] = False  # an edge inside the grid: offspring there are lost
    n = 70
    t = np.sort(rng.uniform(0, 40, n))
    rows, cols = rng.integers(0, 3, n), rng.integers(0, 4, n)
    t[6], rows[6], cols[6] = t[5], rows[5], cols[5]  # simultaneous events do not excite each other
    data = etas.prepare(t, rows, cols, mask, 0.0, 45.0)
    background = rng.uniform(0.01, 0.1, (3, 4)) * mask
    kernel = rng.uniform(0.1, 1, (3, 3))
    kernel /= kernel.sum()
    fast = etas.log_likelihood(data, background, 0.4, omega, kernel)
    assert fast == pytest.approx(brute_force_log_likelihood(data, background, 0.4, omega, kernel), rel=1e-10)


def test_backward_sums_equal_brute_force():
    rng = np.random.default_rng(8)
    mask = np.ones((3, 3), bool)
    t = np.sort(rng.uniform(0, 30, 50))
    data = etas.prepare(t, rng.integers(0, 3, 50), rng.integers(0, 3, 50), mask, 0.0, 31.0)
    weight = rng.uniform(0.5, 2.0, len(data.t))
    fast = etas._future_weighted(data, 0.6, weight)
    slow = np.zeros_like(fast)
    for i in range(len(data.t)):
        for j in range(len(data.t)):
            if data.t[j] > data.t[i]:
                dr = data.cell[j] // 3 - data.cell[i] // 3
                dc = data.cell[j] % 3 - data.cell[i] % 3
                if abs(dr) <= 1 and abs(dc) <= 1:
                    slow[i, (dr + 1) * 3 + dc + 1] += weight[j] * math.exp(-0.6 * (data.t[j] - data.t[i]))
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12)


def test_long_time_spans_do_not_overflow():
    """ω t reaches 50,000 here: the blocked recursion keeps every exponent within ±5."""
    times = np.array([0.0, 1.0, 999.0, 1000.0, 1000.5])
    data = etas._one_cell(times, 0.0, 1001.0)
    excitation = etas._excitation(data, 50.0)[:, 0]
    expected = [0.0, math.exp(-50), math.exp(-50 * 998) + math.exp(-50 * 999), 0.0, 0.0]
    expected[3] = math.exp(-50.0) + math.exp(-50 * 999) + math.exp(-50 * 1000)
    expected[4] = math.exp(-25.0) + math.exp(-50 * 1.5) + 0.0
    # Absolute precision: round-off of the running sums (about 1e-16 × the sources so far × e^5).
    np.testing.assert_allclose(excitation, expected, rtol=1e-9, atol=1e-14)
    assert excitation[1] == pytest.approx(math.exp(-50), rel=1e-9)  # carried over 10 blocks exactly


TRUE_KERNEL = np.array([[0.02, 0.05, 0.02], [0.05, 0.72, 0.05], [0.02, 0.05, 0.02]])


@pytest.fixture(scope="module")
def simulated():
    background = np.full((5, 5), 0.04)
    t, rows, cols = etas.simulate_grid(np.random.default_rng(5), background, 0.4, 0.5, TRUE_KERNEL, 0, 4000)
    data = etas.prepare(t, rows, cols, np.ones((5, 5), bool), 0.0, 4000.0)
    return data, background


def test_em_recovers_known_parameters(simulated):
    """θ within ±0.05, ω within ±15 %, background within ±10 %, own-cell kernel share within ±0.05."""
    data, background = simulated
    fit = etas.fit_data(data, None, 0.0)
    assert fit.converged
    assert fit.theta == pytest.approx(0.4, abs=0.05)
    assert fit.omega == pytest.approx(0.5, rel=0.15)
    assert fit.mu == pytest.approx(background.sum(), rel=0.1)
    assert fit.kernel[1, 1] == pytest.approx(0.72, abs=0.05)
    assert fit.kernel.sum() == pytest.approx(1.0)
    # The fit is a maximum: at least as likely as the true parameters.
    assert fit.loglik >= etas.log_likelihood(data, background, 0.4, 0.5, TRUE_KERNEL)
    # Each accelerated EM cycle does not lower the likelihood.
    assert all(b >= a - 1e-6 for a, b in zip(fit.history, fit.history[1:], strict=False))


def test_warm_start_reaches_the_same_fit_in_fewer_steps(simulated):
    data, _ = simulated
    strict = {"gain_tolerance": 1e-8}  # run both to the optimum, so they must agree
    cold = etas.fit_data(data, None, 0.0, **strict)
    # Warm start from a fit on the first 90 % of the window (what a weekly refit does).
    earlier = etas.prepare(data.t, data.cell // 5, data.cell % 5, data.mask, 0.0, 3600.0)
    warm = etas.fit_data(data, None, 0.0, previous=etas.fit_data(earlier, None, 0.0, **strict), **strict)
    # With the default stopping rule (what the weekly refit uses) the warm start needs fewer steps.
    previous = etas.fit_data(earlier, None, 0.0)
    assert (
        etas.fit_data(data, None, 0.0, previous=previous).iterations
        < etas.fit_data(data, None, 0.0).iterations
    )
    assert warm.theta == pytest.approx(cold.theta, abs=0.005)
    assert warm.omega == pytest.approx(cold.omega, rel=0.01)
    assert warm.loglik == pytest.approx(cold.loglik, abs=0.5)


def test_temporal_hawkes_recovers_a_simulated_process():
    rng = np.random.default_rng(11)
    kernel = np.pad(np.ones((1, 1)), 1)
    t, _, _ = etas.simulate_grid(rng, np.full((1, 1), 2.0), 0.4, 0.8, kernel, 0.0, 2000.0)
    fit = etas.fit_temporal_hawkes(t, 2000.0)
    assert fit.converged
    assert fit.mu == pytest.approx(2.0, rel=0.1)
    assert fit.theta == pytest.approx(0.4, abs=0.05)
    assert fit.omega == pytest.approx(0.8, rel=0.15)
    assert fit.loglik == pytest.approx(etas.temporal_log_likelihood(t, 2000.0, fit.mu, fit.theta, fit.omega))
    # Stationary point: small moves of any parameter lower the likelihood.
    best = {"mu": fit.mu, "theta": fit.theta, "omega": fit.omega}
    for name in best:
        for factor in (0.99, 1.01):
            moved = {**best, name: best[name] * factor}
            assert etas.temporal_log_likelihood(t, 2000.0, **moved) < fit.loglik


def test_expected_counts_integrate_background_and_decaying_excitation():
    """One cell, no cascade: μ L + θ Σ (e^{−ω (s − t_i)} − e^{−ω (e − t_i)})."""
    from lagebild.analytics.hotspots import Grid

    grid = Grid(0.0, 0.0, 100.0, 3, 3)
    mask = np.ones((3, 3), bool)
    kernel = np.zeros((3, 3))
    kernel[1, 1] = 1.0
    background = np.zeros((3, 3))
    background[1, 1] = 0.1
    fit = etas.EtasFit(0.1, 0.5, 0.2, kernel, background, 0.0, 1, True, 0.0, 10.0, 2)
    x, y, t = np.array([150.0, 150.0]), np.array([150.0, 150.0]), np.array([7.0, 9.0])
    plain = etas.expected_counts(fit, x, y, t, grid, mask, 10.0, 10.0, 17.0, cascade=False)
    expected = 0.1 * 7 + 0.5 * sum(math.exp(-0.2 * (10 - ti)) - math.exp(-0.2 * (17 - ti)) for ti in t)
    assert plain[1, 1] == pytest.approx(expected)
    assert plain.sum() == pytest.approx(expected)
    # With offspring of offspring the forecast is larger, and tends to μ / (1 − θ) per day.
    cascade = etas.expected_counts(fit, x, y, t, grid, mask, 10.0, 10.0, 17.0)
    assert cascade[1, 1] > plain[1, 1]
    long_run = etas.expected_counts(fit, x, y, t, grid, mask, 10.0, 10.0, 10_010.0)
    assert long_run[1, 1] / 10_000 == pytest.approx(0.1 / (1 - 0.5), rel=0.01)


@pytest.mark.parametrize("seed", range(40))
def test_sparse_groups_fit_without_error(seed):
    """A group with a few dozen events a year (the demo's "traffic") once stopped the weekly
    backtest: the kernel's Lagrange multiplier had no bracket in floating point (12 of 60 such
    data sets failed). Every fit must end with valid parameters."""
    from lagebild.analytics.hotspots import Grid

    rng = np.random.default_rng(seed)
    grid = Grid(x0=0.0, y0=0.0, cell_size=250.0, ncols=20, nrows=20)
    n = int(rng.integers(20, 120))
    x, y = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n)
    repeated = n // 4  # some places twice: sparse clusters
    x[:repeated] = rng.choice(x[repeated : 2 * repeated], repeated)
    y[:repeated] = rng.choice(y[repeated : 2 * repeated], repeated)
    t = np.sort(rng.uniform(0, 365, n))
    fit = etas.fit_grid(x, y, t, grid, np.ones(grid.shape, bool), start=0.0, end=365.0, bandwidth=250.0)
    assert 0 <= fit.theta < 1 and fit.omega > 0 and math.isfinite(fit.loglik)
    assert fit.kernel.sum() == pytest.approx(1.0) and (fit.kernel >= 0).all()
