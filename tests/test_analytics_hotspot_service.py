"""Hotspots over recorded incidents: kernel density, Gi*, concentration, page, map data, downloads.

Incidents are recorded through the field services, so the points are located, projected and
linked to areas the real way. Check values from the research notes §2.2 (quartic kernel) and §4
(Gini); Gi* against a planted cluster and against uniform data.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from lagebild.analytics import hotspot_service as service
from lagebild.analytics.models import CITY_AREA, Indicator
from lagebild.core.scoping import authority_scope
from lagebild.field import services as field
from lagebild.geo.points import to_utm32

BERLIN = ZoneInfo("Europe/Berlin")
TO_WGS84 = Transformer.from_crs(25832, 4326, always_xy=True)
PAGE = "/auswertung/brennpunkte/"
MAP = "/auswertung/brennpunkte/karte.json"
DOWNLOADS = (
    "/auswertung/brennpunkte/kerndichte.geojson",
    "/auswertung/brennpunkte/kerndichte.asc",
    "/auswertung/brennpunkte/kerndichte.prj",
    "/auswertung/brennpunkte/gistar.geojson",
)


def lat_lon(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_WGS84.transform(x, y)
    return round(lat, 6), round(lon, 6)


def stored_utm(lat: float, lon: float) -> tuple[float, float]:
    """What the field services store for a point (6-decimal WGS84 → UTM to the centimetre)."""
    return to_utm32(round(lat, 6), round(lon, 6))


def record(user, category, at: dt.datetime, lat: float, lon: float, **extra):
    with authority_scope(user.authority_id):
        return field.incident_create(user=user, category=category, occurred_at=at, lat=lat, lon=lon, **extra)


def centre_base(world) -> tuple[float, float]:
    """A UTM point inside the focus area "centre", on a 5 m cell centre (x, y = 5k + 2.5)."""
    x, y = to_utm32(51.514, 7.465)
    return math.floor(x / 5) * 5 + 2.5, math.floor(y / 5) * 5 + 2.5


def quartic_per_km2(cell_x: float, cell_y: float, points: list[tuple[float, float]], radius: float) -> float:
    """ArcGIS: (1/r²) Σ (3/π)(1 − (d/r)²)² over the points within r, in points per km²."""
    total = 0.0
    for x, y in points:
        d = math.hypot(x - cell_x, y - cell_y)
        if d < radius:
            total += (3 / math.pi) * (1 - (d / radius) ** 2) ** 2
    return total / radius**2 * 1_000_000


@pytest.fixture
def day(now) -> dt.date:
    """A local day well inside the default 28-day window."""
    return (now - dt.timedelta(days=3)).astimezone(BERLIN).date()


def at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)


# --- kernel density ---------------------------------------------------------------------------


def test_kde_at_cell_centres_equals_the_hand_formula_and_the_research_check_values(world, kod, day):
    begging = world["categories"]["begging"]
    base_x, base_y = centre_base(world)
    placed = [lat_lon(base_x + dx, base_y) for dx in (0.0, 50.0, 120.0)]  # research notes §2.2
    for lat, lon in placed:
        record(kod, begging, at_local(day, 12), lat, lon)
    points = [stored_utm(lat, lon) for lat, lon in placed]

    kde = service.kde_surface(world["areas"]["centre"].pk, day, day, bandwidth=100, cell_size=5)

    assert kde.points == 3 and kde.bandwidth == 100 and kde.grid.cell_size == 5
    assert kde.unit == "Feststellungen je km²"
    for offset, check_value in ((0.0, 149.208), (25.0, 168.767), (100.0, 141.721)):
        col = int((base_x + offset - kde.grid.x0) // 5)
        row = int((base_y - kde.grid.y0) // 5)
        cell_x = kde.grid.x0 + (col + 0.5) * 5
        cell_y = kde.grid.y0 + (row + 0.5) * 5
        assert (cell_x, cell_y) == pytest.approx((base_x + offset, base_y))
        assert kde.values[row, col] == pytest.approx(quartic_per_km2(cell_x, cell_y, points, 100), rel=1e-9)
        # The stored points differ from the ideal ones by centimetres (6-decimal WGS84).
        assert kde.values[row, col] == pytest.approx(check_value, rel=2e-3)
    # The volume under the surface is the number of points (in km² × per km²).
    assert kde.values.sum() * kde.grid.cell_area_km2 == pytest.approx(3, rel=0.01)


def test_default_bandwidth_follows_the_arcgis_rule_and_the_grid_covers_area_plus_bandwidth(world, kod, day):
    begging = world["categories"]["begging"]
    base_x, base_y = centre_base(world)
    offsets = [(0, 0), (300, 0), (0, 300), (300, 300), (150, 150), (-200, 100)]
    placed = [lat_lon(base_x + dx, base_y + dy) for dx, dy in offsets]
    for lat, lon in placed:
        record(kod, begging, at_local(day, 9), lat, lon)
    xs, ys = np.array([stored_utm(*p) for p in placed]).T
    # ArcGIS: 0.9 · min(SD, √(1/ln 2) · Dm) · n^−0.2, Dm the (lower) median distance to the mean centre.
    distances = np.hypot(xs - xs.mean(), ys - ys.mean())
    sd = math.sqrt(np.mean(distances**2))
    dm = np.sort(distances)[(len(distances) - 1) // 2]
    expected = 0.9 * min(sd, math.sqrt(1 / math.log(2)) * dm) * len(xs) ** -0.2

    kde = service.kde_surface(world["areas"]["centre"].pk, day, day, cell_size=10)

    assert kde.bandwidth == pytest.approx(expected)
    assert "Standardregel" in kde.bandwidth_note
    centre_utm = service.study_area(world["areas"]["centre"].pk).utm
    xmin, ymin, xmax, ymax = centre_utm.bounds
    assert kde.grid.x0 <= xmin - kde.bandwidth and kde.grid.x1 >= xmax + kde.bandwidth
    assert kde.grid.y0 <= ymin - kde.bandwidth and kde.grid.y1 >= ymax + kde.bandwidth


def test_default_cell_size_is_a_round_value_of_at_least_25_m(world, kod, day):
    record(kod, world["categories"]["begging"], at_local(day, 9), 51.514, 7.465)
    record(kod, world["categories"]["begging"], at_local(day, 9), 51.52, 7.43)

    city = service.kde_surface(CITY_AREA, day, day)
    centre = service.kde_surface(world["areas"]["centre"].pk, day, day)

    # City ≈ 8.3 × 8.9 km plus margins: shorter side / 250 ≈ 35–45 m, rounded to 50 m.
    assert city.grid.cell_size == 50
    assert centre.grid.cell_size >= 25
    assert centre.bandwidth >= 2 * centre.grid.cell_size  # a kernel always spans several cells


# --- which incidents ---------------------------------------------------------------------------


def test_points_are_filtered_by_area_local_days_and_categories(world, kod, polizei, day):
    begging, drugs = world["categories"]["begging"], world["categories"]["drugs"]
    in_centre = (51.514, 7.465)
    in_west = (51.53, 7.43)
    # 00:30 local on the first day is still the previous day in UTC; 23:30 on the last day is in.
    record(kod, begging, at_local(day - dt.timedelta(days=1), 0, 30), *in_centre)
    record(polizei, drugs, at_local(day, 23, 30), *in_centre)
    record(kod, begging, at_local(day, 10), *in_west)
    record(kod, begging, at_local(day - dt.timedelta(days=2), 23, 59), *in_centre)  # before the period
    record(kod, drugs, at_local(day + dt.timedelta(days=1), 0, 1), *in_west)  # after the period
    start, end = day - dt.timedelta(days=1), day

    def count(area_id: int, categories=()) -> int:
        x, y = service.incident_points(area_id, start, end, categories)
        assert len(x) == len(y)
        return len(x)

    assert count(CITY_AREA) == 3
    assert count(world["areas"]["centre"].pk) == 2
    assert count(world["areas"]["east"].pk) == 2  # the centre lies in the eastern district
    assert count(world["areas"]["west"].pk) == 1
    assert count(CITY_AREA, [begging.pk]) == 2
    assert count(world["areas"]["centre"].pk, [drugs.pk]) == 1
    x, y = service.incident_points(world["areas"]["west"].pk, start, end)
    assert (x[0], y[0]) == stored_utm(*in_west)


def test_an_indicator_selects_the_incidents_it_counts(world, kod, analyst, client, day):
    begging, drugs = world["categories"]["begging"], world["categories"]["drugs"]
    indicator = Indicator.objects.create(
        code="begging-observed", name="Betteln beobachtet", kind="problem", fact="incident"
    )
    indicator.categories.set([begging])
    for minute in range(3):
        record(kod, begging, at_local(day, 10, minute), 51.514, 7.465)
    record(kod, drugs, at_local(day, 11), 51.514, 7.465)
    client.force_login(analyst)

    by_indicator = client.get(MAP, {"indicator": "begging-observed"}).json()
    by_categories = client.get(MAP, {"categories": [begging.pk]}).json()
    everything = client.get(MAP).json()

    assert by_indicator["points"] == by_categories["points"] == 3
    assert everything["points"] == 4
    both = client.get(MAP, {"indicator": "begging-observed", "categories": [drugs.pk]})
    assert both.status_code == 400 and "indicator" in both.json()["errors"]


# --- Gi* -----------------------------------------------------------------------------------------


def test_gi_star_finds_a_planted_cluster_as_hot_after_fdr(world, kod, polizei, day):
    begging = world["categories"]["begging"]
    base_x, base_y = centre_base(world)
    base_x, base_y = math.floor(base_x / 100) * 100 + 50, math.floor(base_y / 100) * 100 + 50  # one cell
    rng = np.random.default_rng(7)
    for index, (dx, dy) in enumerate(rng.uniform(-15, 15, size=(24, 2))):
        record(
            kod if index % 2 else polizei,
            begging,
            at_local(day, 8, index),
            *lat_lon(base_x + dx, base_y + dy),
        )
    scattered = [(51.49 + 0.02 * i, 7.41 + 0.025 * j) for i in range(3) for j in range(4)]
    for index, (lat, lon) in enumerate(scattered):
        record(kod, begging, at_local(day, 14, index), lat, lon)

    gi = service.gi_star_cells(CITY_AREA, day, day, cell_size=100)

    grid = gi.cells.grid
    assert gi.cells.counts.sum() == 36
    cluster_row, cluster_col = int((base_y - grid.y0) // 100), int((base_x - grid.x0) // 100)
    assert gi.result.hot_cold[cluster_row, cluster_col] == 1
    assert gi.result.p[cluster_row, cluster_col] < 1e-6
    assert gi.cold_count == 0
    # Only the cluster's neighbourhood (distance band 150 m = the 8 neighbours) is hot.
    hot_rows, hot_cols = np.nonzero(gi.result.hot_cold == 1)
    assert np.all(np.hypot(hot_rows - cluster_row, hot_cols - cluster_col) <= 1.5)
    for lat, lon in scattered:
        x, y = stored_utm(lat, lon)
        assert gi.result.hot_cold[int((y - grid.y0) // 100), int((x - grid.x0) // 100)] == 0
    assert gi.distance_band == 150 and gi.neighbours == 9 and gi.alpha == 0.05


def test_gi_star_flags_nothing_in_uniform_data_thanks_to_fdr(world):
    """Uniform data: the same expected count in every cell of the area (full 250 m squares).

    With about 16 incidents per cell the normal approximation of the Gi* p-values holds, and
    under a true null Benjamini-Hochberg keeps the chance of any flag at alpha (5 %).
    """
    area = service.study_area(CITY_AREA)
    cell = 250.0
    layout = service.cell_counts(area, np.zeros(0), np.zeros(0), cell)
    rows, cols = np.nonzero(layout.area_cells)
    with_any_flag, raw_significant = 0, []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        pick = rng.integers(0, rows.size, 20_000)
        x = layout.grid.x0 + (cols[pick] + rng.random(pick.size)) * cell
        y = layout.grid.y0 + (rows[pick] + rng.random(pick.size)) * cell
        gi = service.gi_star_for_points(area, x, y, cell_size=cell)
        with_any_flag += int(gi.result.significant.any())
        raw_significant.append(float((gi.result.p[layout.area_cells] < 0.05).mean()))
    assert with_any_flag <= 3  # about 1 of 20 data sets expected
    # Without the FDR correction about 5 % of all cells would be "significant" every time.
    assert 0.03 < float(np.mean(raw_significant)) < 0.07


# --- concentration --------------------------------------------------------------------------------


def test_concentration_of_planted_counts_includes_the_empty_cells_of_the_area(world, kod, day):
    begging = world["categories"]["begging"]
    base_x, base_y = centre_base(world)
    cell_x, cell_y = math.floor(base_x / 100) * 100 + 50, math.floor(base_y / 100) * 100 + 50
    planted = {(0, 0): 5, (200, 0): 2, (0, -200): 1}  # research notes §4: counts 5, 2, 1
    for (dx, dy), count in planted.items():
        for minute in range(count):
            record(kod, begging, at_local(day, 9, minute), *lat_lon(cell_x + dx, cell_y + dy))
    # The 100 m cells (aligned to multiples of 100 m) that overlap the focus area, counted independently.
    polygon = service.study_area(world["areas"]["centre"].pk).utm
    xmin, ymin, xmax, ymax = polygon.bounds
    xs = np.arange(math.floor(xmin / 100) * 100, xmax, 100)
    ys = np.arange(math.floor(ymin / 100) * 100, ymax, 100)
    left, bottom = (a.ravel() for a in np.meshgrid(xs, ys))
    boxes = shapely.box(left, bottom, left + 100, bottom + 100)
    cell_total = int((shapely.intersects(polygon, boxes) & ~shapely.touches(polygon, boxes)).sum())
    counts = np.zeros(cell_total)
    counts[:3] = [5, 2, 1]
    ascending = np.sort(counts)
    ranks = np.arange(1, cell_total + 1)
    gini = 2 * np.sum(ranks * ascending) / (cell_total * ascending.sum()) - (cell_total + 1) / cell_total

    result = service.concentration_for(world["areas"]["centre"].pk, day, day, cell_size=100)

    assert result.cells == cell_total
    assert result.result.incidents == 8
    top_one_percent = max(1, math.ceil(cell_total / 100))  # 2 cells for 100–200 cells
    assert result.result.top_share[1] == pytest.approx(
        sum(sorted([5, 2, 1], reverse=True)[:top_one_percent]) / 8
    )
    assert result.result.top_share[5] == 1.0 and result.result.top_share[10] == 1.0
    assert result.result.gini == pytest.approx(gini)
    assert result.result.generalized_gini == pytest.approx(1 - (cell_total / 8) * (1 - gini))
    assert result.result.cells_for_half == pytest.approx(1 / cell_total)
    assert result.deciles[0] == (0.0, 0.0) and result.deciles[-1] == (1.0, pytest.approx(1.0))


def test_concentration_without_incidents_says_why_in_german(world, day):
    with pytest.raises(ValueError, match="keine Vorfälle"):
        service.concentration_for(world["areas"]["centre"].pk, day, day)


# --- page, map data, downloads: both partners see the same, no record details -------------------


def _main(html: str) -> str:
    body = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"Stand: [^<]*", "", body)


def test_page_map_and_downloads_are_identical_for_city_and_police_and_expose_no_record(
    world, kod, polizei, analyst, client, day
):
    begging, dealing = world["categories"]["begging"], world["categories"]["dealing"]
    base_x, base_y = centre_base(world)
    for index in range(6):
        record(kod, begging, at_local(day, 10, index), *lat_lon(base_x + 10 * index, base_y))
    secret = record(
        polizei,
        dealing,
        at_local(day, 22),
        *lat_lon(base_x + 30, base_y + 20),
        description="Vertrauliche Beschreibung Kilo-7",
        address_text="Geheimweg 7",
    )
    assert not secret.joint  # police only: the city user cannot open the record itself
    # The default 28 days, given explicitly: both users must ask for the same days, also when
    # local midnight passes between their requests.
    period = {
        "start": (day - dt.timedelta(days=24)).isoformat(),
        "end": (day + dt.timedelta(days=3)).isoformat(),
    }
    query = {"area": str(world["areas"]["centre"].pk), "gi_cell_size": "50", **period}
    outputs: dict[str, dict[str, bytes]] = {}
    for user in (analyst, polizei):
        client.force_login(user)
        responses = {url: client.get(url, query) for url in (PAGE, MAP, *DOWNLOADS)}
        assert all(r.status_code == 200 for r in responses.values()), {
            u: r.status_code for u, r in responses.items()
        }
        outputs[user.username] = {url: r.content for url, r in responses.items()}
        outputs[user.username][PAGE] = _main(responses[PAGE].content.decode()).encode()
        client.logout()

    assert outputs["analyse"] == outputs["polizei"]
    city_view = outputs["analyse"]
    assert json.loads(city_view[MAP])["points"] == 7  # the police-only incident is counted
    assert '<span class="figure">7</span>' in city_view[PAGE].decode()
    for url, content in city_view.items():
        text = content.decode()
        for word in ("Kilo-7", "Geheimweg", f"/feststellungen/{secret.pk}/"):
            assert word not in text, (url, word)
    gi_cells = json.loads(city_view["/auswertung/brennpunkte/gistar.geojson"])
    assert sum(f["properties"]["count"] for f in gi_cells["features"]) == 7
    assert set(gi_cells["features"][0]["properties"]) == {
        "z",
        "p",
        "significant",
        "class",
        "count",
        "row",
        "col",
    }


def test_downloads_carry_the_grid_its_crs_and_the_values(world, kod, analyst, client, day):
    begging = world["categories"]["begging"]
    base_x, base_y = centre_base(world)
    for index in range(5):
        record(kod, begging, at_local(day, 10, index), *lat_lon(base_x + 20 * index, base_y))
    client.force_login(analyst)
    query = {"area": str(world["areas"]["centre"].pk), "bandwidth": "150", "cell_size": "25"}

    geojson = client.get(DOWNLOADS[0], query)
    ascii_grid = client.get(DOWNLOADS[1], query)
    prj = client.get(DOWNLOADS[2], query)

    assert geojson["Content-Type"] == "application/geo+json"
    assert "_WGS84.geojson" in geojson["Content-Disposition"]
    collection = json.loads(geojson.content)
    feature = collection["features"][0]
    assert set(feature["properties"]) == {"value", "row", "col", "unit"}
    assert feature["properties"]["unit"] == "Feststellungen je km²"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 7.40 < lon < 7.52 and 51.48 < lat < 51.56
    assert collection["metadata"]["bandwidth_m"] == 150 and collection["metadata"]["cell_size_m"] == 25
    volume = sum(f["properties"]["value"] for f in collection["features"]) * 25 * 25 / 1_000_000
    assert volume == pytest.approx(5, rel=0.01)

    asc_name = re.search(r'filename="([^"]+)"', ascii_grid["Content-Disposition"]).group(1)
    prj_name = re.search(r'filename="([^"]+)"', prj["Content-Disposition"]).group(1)
    assert asc_name.endswith("_EPSG25832.asc") and prj_name == asc_name[:-4] + ".prj"
    header = dict(line.split() for line in ascii_grid.content.decode().splitlines()[:6])
    assert header["cellsize"] == "25"
    assert float(header["xllcorner"]) % 25 == 0
    assert "ETRS_1989_UTM_Zone_32N" in prj.content.decode() or "UTM zone 32N" in prj.content.decode()


def test_page_explains_the_bandwidth_and_shows_concentration_and_lorenz_numbers(
    world, kod, analyst, client, day
):
    begging = world["categories"]["begging"]
    base_x, base_y = centre_base(world)
    for index in range(12):
        record(
            kod,
            begging,
            at_local(day, 10, index),
            *lat_lon(base_x + 37 * (index % 4), base_y + 53 * (index // 4)),
        )
    client.force_login(analyst)

    response = client.get(PAGE, {"area": str(world["areas"]["centre"].pk)})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Standardregel (ArcGIS)" in html
    assert "Top 1 % der Zellen" in html and "Gini-Koeffizient" in html
    assert 'role="img"' in html and "<desc" in html and "Zahlen der Lorenzkurve" in html
    assert "EPSG:25832" in html
    assert 'data-map-url="/auswertung/brennpunkte/karte.json?' in html
    # SVG coordinates use a dot even though the page is German.
    points = re.search(r'<polyline points="([^"]+)"', html).group(1)
    assert re.fullmatch(r"[0-9. ,]+", points) and "," in points and not re.search(r"\d,\d+,", points)


# --- bad input and empty selections ----------------------------------------------------------------


def _field_error(html: str, field_name: str) -> str:
    match = re.search(rf'id="id_{field_name}-error">([^<]*)<', html)
    return match.group(1) if match else ""


@pytest.mark.parametrize(
    ("params", "field_name", "words"),
    [
        ({"bandwidth": "6000"}, "bandwidth", "höchstens 5.000 m"),
        ({"bandwidth": "-5"}, "bandwidth", "größer als 0"),
        ({"bandwidth": "20", "cell_size": "50"}, "bandwidth", "kleiner als die Zellgröße"),
        ({"cell_size": "5"}, "cell_size", "höchstens 1.000.000"),
        ({"cell_size": "0,5"}, "cell_size", "mindestens 5 m"),
        ({"gi_cell_size": "100", "distance_band": "50"}, "distance_band", "mindestens eine Zellgröße"),
        ({"alpha": "0,7"}, "alpha", "Signifikanzniveau"),
        ({"bandwidth": "viel"}, "bandwidth", "Bitte eine Zahl"),
        ({"start": "2026-02-30"}, "start", "gibt es nicht im Kalender"),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end", "vor dem Startdatum"),
        ({"area": "999999"}, "area", "gibt es nicht"),
    ],
)
def test_bad_parameters_are_answered_at_the_field_never_with_a_500(
    world, kod, analyst, client, day, params, field_name, words
):
    record(kod, world["categories"]["begging"], at_local(day, 10), 51.514, 7.465)
    record(kod, world["categories"]["begging"], at_local(day, 11), 51.53, 7.43)
    client.force_login(analyst)

    page = client.get(PAGE, params)
    data = client.get(MAP, params)
    download = client.get(DOWNLOADS[1], params)

    assert page.status_code == 400
    assert words in _field_error(page.content.decode(), field_name)
    assert data.status_code == 400 and any(words in m for m in data.json()["errors"][field_name])
    assert download.status_code == 400 and words in download.content.decode()


def test_an_empty_selection_gets_a_friendly_message(world, kod, analyst, client, day):
    record(kod, world["categories"]["begging"], at_local(day, 10), 51.53, 7.43)  # west, not centre
    client.force_login(analyst)
    query = {"area": str(world["areas"]["centre"].pk)}

    page = client.get(PAGE, query)
    data = client.get(MAP, query)
    download = client.get(DOWNLOADS[0], query)

    assert page.status_code == 200
    assert "keine Feststellungen" in page.content.decode()
    assert (
        data.status_code == 200
        and data.json()["points"] == 0
        and "keine Feststellungen" in data.json()["message"]
    )
    assert download.status_code == 404 and "keine Feststellungen" in download.content.decode()


def test_an_area_smaller_than_a_gi_cell_still_gets_density_and_concentration(
    world, kod, analyst, client, day
):
    from lagebild.geo.models import Area
    from lagebild.geo.services import area_save

    base_x, base_y = centre_base(world)
    cell_x, cell_y = math.floor(base_x / 100) * 100, math.floor(base_y / 100) * 100
    square = ((20, 20), (60, 20), (60, 60), (20, 60), (20, 20))
    corners = [lat_lon(cell_x + dx, cell_y + dy) for dx, dy in square]
    tiny = Area(kind=Area.Kind.CUSTOM, code="kiosk", name="Kiosk")
    area_save(area=tiny, geometry={"type": "Polygon", "coordinates": [[[lon, lat] for lat, lon in corners]]})
    kiosk = lat_lon(cell_x + 40, cell_y + 40)
    for minute in range(4):
        record(kod, world["categories"]["begging"], at_local(day, 9, minute), *kiosk)
    client.force_login(analyst)

    response = client.get(PAGE, {"area": str(tiny.pk)})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nicht berechnet: Für Gi* werden mindestens drei Zellen benötigt." in html
    assert "Gini-Koeffizient" in html and "Bandbreite der Kerndichte" in html
    assert client.get(MAP, {"area": str(tiny.pk)}).json()["gi"]["features"] == []
    explicit = client.get(PAGE, {"area": str(tiny.pk), "gi_cell_size": "100"})
    assert explicit.status_code == 400
    assert "mindestens drei Zellen" in _field_error(explicit.content.decode(), "gi_cell_size")


def test_pages_need_a_login(client, world):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/anmelden/" in response["Location"]


# --- large grids ----------------------------------------------------------------------------------------


def test_a_whole_city_density_on_a_500_by_500_grid_uses_the_binned_method_and_valid_classes(world):
    area = service.study_area(CITY_AREA)
    xmin, ymin, xmax, ymax = area.bounds
    rng = np.random.default_rng(3)
    # A year of the demo city: about 44,000 incidents, most of them around a few places.
    centres = rng.uniform((xmin, ymin), (xmax, ymax), size=(12, 2))
    clustered = centres[rng.integers(0, 12, 30_000)] + rng.normal(0, 150, (30_000, 2))
    background = rng.uniform((xmin, ymin), (xmax, ymax), size=(14_000, 2))
    x, y = np.vstack([clustered, background]).T
    cell = max(xmax - xmin, ymax - ymin) / 480

    # Speed is measured by bench/hotspots.py, not here.
    kde = service.kde_for_points(area, x, y, bandwidth=500, cell_size=cell)
    layer = service.kde_class_features(kde)

    assert kde.grid.ncols * kde.grid.nrows >= 250_000
    assert kde.method == "binned"
    assert layer["features"]
    assert shape(layer["features"][0]["geometry"]).is_valid
