"""Crime concentration: check values of the research notes §4.2 (Gini, generalized Gini)."""

import numpy as np
import pytest

from lagebild.analytics.concentration import concentration, generalized_gini, gini

# Research notes §4.2: counts over 10 places → Gini, generalized Gini.
NOTES_TABLE = [
    ((5, 2, 1, 0, 0, 0, 0, 0, 0, 0), 0.80, 0.75),
    ((1, 1, 1, 1, 1, 1, 1, 1, 0, 0), 0.20, 0.00),
    ((10, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0.90, 0.90),
    ((3, 3, 2, 2, 1, 1, 1, 1, 0, 0), 0.40, 0.40),
]


@pytest.mark.parametrize(("counts", "expected_gini", "expected_generalized"), NOTES_TABLE)
def test_gini_and_generalized_gini_match_the_notes(counts, expected_gini, expected_generalized):
    result = concentration(counts)
    assert result.gini == pytest.approx(expected_gini, abs=1e-12)
    assert result.generalized_gini == pytest.approx(expected_generalized, abs=1e-12)
    assert gini(counts) == pytest.approx(expected_gini, abs=1e-12)
    assert generalized_gini(counts) == pytest.approx(expected_generalized, abs=1e-12)


def test_gini_does_not_depend_on_cell_order_or_scale():
    counts = np.array([7, 0, 3, 1, 0, 12, 2, 0, 0, 5])
    shuffled = np.random.default_rng(4).permutation(counts)
    assert gini(shuffled) == pytest.approx(gini(counts))
    assert gini(counts * 3) == pytest.approx(gini(counts))


def test_share_of_cells_holding_half_and_quarter_of_incidents():
    # Notes: (5,2,1,0…) and (10,0…) have 50 % and 25 % of incidents in 10 % of the places.
    for counts in (NOTES_TABLE[0][0], NOTES_TABLE[2][0]):
        result = concentration(counts)
        assert result.cells_for_half == pytest.approx(0.1)
        assert result.cells_for_quarter == pytest.approx(0.1)
    # 8 single incidents: 4 of 8 places hold exactly half, 2 of them a quarter.
    even = concentration(NOTES_TABLE[1][0])
    assert even.cells_for_half == pytest.approx(0.4)
    assert even.cells_for_quarter == pytest.approx(0.2)


def test_top_cell_shares_on_a_hundred_cells():
    counts = np.zeros(100)
    counts[0] = 50
    counts[1:5] = 10  # four cells with 10 each
    counts[5:10] = 2  # five with 2
    counts[10:40] = 1  # thirty with 1
    total = 50 + 40 + 10 + 30
    result = concentration(counts)
    assert result.incidents == total
    assert result.top_cells == {1: 1, 5: 5, 10: 10}
    assert result.top_share[1] == pytest.approx(50 / total)
    assert result.top_share[5] == pytest.approx(90 / total)
    assert result.top_share[10] == pytest.approx(100 / total)


def test_partial_top_cells_are_rounded_up_to_whole_cells():
    # 150 cells: 1 % is 1.5 cells → 2 cells; 5 % is 7.5 → 8; with 10 cells the top 1 % is one cell.
    counts = np.arange(150)
    result = concentration(counts)
    assert result.top_cells[1] == 2
    assert result.top_cells[5] == 8
    assert result.top_share[1] == pytest.approx((149 + 148) / counts.sum())
    assert concentration(NOTES_TABLE[0][0]).top_cells[1] == 1
    assert concentration(NOTES_TABLE[0][0]).top_share[1] == pytest.approx(5 / 8)


def test_lorenz_curve_runs_from_origin_to_one_and_stays_below_the_diagonal():
    result = concentration(NOTES_TABLE[0][0])
    cells, incidents = np.array(result.lorenz_cells), np.array(result.lorenz_incidents)
    assert len(cells) == 11  # all 10 cells plus the origin
    assert (cells[0], incidents[0]) == (0.0, 0.0)
    assert (cells[-1], incidents[-1]) == (1.0, 1.0)
    # Ascending: the seven empty cells first, then 1, 2, 5 incidents of 8.
    assert incidents[7] == 0.0
    assert incidents[8] == pytest.approx(1 / 8)
    assert incidents[9] == pytest.approx(3 / 8)
    assert (np.diff(cells) > 0).all() and (np.diff(incidents) >= 0).all()
    assert (incidents <= cells + 1e-12).all()


def test_lorenz_curve_is_downsampled_for_many_cells():
    counts = np.random.default_rng(1).poisson(0.3, 10_000)
    result = concentration(counts)
    assert len(result.lorenz_cells) <= 200
    assert result.lorenz_cells[0] == 0.0 and result.lorenz_cells[-1] == 1.0
    assert result.lorenz_incidents[0] == 0.0 and result.lorenz_incidents[-1] == 1.0
    # Downsampled points lie on the full curve.
    ascending = np.sort(counts)
    full = np.concatenate([[0], np.cumsum(ascending)]) / ascending.sum()
    for cell_share, incident_share in zip(result.lorenz_cells, result.lorenz_incidents, strict=True):
        assert incident_share == pytest.approx(full[round(cell_share * len(counts))])


@pytest.mark.parametrize("counts", [[], [0, 0, 0], [3, -1, 2], [1, float("nan")]])
def test_unusable_counts_raise_a_german_message(counts):
    with pytest.raises(ValueError, match=r"Zellen|Vorfälle|Anzahlen"):
        concentration(counts)
