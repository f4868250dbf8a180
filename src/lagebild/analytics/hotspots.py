"""Hotspot analytics without Django: quartic kernel density and Getis-Ord Gi* on a metric grid.

All coordinates, distances, bandwidths and cell sizes are metres in ETRS89 / UTM zone 32N
(EPSG:25832). Formulas and check values: ``shared/research/crime_analysis.md`` §2.2 (kernel
density, ArcGIS/CrimeStat quartic form) and §2.3 (Gi*, identical to PySAL esda's
``G_Local(star=True, transform="B")``).

Raster orientation: a value array has shape ``(nrows, ncols)``; ``values[row, col]`` belongs to
the cell whose lower-left corner is ``(x0 + col * cell_size, y0 + row * cell_size)``, so row 0
is the southernmost row (mathematical orientation, y grows with the row index). Exports to
north-up formats (ESRI ASCII grid) flip the rows themselves.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from scipy import fft as sp_fft
from scipy import ndimage, stats
from scipy.spatial import cKDTree

CRS_EPSG = 25832
SQUARE_METRES_PER_KM2 = 1_000_000.0
DEFAULT_CELLS_ON_SHORT_SIDE = 250  # ArcGIS: default cell size = shorter extent side / 250
MAX_GRID_CELLS = 4_000_000  # 2000 × 2000 cells, 32 MB per float surface
# Gi* distance bands are inclusive (d ≤ band, like libpysal's DistanceBand); the relative
# tolerance keeps neighbours exactly on the band (rook neighbours at band = cell size) in the set
# despite rounding of the cell-centre coordinates.
BAND_TOLERANCE = 1e-9
# FFT convolution leaves round-off of about 1e-16 × peak in cells the kernel never reaches;
# anything below this fraction of the peak is set to exactly zero so empty cells stay empty.
FFT_NOISE_FLOOR = 1e-10
# "auto" picks the exact method while points × cells within the radius stays below this.
EXACT_WORK_LIMIT = 4_000_000
# The binned method bins on a finer grid when the radius spans few output cells: see
# oversample_for. The fine grid of one pass is limited to MAX_FINE_CELLS (72 MB per array);
# larger grids are computed in bands of rows, at least MIN_BAND_ROWS high.
FINE_CELLS_PER_RADIUS = 23
MAX_OVERSAMPLE = 9
MAX_FINE_CELLS = 9_000_000
MIN_BAND_ROWS = 16
# Below this radius (in output cells) the binned kernel keeps each point's weight whole instead of
# following the exact formula, which loses weight between the cell centres there.
NORMALISE_BELOW_RADIUS_CELLS = 2.0

KdeMethod = Literal["auto", "exact", "binned"]
ToWgs84 = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _coordinates(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xs = np.asarray(x, dtype=float).ravel()
    ys = np.asarray(y, dtype=float).ravel()
    if xs.shape != ys.shape:
        raise ValueError("Es gibt unterschiedlich viele x- und y-Koordinaten.")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValueError("Die Koordinaten enthalten ungültige Werte (leer, unendlich oder keine Zahl).")
    return xs, ys


def _point_weights(weights: Any, count: int) -> np.ndarray:
    if weights is None:
        return np.ones(count)
    values = np.asarray(weights, dtype=float).ravel()
    if values.shape != (count,):
        raise ValueError("Es muss genau ein Gewicht je Punkt angegeben werden.")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("Die Gewichte müssen endliche Zahlen größer oder gleich 0 sein.")
    return values


def _positive_length(value: float, label: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label} muss eine Zahl sein.") from exc
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{label} muss größer als 0 Meter sein.")
    return number


def _german_int(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _alpha(alpha: float) -> float:
    number = float(alpha)
    if not (0 < number < 1):
        raise ValueError("Das Signifikanzniveau muss zwischen 0 und 1 liegen (z. B. 0,05).")
    return number


# ---------------------------------------------------------------------------------------------
# Bandwidth and grid
# ---------------------------------------------------------------------------------------------


def _weighted_lower_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Smallest value at which the cumulative weight reaches half of the total weight.

    For an even number of equally weighted values this is the lower of the two middle values
    (not their mean); that convention reproduces the research notes' check value (115.78 m).
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = int(np.searchsorted(cumulative, cumulative[-1] / 2, side="left"))
    return float(values[order][index])


def default_bandwidth(x: Any, y: Any, weights: Any = None) -> float:
    """ArcGIS (≥ 10.2.1) default search radius in metres.

    ``0.9 · min(SD, √(1/ln 2) · Dm) · n^(−0.2)`` with SD the standard distance and Dm the median
    distance from the (weighted) mean centre, n the number of points or the sum of the weights.
    The median is the weighted lower median (see :func:`_weighted_lower_median`).
    """
    xs, ys = _coordinates(x, y)
    point_weights = _point_weights(weights, len(xs))
    total = float(point_weights.sum())
    if len(xs) < 2 or total <= 0:
        raise ValueError("Für die Standard-Bandbreite werden mindestens zwei Punkte benötigt.")
    centre_x = float(np.dot(point_weights, xs) / total)
    centre_y = float(np.dot(point_weights, ys) / total)
    distances = np.hypot(xs - centre_x, ys - centre_y)
    standard_distance = math.sqrt(float(np.dot(point_weights, distances**2)) / total)
    median_distance = _weighted_lower_median(distances, point_weights)
    radius = 0.9 * min(standard_distance, math.sqrt(1 / math.log(2)) * median_distance) * total**-0.2
    if not radius > 0:
        raise ValueError(
            "Die Punkte liegen (fast) alle an derselben Stelle; bitte eine Bandbreite in Metern angeben."
        )
    return radius


@dataclass(frozen=True)
class Grid:
    """A regular raster in EPSG:25832 metres; (x0, y0) is the lower-left corner of cell (0, 0)."""

    x0: float
    y0: float
    cell_size: float
    ncols: int
    nrows: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.nrows, self.ncols)

    @property
    def cell_count(self) -> int:
        return self.nrows * self.ncols

    @property
    def x1(self) -> float:
        return self.x0 + self.ncols * self.cell_size

    @property
    def y1(self) -> float:
        return self.y0 + self.nrows * self.cell_size

    @property
    def cell_area_km2(self) -> float:
        return self.cell_size**2 / SQUARE_METRES_PER_KM2

    def column_centres(self) -> np.ndarray:
        return self.x0 + (np.arange(self.ncols) + 0.5) * self.cell_size

    def row_centres(self) -> np.ndarray:
        return self.y0 + (np.arange(self.nrows) + 0.5) * self.cell_size

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every cell centre as 2-D arrays of the grid's shape."""
        return np.meshgrid(self.column_centres(), self.row_centres())

    def cell_index(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cell holding each point (may lie outside 0..nrows-1 / 0..ncols-1)."""
        xs, ys = _coordinates(x, y)
        rows = np.floor((ys - self.y0) / self.cell_size).astype(np.int64)
        cols = np.floor((xs - self.x0) / self.cell_size).astype(np.int64)
        return rows, cols

    def counts(self, x: Any, y: Any, weights: Any = None) -> np.ndarray:
        """Number (or weight sum) of points per cell; points outside the grid are ignored."""
        rows, cols = self.cell_index(x, y)
        point_weights = _point_weights(weights, len(rows))
        inside = (rows >= 0) & (rows < self.nrows) & (cols >= 0) & (cols < self.ncols)
        flat = rows[inside] * self.ncols + cols[inside]
        summed = np.bincount(flat, weights=point_weights[inside], minlength=self.cell_count)
        return summed.reshape(self.shape)


def grid_for_extent(
    xmin: float,
    ymin: float,
    xmax: float,
    ymax: float,
    cell_size: float | None = None,
    max_cells: int = MAX_GRID_CELLS,
) -> Grid:
    """The grid covering an extent, with cells aligned to multiples of the cell size.

    Default cell size (ArcGIS): the shorter side of the extent / 250. Alignment means grids for
    different periods over the same area share their cells, so surfaces can be compared cell by
    cell. Raises ``ValueError`` (German) for an empty extent or more than ``max_cells`` cells.
    """
    bounds = np.array([xmin, ymin, xmax, ymax], dtype=float)
    if not np.isfinite(bounds).all() or xmax < xmin or ymax < ymin:
        raise ValueError("Der Kartenausschnitt ist ungültig.")
    if cell_size is None:
        short_side = min(xmax - xmin, ymax - ymin)
        if short_side <= 0:
            raise ValueError("Der Kartenausschnitt hat keine Fläche; bitte eine Zellgröße in Metern angeben.")
        cell_size = short_side / DEFAULT_CELLS_ON_SHORT_SIDE
    size = _positive_length(cell_size, "Die Zellgröße")
    x0 = math.floor(xmin / size) * size
    y0 = math.floor(ymin / size) * size
    ncols = max(1, math.ceil((xmax - x0) / size))
    nrows = max(1, math.ceil((ymax - y0) / size))
    # Extents ending exactly on a cell border still need the cell holding the border point.
    if x0 + ncols * size <= xmax:
        ncols += 1
    if y0 + nrows * size <= ymax:
        nrows += 1
    if ncols * nrows > max_cells:
        raise ValueError(
            f"Das Raster hätte {_german_int(ncols * nrows)} Zellen (höchstens {_german_int(max_cells)} "
            "möglich); bitte eine größere Zellgröße oder einen kleineren Ausschnitt wählen."
        )
    return Grid(x0=x0, y0=y0, cell_size=size, ncols=ncols, nrows=nrows)


def grid_for_points(
    x: Any,
    y: Any,
    bandwidth: float,
    cell_size: float | None = None,
    max_cells: int = MAX_GRID_CELLS,
) -> Grid:
    """A grid around the points, widened by the bandwidth so no kernel is cut off at the edge.

    The default cell size follows ArcGIS from the points' own extent (shorter side / 250; a tenth
    of the bandwidth when the points lie on one line).
    """
    xs, ys = _coordinates(x, y)
    if len(xs) == 0:
        raise ValueError("Es gibt keine Punkte im gewählten Zeitraum und Gebiet.")
    radius = _positive_length(bandwidth, "Die Bandbreite")
    if cell_size is None:
        short_side = min(float(np.ptp(xs)), float(np.ptp(ys)))
        cell_size = short_side / DEFAULT_CELLS_ON_SHORT_SIDE if short_side > 0 else radius / 10
    return grid_for_extent(
        float(xs.min()) - radius,
        float(ys.min()) - radius,
        float(xs.max()) + radius,
        float(ys.max()) + radius,
        cell_size=cell_size,
        max_cells=max_cells,
    )


# ---------------------------------------------------------------------------------------------
# Kernel density
# ---------------------------------------------------------------------------------------------


def _stencil_reach(radius: float, cell_size: float) -> int:
    """Cell offsets needed so that every cell centre within the radius of a point is visited."""
    return math.ceil(radius / cell_size + 0.5)


def _kde_exact(
    xs: np.ndarray, ys: np.ndarray, point_weights: np.ndarray, grid: Grid, radius: float
) -> np.ndarray:
    """ArcGIS formula evaluated at every cell centre within the radius of every point.

    A radius search around the cell centres, done as a fixed stencil of cell offsets around each
    point's own cell: vectorised over the points, no tree and no per-cell Python loop.
    """
    size = grid.cell_size
    reach = _stencil_reach(radius, size)
    col_position = (xs - grid.x0) / size
    row_position = (ys - grid.y0) / size
    base_cols = np.floor(col_position).astype(np.int64)
    base_rows = np.floor(row_position).astype(np.int64)
    near = (
        (base_cols >= -reach)
        & (base_cols < grid.ncols + reach)
        & (base_rows >= -reach)
        & (base_rows < grid.nrows + reach)
    )
    base_cols, base_rows, point_weights = base_cols[near], base_rows[near], point_weights[near]
    # Offset of each point from its own cell centre, in metres.
    dx0 = (col_position[near] - base_cols - 0.5) * size
    dy0 = (row_position[near] - base_rows - 0.5) * size
    radius_sq = radius * radius
    accumulated = np.zeros(grid.cell_count)
    for row_offset in range(-reach, reach + 1):
        gap_y = max(0.0, abs(row_offset) - 0.5) * size
        for col_offset in range(-reach, reach + 1):
            gap_x = max(0.0, abs(col_offset) - 0.5) * size
            if gap_x * gap_x + gap_y * gap_y >= radius_sq:
                continue  # no point of the base cell can reach that cell centre
            rows = base_rows + row_offset
            cols = base_cols + col_offset
            distance_sq = (dx0 - col_offset * size) ** 2 + (dy0 - row_offset * size) ** 2
            inside = (rows >= 0) & (rows < grid.nrows) & (cols >= 0) & (cols < grid.ncols)
            hit = inside & (distance_sq < radius_sq)
            if not hit.any():
                continue
            kernel = (1.0 - distance_sq[hit] / radius_sq) ** 2 * point_weights[hit]
            accumulated += np.bincount(
                rows[hit] * grid.ncols + cols[hit], weights=kernel, minlength=grid.cell_count
            )
    per_m2 = accumulated * (3.0 / (math.pi * radius_sq))
    return (per_m2 * SQUARE_METRES_PER_KM2).reshape(grid.shape)


def _linear_binning(
    xs: np.ndarray, ys: np.ndarray, point_weights: np.ndarray | None, grid: Grid
) -> np.ndarray:
    """Spread each point's weight over the four surrounding cell centres (bilinear weights).

    Points whose four centres are not all on the grid are left out: the binned KDE pads its grid
    so that such points reach no output cell. ``None`` weighs every point 1 (saves two passes).
    """
    scale = 1.0 / grid.cell_size
    col_position = xs - (grid.x0 + 0.5 * grid.cell_size)
    col_position *= scale
    row_position = ys - (grid.y0 + 0.5 * grid.cell_size)
    row_position *= scale
    if not (
        col_position.min() >= 0
        and row_position.min() >= 0
        and col_position.max() < grid.ncols - 1
        and row_position.max() < grid.nrows - 1
    ):
        inside = (
            (col_position >= 0)
            & (row_position >= 0)
            & (col_position < grid.ncols - 1)
            & (row_position < grid.nrows - 1)
        )
        col_position, row_position = col_position[inside], row_position[inside]
        if point_weights is not None:
            point_weights = point_weights[inside]
    left = col_position.astype(np.intp)  # truncation is the floor: positions are ≥ 0 here
    below = row_position.astype(np.intp)
    col_position -= left  # now the share that goes to the right-hand centres
    row_position -= below  # … and to the upper ones
    lower_right = col_position
    if point_weights is not None:
        lower_right *= point_weights
    lower_left = (1.0 if point_weights is None else point_weights) - lower_right
    upper_right = lower_right * row_position
    upper_left = row_position
    upper_left *= lower_left
    lower_right -= upper_right
    lower_left -= upper_left
    base = below
    base *= grid.ncols
    base += left
    binned = np.zeros(grid.cell_count)
    # One index array for all four centres, each scattered into a view shifted by its offset.
    for offset, share in (
        (0, lower_left),
        (1, lower_right),
        (grid.ncols, upper_left),
        (grid.ncols + 1, upper_right),
    ):
        np.add.at(binned[offset:], base, share)
    return binned.reshape(grid.shape)


def quartic_kernel_stencil(radius: float, cell_size: float, oversample: int = 1) -> np.ndarray:
    """The quartic kernel sampled at offsets of ``cell_size / oversample``, weighted for binning.

    Shape ``(2k + 1, 2k + 1)``, ``k = max(floor(radius · oversample / cell_size), (oversample − 1) / 2)``.
    Convolving a grid ``oversample`` times finer than the output and keeping every
    ``oversample``-th value maps a fine bin to the output cells through one residue class of the
    offsets (offset mod ``oversample`` in each direction). A weight of 1 in a fine bin then gives
    each output cell the exact formula's value × cell area for a point at that bin: the values
    are ``3 / (π r²) · (1 − d² / r²)² · cell_size²``.

    From a radius of ``NORMALISE_BELOW_RADIUS_CELLS`` cells down, each class is normalised to sum
    1 instead, so every bin's weight reaches the output grid completely: there the exact formula
    loses up to 5 % of a point's weight between the cell centres (all of it below about 0.7
    cells). A class the radius does not reach at all sends its weight to its nearest offset: the
    surface degenerates to a histogram of counts per cell, weight preserved.
    """
    if oversample < 1 or oversample % 2 == 0:
        raise ValueError("Die Überabtastung muss eine ungerade ganze Zahl ab 1 sein.")
    fine_size = cell_size / oversample
    half = (oversample - 1) // 2
    reach = max(math.floor(radius / fine_size), half)
    steps = np.arange(-reach, reach + 1)
    distance_sq = (steps[None, :] ** 2 + steps[:, None] ** 2) * fine_size**2
    radius_sq = radius * radius
    kernel = np.where(distance_sq < radius_sq, (1.0 - distance_sq / radius_sq) ** 2, 0.0)
    if radius >= NORMALISE_BELOW_RADIUS_CELLS * cell_size:
        return kernel * (3.0 / (math.pi * radius_sq) * cell_size**2)
    residues = steps % oversample
    for row_class in range(oversample):
        for col_class in range(oversample):
            members = (residues[:, None] == row_class) & (residues[None, :] == col_class)
            total = kernel[members].sum()
            if total > 0:
                kernel[members] /= total
            else:
                nearest = np.where(members, distance_sq, np.inf).argmin()
                kernel.flat[nearest] = 1.0
    return kernel


def oversample_for(radius: float, cell_size: float) -> int:
    """Smallest odd factor (at most ``MAX_OVERSAMPLE`` = 9) that makes the radius span
    ``FINE_CELLS_PER_RADIUS`` = 23 fine cells.

    A single point's binned surface differs from the exact formula by up to (fine cell / radius)²
    of its peak, reached when the point lies midway between fine centres in both directions
    (second-order error of linear interpolation; the quartic kernel's curvature is 4/r² at its
    centre and 8/r² at its rim). 23 fine cells give 1/529 = 0.19 % for one point; errors of many
    points can add up (the worst layout found, points clipped onto the corners and edges of a box
    aligned with the cells, reached 2.5 times that), which stays within 0.5 % of the peak for
    every radius of 3 cells or more (3 × 9 = 27 fine cells). Below 3 cells the factor stays at 9
    and the bound is not promised.
    """
    factor = 1
    while factor < MAX_OVERSAMPLE and radius * factor / cell_size < FINE_CELLS_PER_RADIUS:
        factor += 2
    return factor


def _polyphase_spectra(
    fine_kernel: np.ndarray, factor: int, shape: tuple[int, int]
) -> list[list[np.ndarray]]:
    """Spectra of the kernel offsets each fine phase (row mod f, column mod f) maps to the output.

    The kernel is symmetric, so phase f − 1 − p uses the offsets of phase p mirrored: its
    spectrum is an index reversal (rows) or the conjugate of one (columns) of a spectrum already
    computed. Only (f + 1)² / 4 of the f² transforms are done.
    """
    reach = fine_kernel.shape[0] // 2
    centre = (factor - 1) // 2  # fine index of the output centre within its cell
    span = math.ceil((reach + centre) / factor)
    steps = np.arange(-span, span + 1)
    rows_reversed = (-np.arange(shape[0])) % shape[0]
    spectra: list[list[np.ndarray]] = [[np.empty(0)] * factor for _ in range(factor)]
    for row_phase in range(centre + 1):
        row_offsets = factor * steps + (centre - row_phase)
        for col_phase in range(centre + 1):
            col_offsets = factor * steps + (centre - col_phase)
            usable = (np.abs(row_offsets)[:, None] <= reach) & (np.abs(col_offsets)[None, :] <= reach)
            sub_kernel = np.where(
                usable,
                fine_kernel[np.clip(row_offsets + reach, 0, 2 * reach)[:, None],
                            np.clip(col_offsets + reach, 0, 2 * reach)[None, :]],
                0.0,
            )  # fmt: skip
            wrapped = np.zeros(shape)
            wrapped[np.ix_(steps % shape[0], steps % shape[1])] = sub_kernel
            spectrum = sp_fft.rfft2(wrapped)
            mirrored_row, mirrored_col = factor - 1 - row_phase, factor - 1 - col_phase
            spectra[row_phase][col_phase] = spectrum
            if mirrored_row != row_phase:
                spectra[mirrored_row][col_phase] = spectrum[rows_reversed]
            if mirrored_col != col_phase:
                spectra[row_phase][mirrored_col] = np.conj(spectrum[rows_reversed])
                if mirrored_row != row_phase:
                    spectra[mirrored_row][mirrored_col] = np.conj(spectrum)
    return spectra


def _kde_binned_band(
    xs: np.ndarray,
    ys: np.ndarray,
    point_weights: np.ndarray | None,
    grid: Grid,
    fine_kernel: np.ndarray,
    factor: int,
    spectra_by_shape: dict[tuple[int, int], list[list[np.ndarray]]],
) -> np.ndarray:
    """Linear binning on a ``factor`` times finer grid, convolution read at the output centres.

    Only every ``factor``-th fine value is needed, so the fine convolution is split into its
    polyphase parts: the fine bins of each phase (row mod f, column mod f) form an array of the
    output's resolution, convolved with the kernel offsets of its residue class. The f² products
    are summed in the Fourier domain and transformed back once, at output resolution.
    """
    reach = fine_kernel.shape[0] // 2
    # Bin on a grid widened by the kernel reach (+1 cell for the bilinear spread) so points just
    # outside the grid still add their share to the cells within their radius. The padding also
    # keeps the circular FFT convolution from wrapping onto the output cells. The far sides are
    # widened further to a fast FFT length, so each phase is transformed in place, unpadded; what
    # lies there is farther than the reach from every output cell and never reaches one.
    pad = math.ceil(reach / factor) + 1
    if fine_kernel.size == 1:
        shape = (grid.nrows + 2 * pad, grid.ncols + 2 * pad)
    else:
        shape = (
            sp_fft.next_fast_len(grid.nrows + 2 * pad),
            sp_fft.next_fast_len(grid.ncols + 2 * pad, real=True),
        )
    fine = Grid(
        x0=grid.x0 - pad * grid.cell_size,
        y0=grid.y0 - pad * grid.cell_size,
        cell_size=grid.cell_size / factor,
        ncols=shape[1] * factor,
        nrows=shape[0] * factor,
    )
    if len(xs) == 0:
        return np.zeros(grid.shape)
    phases = _linear_binning(xs, ys, point_weights, fine).reshape(shape[0], factor, shape[1], factor)
    if fine_kernel.size == 1:
        smoothed = phases[:, 0, :, 0]
    else:
        if shape not in spectra_by_shape:
            spectra_by_shape[shape] = _polyphase_spectra(fine_kernel, factor, shape)
        spectra = spectra_by_shape[shape]
        product = np.zeros((shape[0], shape[1] // 2 + 1), dtype=complex)
        for row_phase in range(factor):
            for col_phase in range(factor):
                product += sp_fft.rfft2(phases[:, row_phase, :, col_phase]) * spectra[row_phase][col_phase]
        smoothed = sp_fft.irfft2(product, s=shape)
        smoothed[smoothed < float(smoothed.max(initial=0.0)) * FFT_NOISE_FLOOR] = 0.0
    sampled = smoothed[pad : pad + grid.nrows, pad : pad + grid.ncols]
    return sampled * (SQUARE_METRES_PER_KM2 / grid.cell_size**2)


def _kde_binned(
    xs: np.ndarray,
    ys: np.ndarray,
    point_weights: np.ndarray | None,
    grid: Grid,
    radius: float,
    oversample: int,
) -> np.ndarray:
    """The binned surface, computed in bands of rows when the fine grid would exceed the memory limit.

    Each band bins only the points that can reach it, on its own padded fine grid aligned with the
    whole grid's, so a band's values are those of the whole computation: a large grid keeps its
    oversampling (and the accuracy bound) instead of falling back to a coarser factor.
    """
    fine_kernel = quartic_kernel_stencil(radius, grid.cell_size, oversample)
    pad = math.ceil(fine_kernel.shape[0] // 2 / oversample) + 1
    fine_cells_per_row = (grid.ncols + 2 * pad) * oversample**2
    band_rows = max(MIN_BAND_ROWS, MAX_FINE_CELLS // fine_cells_per_row - 2 * pad)
    spectra_by_shape: dict[tuple[int, int], list[list[np.ndarray]]] = {}
    if band_rows >= grid.nrows:
        return _kde_binned_band(xs, ys, point_weights, grid, fine_kernel, oversample, spectra_by_shape)
    surface = np.empty(grid.shape)
    for first_row in range(0, grid.nrows, band_rows):
        rows = min(band_rows, grid.nrows - first_row)
        band = Grid(
            x0=grid.x0,
            y0=grid.y0 + first_row * grid.cell_size,
            cell_size=grid.cell_size,
            ncols=grid.ncols,
            nrows=rows,
        )
        reach_y = (pad + 1) * grid.cell_size
        near = (ys >= band.y0 - reach_y) & (ys < band.y0 + rows * grid.cell_size + reach_y)
        surface[first_row : first_row + rows] = _kde_binned_band(
            xs[near],
            ys[near],
            None if point_weights is None else point_weights[near],
            band,
            fine_kernel,
            oversample,
            spectra_by_shape,
        )
    return surface


def kde_quartic(
    x: Any,
    y: Any,
    grid: Grid,
    bandwidth: float,
    weights: Any = None,
    method: KdeMethod = "auto",
    oversample: int | None = None,
) -> np.ndarray:
    """Quartic (biweight) kernel density in points per km², evaluated at the cell centres.

    ``density(c) = 10⁶ · (3 / (π r²)) · Σ_{i: d_i < r} w_i · (1 − d_i² / r²)²`` with ``d_i`` the
    distance in metres from cell centre ``c`` to point ``i`` and ``r`` the bandwidth (search
    radius): ArcGIS "Kernel Density" / CrimeStat quartic form, multiplied by 10⁶ for km². With
    weights (e.g. euros seized) the unit is weight per km². Shape ``(nrows, ncols)``, row 0 south.
    The volume (sum of density × cell area in km²) equals the sum of the weights of the points
    whose kernel lies inside the grid. No points give an all-zero surface.

    Methods:

    * ``"exact"``: the formula itself at each cell centre (ArcGIS parity). Its volume is a
      Riemann sum of the continuous kernel, within a fraction of a per cent of Σw once the
      radius spans a few cells; with a radius below about 0.7 cell sizes a point may reach no
      cell centre at all and its weight is lost.
    * ``"binned"``: the points' weights are linearly binned to the four surrounding centres of a
      grid ``oversample`` times finer than the output (odd factor; default
      :func:`oversample_for`: the smallest of 1, 3, …, 9 that makes the radius span 23 fine
      cells), convolved (FFT) with the kernel sampled at the fine offsets and read at the output
      cell centres. Grids too large for one pass are done in bands of rows with the same result.
      Against the exact method the difference stays below 0.5 % of the peak density in every
      cell for a radius of 3 cells or more: a single point errs by at most (fine cell /
      radius)² of its peak (0.19 % at 23 fine cells), the tested layouts of many points (random,
      clustered, snapped to cell corners, piled on one address) by at most 2.5 times that. From a
      radius of 2 cells the binned surface follows the formula, so its volume is the exact
      method's; below 2 cells each point's weight is kept whole instead (see
      :func:`quartic_kernel_stencil`): the volume is Σw exactly, also when the radius is below
      the cell size, where the surface becomes a count per cell area and the exact formula
      misses points lying between cell centres. ``oversample=1`` is plain linear binning as in
      KDEpy's FFTKDE: up to (cell / radius)² of the peak for one point, 1 % at 10 cells, 11 % at 3.
    * ``"auto"``: exact while points × cells within the radius stays below 4 million (well under
      a second), binned above.
    """
    xs, ys = _coordinates(x, y)
    point_weights = _point_weights(weights, len(xs))
    radius = _positive_length(bandwidth, "Die Bandbreite")
    if method not in ("auto", "exact", "binned"):
        raise ValueError("Unbekanntes Verfahren für die Kerndichte (erlaubt: auto, exact, binned).")
    if len(xs) == 0:
        return np.zeros(grid.shape)
    if method == "auto":
        cells_in_radius = math.pi * (radius / grid.cell_size) ** 2 + 1
        method = "exact" if len(xs) * min(cells_in_radius, grid.cell_count) <= EXACT_WORK_LIMIT else "binned"
    if method == "exact":
        return _kde_exact(xs, ys, point_weights, grid, radius)
    factor = oversample_for(radius, grid.cell_size) if oversample is None else int(oversample)
    return _kde_binned(xs, ys, None if weights is None else point_weights, grid, radius, factor)


# ---------------------------------------------------------------------------------------------
# Getis-Ord Gi*
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GiStarResult:
    """Gi* per unit. Arrays have the shape of the input (1-D for points, 2-D for a grid).

    ``hot_cold`` is +1 for a significant hot spot, −1 for a significant cold spot and 0 otherwise,
    significance after Benjamini-Hochberg FDR control at ``alpha`` over the two-sided p-values.
    ``neighbours`` counts the units inside the distance band including the unit itself.
    """

    z: np.ndarray
    p: np.ndarray
    significant: np.ndarray
    hot_cold: np.ndarray
    neighbours: np.ndarray
    alpha: float
    distance_band: float

    @property
    def hot_count(self) -> int:
        return int((self.hot_cold == 1).sum())

    @property
    def cold_count(self) -> int:
        return int((self.hot_cold == -1).sum())


def benjamini_hochberg(p: Any, alpha: float = 0.05) -> np.ndarray:
    """Benjamini-Hochberg step-up procedure: True where the hypothesis is rejected at FDR ``alpha``.

    Sort the m p-values, find the largest rank k with p_(k) ≤ k·alpha/m and reject the k smallest.
    """
    level = _alpha(alpha)
    values = np.asarray(p, dtype=float)
    flat = values.ravel()
    if flat.size == 0:
        return np.zeros(values.shape, dtype=bool)
    if not np.isfinite(flat).all() or (flat < 0).any() or (flat > 1).any():
        raise ValueError("p-Werte müssen zwischen 0 und 1 liegen.")
    order = np.argsort(flat, kind="stable")
    thresholds = level * np.arange(1, flat.size + 1) / flat.size
    passing = np.nonzero(flat[order] <= thresholds)[0]
    rejected = np.zeros(flat.size, dtype=bool)
    if passing.size:
        rejected[order[: passing[-1] + 1]] = True
    return rejected.reshape(values.shape)


def _gi_star_z(
    lagged: np.ndarray, neighbours: np.ndarray, count: int, mean: float, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Textbook Gi* z from the neighbourhood sums Σ_j w_ij x_j and Σ_j w_ij (binary, self included).

    Returns z and where it is defined: constant values (spread 0), a band holding every unit or a
    unit without neighbours leave nothing to compare with, and z is 0 there.
    """
    z = np.zeros(lagged.shape)
    denominator_sq = neighbours * (count - neighbours) / (count - 1)
    defined = (denominator_sq > 0) & (spread > 0)
    z[defined] = (lagged[defined] - mean * neighbours[defined]) / (spread * np.sqrt(denominator_sq[defined]))
    return z, defined


def _gi_star_result(
    z: np.ndarray,
    defined: np.ndarray,
    hypotheses: np.ndarray,
    neighbours: np.ndarray,
    alpha: float,
    distance_band: float,
) -> GiStarResult:
    """Two-sided p-values, FDR over the ``hypotheses`` units, hot/cold flags."""
    p = np.where(hypotheses, np.minimum(1.0, 2.0 * stats.norm.sf(np.abs(z))), 1.0)
    significant = np.zeros(z.shape, dtype=bool)
    significant[hypotheses] = benjamini_hochberg(p[hypotheses], alpha)
    significant &= defined & (z != 0)
    return GiStarResult(
        z=z,
        p=p,
        significant=significant,
        hot_cold=(np.sign(z) * significant).astype(np.int8),
        neighbours=neighbours.astype(np.int64),
        alpha=alpha,
        distance_band=distance_band,
    )


def _moments(values: np.ndarray) -> tuple[float, float]:
    """Mean and population standard deviation; exactly 0 spread for (numerically) constant input."""
    mean = float(values.mean())
    spread = float(np.sqrt(np.mean((values - mean) ** 2)))
    scale = float(np.abs(values).max(initial=0.0))
    if spread <= 1e-12 * scale:
        spread = 0.0
    return mean, spread


def _gi_values(values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if not np.isfinite(array).all():
        raise ValueError("Die Werte für Gi* enthalten ungültige Zahlen.")
    return array


def gi_star(values: Any, x: Any, y: Any, distance_band: float, alpha: float = 0.05) -> GiStarResult:
    """Getis-Ord Gi* for values at points (grid or H3 cell centres) with a binary distance band.

    Weights: w_ij = 1 if the distance is at most ``distance_band`` metres (the unit itself
    included), else 0. ``z_i = (Σ_j w_ij x_j − x̄ Σ_j w_ij) / (S √((n Σ_j w_ij − (Σ_j w_ij)²)/(n − 1)))``
    with x̄ and S (population standard deviation) over all n units; equal to esda's
    ``G_Local(y, DistanceBand(points, band, binary=True), transform="B", star=True).Zs``.
    p-values are two-sided from the normal distribution.
    """
    xs, ys = _coordinates(x, y)
    observed = _gi_values(values).ravel()
    if observed.shape != xs.shape:
        raise ValueError("Es muss genau ein Wert je Ort angegeben werden.")
    band = _positive_length(distance_band, "Der Distanzbereich")
    level = _alpha(alpha)
    count = len(observed)
    if count < 3:
        raise ValueError("Für Gi* werden mindestens drei Zellen benötigt.")
    tree = cKDTree(np.column_stack([xs, ys]))
    pairs = tree.query_pairs(r=band * (1 + BAND_TOLERANCE), output_type="ndarray")
    first, second = pairs[:, 0], pairs[:, 1]
    lagged = (
        observed
        + np.bincount(first, weights=observed[second], minlength=count)
        + np.bincount(second, weights=observed[first], minlength=count)
    )
    neighbours = 1.0 + np.bincount(first, minlength=count) + np.bincount(second, minlength=count)
    mean, spread = _moments(observed)
    z, defined = _gi_star_z(lagged, neighbours, count, mean, spread)
    everyone = np.ones(count, dtype=bool)
    return _gi_star_result(z, defined, everyone, neighbours, level, band)


def distance_band_stencil(cell_size: float, distance_band: float) -> np.ndarray:
    """Binary stencil of the cell offsets whose centres lie within the band (centre included)."""
    size = _positive_length(cell_size, "Die Zellgröße")
    band = _positive_length(distance_band, "Der Distanzbereich")
    reach = math.floor(band * (1 + BAND_TOLERANCE) / size)
    offsets = np.arange(-reach, reach + 1, dtype=float) * size
    distance = np.hypot(offsets[None, :], offsets[:, None])
    return (distance <= band * (1 + BAND_TOLERANCE)).astype(float)


def gi_star_grid(
    counts_2d: Any,
    cell_size: float,
    distance_band: float,
    alpha: float = 0.05,
    mask: Any = None,
) -> GiStarResult:
    """Gi* for every cell of a regular grid, same statistic as :func:`gi_star` on the cell centres.

    On a regular grid the distance-band neighbours of every cell form the same stencil of cell
    offsets, so the neighbourhood sums are a correlation with that stencil (zero outside the grid)
    instead of a neighbour search. ``mask`` (boolean, same shape) restricts the analysis to the
    cells of the study area, e.g. those inside the city: cells outside it are neither units nor
    neighbours and get z = 0, p = 1 and no flag.
    """
    counts = _gi_values(counts_2d)
    if counts.ndim != 2:
        raise ValueError("Gi* auf dem Raster braucht eine zweidimensionale Zählung.")
    stencil = distance_band_stencil(cell_size, distance_band)
    level = _alpha(alpha)
    inside = np.ones(counts.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if inside.shape != counts.shape:
        raise ValueError("Die Gebietsmaske muss dieselbe Größe wie das Raster haben.")
    count = int(inside.sum())
    if count < 3:
        raise ValueError("Für Gi* werden mindestens drei Zellen benötigt.")
    observed = np.where(inside, counts, 0.0)
    lagged = ndimage.correlate(observed, stencil, mode="constant", cval=0.0)
    # Sums of small integers: round away the last-bit noise of the float correlation.
    neighbours = np.rint(ndimage.correlate(inside.astype(float), stencil, mode="constant", cval=0.0))
    neighbours[~inside] = 0.0
    mean, spread = _moments(counts[inside])
    z, defined = _gi_star_z(lagged, neighbours, count, mean, spread)
    return _gi_star_result(z, defined, inside, neighbours, level, float(distance_band))


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _utm_to_wgs84_transformer() -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(CRS_EPSG, 4326, always_xy=True)


def utm32_to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:25832 metres → WGS84 longitude, latitude."""
    lon, lat = _utm_to_wgs84_transformer().transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def _check_surface(grid: Grid, values: Any) -> np.ndarray:
    surface = np.asarray(values, dtype=float)
    if surface.shape != grid.shape:
        raise ValueError("Die Werte passen nicht zum Raster (Zeilen × Spalten).")
    return surface


def grid_cells_geojson(
    grid: Grid,
    values: Any,
    to_wgs84: ToWgs84 | None = None,
    min_value: float = 0.0,
    decimals: int = 6,
) -> dict[str, Any]:
    """GeoJSON FeatureCollection (WGS84) of the cells with a value above ``min_value``.

    One polygon per cell (corners transformed one by one, counter-clockwise), properties
    ``value`` (6 significant digits), ``row`` and ``col`` (row 0 = south). Coordinates are rounded to
    ``decimals`` places (6 ≈ 0.1 m). ``to_wgs84`` converts arrays of UTM x, y to lon, lat;
    default pyproj EPSG:25832 → EPSG:4326.
    """
    surface = _check_surface(grid, values)
    convert = to_wgs84 or utm32_to_wgs84
    rows, cols = np.nonzero(np.isfinite(surface) & (surface > min_value))
    if rows.size == 0:
        return {"type": "FeatureCollection", "features": []}
    size = grid.cell_size
    left = grid.x0 + cols * size
    bottom = grid.y0 + rows * size
    corner_x = np.stack([left, left + size, left + size, left], axis=1)
    corner_y = np.stack([bottom, bottom, bottom + size, bottom + size], axis=1)
    lon, lat = convert(corner_x.ravel(), corner_y.ravel())
    lon = np.round(np.asarray(lon, dtype=float), decimals).reshape(-1, 4).tolist()
    lat = np.round(np.asarray(lat, dtype=float), decimals).reshape(-1, 4).tolist()
    cell_values = surface[rows, cols]
    features = []
    for index, (row, col) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        ring = [[lon[index][k], lat[index][k]] for k in (0, 1, 2, 3, 0)]
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"value": float(f"{cell_values[index]:.6g}"), "row": row, "col": col},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def ascii_grid(grid: Grid, values: Any, nodata: float = -9999.0) -> str:
    """ESRI ASCII grid (``.asc``) in EPSG:25832, north row first; non-finite values become NODATA.

    The format carries no coordinate system: ship :func:`ascii_grid_prj` as the ``.prj`` file
    next to it so QGIS or ArcGIS place the raster correctly.
    """
    surface = _check_surface(grid, values)
    north_up = np.where(np.isfinite(surface), surface, nodata)[::-1]
    header = (
        f"ncols {grid.ncols}\n"
        f"nrows {grid.nrows}\n"
        f"xllcorner {grid.x0:.3f}\n"
        f"yllcorner {grid.y0:.3f}\n"
        f"cellsize {grid.cell_size:.6g}\n"
        f"NODATA_value {nodata:g}\n"
    )
    body = io.StringIO()
    np.savetxt(body, north_up, fmt="%.6g", delimiter=" ")
    return header + body.getvalue()


def ascii_grid_prj() -> str:
    """ESRI WKT of EPSG:25832, the content of the ``.prj`` file accompanying :func:`ascii_grid`."""
    from pyproj import CRS
    from pyproj.enums import WktVersion

    return CRS.from_epsg(CRS_EPSG).to_wkt(WktVersion.WKT1_ESRI)
