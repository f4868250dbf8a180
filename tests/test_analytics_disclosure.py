"""Open-data small-count protection: primary and secondary suppression cannot be undone from totals."""

import numpy as np
import pytest
from scipy.optimize import linprog

from lagebild.analytics.disclosure import REASON_PRIMARY, REASON_SECONDARY, suppress


def lp_bounds(table: np.ndarray, mask: np.ndarray, at_least: int = 0) -> dict:
    """Min and max of every suppressed cell over all tables matching the publication (independent LP).

    Published: the unsuppressed cells and all row and column totals; suppressed cells are ≥ ``at_least``.
    Returns None for a cell when the attacker's model is infeasible.
    """
    cells = list(zip(*np.nonzero(mask), strict=True))
    rows, columns = table.shape
    equations, right_sides = [], []
    for row in range(rows):
        equations.append([1.0 if cell[0] == row else 0.0 for cell in cells])
        right_sides.append(float(table[row, mask[row]].sum()))
    for column in range(columns):
        equations.append([1.0 if cell[1] == column else 0.0 for cell in cells])
        right_sides.append(float(table[mask[:, column], column].sum()))
    result = {}
    for index, cell in enumerate(cells):
        objective = np.zeros(len(cells))
        objective[index] = 1.0
        options = {"A_eq": equations, "b_eq": right_sides, "bounds": [(at_least, None)] * len(cells)}
        low = linprog(objective, method="highs", **options)
        high = linprog(-objective, method="highs", **options)
        result[(int(cell[0]), int(cell[1]))] = (
            None if low.status != 0 or high.status != 0 else (round(low.fun), round(-high.fun))
        )
    return result


DISTRICTS_BY_CATEGORY = np.array(
    [
        # A   B   C   D        (rows: districts I–IV, columns: categories A–D)
        [10, 1, 7, 12],
        [8, 9, 6, 15],
        [5, 4, 11, 2],
        [9, 13, 3, 8],
    ]
)


def test_hand_checked_example_suppresses_the_cheapest_rectangle():
    result = suppress(DISTRICTS_BY_CATEGORY)
    # The two small counts (I, B) = 1 and (III, D) = 2 share one rectangle with (I, D) = 12 and (III, B) = 4:
    # cost 16, cheaper than any rectangle of its own (e.g. (I, A), (III, A), (III, B): 19).
    expected = np.zeros((4, 4), dtype=bool)
    expected[[0, 0, 2, 2], [1, 3, 1, 3]] = True
    assert (result.suppressed == expected).all()
    assert result.reasons[0, 1] == result.reasons[2, 3] == REASON_PRIMARY
    assert result.reasons[0, 3] == result.reasons[2, 1] == REASON_SECONDARY
    assert result.published() == [[10, None, 7, None], [8, 9, 6, 15], [5, None, 11, None], [9, 13, 3, 8]]
    assert result.row_totals.tolist() == [30, 38, 22, 33]
    assert result.column_totals.tolist() == [32, 27, 27, 37]
    assert result.grand_total == 123
    # By hand: (I, B) = t leaves (III, B) = 5 − t, (I, D) = 13 − t, (III, D) = 1 + t for 0 ≤ t ≤ 5.
    assert result.attacker_bounds() == {(0, 1): (0, 5), (0, 3): (8, 13), (2, 1): (0, 5), (2, 3): (1, 6)}
    assert result.fully_protected


def test_district_with_a_single_incident_suppresses_a_zero_next_to_it():
    table = np.array([[0, 1, 0, 0], [5, 7, 9, 6], [8, 4, 6, 10], [3, 9, 5, 7]])
    result = suppress(table)
    expected = np.zeros((4, 4), dtype=bool)
    expected[[0, 0, 2, 2], [1, 2, 1, 2]] = True
    assert (result.suppressed == expected).all()
    # Row total 1 says one of the two cells is 1, not which.
    assert result.attacker_bounds()[(0, 1)] == (0, 1)
    assert result.attacker_bounds()[(0, 2)] == (0, 1)


def test_two_ones_in_a_row_are_not_left_to_add_up_to_two():
    table = np.array([[1, 1, 9, 7], [6, 8, 5, 9], [7, 5, 8, 4]])
    naive = np.zeros(table.shape, dtype=bool)
    naive[[0, 0, 1, 1], [0, 1, 0, 1]] = True  # two suppressed cells in every line
    assert lp_bounds(table, naive)[(0, 0)] == (0, 2)  # proves the count is small
    assert lp_bounds(table, naive, at_least=1)[(0, 0)] == (1, 1)  # and reveals it to a guessing attacker
    result = suppress(table)
    assert result.suppressed[0].sum() >= 3
    assert result.attacker_bounds()[(0, 0)][1] >= 3
    low, high = result.attacker_bounds(assume_at_least=1)[(0, 0)]
    assert high > low


def test_nothing_to_hide_publishes_everything():
    result = suppress([[0, 5, 7], [3, 0, 12]])
    assert not result.suppressed.any()
    assert result.published() == [[0, 5, 7], [3, 0, 12]]
    assert result.primary_count == result.secondary_count == 0


def test_table_revealed_by_its_own_totals_is_reported():
    # Column A holds two 1s and nothing else could be suppressed to blur them for a guessing attacker.
    result = suppress([[1, 8], [1, 8]])
    assert result.suppressed.all()
    assert not result.fully_protected
    assert result.unprotected == [(0, 0), (1, 0)]
    assert all(_fully_suppressed_still_fails(result.table, cell) for cell in result.unprotected)


def test_wider_limits_protect_more_cells():
    table = [[10, 3, 7, 12], [8, 9, 6, 15], [5, 4, 11, 3], [9, 13, 3, 8]]
    assert suppress(table).primary_count == 0
    assert suppress(table, min_count=1, max_count=3).primary_count == 3


@pytest.mark.parametrize(
    ("table", "kwargs", "message"),
    [
        ([[1, 2, 3]], {}, "mindestens zwei Zeilen und zwei Spalten"),
        ([1, 2, 3], {}, "zweidimensional"),
        ([[1, -2], [3, 4]], {}, "nicht negativ"),
        ([[1, 2.5], [3, 4]], {}, "ganze Zahlen"),
        ([[1, "x"], [3, 4]], {}, "nur Zahlen"),
        ([[1, 2], [3, 4]], {"min_count": 0}, "mindestens 1"),
        ([[1, 2], [3, 4]], {"min_count": 3, "max_count": 2}, "nicht kleiner als die kleinste"),
    ],
)
def test_bad_tables_are_refused_in_german(table, kwargs, message):
    with pytest.raises(ValueError, match=message):
        suppress(table, **kwargs)


def _fully_suppressed_still_fails(table: np.ndarray, cell: tuple[int, int]) -> bool:
    everything = np.ones(table.shape, dtype=bool)
    low, high = lp_bounds(table, everything)[cell]
    required = min(3, table[cell[0]].sum(), table[:, cell[1]].sum())
    if high <= low or high < required:
        return True
    guessed = lp_bounds(table, everything, at_least=1)[cell] if not (table == 0).any() else None
    return guessed is not None and guessed[1] <= guessed[0]


def test_random_tables_cannot_be_recovered_from_the_published_figures():
    rng = np.random.default_rng(20260913)
    checked_cells = 0
    for _ in range(50):
        rows, columns = int(rng.integers(2, 6)), int(rng.integers(2, 7))
        table = rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 8, 12], size=(rows, columns))
        result = suppress(table)
        mask = result.suppressed
        # Every small count is hidden, every other published cell and every total is exact.
        assert mask[(table >= 1) & (table <= 2)].all()
        published = result.published()
        assert all(published[i][j] == table[i, j] for i, j in zip(*np.nonzero(~mask), strict=True))
        assert result.row_totals.tolist() == table.sum(axis=1).tolist()
        assert result.column_totals.tolist() == table.sum(axis=0).tolist()
        if not mask.any():
            continue
        # No line with exactly one suppressed cell (its total minus the published cells would show it).
        for counts in (mask.sum(axis=1), mask.sum(axis=0)):
            assert not (counts == 1).any()
        bounds = lp_bounds(table, mask)
        assert result.attacker_bounds() == bounds
        no_zero_hidden = not (table[mask] == 0).any()
        guessed = lp_bounds(table, mask, at_least=1) if no_zero_hidden else {}
        for cell, (low, high) in bounds.items():
            if cell in result.unprotected:
                assert _fully_suppressed_still_fails(table, cell)
                continue
            checked_cells += 1
            assert high > low, f"cell {cell} of {table.tolist()} is pinned to {low}"
            if result.reasons[cell] == REASON_PRIMARY:
                required = min(3, table[cell[0]].sum(), table[:, cell[1]].sum())
                assert high >= required, f"cell {cell} of {table.tolist()} is provably small"
                if no_zero_hidden:
                    guessed_low, guessed_high = guessed[cell]
                    assert guessed_high > guessed_low, f"guessing attacker pins {cell} of {table.tolist()}"
    assert checked_cells > 200


def test_monthly_table_of_a_city_is_protected_quickly():
    rng = np.random.default_rng(7)
    means = rng.gamma(0.8, 6, size=(1, 15)) * rng.gamma(2, 0.5, size=(12, 1))
    table = rng.poisson(means)  # 12 Stadtbezirke × 15 categories, many small counts
    result = suppress(table)
    assert result.fully_protected
    assert result.primary_count == int(((table >= 1) & (table <= 2)).sum())
    bounds = result.attacker_bounds()
    assert all(high > low for low, high in bounds.values())
    assert all(
        high >= min(3, table[cell[0]].sum(), table[:, cell[1]].sum())
        for cell, (low, high) in bounds.items()
        if result.reasons[cell] == REASON_PRIMARY
    )
