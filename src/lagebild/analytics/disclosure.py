"""Small-count protection for published count tables (pure, no Django).

The open-data table of a month has districts as rows and categories as columns. Every cell is
published except the suppressed ones; row, column and grand totals are always published exactly.

Primary suppression: cells with ``min_count ≤ count ≤ max_count`` (by default 1 and 2).

Secondary suppression makes sure the published figures do not give the suppressed values away. Two
attackers are considered. Both know every published cell and total and that suppressed cells are whole
numbers, but not which cells are primary.

* The plain attacker knows only that suppressed cells are not negative.
* The guessing attacker assumes that no suppressed cell is zero (at least 1). Because zeros are
  suppressed only as a last resort, that guess is usually right. He applies it to each group of
  suppressed cells linked through shared rows and columns (groups share no line, so each can be
  solved on its own). Where the published figures contradict the guess for a group, he learns that
  the group hides a zero and knows no more than the plain attacker.

For a suppressed cell an attacker can work out an interval [lo, hi] of possible values: the minimum and
maximum of that cell over all tables consistent with the publication and his assumption (a linear
programme; in a two-way table it is solved exactly as a max-flow around cycles of suppressed cells,
after a max-flow that finds a table satisfying the guess). A suppressed cell counts as protected when

1. its value is not pinned for the plain attacker: hi > lo;
2. for a primary cell and both attackers, the interval reaches a publishable count: hi ≥ max_count + 1
   (3 by default), so the publication never proves the cell is a small count;
3. for a primary cell and both attackers, the interval holds at least max_count + 1 values:
   hi − lo ≥ max_count (at least 3 possible values by default).

Where the cell's own row or column total is below these targets, the published total says as much
anyway; rules 2 and 3 then ask for that total instead. The guessing attacker's interval starts at 1, so
for him such a cell is protected only where the guess is contradicted: he would read two suppressed 1s
in a row with total 2 as 1 each.

Consequences: every row and column that contains a suppressed cell contains at least two, and every
suppressed cell lies on a cycle of suppressed cells (no bridge between blocks).

How secondary cells are chosen (a heuristic, as exact minimal suppression is NP-hard):

1. For each unprotected cell (primaries first, in table order), try the rectangles it spans with any
   other row and column (the three other corners), cheapest first: fewest newly suppressed zeros, then
   the smallest sum of newly suppressed counts, then fewest new cells. The first rectangle that
   protects the cell (together with what is already suppressed) without leaving one of its new cells
   pinned is taken. Zeros come last because a suppressed zero adds no room to move (a cycle cannot
   lower a cell through it) and a zero known to be zero hides nothing. They are used where a line has
   no other cell, e.g. a category with a single incident in the month, or where nothing else helps.
2. If no rectangle helps, a single unsuppressed cell is added (one that protects the cell if any; then
   one in the same row or column; non-zero before zero; smallest count) and the search repeats.
3. Suppressing more never breaks the plain attacker's rules (the set of consistent tables only
   grows), so they are checked once per cell. The guessing attacker's can break again (a newly
   suppressed zero removes the tables in which it is zero; a newly suppressed count can make a
   contradicted guess consistent), so they are checked again for every primary cell after every
   change. Every step suppresses at least one more cell, so the loop ends.
4. Finally, secondary cells are published again, largest count first, wherever every suppressed cell
   stays protected without them: cells taken early are often made redundant by rectangles taken later.
5. If a cell is still unprotected once everything is suppressed, it is listed in ``unprotected`` and
   the open-data page publishes only the grand total (``opendata.protect``). Usually no suppression
   pattern can protect it, e.g. in ``[[2, 9], [1, 2]]`` the totals 3 of the first column and the second
   row tell the guessing attacker that all three small cells are 1 or 2. As the guessing attacker's
   rules can break when more is suppressed, a smaller pattern could sometimes have protected the cell;
   the search does not look for one.

Only this table and its own totals are considered: publishing further aggregates of the same records
(e.g. yearly sums per cell) alongside needs its own protection.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

REASON_PRIMARY = "primary"
REASON_SECONDARY = "secondary"
REASON_LABELS_DE = {REASON_PRIMARY: "primär (kleine Fallzahl)", REASON_SECONDARY: "sekundär (Schutz)"}

Cell = tuple[int, int]

_MAX_TOTAL = 2**31 - 2


@dataclass(frozen=True)
class SuppressionResult:
    table: np.ndarray  # the original counts (int64), rows × columns
    suppressed: np.ndarray  # bool mask of suppressed cells
    reasons: np.ndarray  # "" / "primary" / "secondary" per cell
    row_totals: np.ndarray
    column_totals: np.ndarray
    grand_total: int
    min_count: int
    max_count: int
    unprotected: list[Cell] = field(default_factory=list)  # cells no suppression pattern can protect

    @property
    def fully_protected(self) -> bool:
        return not self.unprotected

    @property
    def primary_count(self) -> int:
        return int(np.count_nonzero(self.reasons == REASON_PRIMARY))

    @property
    def secondary_count(self) -> int:
        return int(np.count_nonzero(self.reasons == REASON_SECONDARY))

    def attacker_bounds(self, assume_at_least: int = 0) -> dict[Cell, tuple[int, int] | None]:
        """Interval of possible values per suppressed cell, as an attacker can derive it.

        ``assume_at_least=1`` models an attacker who guesses that no suppressed cell is zero. He applies
        the guess to each group of suppressed cells linked through shared rows and columns; None for the
        cells of a group where the published figures contradict the guess.
        """
        state = _Table(self.table, self.min_count, self.max_count)
        return {
            (int(i), int(j)): state.bounds(self.suppressed, (int(i), int(j)), floor=assume_at_least)
            for i, j in zip(*np.nonzero(self.suppressed), strict=True)
        }

    def published(self) -> list[list[int | None]]:
        """The table as published: suppressed cells are None."""
        return [
            [None if hidden else int(value) for value, hidden in zip(row, mask, strict=True)]
            for row, mask in zip(self.table, self.suppressed, strict=True)
        ]


def _validated(table: Sequence[Sequence[int]] | np.ndarray) -> np.ndarray:
    try:
        values = np.asarray(table, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("Die Tabelle darf nur Zahlen enthalten.") from exc
    if values.ndim != 2:
        raise ValueError("Die Tabelle muss zweidimensional sein (Zeilen × Spalten).")
    if values.shape[0] < 2 or values.shape[1] < 2:
        raise ValueError(
            "Die Tabelle braucht mindestens zwei Zeilen und zwei Spalten; "
            "sonst verraten die Summen jede Zelle."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("Die Tabelle enthält ungültige Werte.")
    if np.any(values < 0):
        raise ValueError("Fallzahlen dürfen nicht negativ sein.")
    if np.any(values != np.round(values)):
        raise ValueError("Fallzahlen müssen ganze Zahlen sein.")
    if values.sum() > _MAX_TOTAL:
        raise ValueError("Die Fallzahlen der Tabelle sind zu groß.")
    return values.astype(np.int64)


def _max_flow(residual: dict[int, dict[int, int]], source: int, sink: int, limit: int | None = None) -> int:
    """Edmonds–Karp on a small graph, stopping once ``limit`` is reached; ``residual`` is modified."""
    flow = 0
    while limit is None or flow < limit:
        parent: dict[int, int] = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            node = queue.popleft()
            for neighbour, capacity in residual[node].items():
                if capacity > 0 and neighbour not in parent:
                    parent[neighbour] = node
                    queue.append(neighbour)
        if sink not in parent:
            return flow
        bottleneck = None
        node = sink
        while node != source:
            capacity = residual[parent[node]][node]
            bottleneck = capacity if bottleneck is None else min(bottleneck, capacity)
            node = parent[node]
        assert bottleneck is not None
        if limit is not None:
            bottleneck = min(bottleneck, limit - flow)
        node = sink
        while node != source:
            previous = parent[node]
            residual[previous][node] -= bottleneck
            residual[node][previous] = residual[node].get(previous, 0) + bottleneck
            node = previous
        flow += bottleneck
    return flow


class _Table:
    """Counts plus the machinery to compute the attacker's interval of a suppressed cell."""

    def __init__(self, values: np.ndarray, min_count: int, max_count: int) -> None:
        self.values = values
        self.rows, self.columns = values.shape
        self.row_totals = values.sum(axis=1)
        self.column_totals = values.sum(axis=0)
        self.unbounded = int(values.sum()) + 1
        self.primary = (values >= min_count) & (values <= max_count)
        self.upper_target = max_count + 1
        self.width_target = max_count

    def _residual(
        self, suppressed: np.ndarray, without: Cell, floor: int, values: np.ndarray
    ) -> dict[int, dict[int, int]]:
        # Nodes: rows 0..R-1, columns R..R+C-1. Raising cell (i, j) is an arc row i → column j without
        # limit; lowering it is an arc column j → row i limited by how far it is above ``floor``.
        residual: dict[int, dict[int, int]] = {node: {} for node in range(self.rows + self.columns)}
        rows, columns = np.nonzero(suppressed)
        rooms = values[rows, columns] - floor
        for i, j, room in zip(rows.tolist(), columns.tolist(), rooms.tolist(), strict=True):
            if (i, j) == without:
                continue
            column_node = self.rows + j
            residual[i][column_node] = self.unbounded
            if room > 0:
                residual[column_node][i] = room
        return residual

    def _room(
        self,
        suppressed: np.ndarray,
        cell: Cell,
        *,
        up: bool,
        floor: int = 0,
        limit: int | None = None,
        values: np.ndarray | None = None,
    ) -> int:
        """How far ``cell`` can move up (or down) in tables consistent with the publication.

        ``values`` is a table consistent with the publication in which every suppressed cell is at
        least ``floor`` (by default the true table). Raising the cell must be balanced around a cycle:
        lower another cell in its column, raise one in that row, ..., lower one in its own row — a flow
        from its column node to its row node. Lowering is the reverse flow, and the cell itself cannot
        go below ``floor``.
        """
        if values is None:
            values = self.values
        row, column = cell
        value = int(values[row, column])
        column_node = self.rows + column
        if up:
            return _max_flow(self._residual(suppressed, cell, floor, values), column_node, row, limit)
        if value <= floor:
            return 0
        cap = value - floor if limit is None else min(limit, value - floor)
        return _max_flow(self._residual(suppressed, cell, floor, values), row, column_node, cap)

    def _component(self, suppressed: np.ndarray, cell: Cell) -> np.ndarray:
        """Mask of the suppressed cells linked to ``cell`` through shared rows and columns (with itself)."""
        rows = np.zeros(self.rows, dtype=bool)
        rows[cell[0]] = True
        columns = np.zeros(self.columns, dtype=bool)
        while True:
            new_columns = suppressed[rows].any(axis=0)
            new_rows = suppressed[:, new_columns].any(axis=1) | rows
            if (new_rows == rows).all() and (new_columns == columns).all():
                return suppressed & rows[:, None] & columns[None, :]
            rows, columns = new_rows, new_columns

    def consistent_table(self, suppressed: np.ndarray, cell: Cell, floor: int) -> np.ndarray | None:
        """A table consistent with the publication in which the suppressed cells linked to ``cell`` are
        all at least ``floor``; None if the published figures rule that out.

        Groups of linked suppressed cells share no row or column, so an attacker can apply the guess to
        each group separately: the other groups keep their true values.
        """
        component = self._component(suppressed, cell)
        if (self.values[component] >= floor).all():
            return self.values
        # Transportation problem on the shifted cells y = x − floor ≥ 0 with the published line sums.
        shifted = np.where(component, self.values - floor, 0)
        row_sums, column_sums = shifted.sum(axis=1), shifted.sum(axis=0)
        if (row_sums < 0).any() or (column_sums < 0).any():
            return None
        source, sink = self.rows + self.columns, self.rows + self.columns + 1
        residual: dict[int, dict[int, int]] = {node: {} for node in range(sink + 1)}
        cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(component), strict=True)]
        for i, j in cells:
            residual[i][self.rows + j] = self.unbounded
        for i in np.nonzero(component.any(axis=1))[0]:
            residual[source][int(i)] = int(row_sums[i])
        for j in np.nonzero(component.any(axis=0))[0]:
            residual[self.rows + int(j)][sink] = int(column_sums[j])
        if _max_flow(residual, source, sink) < int(row_sums.sum()):
            return None
        table = self.values.copy()
        for i, j in cells:
            table[i, j] = floor + residual[self.rows + j].get(i, 0)  # the flow on arc row i → column j
        return table

    def bounds(self, suppressed: np.ndarray, cell: Cell, floor: int = 0) -> tuple[int, int] | None:
        """Smallest and largest value of ``cell`` consistent with the publication.

        ``floor`` is what the attacker assumes every suppressed cell to be at least (0, or 1 for an
        attacker who guesses that zeros are never suppressed). None where the published figures
        contradict that guess for the cell's group of linked suppressed cells.
        """
        values = self.consistent_table(suppressed, cell, floor) if floor > 0 else self.values
        if values is None:
            return None
        value = int(values[cell])
        up = self._room(suppressed, cell, up=True, floor=floor, values=values)
        down = self._room(suppressed, cell, up=False, floor=floor, values=values)
        return value - down, value + up

    def _movable(self, suppressed: np.ndarray, cell: Cell, floor: int) -> bool:
        return (
            self._room(suppressed, cell, up=True, floor=floor, limit=1) > 0
            or self._room(suppressed, cell, up=False, floor=floor, limit=1) > 0
        )

    def required_upper(self, cell: Cell) -> int:
        row, column = cell
        return int(min(self.upper_target, self.row_totals[row], self.column_totals[column]))

    def required_width(self, cell: Cell) -> int:
        row, column = cell
        return int(min(self.width_target, self.row_totals[row], self.column_totals[column]))

    def _wide_enough(self, suppressed: np.ndarray, cell: Cell, floor: int, values: np.ndarray) -> bool:
        """Rules 2 and 3 for one attacker: hi ≥ required_upper and hi − lo ≥ required_width."""
        value = int(values[cell])
        needed_up = max(self.required_upper(cell) - value, 0)
        width = self.required_width(cell)
        up = self._room(suppressed, cell, up=True, floor=floor, limit=max(needed_up, width), values=values)
        if up < needed_up:
            return False
        if up >= width:
            return True
        down = self._room(suppressed, cell, up=False, floor=floor, limit=width - up, values=values)
        return up + down >= width

    def protected_plain(self, suppressed: np.ndarray, cell: Cell) -> bool:
        """The rules for the attacker who only knows that counts are not negative.

        Suppressing more cells keeps this true (the set of consistent tables only grows).
        """
        if not self.primary[cell]:
            return self._movable(suppressed, cell, floor=0)
        return self._wide_enough(suppressed, cell, 0, self.values)

    def protected_guessing(self, suppressed: np.ndarray, cell: Cell) -> bool:
        """The rules for a primary cell and the attacker who guesses that no suppressed cell is zero.

        Unlike the plain rules this can turn false again when more is suppressed (a suppressed zero
        excludes the tables in which it is zero; a suppressed count can make a contradicted guess
        consistent again), so it is checked again after every change.
        """
        if not self.primary[cell]:
            return True
        values = self.consistent_table(suppressed, cell, 1)
        if values is None:
            return True  # the guess is contradicted: the attacker learns that a zero is hidden
        return self._wide_enough(suppressed, cell, 1, values)

    def protected(self, suppressed: np.ndarray, cell: Cell) -> bool:
        return self.protected_plain(suppressed, cell) and self.protected_guessing(suppressed, cell)

    def pinned(self, suppressed: np.ndarray, cell: Cell) -> bool:
        return not self._movable(suppressed, cell, floor=0)


def _rectangle_choices(table: _Table, suppressed: np.ndarray, cell: Cell) -> list[list[Cell]]:
    row, column = cell
    options: list[tuple[tuple[int, int, int, int, int], list[Cell]]] = []
    for other_row in range(table.rows):
        if other_row == row:
            continue
        for other_column in range(table.columns):
            if other_column == column:
                continue
            corners = [(row, other_column), (other_row, column), (other_row, other_column)]
            new_cells = [corner for corner in corners if not suppressed[corner]]
            if not new_cells:
                continue
            new_values = [int(table.values[corner]) for corner in new_cells]
            zeros = sum(1 for value in new_values if value == 0)
            key = (zeros, sum(new_values), len(new_cells), other_row, other_column)
            options.append((key, new_cells))
    options.sort(key=lambda option: option[0])
    return [new_cells for _, new_cells in options]


def _protect_with_rectangle(table: _Table, suppressed: np.ndarray, cell: Cell) -> np.ndarray | None:
    for new_cells in _rectangle_choices(table, suppressed, cell):
        trial = suppressed.copy()
        for new_cell in new_cells:
            trial[new_cell] = True
        if not table.protected(trial, cell):
            continue
        if any(table.pinned(trial, new_cell) for new_cell in new_cells):
            continue
        return trial
    return None


def _add_single_cell(table: _Table, suppressed: np.ndarray, cell: Cell) -> np.ndarray | None:
    row, column = cell
    best: tuple[tuple[int, int, int, int, int, int], Cell] | None = None
    for candidate in zip(*np.nonzero(~suppressed), strict=True):
        candidate_cell = (int(candidate[0]), int(candidate[1]))
        trial = suppressed.copy()
        trial[candidate_cell] = True
        value = int(table.values[candidate_cell])
        in_line = candidate_cell[0] == row or candidate_cell[1] == column
        key = (
            0 if table.protected(trial, cell) else 1,
            0 if in_line else 1,
            1 if value == 0 else 0,
            value,
            *candidate_cell,
        )
        if best is None or key < best[0]:
            best = (key, candidate_cell)
    if best is None:
        return None
    result = suppressed.copy()
    result[best[1]] = True
    return result


def _all_protected(table: _Table, suppressed: np.ndarray) -> bool:
    return all(
        table.protected(suppressed, (int(i), int(j))) for i, j in zip(*np.nonzero(suppressed), strict=True)
    )


def _release_redundant(table: _Table, suppressed: np.ndarray) -> np.ndarray:
    """Publish secondary cells again, largest count first, where everything stays protected without them.

    Cells taken early for one cell are often made redundant by rectangles taken later for another.
    """
    changed = True
    while changed:
        changed = False
        candidates = [(int(i), int(j)) for i, j in zip(*np.nonzero(suppressed & ~table.primary), strict=True)]
        candidates.sort(key=lambda cell: (-int(table.values[cell]), cell))
        for cell in candidates:
            trial = suppressed.copy()
            trial[cell] = False
            if _all_protected(table, trial):
                suppressed = trial
                changed = True
    return suppressed


def suppress(
    table: Sequence[Sequence[int]] | np.ndarray, min_count: int = 1, max_count: int = 2
) -> SuppressionResult:
    """Primary and secondary suppression of a rows × columns count table (see the module docstring)."""
    values = _validated(table)
    if int(min_count) != min_count or int(max_count) != max_count:
        raise ValueError("Die Grenzen der Geheimhaltung müssen ganze Zahlen sein.")
    if min_count < 1:
        raise ValueError("Die kleinste geschützte Fallzahl muss mindestens 1 sein (Nullen sind keine Fälle).")
    if max_count < min_count:
        raise ValueError("Die größte geschützte Fallzahl darf nicht kleiner als die kleinste sein.")
    state = _Table(values, int(min_count), int(max_count))
    suppressed = state.primary.copy()
    unprotected: set[Cell] = set()
    # Suppressing more never breaks the plain rules, so those results are kept; the guessing attacker's
    # rules are checked again after every change.
    protected_plain: set[Cell] = set()

    while True:
        failing: list[Cell] = []
        for i, j in zip(*np.nonzero(suppressed), strict=True):
            cell = (int(i), int(j))
            if cell in unprotected:
                continue
            if cell not in protected_plain:
                if not state.protected_plain(suppressed, cell):
                    failing.append(cell)
                    continue
                protected_plain.add(cell)
            if not state.protected_guessing(suppressed, cell):
                failing.append(cell)
        if not failing:
            break
        # Primary cells first: their rectangles often protect the secondary cells as well.
        failing.sort(key=lambda cell: (0 if state.primary[cell] else 1, cell))
        cell = failing[0]
        improved = _protect_with_rectangle(state, suppressed, cell)
        if improved is None:
            improved = _add_single_cell(state, suppressed, cell)
        if improved is None:
            unprotected.update(failing)  # everything is suppressed already
            continue
        suppressed = improved

    if not unprotected:
        suppressed = _release_redundant(state, suppressed)
    reasons = np.full(values.shape, "", dtype=object)
    reasons[suppressed] = REASON_SECONDARY
    reasons[state.primary] = REASON_PRIMARY
    return SuppressionResult(
        table=values,
        suppressed=suppressed,
        reasons=reasons,
        row_totals=state.row_totals,
        column_totals=state.column_totals,
        grand_total=int(values.sum()),
        min_count=int(min_count),
        max_count=int(max_count),
        unprotected=sorted(unprotected),
    )
