"""Effect of patrols (matched difference-in-differences, lagebild.deployment.effect): pure checks.

Check values: a small panel computed by hand from the formulas in docs/deployment-effect.md, and
seeded simulated panels with a known effect (the interval must cover it at about the nominal rate,
and a null effect must be called significant only at about the nominal rate).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lagebild.deployment.effect import (
    EffectInputError,
    buffer_ring,
    estimate_effect,
    match,
    pre_features,
    trend_per_week,
    with_patrol_dose,
)

# --- a small panel by hand ----------------------------------------------------------------------
# Cells 0 and 1 are patrolled; 2, 3, 5 are comparable, 4 is far off. All pre periods are flat, so the
# trend has no spread and only the pre mean counts: cell 0 (mean 2) ties with cells 2 and 5 (half a
# share each), cell 1 (mean 4) takes cell 3; cell 4 (mean 10) is never used.
PRE = [[2, 2], [4, 4], [2, 2], [4, 4], [10, 10], [2, 2]]
POST = [[1, 1], [3, 5], [3, 3], [6, 6], [10, 12], [5, 5]]
TREATED = [True, True, False, False, False, False]


def test_hand_computed_example_is_exact():
    result = estimate_effect(PRE, POST, TREATED, k=1)
    did = result.did
    assert result.ok and result.n_treated == 2 and result.controls_used == 3
    # Changes d: treated −1, 0; controls 2: +1, 3: +2, 5: +3. Control change of cell 0 = (1 + 3) / 2.
    assert did.estimate == pytest.approx(-0.5 - 2.0)
    # Control weights: cell 2 ¼, cell 3 ½, cell 5 ¼.
    assert did.pre_treated == pytest.approx(3.0) and did.post_treated == pytest.approx(2.5)
    assert did.pre_control == pytest.approx(0.25 * 2 + 0.5 * 4 + 0.25 * 2)
    assert did.post_control == pytest.approx(0.25 * 3 + 0.5 * 6 + 0.25 * 5)
    # Var_T = s² / n = 0.5 / 2; Var_C = Σ w² (d − 2)² / (1 − Σ w²) = 0.125 / 0.625.
    var_t, var_c = 0.25, 0.2
    assert did.se == pytest.approx(math.sqrt(var_t + var_c))
    n_c = 1 / (0.25**2 + 0.5**2 + 0.25**2)
    df = (var_t + var_c) ** 2 / (var_t**2 / 1 + var_c**2 / (n_c - 1))
    assert did.df == pytest.approx(df)
    half_width = stats.t.ppf(0.975, df) * math.sqrt(0.45)
    assert (did.ci_low, did.ci_high) == pytest.approx((-2.5 - half_width, -2.5 + half_width))
    assert did.p_value == pytest.approx(2 * stats.t.sf(2.5 / math.sqrt(0.45), df))
    assert not did.significant
    # Counterfactual: pre of the treated plus the control change = 3 + 2 = 5.
    assert result.counterfactual == pytest.approx(5.0)
    assert result.relative == pytest.approx(-0.5)
    assert result.cases_total == pytest.approx(-2.5 * 2 * 2)
    totals = {row.label: (row.cells, row.pre, row.post) for row in result.totals}
    assert totals["Bestreifte Zellen"] == (2, 12, 10)
    assert totals["Gewählte Vergleichszellen"] == (3, 16, 28)
    assert result.headline_de == "Keine gesicherte Wirkung" and not result.coloured
    assert "statistisch nicht signifikant" in result.sentence_de
    assert "2,50 Fälle je Zelle und Woche weniger" in result.sentence_de


def test_order_of_cells_does_not_change_the_result():
    order = [5, 3, 1, 0, 4, 2]
    shuffled = estimate_effect(
        [PRE[i] for i in order], [POST[i] for i in order], [TREATED[i] for i in order], k=1
    )
    assert shuffled.did.estimate == pytest.approx(-2.5)
    assert shuffled.did.se == pytest.approx(math.sqrt(0.45))


def test_excluded_cells_never_serve_as_controls():
    excluded = [False, False, True, False, False, False]  # cell 2 lies in the buffer ring
    result = estimate_effect(PRE, POST, TREATED, excluded, k=1)
    # Cell 0 now matches cell 5 alone (d = +3): control change (3 + 2) / 2.
    assert result.did.estimate == pytest.approx(-0.5 - 2.5)
    assert result.n_excluded == 1
    assert dict((row.label, row.cells) for row in result.totals)["Pufferring (ausgeschlossen)"] == 1


def test_features_are_mean_and_least_squares_trend():
    weekly = np.array([[0, 1, 2, 3], [5, 5, 5, 5], [4, 2, 0, 2]], dtype=float)
    assert trend_per_week(weekly) == pytest.approx([1.0, 0.0, np.polyfit(range(4), weekly[2], 1)[0]])
    assert pre_features(weekly)[:, 0] == pytest.approx([1.5, 5.0, 2.0])


def test_matching_standardises_features_and_takes_k_nearest():
    features = np.array([[0.0, 0.0], [10.0, 1.0], [1.0, 0.0], [0.0, 0.5], [9.0, 1.0]])
    treated = np.array([True, False, False, False, False])
    matching = match(features, treated, ~treated, k=2)
    # Standardised, 1 unit of the mean (SD ≈ 4.5) is closer than 0.5 of the trend (SD ≈ 0.45).
    assert sorted(matching.control_index[matching.members[0]].tolist()) == [2, 3]
    assert matching.weights.sum() == pytest.approx(1.0)


def test_buffer_ring_takes_cells_within_the_distance():
    treated = np.zeros((7, 7), dtype=bool)
    treated[3, 3] = True
    ring = buffer_ring(treated, cell_size=250, distance_m=500)
    assert not ring[3, 3]
    assert ring[3, 5] and ring[5, 3] and ring[4, 4]  # 500 m straight, 354 m diagonal
    assert not ring[5, 5] and not ring[3, 6]  # 707 m and 750 m
    assert ring.sum() == 12
    assert not buffer_ring(treated, 250, 0).any()


# --- simulations ----------------------------------------------------------------------------------


def _simulated_panel(seed: int, rate_ratio: float, cells: int = 1200, weeks: int = 8):
    """Cells with gamma-distributed rates; patrols go preferably where the pre counts were high (as a
    deployment by forecast does); patrolled cells get ``rate_ratio`` × their rate in the post period,
    and every cell a common rise of 10 %. Returns the panel and the true effect on the treated."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1.0, cells)
    pre = rng.poisson(rate[:, None] * np.ones(weeks))
    probability = 0.3 / (1 + np.exp(-1.5 * (pre.mean(axis=1) - 2.0)))
    treated = rng.random(cells) < probability
    post_rate = rate * 1.1 * np.where(treated, rate_ratio, 1.0)
    post = rng.poisson(post_rate[:, None] * np.ones(weeks))
    true_effect = float((rate[treated] * 1.1 * (rate_ratio - 1)).mean())
    return pre, post, treated, true_effect


def test_known_effect_is_covered_at_about_the_nominal_rate():
    covered = significant = 0
    for seed in range(100):
        pre, post, treated, truth = _simulated_panel(seed, rate_ratio=0.7)
        did = estimate_effect(pre, post, treated).did
        covered += did.ci_low <= truth <= did.ci_high
        significant += did.significant and did.estimate < 0
    assert covered >= 90
    assert significant >= 95  # a 30 % reduction on ~80 cells is found


def test_no_effect_is_called_significant_only_at_about_the_nominal_rate():
    significant = 0
    for seed in range(100, 200):
        pre, post, treated, _ = _simulated_panel(seed, rate_ratio=1.0)
        result = estimate_effect(pre, post, treated)
        significant += result.significant
        if not result.significant:
            assert result.tone == "none" and not result.coloured
    assert significant <= 10


def test_significant_reduction_gets_a_supported_headline():
    pre, post, treated, _ = _simulated_panel(7, rate_ratio=0.5)
    result = estimate_effect(pre, post, treated)
    assert result.significant and result.placebo.passed is True
    assert result.tone == "fewer" and result.coloured
    assert result.headline_de == "Weniger Fälle in bestreiften Zellen (statistisch signifikant)"
    assert "Der Unterschied ist statistisch signifikant." in result.sentence_de
    assert result.relative is not None and -0.6 < result.relative < -0.35


def test_significant_result_loses_its_colour_when_patrolling_hardly_changed():
    pre, post, treated, _ = _simulated_panel(7, rate_ratio=0.5)
    result = estimate_effect(pre, post, treated)
    assert result.coloured
    unchanged = with_patrol_dose(result, hours_before=20.0, hours_during=24.0)
    assert not unchanged.coloured and unchanged.tone == "unclear"
    assert unchanged.headline_de == "Unterschied statistisch signifikant, Bestreifung aber kaum verändert"
    assert "20,0 gegenüber 24,0 Stunden" in unchanged.warnings[-1]
    assert unchanged.did == result.did  # the numbers stay; only what they are said to show changes
    new_patrols = with_patrol_dose(result, hours_before=1.0, hours_during=24.0)
    assert new_patrols == result


def test_placebo_flags_cells_that_were_already_drifting_apart():
    """Patrols sent to cells on a rising trend: the pre-period halves show it, and a significant
    post-period difference is then not reported as an effect of the patrols."""
    rng = np.random.default_rng(3)
    cells, weeks = 1500, 8
    rate = rng.gamma(0.8, 1.0, cells)
    slope = rng.normal(0, 1, cells)
    time = np.arange(2 * weeks) - weeks + 0.5
    counts = rng.poisson(rate[:, None] * np.exp(0.5 * slope[:, None] * time[None, :] / weeks))
    pre, post = counts[:, :weeks], counts[:, weeks:]
    treated = rng.random(cells) < 0.3 / (1 + np.exp(-1.5 * (pre.mean(axis=1) + 2 * slope - 2)))
    result = estimate_effect(pre, post, treated)
    assert result.placebo.passed is False
    assert result.tone in ("unclear", "none") and not result.coloured
    assert "Placebo-Test signifikant" in result.sentence_de


def test_too_few_cells_give_a_german_message_instead_of_an_estimate():
    result = estimate_effect(PRE, POST, [True] + [False] * 5)
    assert not result.ok and result.did is None
    assert "Zu wenige bestreifte Zellen (1)" in result.message
    no_controls = estimate_effect(PRE, POST, [True, True, True, True, True, False])
    assert not no_controls.ok and "Vergleichszellen" in no_controls.message


@pytest.mark.parametrize(
    ("pre", "post", "treated", "message"),
    [
        ([1, 2], [[1]], [True], "zweidimensional"),
        ([[1, -1]], [[1, 1]], [True], "nicht negativ"),
        ([[1], [2]], [[1]], [True, False], "dieselben Zellen"),
        ([[1], [2]], [[1], [2]], [True], "genau einen Wert je Zelle"),
    ],
)
def test_malformed_input_is_refused_in_german(pre, post, treated, message):
    with pytest.raises(EffectInputError, match=message):
        estimate_effect(pre, post, treated)
