"""Crime concentration without Django: top-cell shares, Lorenz curve, Gini and generalized Gini.

Formulas and check values: ``shared/research/crime_analysis.md`` §4 (Weisburd's law of crime
concentration; Bernasco & Steenbeek 2017 for the generalized Gini of sparse counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TOP_PERCENTAGES = (1, 5, 10)
MAX_LORENZ_POINTS = 200


@dataclass(frozen=True)
class Concentration:
    """How strongly incidents concentrate on few cells (grid cells, H3 cells or street segments).

    * ``top_share[p]``: share of all incidents in the p % of cells with the most incidents,
      p in 1, 5, 10. "p % of cells" means ``ceil(p/100 · cells)`` cells and at least one, so the
      share is never computed on fewer cells than asked for; with few cells this is more than p %
      (``top_cells[p]`` says how many cells were used; with 10 cells the top 1 % is 1 cell).
    * ``cells_for_half`` / ``cells_for_quarter``: smallest share of cells (taken from the top)
      holding at least 50 % / 25 % of the incidents (Weisburd: 2–6 % / 0.4–1.6 % of street segments).
    * ``lorenz_cells`` / ``lorenz_incidents``: the Lorenz curve, cells sorted ascending by count;
      cumulative share of cells against cumulative share of incidents, from (0, 0) to (1, 1), at
      most 200 points for plotting (evenly spaced over the cells, ends always included).
    * ``gini``: ``G = 2 Σ i·x_(i) / (N Σx) − (N + 1)/N`` over the ascending counts x_(1..N).
    * ``generalized_gini``: ``G' = 1 − (N/n)(1 − G)`` when the n incidents are fewer than the
      N cells, else G: 0 when the incidents are spread as evenly as whole incidents allow (one per
      cell), 1 − 1/N when all are in one cell (Bernasco & Steenbeek 2017).
    """

    cells: int
    incidents: float
    top_share: dict[int, float]
    top_cells: dict[int, int]
    cells_for_half: float
    cells_for_quarter: float
    lorenz_cells: tuple[float, ...]
    lorenz_incidents: tuple[float, ...]
    gini: float
    generalized_gini: float


def _counts(counts: Any) -> np.ndarray:
    values = np.asarray(counts, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("Es gibt keine Zellen, über die die Konzentration berechnet werden könnte.")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("Die Anzahlen müssen endliche Zahlen größer oder gleich 0 sein.")
    if values.sum() <= 0:
        raise ValueError(
            "Im gewählten Zeitraum gibt es keine Vorfälle; die Konzentration ist nicht bestimmbar."
        )
    return values


def gini(counts: Any) -> float:
    """Gini coefficient of non-negative counts (0 = even, 1 − 1/N = all in one of N cells)."""
    values = np.sort(_counts(counts))
    cells = values.size
    ranks = np.arange(1, cells + 1)
    return float(2.0 * np.dot(ranks, values) / (cells * values.sum()) - (cells + 1) / cells)


def generalized_gini(counts: Any) -> float:
    """Bernasco & Steenbeek's generalized Gini for sparse counts (fewer incidents than cells)."""
    values = _counts(counts)
    cells, incidents = values.size, float(values.sum())
    plain = gini(values)
    if incidents >= cells:
        return plain
    return 1.0 - (cells / incidents) * (1.0 - plain)


def _share_of_cells_for(descending_cumulative: np.ndarray, total: float, share: float) -> float:
    """Smallest fraction of cells (from the top) whose incidents reach ``share`` of the total."""
    # A relative tolerance keeps exact hits (4 of 8 incidents = 50 %) from failing on round-off.
    needed = share * total * (1 - 1e-12)
    cells_needed = int(np.searchsorted(descending_cumulative, needed, side="left")) + 1
    return cells_needed / descending_cumulative.size


def _lorenz(ascending: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    cells = ascending.size
    cumulative = np.concatenate([[0.0], np.cumsum(ascending)])
    cumulative /= cumulative[-1]
    indices = np.unique(np.rint(np.linspace(0, cells, min(cells + 1, MAX_LORENZ_POINTS))).astype(int))
    cell_share = indices / cells
    incident_share = cumulative[indices]
    incident_share[-1] = 1.0
    return tuple(float(v) for v in cell_share), tuple(float(v) for v in incident_share)


def concentration(counts: Any) -> Concentration:
    """Concentration of the incident counts per cell (all cells of the area, including empty ones).

    Raises ``ValueError`` (German message) for no cells, negative or invalid counts, or when there
    are no incidents at all: shares and Gini are undefined then, and the view says so instead of
    showing a number.
    """
    values = _counts(counts)
    cells = values.size
    total = float(values.sum())
    descending = np.sort(values)[::-1]
    descending_cumulative = np.cumsum(descending)
    # Integer ceiling: p/100 · cells in floats gives 5.000000000000001 for 5 % of 100 cells.
    top_cells = {p: max(1, -(-p * cells // 100)) for p in TOP_PERCENTAGES}
    top_share = {p: float(descending_cumulative[k - 1] / total) for p, k in top_cells.items()}
    lorenz_cells, lorenz_incidents = _lorenz(descending[::-1])
    return Concentration(
        cells=cells,
        incidents=total,
        top_share=top_share,
        top_cells=top_cells,
        cells_for_half=_share_of_cells_for(descending_cumulative, total, 0.5),
        cells_for_quarter=_share_of_cells_for(descending_cumulative, total, 0.25),
        lorenz_cells=lorenz_cells,
        lorenz_incidents=lorenz_incidents,
        gini=gini(values),
        generalized_gini=generalized_gini(values),
    )
