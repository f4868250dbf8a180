"""Coordinates, areas and the city boundary."""

import json
import math

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lagebild.core.scoping import authority_scope
from lagebild.field import services
from lagebild.field.models import Incident
from lagebild.geo import points
from lagebild.geo.geometry import InvalidGeometry, parse_polygon
from lagebild.geo.models import Area
from lagebild.geo.services import locate

from .conftest import CITY_BOUNDS, INSIDE, OUTSIDE

finite_lat = st.floats(min_value=-90, max_value=90, allow_nan=False)
finite_lon = st.floats(min_value=-180, max_value=180, allow_nan=False)


@given(lat=finite_lat, lon=finite_lon)
def test_valid_coordinates_parse_to_six_decimals(lat, lon):
    parsed_lat = points.parse_coordinate(lat, kind="Breite")
    parsed_lon = points.parse_coordinate(str(lon).replace(".", ","), kind="Länge")
    assert abs(parsed_lat - lat) <= 5e-7
    assert abs(parsed_lon - lon) <= 5e-7 or math.isclose(parsed_lon, lon, abs_tol=5e-7)


@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not math.isfinite(v) or abs(v) > 180),
        st.text().filter(lambda t: not _is_number(t)),
        st.booleans(),
    )
)
def test_invalid_coordinates_are_rejected_with_a_message(value):
    with pytest.raises(points.InvalidCoordinate) as excinfo:
        points.parse_coordinate(value, kind="Länge")
    assert "Länge" in str(excinfo.value) or "Ungültige" in str(excinfo.value)


def _is_number(text: str) -> bool:
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        return False
    return math.isfinite(number) and abs(number) <= 180


@settings(max_examples=60)
@given(
    lat=st.floats(min_value=51.40, max_value=51.62),
    lon=st.floats(min_value=7.28, max_value=7.66),
)
def test_utm32_round_trip_and_metric_distance(lat, lon):
    """UTM32N coordinates are metres: 0.001° of latitude is about 111 m everywhere here."""
    x, y = points.to_utm32(lat, lon)
    x2, y2 = points.to_utm32(lat + 0.001, lon)
    assert 350_000 < x < 420_000
    assert 5_690_000 < y < 5_730_000
    assert 110 < math.hypot(x2 - x, y2 - y) < 112


def test_utm32_central_meridian_and_symmetry():
    # Zone 32's central meridian is 9° E with a false easting of 500 km; the projection is
    # symmetric about it, and Dortmund (≈7.46° E) lies about 104 km west of it.
    x_centre, _ = points.to_utm32(51.5, 9.0)
    x_west, y_west = points.to_utm32(51.5, 7.5)
    x_east, y_east = points.to_utm32(51.5, 10.5)
    assert x_centre == pytest.approx(500_000, abs=0.01)
    assert 500_000 - x_west == pytest.approx(x_east - 500_000, abs=0.01)
    assert y_west == pytest.approx(y_east, abs=0.01)
    assert 500_000 - x_west == pytest.approx(104_230, rel=0.01)
    assert len(points.h3_cell(51.5178, 7.4593)) == 15


def test_locate_inside_computes_everything(geography):
    located = locate(*INSIDE)
    assert located.lat == INSIDE[0]
    ids = set(located.area_ids)
    assert {geography["city"].pk, geography["east"].pk, geography["centre"].pk} <= ids
    assert geography["west"].pk not in ids
    assert len(located.h3_cell) == 15


def test_locate_outside_city_is_rejected(geography):
    with pytest.raises(ValidationError) as excinfo:
        locate(*OUTSIDE)
    assert "außerhalb des Stadtgebiets" in excinfo.value.message_dict["lat"][0]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lat=st.floats(min_value=51.3, max_value=51.7), lon=st.floats(min_value=7.2, max_value=7.7))
def test_locate_accepts_exactly_the_points_inside_the_boundary(geography, lat, lon):
    min_lon, min_lat, max_lon, max_lat = CITY_BOUNDS
    inside = min_lon < round(lon, 6) < max_lon and min_lat < round(lat, 6) < max_lat
    on_edge = round(lon, 6) in (min_lon, max_lon) or round(lat, 6) in (min_lat, max_lat)
    if on_edge:
        return
    if inside:
        located = locate(lat, lon)
        assert geography["city"].pk in located.area_ids
        assert (geography["west"].pk in located.area_ids) != (geography["east"].pk in located.area_ids)
    else:
        with pytest.raises(ValidationError):
            locate(lat, lon)


def test_points_inside_bounds_are_accepted_everywhere(geography):
    min_lon, min_lat, max_lon, max_lat = CITY_BOUNDS
    for i in range(1, 10):
        lat = min_lat + (max_lat - min_lat) * i / 10
        lon = min_lon + (max_lon - min_lon) * i / 10
        assert locate(lat, lon).area_ids
    with pytest.raises(ValidationError):
        locate(max_lat + 0.001, max_lon)


def test_area_change_is_seen_immediately(geography, world, kod, now):
    """Moving the boundary takes effect for the next write, without restart."""
    far_east = (51.52, 7.55)
    with pytest.raises(ValidationError):
        locate(*far_east)
    city = geography["city"]
    from lagebild.geo.services import area_save

    area_save(
        area=city,
        geometry={
            "type": "Polygon",
            "coordinates": [[[7.4, 51.48], [7.6, 51.48], [7.6, 51.56], [7.4, 51.56], [7.4, 51.48]]],
        },
    )
    assert city.pk in locate(*far_east).area_ids
    with authority_scope(kod.authority):
        incident = services.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=now,
            lat=far_east[0],
            lon=far_east[1],
        )
        assert Incident.objects.get(pk=incident.pk).areas.filter(pk=geography["east"].pk).exists() is False


@pytest.mark.parametrize(
    "geometry",
    [
        None,
        {"type": "Point", "coordinates": [7.4, 51.5]},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},  # bow tie
        {"type": "Polygon", "coordinates": [[[700, 0], [701, 1], [701, 0], [700, 0]]]},
        {"type": "Polygon", "coordinates": "abc"},
    ],
)
def test_bad_geometries_are_rejected(geometry):
    with pytest.raises(InvalidGeometry):
        parse_polygon(geometry)


def test_import_areas_command(db, tmp_path):
    path = tmp_path / "areas.geojson"
    feature = {
        "type": "Feature",
        "properties": {"kind": "stadtbezirk", "code": "x1", "name": "Bezirk X"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[7.4, 51.5], [7.5, 51.5], [7.5, 51.6], [7.4, 51.5]]],
        },
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    call_command("import-areas", str(path))
    area = Area.objects.get(code="x1")
    assert area.kind == Area.Kind.DISTRICT
    assert area.area_km2 > 1
    # Second run updates rather than duplicates.
    call_command("import-areas", str(path))
    assert Area.objects.filter(code="x1").count() == 1


def test_import_areas_reports_every_bad_feature_and_imports_nothing(db, tmp_path):
    good = {
        "type": "Feature",
        "properties": {"kind": "district", "code": "ok", "name": "Gut"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[7.4, 51.5], [7.5, 51.5], [7.5, 51.6], [7.4, 51.5]]],
        },
    }
    bad_kind = {**good, "properties": {"kind": "planet", "code": "b1", "name": "Falsch"}}
    bad_geometry = {
        **good,
        "properties": {"kind": "district", "code": "b2", "name": "Kaputt"},
        "geometry": None,
    }
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, bad_kind, bad_geometry]}))
    with pytest.raises(CommandError, match="2 fehlerhafte Objekte"):
        call_command("import-areas", str(path))
    assert Area.objects.count() == 0


def test_import_areas_rejects_non_json(db, tmp_path):
    path = tmp_path / "areas.geojson"
    path.write_bytes(b"\x00\xffnot json")
    with pytest.raises(CommandError, match="Keine gültige GeoJSON-Datei"):
        call_command("import-areas", str(path))
