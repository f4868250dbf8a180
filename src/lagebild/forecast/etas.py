"""Grid ETAS (self-exciting point process) fitted by expectation maximisation; pure numpy, no Django.

Model (Mohler et al. 2015, open_cp ``seppexp``, generalised to neighbouring cells; research notes
``shared/research/crime_analysis.md`` §3.3). For cell ``n`` of the study area and time ``t`` (days):

    λ_n(t) = μ_n + Σ_{i: t_i < t} θ · ω · e^{−ω (t − t_i)} · g(n − c_i)

``μ_n`` is the background rate per day (its shape a quartic KDE of the events weighted by their
background probability), ``θ`` the branching ratio (expected direct offspring per event), ``ω``
the decay rate per day (mean delay 1/ω) and ``g`` a discrete spatial kernel over the 3 × 3 cell
neighbourhood (sums to 1; offspring that would land outside the study area are lost). The
log-likelihood on ``[start, end)`` is exact for this model:

    ℓ = Σ_j log λ_{c_j}(t_j) − (end − start) Σ_n μ_n − θ Σ_i G_i (1 − e^{−ω (end − t_i)})

with ``G_i`` the kernel mass of event ``i`` that lands inside the study area.

Speed: the exponential kernel allows the O(n) recursion A_k = e^{−ω Δ_k}(A_{k−1} + 1) per cell.
It is vectorised here (no Python loop over events) by splitting time into blocks of ``5/ω`` days:
inside a block the sums are cumulative sums rebased to the block end (all exponents in [−5, 0],
no overflow), and the carry from block to block is a short linear recurrence solved by a
parallel prefix scan. The sums needed for the M-step of ω use the same routine backwards in time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from lagebild.analytics.hotspots import Grid, kde_quartic

# Exponent range of one time block: values e^{-5} … 1 inside a block, rebasing factor ≤ e^5.
BLOCK_EXPONENT = 5.0
OFFSETS: tuple[tuple[int, int], ...] = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1))
# A small uniform share keeps the background positive in every cell of the study area, so an event
# in a cell the KDE does not reach still has a finite likelihood.
BACKGROUND_FLOOR = 0.01
# The EM also stops when one accelerated cycle raises the log-likelihood by less than this per event.
GAIN_TOLERANCE = 5e-5
COARSE_START_EVENTS = 4000
MIN_OMEGA, MAX_OMEGA = 1e-3, 100.0  # per day: mean delay between 15 minutes and ~3 years


@dataclass
class EtasFit:
    """Fitted parameters; ``background`` is the background rate per cell and day (grid shape)."""

    mu: float  # total background rate per day over the study area
    theta: float  # branching ratio
    omega: float  # decay rate per day
    kernel: np.ndarray  # (3, 3) share of offspring per neighbouring cell, row offset −1..1
    background: np.ndarray  # (nrows, ncols) per day; sums to mu
    loglik: float
    iterations: int
    converged: bool
    start: float  # window the fit saw: [start, end)
    end: float
    events: int
    seconds: float = 0.0
    history: list[float] = field(default_factory=list)  # log-likelihood per iteration


# ---------------------------------------------------------------------------------------------
# The core recursion
# ---------------------------------------------------------------------------------------------


def _linear_scan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x_k = a_k x_{k−1} + b_k with x_{−1} = 0, by a Hillis–Steele prefix scan (log₂ n numpy steps)."""
    a = a.copy()
    x = b.copy()
    step = 1
    n = len(x)
    while step < n and a[step:].any():
        x_new = x.copy()
        x_new[step:] += a[step:] * x[:-step]
        a_new = a.copy()
        a_new[step:] *= a[:-step]
        x, a = x_new, a_new
        step *= 2
    return x


def decayed_prefix(key: np.ndarray, tau: np.ndarray, weight: np.ndarray, omega: float) -> np.ndarray:
    """``A_k = Σ_{m < k, key_m = key_k} weight_m · e^{−ω (τ_k − τ_m)}`` for every element k.

    Elements are sorted by key and, within a key, by non-decreasing τ; elements at equal τ count
    for later ones in array order (callers put queries before sources to make the sum strict).
    """
    n = len(tau)
    if n == 0:
        return np.zeros(0)
    span = BLOCK_EXPONENT / omega
    origin = float(tau.min())
    block = np.floor((tau - origin) / span).astype(np.int64)
    block_end = origin + (block + 1) * span
    decay = np.exp(-omega * (block_end - tau))  # in [e^{-5}, 1]
    u = weight * decay
    segment_start = np.empty(n, dtype=bool)
    segment_start[0] = True
    segment_start[1:] = (key[1:] != key[:-1]) | (block[1:] != block[:-1])
    segment = np.cumsum(segment_start) - 1
    starts = np.flatnonzero(segment_start)
    cumulative = np.cumsum(u)
    exclusive = cumulative - u
    ends = np.append(starts[1:], n) - 1
    totals = cumulative[ends] - exclusive[starts]
    # Carry into each segment at its block start: C_σ = (C_{σ−1} e^{−5} + T_{σ−1}) e^{−ω gap}.
    seg_key = key[starts]
    seg_begin = origin + block[starts] * span
    seg_end = seg_begin + span
    a = np.zeros(len(starts))
    b = np.zeros(len(starts))
    same = seg_key[1:] == seg_key[:-1]
    gap = np.exp(-omega * np.maximum(seg_begin[1:] - seg_end[:-1], 0.0))
    a[1:] = np.where(same, math.exp(-BLOCK_EXPONENT) * gap, 0.0)
    b[1:] = np.where(same, totals[:-1] * gap, 0.0)
    carry = _linear_scan(a, b)
    # Within the segment: (exclusive − exclusive at segment start) / decay; the carry from the
    # block start decays by e^{−ω(τ − begin)} = e^{−5} / decay.
    # (Subtracting first keeps the carry exact where the segment has no earlier sources.)
    within = exclusive - exclusive[starts][segment]
    return (within + (carry * math.exp(-BLOCK_EXPONENT))[segment]) / decay


# ---------------------------------------------------------------------------------------------
# Prepared data
# ---------------------------------------------------------------------------------------------


@dataclass
class _Merged:
    """Each event once as a source in its own cell, merged with one query copy per kernel offset.

    The query copy of event j for offset d sits in cell c_j − d: the forward sum there is
    S_d(j) (sources in c_j − d, which trigger into c_j), and the backward sum there is the
    R_{−d}(j) the M-step of ω needs (later events in c_j − d). Two orderings of the same
    elements: by (cell, time) with queries first at equal times, and by (cell, −time) likewise,
    so both sums are strict in time.
    """

    forward_key: np.ndarray  # sorted by cell, time ascending, queries before sources
    forward_tau: np.ndarray
    forward_source: np.ndarray  # 1.0 for sources, 0.0 for queries
    forward_queries: np.ndarray  # positions of the query elements in this order
    forward_event: np.ndarray  # their event and offset
    forward_offset: np.ndarray
    backward_key: np.ndarray  # sorted by cell, time descending, queries before sources
    backward_tau: np.ndarray  # −time (non-decreasing)
    backward_source_event: np.ndarray  # event of each element, −1 for queries
    backward_queries: np.ndarray
    backward_event: np.ndarray
    backward_offset: np.ndarray  # the offset −d whose sum the query copy of offset d gives


@dataclass
class EtasData:
    t: np.ndarray  # sorted event times
    cell: np.ndarray  # flat cell index (row * ncols + col), inside the mask
    shape: tuple[int, int]
    mask: np.ndarray
    start: float
    end: float
    offsets: tuple[tuple[int, int], ...]
    merged: _Merged
    valid: np.ndarray  # (events, offsets) bool: offspring cell inside the study area


def prepare(
    t: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    mask: np.ndarray,
    start: float,
    end: float,
    offsets: Sequence[tuple[int, int]] = OFFSETS,
) -> EtasData:
    """Events (inside the mask, in [start, end)) and the merged orderings the EM needs."""
    offsets = tuple(offsets)
    if any((-dr, -dc) not in offsets for dr, dc in offsets):
        raise ValueError("The kernel offsets must be symmetric.")
    t = np.asarray(t, float)
    rows = np.asarray(rows, np.int64)
    cols = np.asarray(cols, np.int64)
    nrows, ncols = mask.shape
    inside = (rows >= 0) & (rows < nrows) & (cols >= 0) & (cols < ncols) & (t >= start) & (t < end)
    inside[inside] = mask[rows[inside], cols[inside]]
    order = np.argsort(t[inside], kind="stable")
    t, rows, cols = t[inside][order], rows[inside][order], cols[inside][order]
    n = len(t)
    cell = rows * ncols + cols

    def in_area(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        ok = (r >= 0) & (r < nrows) & (c >= 0) & (c < ncols)
        ok[ok] = mask[r[ok], c[ok]]
        return ok

    valid = np.zeros((n, len(offsets)), dtype=bool)
    keys, events, offset_of = [cell], [np.arange(n)], [np.full(n, -1)]
    for k, (dr, dc) in enumerate(offsets):
        valid[:, k] = in_area(rows + dr, cols + dc)
        source_ok = np.flatnonzero(in_area(rows - dr, cols - dc))
        keys.append((rows[source_ok] - dr) * ncols + cols[source_ok] - dc)
        events.append(source_ok)
        offset_of.append(np.full(len(source_ok), k))
    key, event, offset = np.concatenate(keys), np.concatenate(events), np.concatenate(offset_of)
    tau = t[event]
    is_source = offset < 0
    mirror = np.array([offsets.index((-dr, -dc)) for dr, dc in offsets])
    forward = np.lexsort((is_source, tau, key))
    backward = np.lexsort((is_source, -tau, key))
    fq = np.flatnonzero(~is_source[forward])
    bq = np.flatnonzero(~is_source[backward])
    merged = _Merged(
        key[forward], tau[forward], is_source[forward].astype(float), fq, event[forward][fq],
        offset[forward][fq], key[backward], -tau[backward], np.where(is_source, event, -1)[backward],
        bq, event[backward][bq], mirror[offset[backward][bq]],
    )  # fmt: skip
    return EtasData(t, cell, (nrows, ncols), mask, float(start), float(end), offsets, merged, valid)


# ---------------------------------------------------------------------------------------------
# Likelihood and EM
# ---------------------------------------------------------------------------------------------


def _excitation(data: EtasData, omega: float) -> np.ndarray:
    """S[j, d] = Σ_{i: t_i < t_j, c_i + d = c_j} e^{−ω (t_j − t_i)}."""
    m = data.merged
    result = np.zeros((len(data.t), len(data.offsets)))
    if len(m.forward_queries) == 0:
        return result
    values = decayed_prefix(m.forward_key, m.forward_tau, m.forward_source, omega)
    result[m.forward_event, m.forward_offset] = values[m.forward_queries]
    return result


def _future_weighted(data: EtasData, omega: float, weight: np.ndarray) -> np.ndarray:
    """R[i, d] = Σ_{j: t_j > t_i, c_j = c_i + d} weight_j e^{−ω (t_j − t_i)} (backwards in time)."""
    m = data.merged
    result = np.zeros((len(data.t), len(data.offsets)))
    if len(m.backward_queries) == 0:
        return result
    w = np.where(m.backward_source_event >= 0, np.append(weight, 0.0)[m.backward_source_event], 0.0)
    values = decayed_prefix(m.backward_key, m.backward_tau, w, omega)
    # The query copy for offset d sits in c_i − d: it sums later events there, i.e. offset −d.
    result[m.backward_event, m.backward_offset] = values[m.backward_queries]
    return result


def _compensator(data: EtasData, background: np.ndarray, theta: float, omega: float, kernel: np.ndarray):
    kernel_flat = kernel.ravel()
    inside_mass = data.valid @ kernel_flat
    survival = 1.0 - np.exp(-omega * (data.end - data.t))
    return (data.end - data.start) * float(background[data.mask].sum()) + theta * float(
        np.dot(inside_mass, survival)
    )


def log_likelihood(
    data: EtasData, background: np.ndarray, theta: float, omega: float, kernel: np.ndarray
) -> float:
    """Exact log-likelihood of the grid ETAS on [data.start, data.end)."""
    excitation = _excitation(data, omega)
    rate = background.ravel()[data.cell] + theta * omega * excitation @ kernel.ravel()
    return float(np.log(rate).sum()) - _compensator(data, background, theta, omega, kernel)


def _background_shape(
    weights: np.ndarray, data: EtasData, grid: Grid | None, bandwidth: float, floor: float
) -> np.ndarray:
    per_cell = np.bincount(data.cell, weights=weights, minlength=data.mask.size).reshape(data.shape)
    if grid is not None and bandwidth > 0 and per_cell.sum() > 0:
        rows, cols = np.nonzero(per_cell)
        xs = grid.x0 + (cols + 0.5) * grid.cell_size
        ys = grid.y0 + (rows + 0.5) * grid.cell_size
        per_cell = kde_quartic(xs, ys, grid, bandwidth, weights=per_cell[rows, cols])
    per_cell = np.where(data.mask, per_cell, 0.0)
    total = per_cell.sum()
    uniform = data.mask / data.mask.sum()
    if total <= 0:
        return uniform
    return (1 - floor) * per_cell / total + floor * uniform


def _m_step(
    data: EtasData,
    per_offset: np.ndarray,
    delay_sum: float,
    theta: float,
    omega: float,
    kernel: np.ndarray,
) -> tuple[float, float, np.ndarray]:
    """Conditional maximisation of the expected complete-data log-likelihood (ECM, so monotone).

    Q = P log θ + P log ω − ω D + Σ_d P_d log g_d − θ Σ_i Σ_d valid_id g_d (1 − e^{−ω (end − t_i)})
    with P_d the expected offspring per offset, P = Σ P_d and D = Σ p_ij (t_j − t_i). First (θ, ω)
    for the current kernel (θ in closed form, ω by a 1-D search), then the kernel with a Lagrange
    multiplier for Σ g = 1; the edge terms (offspring lost outside the area or after the window)
    are kept, because dropping them biases the kernel towards the own cell on small areas.
    """
    offspring = float(per_offset.sum())
    if offspring <= 0 or delay_sum <= 0:
        return theta, omega, kernel
    remaining = data.end - data.t

    inside_mass = data.valid @ kernel
    total_mass = float(inside_mass.sum())

    # Events are sorted by time, so ``remaining`` decreases: only the last events still have
    # offspring to come after the window's end (e^{−ω r} > e^{−40}); the rest count fully.
    def exposure(w: float) -> tuple[float, float]:
        """E(ω) = Σ_i G_i (1 − e^{−ω r_i}) and its derivative E'(ω) = Σ_i G_i r_i e^{−ω r_i}."""
        recent = int(np.searchsorted(-remaining, -40.0 / w, side="left"))
        lost = inside_mass[recent:] * np.exp(-w * remaining[recent:])
        return total_mass - float(lost.sum()), float(lost @ remaining[recent:])

    # With θ = P / E(ω) inserted, dQ/dω = P/ω − D − P E'(ω)/E(ω) = 0: the fixed point
    # ω = P / (D + P E'/E) converges in a few steps because the edge term E'/E is small.
    new_omega = min(max(offspring / delay_sum, MIN_OMEGA), MAX_OMEGA)
    for _ in range(50):
        total, slope = exposure(new_omega)
        updated = min(max(offspring / (delay_sum + offspring * slope / total), MIN_OMEGA), MAX_OMEGA)
        done = abs(updated - new_omega) <= 1e-12 * new_omega
        new_omega = updated
        if done:
            break
    new_theta = offspring / exposure(new_omega)[0]
    if len(per_offset) == 1:
        return new_theta, new_omega, kernel
    # g_d = P_d / (θ E_d + ν) with Σ g_d = 1.
    exposure_per_offset = new_theta * (data.valid.T @ -np.expm1(-new_omega * remaining))

    def excess(nu: float) -> float:
        return float((per_offset / (exposure_per_offset + nu)).sum()) - 1.0

    lowest = -float(exposure_per_offset[per_offset > 0].min()) + 1e-12
    upper = offspring
    while excess(upper) > 0:
        upper *= 2
    # excess → +∞ as ν approaches `lowest` from above; with a tiny P_d at that offset the first
    # step above it can still be negative (the demo's sparse "traffic" group), so move closer.
    step = 1e-9 * max(1.0, abs(lowest))
    while excess(lowest + step) <= 0 and step > 1e-300:
        step *= 1e-3
    if excess(lowest + step) <= 0:
        # No root to bracket in floating point: the plain share of the offspring per offset.
        return new_theta, new_omega, per_offset / per_offset.sum()
    nu = optimize.brentq(excess, lowest + step, upper, xtol=1e-12, rtol=1e-12)
    new_kernel = per_offset / (exposure_per_offset + nu)
    new_kernel = new_kernel / new_kernel.sum()
    return new_theta, new_omega, new_kernel


@dataclass
class _State:
    theta: float
    omega: float
    mu: float
    kernel: np.ndarray
    shape: np.ndarray  # background share per cell (sums to 1 over the mask)


def fit_data(
    data: EtasData,
    grid: Grid | None = None,
    bandwidth: float = 0.0,
    previous: EtasFit | None = None,
    max_iterations: int = 200,
    tolerance: float = 1e-5,
    floor: float = BACKGROUND_FLOOR,
    theta0: float = 0.5,
    omega0: float = 1.0,
    gain_tolerance: float = GAIN_TOLERANCE,
) -> EtasFit:
    """EM on prepared data. ``bandwidth`` 0 gives the exact M-step of the background (per cell)."""
    started = time.perf_counter()
    n = len(data.t)
    duration = data.end - data.start
    offsets = len(data.offsets)
    if previous is not None and previous.background.shape == data.shape:
        theta, omega = previous.theta, previous.omega
        kernel = previous.kernel.ravel().copy() if offsets == previous.kernel.size else None
        shape = np.where(data.mask, previous.background, 0.0)
        shape = shape / shape.sum() if shape.sum() > 0 else data.mask / data.mask.sum()
        shape = (1 - floor) * shape + floor * data.mask / data.mask.sum() if floor else shape
    else:
        theta, omega, kernel, shape = theta0, omega0, None, None
    if kernel is None:
        kernel = np.full(offsets, 0.5 / max(offsets - 1, 1))
        kernel[data.offsets.index((0, 0))] = 0.5 if offsets > 1 else 1.0
    if shape is None:
        shape = _background_shape(np.ones(n), data, grid, bandwidth, floor)
    mu = max(n * (1 - theta), 1e-9) / duration
    if n == 0:
        background = mu * shape * 0
        return EtasFit(0.0, 0.0, omega, kernel.reshape(3, 3) if offsets == 9 else kernel, background,
                       0.0, 0, True, data.start, data.end, 0)  # fmt: skip
    t_rel = data.t - data.start
    inside = data.mask.ravel()

    def em_map(x: _State) -> tuple[_State, float]:
        """One EM step from state x, and the log-likelihood of x."""
        background = x.mu * x.shape
        excitation = _excitation(data, x.omega)
        triggered = x.theta * x.omega * excitation * x.kernel  # (n, offsets)
        own = background.ravel()[data.cell]
        rate = own + triggered.sum(axis=1)
        kernel_view = x.kernel.reshape(3, 3) if offsets == 9 else x.kernel
        loglik = float(np.log(rate).sum()) - _compensator(data, background, x.theta, x.omega, kernel_view)
        p_background = own / rate
        p_trigger = triggered / rate[:, None]  # Σ_i p_ij per target j and offset
        per_offset = p_trigger.sum(axis=0)
        # Σ_ij p_ij (t_j − t_i) = Σ_j t_j Σ_i p_ij − Σ_i t_i Σ_j p_ij
        future = _future_weighted(data, x.omega, 1.0 / rate) * (x.theta * x.omega * x.kernel)
        delay_sum = float(t_rel @ p_trigger.sum(axis=1) - t_rel @ future.sum(axis=1))
        theta, omega, kernel = _m_step(data, per_offset, delay_sum, x.theta, x.omega, x.kernel)
        shape = _background_shape(p_background, data, grid, bandwidth, floor)
        return _State(theta, omega, float(p_background.sum()) / duration, kernel, shape), loglik

    def to_vector(x: _State) -> np.ndarray:
        return np.log(np.concatenate([[x.theta, x.omega, x.mu], np.maximum(x.kernel, 1e-300),
                                      np.maximum(x.shape.ravel()[inside], 1e-300)]))  # fmt: skip

    def from_vector(v: np.ndarray) -> _State | None:
        with np.errstate(over="ignore"):  # an overshooting SQUAREM step: refused just below
            values = np.exp(v)
        theta, omega, mu = values[:3]
        if not (0 < theta < 0.999 and MIN_OMEGA <= omega <= MAX_OMEGA and np.isfinite(values).all()):
            return None
        kernel = values[3 : 3 + offsets]
        shape = np.zeros(data.mask.size)
        shape[inside] = values[3 + offsets :]
        return _State(float(theta), float(omega), float(mu), kernel / kernel.sum(),
                      (shape / shape.sum()).reshape(data.shape))  # fmt: skip

    def change(x: _State, y: _State) -> float:
        return max(abs(x.theta - y.theta), abs(x.omega - y.omega) / y.omega, abs(x.mu - y.mu) / y.mu,
                   float(np.abs(x.kernel - y.kernel).max()))  # fmt: skip

    # SQUAREM (Varadhan & Roland 2008, scheme S3): two EM steps, a squared extrapolation in log
    # space, one stabilising EM step; fall back to the plain second step if the extrapolated
    # point is invalid or lowers the likelihood. Several times fewer passes than plain EM here.
    state = _State(theta, omega, mu, kernel, shape)
    converged = False
    history: list[float] = []
    iteration = 0
    while iteration < max_iterations:
        first, loglik0 = em_map(state)
        second, _ = em_map(first)
        iteration += 2
        history.append(loglik0)
        r = to_vector(first) - to_vector(state)
        v = to_vector(second) - 2 * to_vector(first) + to_vector(state)
        step = -math.sqrt(float(r @ r) / float(v @ v)) if float(v @ v) > 0 else -1.0
        step = min(step, -1.0)
        candidate = from_vector(to_vector(state) - 2 * step * r + step**2 * v) if step < -1 else None
        proposal = second
        gain = (history[-1] - history[-2]) / n if len(history) > 1 else math.inf
        if candidate is not None:
            stabilised, loglik_candidate = em_map(candidate)
            iteration += 1
            if loglik_candidate >= loglik0:
                proposal = stabilised
                # The accelerated step's own gain: small means the start was already optimal.
                gain = min(gain, (loglik_candidate - loglik0) / n)
        moved = change(proposal, state)
        state = proposal
        if moved < tolerance or 0 <= gain < gain_tolerance:
            converged = True
            break
    theta, omega, mu, kernel, shape = state.theta, state.omega, state.mu, state.kernel, state.shape
    kernel_out = kernel.reshape(3, 3) if offsets == 9 else kernel.copy()
    background = mu * shape
    loglik = log_likelihood(data, background, theta, omega, kernel_out)
    return EtasFit(
        mu=float(background[data.mask].sum()),
        theta=theta,
        omega=omega,
        kernel=kernel_out,
        background=background,
        loglik=loglik,
        iterations=iteration,
        converged=converged,
        start=data.start,
        end=data.end,
        events=n,
        seconds=time.perf_counter() - started,
        history=history,
    )


def fit_grid(
    x: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    grid: Grid,
    mask: np.ndarray,
    start: float,
    end: float,
    bandwidth: float = 500.0,
    previous: EtasFit | None = None,
    max_iterations: int = 200,
    tolerance: float = 1e-5,
) -> EtasFit:
    """Grid ETAS on the events in [start, end) inside the mask (coordinates in metres)."""
    started = time.perf_counter()
    rows, cols = grid.cell_index(x, y)
    t = np.asarray(t, float)
    if previous is None and len(t) > COARSE_START_EVENTS:
        # Cold start: converge first on the last quarter of the window (a quarter of the work per
        # step), then warm-start the whole window from there; EM needs most steps far from the optimum.
        recent_start = end - (end - start) / 4
        recent = prepare(t, rows, cols, mask, recent_start, end)
        previous = fit_data(recent, grid, bandwidth, None, max_iterations, tolerance * 10)
    data = prepare(t, rows, cols, mask, start, end)
    result = fit_data(data, grid, bandwidth, previous, max_iterations, tolerance)
    result.seconds = time.perf_counter() - started
    return result


def expected_counts(fit: EtasFit, x, y, t, grid: Grid, mask: np.ndarray, origin: float, start: float,
                    end: float, cascade: bool = True) -> np.ndarray:  # fmt: skip
    """Expected events per cell in [start, end) from the fit and the events before ``origin``.

    The excitation of past events at ``start`` (spread by the kernel) is
    ``E₀_n = θ ω Σ_i g(n − c_i) e^{−ω (start − t_i)}``. Offspring of events inside the window are
    included (all generations) under the approximation that they stay in their parent's cell:
    then ``m_n(t) = μ_n + E_n(t)`` with ``E' = −ω (1 − θ) E + θ ω μ_n``, so
    ``∫ m_n = μ_n L + E∞ L + (E₀ − E∞)(1 − e^{−κ L}) / κ`` with ``κ = ω (1 − θ)``,
    ``E∞ = θ μ_n / (1 − θ)`` and ``L = end − start``. Without the offspring this would be
    ``μ_n L + E₀ (1 − e^{−ω L}) / ω``; the difference is the share the branching ratio adds.
    """
    t = np.asarray(t, float)
    rows, cols = grid.cell_index(x, y)
    nrows, ncols = mask.shape
    keep = (t < origin) & (rows >= 0) & (rows < nrows) & (cols >= 0) & (cols < ncols)
    keep[keep] = mask[rows[keep], cols[keep]]
    weights = np.exp(-fit.omega * (start - t[keep]))
    source = np.bincount(rows[keep] * ncols + cols[keep], weights=weights, minlength=nrows * ncols)
    source = source.reshape(nrows, ncols)
    spread = np.zeros((nrows, ncols))
    kernel = fit.kernel.reshape(3, 3)
    padded = np.pad(source, 1)
    for i, dr in enumerate((-1, 0, 1)):
        for j, dc in enumerate((-1, 0, 1)):
            # offspring of cell (r, c) land in (r + dr, c + dc)
            spread += kernel[i, j] * padded[1 - dr : 1 - dr + nrows, 1 - dc : 1 - dc + ncols]
    length = end - start
    theta, omega = fit.theta, fit.omega
    excitation_now = theta * omega * spread
    if cascade:
        kappa = omega * (1 - theta)
        stationary = theta * fit.background / (1 - theta)
        result = (fit.background + stationary) * length + (excitation_now - stationary) * (
            -math.expm1(-kappa * length) / kappa
        )
    else:
        result = fit.background * length + excitation_now * (-math.expm1(-omega * length) / omega)
    return np.where(mask, result, 0.0)


# ---------------------------------------------------------------------------------------------
# Temporal Hawkes (one cell): the same EM, for the comparison with other implementations
# ---------------------------------------------------------------------------------------------


def _one_cell(times: np.ndarray, start: float, horizon: float) -> EtasData:
    times = np.asarray(times, float)
    zeros = np.zeros(len(times), dtype=np.int64)
    return prepare(times, zeros, zeros, np.ones((1, 1), bool), start, horizon, offsets=((0, 0),))


def fit_temporal_hawkes(
    times: np.ndarray,
    horizon: float,
    start: float = 0.0,
    max_iterations: int = 500,
    tolerance: float = 1e-7,
    previous: EtasFit | None = None,
) -> EtasFit:
    """Hawkes process λ(t) = μ + Σ θ ω e^{−ω (t − t_i)} on [start, horizon): the grid EM with one cell."""
    started = time.perf_counter()
    data = _one_cell(times, start, horizon)
    result = fit_data(data, None, 0.0, previous, max_iterations, tolerance, floor=0.0, gain_tolerance=1e-12)
    result.seconds = time.perf_counter() - started
    return result


def temporal_log_likelihood(
    times: np.ndarray, horizon: float, mu: float, theta: float, omega: float, start: float = 0.0
) -> float:
    """Exact log-likelihood of the temporal Hawkes process (same formula as the grid model)."""
    data = _one_cell(times, start, horizon)
    return log_likelihood(data, np.full((1, 1), mu), theta, omega, np.ones(1))


def temporal_intensity(at: float, past: np.ndarray, mu: float, theta: float, omega: float) -> float:
    """λ(at) = μ + Σ_{t_i < at} θ ω e^{−ω (at − t_i)}."""
    past = np.asarray(past, float)
    past = past[past < at]
    return float(mu + theta * omega * np.exp(-omega * (at - past)).sum())


def simulate_grid(
    rng: np.random.Generator,
    background: np.ndarray,
    theta: float,
    omega: float,
    kernel: np.ndarray,
    start: float,
    end: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate the grid ETAS by its branching structure: (times, rows, cols), sorted by time."""
    nrows, ncols = background.shape
    counts = rng.poisson(background.ravel() * (end - start))
    cells = np.repeat(np.arange(background.size), counts)
    times = rng.uniform(start, end, len(cells))
    all_t, all_c = [times], [cells]
    kernel_flat = kernel.ravel() / kernel.sum()
    generation_t, generation_c = times, cells
    while len(generation_t):
        children = rng.poisson(theta, len(generation_t))
        parent_t = np.repeat(generation_t, children)
        parent_c = np.repeat(generation_c, children)
        child_t = parent_t + rng.exponential(1 / omega, len(parent_t))
        offset = rng.choice(9, size=len(parent_t), p=kernel_flat)
        r = parent_c // ncols + offset // 3 - 1
        c = parent_c % ncols + offset % 3 - 1
        ok = (child_t < end) & (r >= 0) & (r < nrows) & (c >= 0) & (c < ncols)
        generation_t, generation_c = child_t[ok], (r * ncols + c)[ok]
        all_t.append(generation_t)
        all_c.append(generation_c)
    t = np.concatenate(all_t)
    c = np.concatenate(all_c)
    order = np.argsort(t)
    return t[order], c[order] // ncols, c[order] % ncols
