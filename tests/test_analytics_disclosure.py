"""Open-data small-count protection: primary and secondary suppression cannot be undone from totals.

The attackers are an independent linear programme (``scipy.optimize.linprog``): the smallest and largest
value of every suppressed cell over all tables that match the publication, once with suppressed cells
≥ 0 (plain attacker) and once with the guess that none of them is zero (≥ 1, guessing attacker).
"""

import numpy as np
import pytest
from scipy.optimize import linprog

from lagebild.analytics.disclosure import REASON_PRIMARY, REASON_SECONDARY, suppress
from lagebild.analytics.opendata import protect

Cell = tuple[int, int]


def groups(mask: np.ndarray) -> dict[Cell, int]:
    """Number of the group of suppressed cells linked through shared rows and columns, per cell."""
    cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]
    group: dict[Cell, int] = {}
    for start in cells:
        if start in group:
            continue
        group[start] = len(set(group.values()))
        stack = [start]
        while stack:
            row, column = stack.pop()
            for other in cells:
                if other not in group and (other[0] == row or other[1] == column):
                    group[other] = group[start]
                    stack.append(other)
    return group


def lp_bounds(table: np.ndarray, mask: np.ndarray, at_least: int = 0) -> dict[Cell, tuple[int, int] | None]:
    """Min and max of every suppressed cell over all tables matching the publication (independent LP).

    Published: the unsuppressed cells and all row and column totals; suppressed cells are ≥ 0. With
    ``at_least=1`` the attacker guesses that the suppressed cells are ≥ 1, for each group of linked
    suppressed cells on its own (the groups share no row or column); None for the cells of a group whose
    guess the published figures contradict.
    """
    cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]
    group = groups(mask)
    rows, columns = table.shape
    equations, right_sides = [], []
    for row in range(rows):
        equations.append([1.0 if cell[0] == row else 0.0 for cell in cells])
        right_sides.append(float(table[row, mask[row]].sum()))
    for column in range(columns):
        equations.append([1.0 if cell[1] == column else 0.0 for cell in cells])
        right_sides.append(float(table[mask[:, column], column].sum()))
    result: dict[Cell, tuple[int, int] | None] = {}
    for index, cell in enumerate(cells):
        objective = np.zeros(len(cells))
        objective[index] = 1.0
        bounds = [(at_least if group[other] == group[cell] else 0, None) for other in cells]
        options = {"A_eq": equations, "b_eq": right_sides, "bounds": bounds}
        low = linprog(objective, method="highs", **options)
        high = linprog(-objective, method="highs", **options)
        result[cell] = None if low.status != 0 or high.status != 0 else (round(low.fun), round(-high.fun))
    return result


def broken_promises(
    table: np.ndarray, mask: np.ndarray, plain: dict | None = None, guessed: dict | None = None
) -> dict[Cell, list[str]]:
    """What the documented guarantee promises for each suppressed cell and the LP attackers refute.

    Every suppressed cell: not pinned for the plain attacker. A small count, for both attackers (the
    guessing one where the publication does not contradict his guess): the range reaches 3, so it is not
    shown to be small, and holds at least 3 values; less where the cell's row or column total is below.
    """
    plain = lp_bounds(table, mask) if plain is None else plain
    guessed = lp_bounds(table, mask, at_least=1) if guessed is None else guessed
    broken: dict[Cell, list[str]] = {}
    for cell, bounds in plain.items():
        assert bounds is not None, "the true table always matches the publication"
        primary = 1 <= table[cell] <= 2
        line_total = int(min(table[cell[0]].sum(), table[:, cell[1]].sum()))
        broken[cell] = [f"plain: pinned to {bounds[0]}"] if bounds[1] <= bounds[0] else []
        for attacker, interval in (("plain", bounds), ("guessing", guessed[cell])):
            if not primary or interval is None:
                continue
            low, high = interval
            if high < min(3, line_total):
                broken[cell].append(f"{attacker}: shown to be {low}–{high}")
            if high - low < min(2, line_total):
                broken[cell].append(f"{attacker}: only {low}–{high} possible")
    return broken


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


def test_small_counts_are_not_left_to_a_guess_that_suppressed_cells_are_never_zero():
    table = np.array([[2, 7, 9], [1, 5, 4], [7, 12, 5]])
    rectangle = np.zeros(table.shape, dtype=bool)
    rectangle[[0, 0, 1, 1], [0, 1, 0, 1]] = True
    # Column A: the two hidden cells add up to 10 − 7 = 3. Enough for the plain attacker, but whoever
    # guesses that neither is zero reads both as 1 or 2.
    assert lp_bounds(table, rectangle)[(0, 0)] == (0, 3)
    assert lp_bounds(table, rectangle, at_least=1)[(0, 0)] == (1, 2)
    result = suppress(table)
    assert result.fully_protected
    assert broken_promises(table, result.suppressed) == {cell: [] for cell in result.attacker_bounds()}
    for cell in [(0, 0), (1, 0)]:
        assert result.attacker_bounds(assume_at_least=1)[cell][1] >= 3


def test_two_by_two_table_whose_totals_give_its_small_counts_away_publishes_only_the_grand_total():
    table = np.array([[2, 9], [1, 2]])
    result = suppress(table)
    assert result.suppressed.all()  # the only pattern that hides the three small counts
    # Plain attacker: (I, A) lies between 0 and 3. Guessing attacker: column A adds up to 3, so 1 or 2.
    assert lp_bounds(table, result.suppressed)[(0, 0)] == (0, 3)
    assert lp_bounds(table, result.suppressed, at_least=1)[(0, 0)] == (1, 2)
    assert result.attacker_bounds(assume_at_least=1)[(0, 0)] == (1, 2)
    assert not result.fully_protected
    assert result.unprotected == [(0, 0), (1, 0), (1, 1)]
    broken = broken_promises(table, result.suppressed)
    assert [cell for cell, promises in broken.items() if promises] == result.unprotected
    publication = protect(table)
    assert publication.breakdown_withheld
    assert publication.suppressed.all()


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
    broken = broken_promises(result.table, result.suppressed)
    assert [cell for cell, promises in broken.items() if promises] == result.unprotected


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


def test_random_tables_cannot_be_recovered_from_the_published_figures():
    rng = np.random.default_rng(20260913)
    checked_cells = guessed_cells = 0
    for _ in range(80):
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
        if not result.fully_protected:
            # Only once everything is suppressed; each listed cell really is exposed, the rest is not.
            assert mask.all()
            broken = broken_promises(table, mask)
            assert [cell for cell, promises in broken.items() if promises] == result.unprotected
            continue
        # No line with exactly one suppressed cell (its total minus the published cells would show it).
        for counts in (mask.sum(axis=1), mask.sum(axis=0)):
            assert not (counts == 1).any()
        plain, guessed = lp_bounds(table, mask), lp_bounds(table, mask, at_least=1)
        assert result.attacker_bounds() == plain
        assert result.attacker_bounds(assume_at_least=1) == guessed
        for cell, broken in broken_promises(table, mask, plain, guessed).items():
            assert broken == [], f"cell {cell} of {table.tolist()}"
            checked_cells += 1
            guessed_cells += result.reasons[cell] == REASON_PRIMARY and guessed[cell] is not None
    assert checked_cells > 500
    assert guessed_cells > 180  # small counts for which the guess is consistent with the publication


def test_monthly_table_of_a_city_is_protected_quickly():
    rng = np.random.default_rng(7)
    means = rng.gamma(0.8, 6, size=(1, 15)) * rng.gamma(2, 0.5, size=(12, 1))
    table = rng.poisson(means)  # 12 Stadtbezirke × 15 categories, many small counts
    result = suppress(table)
    assert result.fully_protected
    assert result.primary_count == int(((table >= 1) & (table <= 2)).sum())
    bounds = result.attacker_bounds()
    assert all(high > low for low, high in bounds.values())
    for at_least in (0, 1):
        bounds = result.attacker_bounds(assume_at_least=at_least)
        assert bounds == lp_bounds(table, result.suppressed, at_least)
        for cell, interval in bounds.items():
            if result.reasons[cell] != REASON_PRIMARY or interval is None:
                continue
            low, high = interval
            line_total = min(table[cell[0]].sum(), table[:, cell[1]].sum())
            assert high >= min(3, line_total)
            assert high - low >= min(2, line_total)
