"""Hotspots: quartic kernel density (ArcGIS form), Getis-Ord Gi* (esda parity), grid exports.

Check values from the research notes §2.2 and §2.3; Gi* is compared with PySAL esda here in the
tests (esda is a dev-only dependency, never used at runtime).
"""

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lagebild.analytics import hotspots
from lagebild.analytics.hotspots import Grid
from lagebild.geo.points import to_utm32


def clustered_points(count: int, seed: int, size: float = 2000.0) -> tuple[np.ndarray, np.ndarray]:
    """Four Gaussian hotspots (60 % of the points) over a uniform background, metres."""
    rng = np.random.default_rng(seed)
    in_hotspots = int(count * 0.6)
    centres = rng.uniform(0, size, (4, 2))
    clustered = centres[rng.integers(0, 4, in_hotspots)] + rng.normal(0, 120, (in_hotspots, 2))
    background = rng.uniform(0, size, (count - in_hotspots, 2))
    points = np.vstack([clustered, background])
    return points[:, 0], points[:, 1]


# --- bandwidth and grid -------------------------------------------------------------------------


def test_default_bandwidth_matches_the_arcgis_check_values():
    assert hotspots.default_bandwidth([0, 100, 0, 100], [0, 0, 100, 100]) == pytest.approx(48.2298, abs=1e-4)
    points = np.random.default_rng(1).normal(0, 300, size=(200, 2))
    assert hotspots.default_bandwidth(points[:, 0], points[:, 1]) == pytest.approx(115.78, abs=0.005)


def test_default_bandwidth_weights_act_like_repeated_points():
    x, y = clustered_points(101, seed=5)
    weights = np.random.default_rng(5).integers(1, 4, len(x))
    repeated = hotspots.default_bandwidth(np.repeat(x, weights), np.repeat(y, weights))
    assert hotspots.default_bandwidth(x, y, weights=weights) == pytest.approx(repeated)


@pytest.mark.parametrize(("x", "y"), [([5.0], [5.0]), ([3.0, 3.0, 3.0], [1.0, 1.0, 1.0]), ([], [])])
def test_default_bandwidth_needs_spread_points(x, y):
    with pytest.raises(ValueError, match=r"Punkt|Bandbreite"):
        hotspots.default_bandwidth(x, y)


def test_grid_for_extent_uses_the_arcgis_default_cell_size_and_covers_the_extent():
    grid = hotspots.grid_for_extent(391_234.0, 5_705_678.0, 401_234.0, 5_710_678.0)
    assert grid.cell_size == pytest.approx(5000 / 250)
    assert grid.x0 <= 391_234.0 and grid.y0 <= 5_705_678.0
    assert grid.x1 > 401_234.0 and grid.y1 > 5_710_678.0
    # Aligned to multiples of the cell size, so other periods get the same cells.
    assert grid.x0 / grid.cell_size == pytest.approx(round(grid.x0 / grid.cell_size))
    assert grid.ncols == 501 and grid.nrows == 251


def test_grid_guards_against_absurd_sizes():
    with pytest.raises(ValueError, match="Zellen"):
        hotspots.grid_for_extent(0, 0, 100_000, 100_000, cell_size=1.0)
    with pytest.raises(ValueError, match="Zellgröße"):
        hotspots.grid_for_extent(0, 0, 1000, 1000, cell_size=-5)
    with pytest.raises(ValueError, match="Kartenausschnitt"):
        hotspots.grid_for_extent(0, 0, 0, 1000)


def test_grid_counts_points_per_cell():
    grid = Grid(x0=0, y0=0, cell_size=10, ncols=3, nrows=2)
    counts = grid.counts([1, 2, 25, 5, 99], [1, 3, 15, 12, 1])
    assert counts.tolist() == [[2, 0, 0], [1, 0, 1]]  # the point at x = 99 lies outside


# --- kernel density -----------------------------------------------------------------------------


def test_exact_kde_matches_the_arcgis_check_values():
    # Cell centres at x = 0, 25, 50, …; points (0,0), (50,0), (120,0), radius 100 m.
    grid = Grid(x0=-12.5, y0=-12.5, cell_size=25, ncols=8, nrows=1)
    density = hotspots.kde_quartic([0, 50, 120], [0, 0, 0], grid, 100, method="exact")
    assert density[0, 0] == pytest.approx(149.208, abs=5e-4)  # at (0, 0), per km²
    assert density[0, 1] == pytest.approx(168.767, abs=5e-4)  # at (25, 0)
    assert density[0, 4] == pytest.approx(141.721, abs=5e-4)  # at (100, 0)


def test_auto_uses_the_exact_formula_for_small_inputs():
    x, y = clustered_points(200, seed=2)
    grid = hotspots.grid_for_points(x, y, 80, cell_size=20)
    auto = hotspots.kde_quartic(x, y, grid, 80)
    assert np.array_equal(auto, hotspots.kde_quartic(x, y, grid, 80, method="exact"))


@pytest.mark.parametrize(("radius_in_cells", "tolerance"), [(0.4, 1e-9), (1.5, 1e-9), (3, 4e-3), (8, 2e-4)])
def test_binned_volume_equals_the_weight_sum(radius_in_cells, tolerance):
    # Below two cells the kernel keeps every point's weight whole (the map's total is the sum of
    # the weights to the last digit); from two cells on it follows the exact formula, whose
    # total differs from the weight sum by at most 0.4 % per point at three cells.
    x, y = clustered_points(3000, seed=3)
    weights = np.random.default_rng(3).uniform(0, 50, len(x))  # e.g. euros seized
    cell = 10.0
    grid = hotspots.grid_for_points(x, y, radius_in_cells * cell, cell_size=cell)
    density = hotspots.kde_quartic(x, y, grid, radius_in_cells * cell, weights=weights, method="binned")
    assert density.min() >= 0
    volume = density.sum() * grid.cell_area_km2
    assert volume == pytest.approx(weights.sum(), rel=tolerance)
    if radius_in_cells >= 2:
        exact = hotspots.kde_quartic(x, y, grid, radius_in_cells * cell, weights=weights, method="exact")
        assert volume == pytest.approx(exact.sum() * grid.cell_area_km2, rel=1e-4)


def test_exact_volume_is_close_to_the_point_count_when_the_radius_spans_cells():
    x, y = clustered_points(2000, seed=4)
    grid = hotspots.grid_for_points(x, y, 80, cell_size=10)
    density = hotspots.kde_quartic(x, y, grid, 80, method="exact")
    assert density.sum() * grid.cell_area_km2 == pytest.approx(2000, rel=5e-3)


def test_binned_agrees_with_exact_within_the_documented_tolerance():
    # A realistic case: clustered points, grid cutting through the data so points outside the
    # grid must still count, radius 3 and 6 cells.
    x, y = clustered_points(5000, seed=6)
    for radius in (30.0, 60.0):
        grid = hotspots.grid_for_extent(200, 200, 1800, 1800, cell_size=10)
        exact = hotspots.kde_quartic(x, y, grid, radius, method="exact")
        binned = hotspots.kde_quartic(x, y, grid, radius, method="binned")
        peak = exact.max()
        assert np.abs(binned - exact).max() <= 0.005 * peak
        busy = exact >= 0.05 * peak
        assert np.mean(np.abs(binned - exact)[busy] / exact[busy]) <= 0.005
    # Plain linear binning (as in KDEpy) is coarser, as documented.
    grid = hotspots.grid_for_extent(0, 0, 2000, 2000, cell_size=10)
    exact = hotspots.kde_quartic(x, y, grid, 50, method="exact")
    plain = hotspots.kde_quartic(x, y, grid, 50, method="binned", oversample=1)
    assert np.abs(plain - exact).max() <= 0.02 * exact.max()


# The documented bound of the binned method against the exact formula: 0.5 % of the peak.
BINNED_BOUND_OF_PEAK = 0.005


def _grid_around(radius_cells: float, cell: float = 10.0, inner_cells: int = 40) -> Grid:
    """A square grid that holds an inner area of points and every kernel around them."""
    side = inner_cells + 2 * math.ceil(radius_cells) + 2
    return Grid(x0=0.0, y0=0.0, cell_size=cell, ncols=side, nrows=side)


def _binned_error_of_peak(
    x: np.ndarray, y: np.ndarray, grid: Grid, radius: float, method: str = "binned"
) -> float:
    exact = hotspots.kde_quartic(x, y, grid, radius, method="exact")
    other = hotspots.kde_quartic(x, y, grid, radius, method=method)
    return float(np.abs(other - exact).max() / exact.max())


def test_the_oversampling_makes_every_radius_of_three_cells_span_23_fine_cells():
    for radius_cells in np.arange(3.0, 40.0, 0.05):
        factor = hotspots.oversample_for(radius_cells * 10.0, 10.0)
        assert factor in (1, 3, 5, 7, 9)
        assert radius_cells * factor >= 23
        # … and no finer than needed: the next smaller factor would not reach 23.
        assert factor == 1 or radius_cells * (factor - 2) < 23


def test_a_single_point_in_the_worst_position_stays_within_the_bound_for_every_radius():
    # A point midway between cell centres in both directions is where linear binning errs most
    # (about (fine cell / radius)² of the peak); the old rule reached 1 % at a radius of 10 cells.
    for radius_cells in np.arange(3.0, 30.01, 0.05):
        grid = _grid_around(radius_cells, inner_cells=2)
        centre = grid.ncols / 2 * grid.cell_size  # a cell corner: midway between four centres
        radius = radius_cells * 10.0
        cell_x, cell_y = grid.cell_centres()
        distance_sq = (cell_x - centre) ** 2 + (cell_y - centre) ** 2
        formula = (
            np.where(distance_sq < radius**2, (1 - distance_sq / radius**2) ** 2, 0)
            * 3e6
            / (math.pi * radius**2)
        )
        binned = hotspots.kde_quartic([centre], [centre], grid, radius, method="binned")
        error = np.abs(binned - formula).max() / formula.max()
        assert error <= BINNED_BOUND_OF_PEAK, f"Radius {radius_cells:.1f} Zellen: {error:.4%}"


@pytest.mark.parametrize(
    ("count", "radius_cells", "method"),
    [(5000, 10.0, "binned"), (5000, 10.5, "binned"), (20000, 10.0, "auto"), (50000, 4.0, "auto")],
)
def test_uniform_points_near_the_old_oversampling_switch_stay_within_the_bound(count, radius_cells, method):
    # The reported case: 5,000 uniform points on an 80 × 80 grid, radius 10 cells: 0.67 % before.
    rng = np.random.default_rng(count)
    x, y = rng.uniform(0, 800, count), rng.uniform(0, 800, count)
    grid = Grid(x0=0.0, y0=0.0, cell_size=10.0, ncols=80, nrows=80)
    assert _binned_error_of_peak(x, y, grid, radius_cells * 10.0, method) <= BINNED_BOUND_OF_PEAK


# Exact-formula work per example (points × cells within the radius) is kept to about 2 million.
POINT_CELL_BUDGET = 2_000_000


@settings(max_examples=30)
@given(
    radius_cells=st.floats(3.0, 30.0),
    wanted_points=st.integers(1, 50_000),
    layout=st.sampled_from(["uniform", "clustered", "on cell corners", "one place"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_binned_stays_within_the_bound_for_any_radius_and_point_count(
    radius_cells, wanted_points, layout, seed
):
    count = max(1, min(wanted_points, int(POINT_CELL_BUDGET / (math.pi * radius_cells**2))))
    rng = np.random.default_rng(seed)
    grid = _grid_around(radius_cells)
    low = (grid.ncols - 40) / 2 * grid.cell_size
    if layout == "uniform":
        x, y = rng.uniform(low, low + 400, count), rng.uniform(low, low + 400, count)
    elif layout == "clustered":
        centres = rng.uniform(low, low + 400, (3, 2))
        spread = rng.uniform(0.5, 4.0) * radius_cells * 10.0
        picked = centres[rng.integers(0, 3, count)] + rng.normal(0, spread, (count, 2))
        # Points scattered beyond the area are drawn again within it, uniformly.
        outside = ((picked < low) | (picked > low + 400)).any(axis=1)
        picked[outside] = rng.uniform(low, low + 400, (int(outside.sum()), 2))
        x, y = picked[:, 0], picked[:, 1]
    elif layout == "on cell corners":  # coordinates snapped to the corners, the worst offset
        x = rng.integers(0, 41, count) * 10.0 + low
        y = rng.integers(0, 41, count) * 10.0 + low
    else:  # many reports at one address
        x, y = np.full(count, rng.uniform(low, low + 400)), np.full(count, rng.uniform(low, low + 400))
    error = _binned_error_of_peak(x, y, grid, radius_cells * 10.0)
    assert error <= BINNED_BOUND_OF_PEAK, (
        f"{count} Punkte ({layout}), Radius {radius_cells:.2f} Zellen: {error:.4%}"
    )


def test_a_grid_too_large_for_one_pass_is_computed_in_bands_with_the_same_result(monkeypatch):
    x, y = clustered_points(20000, seed=8)
    grid = hotspots.grid_for_points(x, y, 40, cell_size=10)
    whole = hotspots.kde_quartic(x, y, grid, 40, method="binned")
    # A fine grid limit of 200,000 cells forces bands of 16 rows (oversampling 5 at 4 cells).
    monkeypatch.setattr(hotspots, "MAX_FINE_CELLS", 200_000)
    banded = hotspots.kde_quartic(x, y, grid, 40, method="binned")
    assert np.abs(banded - whole).max() <= 1e-9 * whole.max()


def test_radius_below_the_cell_size_gives_counts_per_cell_area_in_the_binned_method():
    grid = Grid(x0=0, y0=0, cell_size=100, ncols=3, nrows=3)
    # Points on cell centres: each cell's density is its count per km² (1 cell = 0.01 km²).
    density = hotspots.kde_quartic([150, 150, 250], [150, 150, 50], grid, 30, method="binned")
    assert density[1, 1] == pytest.approx(2 / 0.01)
    assert density[0, 2] == pytest.approx(1 / 0.01)
    assert density.sum() * grid.cell_area_km2 == pytest.approx(3)
    # The exact formula instead gives the kernel's peak (3/π)/r² at the point itself.
    exact = hotspots.kde_quartic([150], [150], grid, 30, method="exact")
    assert exact[1, 1] == pytest.approx(3 / math.pi / 30**2 * 1e6)


def test_kde_without_points_is_empty_and_bad_parameters_raise():
    grid = Grid(x0=0, y0=0, cell_size=10, ncols=4, nrows=4)
    assert not hotspots.kde_quartic([], [], grid, 50).any()
    with pytest.raises(ValueError, match="Bandbreite"):
        hotspots.kde_quartic([1], [1], grid, 0)
    with pytest.raises(ValueError, match="Gewicht"):
        hotspots.kde_quartic([1, 2], [1, 2], grid, 20, weights=[1, -2])
    with pytest.raises(ValueError, match="Verfahren"):
        hotspots.kde_quartic([1], [1], grid, 20, method="magic")


# --- Gi* ----------------------------------------------------------------------------------------

NOTES_POINTS = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], dtype=float)
NOTES_VALUES = np.array([2, 3, 3.2, 5, 8, 7])
NOTES_Z = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]


def test_gi_star_matches_the_esda_doctest_values():
    result = hotspots.gi_star(NOTES_VALUES, NOTES_POINTS[:, 0], NOTES_POINTS[:, 1], 15)
    assert result.z == pytest.approx(NOTES_Z, abs=1e-8)
    assert result.p == pytest.approx(2 * stats.norm.sf(np.abs(NOTES_Z)), abs=1e-8)
    # Six units: nothing survives the FDR correction at 5 % (smallest p ≈ 0.043).
    assert result.hot_count == 0 and result.cold_count == 0


def _esda_z(values: np.ndarray, x: np.ndarray, y: np.ndarray, band: float) -> np.ndarray:
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = DistanceBand(np.column_stack([x, y]), threshold=band, binary=True, silence_warnings=True)
        return G_Local(values, weights, transform="B", star=True, permutations=0).Zs


def test_gi_star_equals_esda_on_a_grid_of_poisson_counts():
    rng = np.random.default_rng(11)
    grid = Grid(x0=390_000, y0=5_700_000, cell_size=50, ncols=60, nrows=50)
    counts = rng.poisson(1.2, grid.shape).astype(float)
    counts[20:24, 30:35] += rng.poisson(4, (4, 5))  # a planted hot spot
    x, y = (centres.ravel() for centres in grid.cell_centres())
    band = 1.5 * grid.cell_size
    expected = _esda_z(counts.ravel(), x, y, band)

    by_points = hotspots.gi_star(counts.ravel(), x, y, band)
    by_grid = hotspots.gi_star_grid(counts, grid.cell_size, band)
    assert np.abs(by_points.z - expected).max() <= 1e-6
    assert np.abs(by_grid.z.ravel() - expected).max() <= 1e-6
    assert np.array_equal(by_grid.hot_cold.ravel(), by_points.hot_cold)
    assert by_grid.neighbours[25, 25] == 9  # 3 × 3 cells within 1.5 cells
    # The planted hot spot is found, and every flag agrees with the sign of z.
    assert (by_grid.hot_cold[20:24, 30:35] == 1).any()
    assert (by_grid.z[by_grid.hot_cold == 1] > 0).all()
    assert (by_grid.z[by_grid.hot_cold == -1] < 0).all()


def test_gi_star_grid_with_study_area_mask_equals_the_point_version_on_those_cells():
    rng = np.random.default_rng(12)
    counts = rng.poisson(2.0, (30, 40)).astype(float)
    rows, cols = np.indices(counts.shape)
    inside = (rows - 15) ** 2 + (cols - 20) ** 2 <= 14**2  # a round city
    band = 2.5 * 25
    by_grid = hotspots.gi_star_grid(counts, 25, band, mask=inside)
    by_points = hotspots.gi_star(counts[inside], (cols[inside] + 0.5) * 25, (rows[inside] + 0.5) * 25, band)
    assert np.abs(by_grid.z[inside] - by_points.z).max() <= 1e-9
    assert np.array_equal(by_grid.hot_cold[inside], by_points.hot_cold)
    assert not by_grid.z[~inside].any() and (by_grid.p[~inside] == 1).all()


def test_gi_star_on_constant_values_flags_nothing():
    result = hotspots.gi_star_grid(np.full((20, 20), 3.3), 50, 80)
    assert np.isfinite(result.z).all() and not result.z.any()
    assert not result.significant.any()
    zeros = hotspots.gi_star(np.zeros(10), np.arange(10) * 10.0, np.zeros(10), 15)
    assert not zeros.z.any() and not zeros.hot_cold.any()


def test_gi_star_rejects_unusable_parameters():
    with pytest.raises(ValueError, match="Distanzbereich"):
        hotspots.gi_star([1, 2, 3], [0, 1, 2], [0, 0, 0], 0)
    with pytest.raises(ValueError, match="drei"):
        hotspots.gi_star([1, 2], [0, 1], [0, 0], 5)
    with pytest.raises(ValueError, match="Wert je Ort"):
        hotspots.gi_star([1, 2, 3, 4], [0, 1, 2], [0, 0, 0], 5)
    with pytest.raises(ValueError, match="Signifikanzniveau"):
        hotspots.gi_star_grid(np.ones((5, 5)), 10, 15, alpha=1.5)


def test_benjamini_hochberg_against_hand_computed_examples():
    # m = 5, α = 0.05: sorted p 0.005 ≤ 0.01, 0.01 ≤ 0.02, 0.03 ≤ 0.03, 0.04 ≤ 0.04, 0.2 > 0.05.
    assert hotspots.benjamini_hochberg([0.01, 0.04, 0.03, 0.005, 0.2]).tolist() == [
        True,
        True,
        True,
        True,
        False,
    ]
    # Step-up: 0.02 misses its own threshold 0.0125, but 0.035 ≤ 3/4 · 0.05 carries it along.
    assert hotspots.benjamini_hochberg([0.02, 0.03, 0.035, 0.5]).tolist() == [True, True, True, False]
    assert hotspots.benjamini_hochberg([0.02, 0.03, 0.04, 0.5], alpha=0.01).tolist() == [False] * 4
    assert hotspots.benjamini_hochberg([]).size == 0


# --- exports ------------------------------------------------------------------------------------


def test_geojson_grid_holds_only_cells_above_the_minimum_in_wgs84():
    lat, lon = 51.5147, 7.4636  # Platz von Leeds
    x, y = to_utm32(lat, lon)
    grid = Grid(x0=x, y0=y, cell_size=100, ncols=3, nrows=2)
    values = np.array([[1.0, 2.5, 0.0], [0.0, 0.0, 7.123456789]])
    collection = hotspots.grid_cells_geojson(grid, values)
    json.dumps(collection)  # serialisable as is
    features = collection["features"]
    assert [(f["properties"]["row"], f["properties"]["col"]) for f in features] == [(0, 0), (0, 1), (1, 2)]
    assert features[2]["properties"]["value"] == pytest.approx(7.12346)
    ring = features[0]["geometry"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    # The grid origin maps back to the reference point; coordinates have 6 decimals (≈ 0.1 m).
    assert ring[0] == pytest.approx([lon, lat], abs=1.5e-6)
    assert all(round(coordinate, 6) == coordinate for point in ring for coordinate in point)
    # The next corner lies 100 m east: about 0.0014° of longitude (grid north is not true north).
    assert ring[1][0] - ring[0][0] == pytest.approx(100 / (111_320 * math.cos(math.radians(lat))), rel=0.01)
    assert ring[1][1] == pytest.approx(lat, abs=3e-5)
    assert len(hotspots.grid_cells_geojson(grid, values, min_value=2)["features"]) == 2


def test_geojson_grid_uses_a_given_coordinate_converter():
    grid = Grid(x0=0, y0=0, cell_size=10, ncols=2, nrows=1)
    collection = hotspots.grid_cells_geojson(
        grid, np.array([[1.0, 0.0]]), to_wgs84=lambda x, y: (x / 1000, y / 1000)
    )
    assert collection["features"][0]["geometry"]["coordinates"][0] == [
        [0.0, 0.0],
        [0.01, 0.0],
        [0.01, 0.01],
        [0.0, 0.01],
        [0.0, 0.0],
    ]


def test_ascii_grid_is_north_up_with_nodata():
    grid = Grid(x0=390_000, y0=5_700_000, cell_size=25, ncols=3, nrows=2)
    values = np.array([[1.0, 2.0, 3.0], [4.5, float("nan"), 6.0]])  # row 0 is the south row
    text = hotspots.ascii_grid(grid, values)
    lines = text.splitlines()
    header = dict(line.split() for line in lines[:6])
    assert header == {
        "ncols": "3",
        "nrows": "2",
        "xllcorner": "390000.000",
        "yllcorner": "5700000.000",
        "cellsize": "25",
        "NODATA_value": "-9999",
    }
    assert lines[6].split() == ["4.5", "-9999", "6"]  # north row first
    assert lines[7].split() == ["1", "2", "3"]
    assert "ETRS_1989_UTM_Zone_32N" in hotspots.ascii_grid_prj()
