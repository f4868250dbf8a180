"""Generate the demo geography for Lagebild (Dortmund).

Writes two GeoJSON files (WGS84, lon/lat, 6 decimals):

* ``src/lagebild/demo/data/dortmund_areas.geojson``: city outline, 12 Stadtbezirke
  (tiling the outline exactly), focus areas, video-observed areas and patrol zones.
* ``src/lagebild/demo/data/dortmund_places.geojson``: a small offline gazetteer (points).

All shapes are hand-made approximations for the demo, NOT official boundaries.

How the districts are built so that they tile the outline exactly, even after rounding:

1. The three inner districts are drawn by hand (sharing their vertex lists).
2. The rest of the city is split by a Voronoi diagram of several seed points per outer
   district, computed in an equirectangular frame (x = lon * cos(51.5 deg), y = lat).
3. All boundary lines (outline, inner districts, Voronoi edges) are noded together and
   polygonized into faces; each face is assigned to one district.
4. Face coordinates are rounded to 6 decimals. A vertex shared by two faces is rounded
   identically in both, and a polygonized arrangement has no T-junctions, so the rounded
   faces still form an exact partition. Districts and the city outline are unions of these
   faces.

Run:  .venv/bin/python scripts/make_demo_geography.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box, mapping
from shapely.geometry.polygon import orient
from shapely.ops import polygonize, unary_union

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "src" / "lagebild" / "demo" / "data"
AREAS_PATH = DATA_DIR / "dortmund_areas.geojson"
PLACES_PATH = DATA_DIR / "dortmund_places.geojson"

SOURCE = "Näherung für die Demo, nicht amtlich (handgezeichnet nach Ortskenntnis)"
DECIMALS = 6
GRID = 10.0**-DECIMALS

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
_FROM_UTM = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


def to_utm(geom):
    return shapely.transform(geom, _TO_UTM.transform, interleaved=False)


def from_utm(geom):
    return shapely.transform(geom, _FROM_UTM.transform, interleaved=False)


def area_km2(geom) -> float:
    return to_utm(geom).area / 1e6


def round_geom(geom):
    """Round every coordinate to DECIMALS (identical input vertices stay identical)."""
    return shapely.transform(geom, lambda c: np.round(c, DECIMALS))


def snap(geom):
    """Round onto the 1e-6 grid *and* keep the result valid (for stand-alone features)."""
    return shapely.set_precision(geom, GRID)


def ll(points_latlon):
    """(lat, lon) pairs -> list of (lon, lat) tuples."""
    return [(lon, lat) for lat, lon in points_latlon]


# ---------------------------------------------------------------------------
# 1. City outline (approximate, clockwise from the northern tip at Groppenbruch).
#    Given as (lat, lon) because that is how one reads it off a map.
# ---------------------------------------------------------------------------
CITY_OUTLINE = ll(
    [
        (51.5990, 7.4560),  # northern tip (Holthausen)
        (51.5930, 7.4680),  # Brechten north
        (51.5860, 7.4850),
        (51.5815, 7.5060),  # Derne / Lünen
        (51.5760, 7.5260),
        (51.5750, 7.5480),  # Lanstrop north
        (51.5720, 7.5700),
        (51.5650, 7.5850),
        (51.5590, 7.6000),  # Husen / Kamen
        (51.5550, 7.6130),  # Kurl
        (51.5455, 7.6240),
        (51.5375, 7.6345),  # Wickede / Unna
        (51.5275, 7.6380),
        (51.5180, 7.6360),  # Asseln / Unna
        (51.5080, 7.6310),
        (51.4995, 7.6250),  # Sölderholz / Unna
        (51.4930, 7.6120),
        (51.4860, 7.6030),  # Sölde / Holzwickede
        (51.4800, 7.5900),
        (51.4720, 7.5850),
        (51.4650, 7.5720),  # Aplerbecker Mark / Schwerte
        (51.4590, 7.5580),  # Berghofen
        (51.4530, 7.5430),
        (51.4465, 7.5350),
        (51.4395, 7.5205),  # Höchsten
        (51.4245, 7.5000),
        (51.4175, 7.4915),  # Syburg / Hengsteysee
        (51.4150, 7.4780),  # southern tip at the Ruhr
        (51.4200, 7.4650),
        (51.4300, 7.4450),  # Lücklemberg / Herdecke
        (51.4370, 7.4320),
        (51.4420, 7.4180),  # Schnee / Witten
        (51.4480, 7.4050),
        (51.4550, 7.3930),  # Kruckel
        (51.4650, 7.3880),
        (51.4730, 7.3780),  # Oespel / Witten-Annen
        (51.4800, 7.3620),
        (51.4870, 7.3450),
        (51.4920, 7.3300),  # Somborn / Bochum-Langendreer
        (51.4960, 7.3120),
        (51.5050, 7.3020),  # Bövinghausen (western tip)
        (51.5150, 7.3000),
        (51.5200, 7.3200),
        (51.5270, 7.3380),  # Castrop-Rauxel border
        (51.5350, 7.3450),
        (51.5450, 7.3480),
        (51.5530, 7.3470),
        (51.5610, 7.3480),  # Mengede west
        (51.5780, 7.3550),  # Schwieringhausen / Waltrop
        (51.5850, 7.3650),
        (51.5900, 7.3800),
        (51.5925, 7.3950),  # Groppenbruch north
        (51.5870, 7.4090),
        (51.5770, 7.4200),  # Lünen-Brambauer reaches south here
        (51.5735, 7.4320),
        (51.5790, 7.4440),
        (51.5900, 7.4500),
    ]
)

# ---------------------------------------------------------------------------
# 2. Districts. Official order/numbering of the Stadtbezirke (01..12).
# ---------------------------------------------------------------------------
DISTRICTS = [
    ("01", "Innenstadt-West"),
    ("02", "Innenstadt-Nord"),
    ("03", "Innenstadt-Ost"),
    ("04", "Eving"),
    ("05", "Scharnhorst"),
    ("06", "Brackel"),
    ("07", "Aplerbeck"),
    ("08", "Hörde"),
    ("09", "Hombruch"),
    ("10", "Lütgendortmund"),
    ("11", "Huckarde"),
    ("12", "Mengede"),
]
NAME_BY_CODE = dict(DISTRICTS)

# Shared boundary pieces of the three inner districts (lat, lon).
# Railway line Hbf -> west (Nord above, West below); Hbf itself lies north of it.
_RAIL_WEST = [
    (51.5188, 7.4800),
    (51.5190, 7.4700),
    (51.5180, 7.4640),
    (51.5175, 7.4620),
    (51.5168, 7.4560),
    (51.5160, 7.4480),
    (51.5155, 7.4380),
    (51.5150, 7.4250),
]
# West / Ost: Heiliger Weg - Ruhrallee - Westfalenhallen (north -> south).
_WEST_OST = [
    (51.5188, 7.4800),
    (51.5130, 7.4790),
    (51.5080, 7.4760),
    (51.5030, 7.4700),
    (51.4950, 7.4650),
    (51.4880, 7.4600),
]
# Nord / Ost: railway east of the Hbf (west -> east).
_NORD_OST = [
    (51.5188, 7.4800),
    (51.5190, 7.4900),
    (51.5200, 7.5000),
]

INNER_WEST = ll(
    [
        *_RAIL_WEST,
        (51.5210, 7.4150),  # Dorstfeld north (Huckarde beyond)
        (51.5190, 7.4020),
        (51.5080, 7.3980),  # Dorstfeld west (Marten beyond)
        (51.4990, 7.4050),
        (51.4960, 7.4200),  # Barop beyond
        (51.4900, 7.4380),
        (51.4870, 7.4500),
        *_WEST_OST[::-1],
    ]
)
INNER_NORD = ll(
    [
        *_RAIL_WEST[::-1],  # west -> east along the railway
        *_NORD_OST[1:],
        (51.5300, 7.5050),  # Westfalenhütte (Scharnhorst/Brackel beyond)
        (51.5400, 7.4900),
        (51.5420, 7.4700),  # Eving beyond
        (51.5450, 7.4550),
        (51.5420, 7.4300),  # Fredenbaum / Huckarde beyond
        (51.5300, 7.4200),
    ]
)
INNER_OST = ll(
    [
        *_WEST_OST,
        (51.4870, 7.4700),  # Westfalenpark south (Hörde beyond)
        (51.4880, 7.4850),
        (51.4935, 7.5000),
        (51.4960, 7.5300),  # Körne / Aplerbeck-Schüren beyond
        (51.5100, 7.5420),
        (51.5210, 7.5330),  # Wambel (Brackel) beyond
        *_NORD_OST[::-1][:-1],
    ]
)
INNER = [("01", INNER_WEST), ("02", INNER_NORD), ("03", INNER_OST)]

# Voronoi seeds for the outer districts (lat, lon): district centre plus its Stadtteile.
OUTER_SEEDS = {
    "04": [(51.5550, 7.4700), (51.5750, 7.4750), (51.5860, 7.4530), (51.5480, 7.4450)],
    "05": [
        (51.5450, 7.5400),
        (51.5720, 7.5200),
        (51.5680, 7.5650),
        (51.5500, 7.5950),
        (51.5520, 7.5150),
    ],
    "06": [
        (51.5100, 7.5650),
        (51.5220, 7.5350),
        (51.5330, 7.5850),
        (51.5330, 7.6200),
    ],
    "07": [(51.4800, 7.5600), (51.4900, 7.6050), (51.4620, 7.5550), (51.4920, 7.5400)],
    "08": [(51.4800, 7.5000), (51.4620, 7.4900), (51.4450, 7.5150), (51.4260, 7.4850)],
    "09": [
        (51.4650, 7.4300),
        (51.4880, 7.4200),
        (51.4480, 7.4600),
        (51.4820, 7.3950),
        (51.4550, 7.4000),
    ],
    "10": [(51.5000, 7.3500), (51.5100, 7.3850), (51.4850, 7.3750), (51.5100, 7.3200)],
    "11": [(51.5350, 7.4100), (51.5230, 7.3750), (51.5250, 7.3600), (51.5420, 7.4200)],
    "12": [
        (51.5700, 7.3800),
        (51.5480, 7.3900),
        (51.5550, 7.3550),
        (51.5600, 7.4050),
        (51.5820, 7.4020),
        (51.5780, 7.3600),
    ],
}

# Reference areas (km², rounded public figures) only used for a plausibility printout.
REFERENCE_AREA_KM2 = {
    "01": 13.7,
    "02": 14.4,
    "03": 15.1,
    "04": 22.8,
    "05": 30.5,
    "06": 31.8,
    "07": 24.6,
    "08": 29.8,
    "09": 34.4,
    "10": 23.1,
    "11": 15.3,
    "12": 28.8,
}

COS_LAT = math.cos(math.radians(51.5))


def _to_eq(geom):
    return shapely.transform(geom, lambda c: c * np.array([COS_LAT, 1.0]))


def _from_eq(geom):
    return shapely.transform(geom, lambda c: c / np.array([COS_LAT, 1.0]))


def build_districts():
    city0 = Polygon(CITY_OUTLINE)
    assert city0.is_valid, shapely.is_valid_reason(city0)
    inner_polys = {code: Polygon(coords) for code, coords in INNER}
    for code, poly in inner_polys.items():
        assert poly.is_valid, (code, shapely.is_valid_reason(poly))
        assert city0.contains(poly), code

    seeds = []  # (code, Point lon/lat)
    for code, pts in OUTER_SEEDS.items():
        for lat, lon in pts:
            seeds.append((code, Point(lon, lat)))
    seed_mp_eq = _to_eq(MultiPoint([p for _, p in seeds]))
    env = _to_eq(city0).buffer(0.05).envelope
    cells = _from_eq(shapely.voronoi_polygons(seed_mp_eq, extend_to=env))
    cells = list(cells.geoms)

    # All boundary lines, noded together.
    lines = [city0.exterior]
    lines += [p.exterior for p in inner_polys.values()]
    lines += [c.exterior for c in cells]
    noded = unary_union(lines)
    faces = [f for f in polygonize(noded) if city0.contains(f.representative_point())]

    def owner(face) -> str:
        rp = face.representative_point()
        for code in ("01", "02", "03"):  # inner districts take precedence
            if inner_polys[code].contains(rp):
                return code
        for cell in cells:
            if cell.contains(rp):
                for code, seed in seeds:
                    if cell.contains(seed):
                        return code
        raise AssertionError(f"face at {rp} has no owner")

    by_code: dict[str, list] = {code: [] for code, _ in DISTRICTS}
    for face in faces:
        rf = round_geom(face)
        if rf.area == 0:
            continue
        assert rf.is_valid, shapely.is_valid_reason(rf)
        by_code[owner(face)].append(rf)

    districts = {}
    for code, _name in DISTRICTS:
        geom = unary_union(by_code[code])
        assert geom.geom_type == "Polygon", (code, geom.geom_type)
        districts[code] = geom
    city = unary_union(list(districts.values()))
    assert city.geom_type == "Polygon" and not city.interiors
    return city, districts


# ---------------------------------------------------------------------------
# 3. Focus areas, video areas, patrol zones (small, hand-drawn, lat/lon).
# ---------------------------------------------------------------------------
WALLRING = ll(
    [
        (51.5140, 7.4555),  # Westentor (Königswall / Hiltropwall)
        (51.5152, 7.4557),
        (51.5162, 7.4562),
        (51.5170, 7.4570),  # Königswall
        (51.5176, 7.4590),
        (51.5180, 7.4615),
        (51.5183, 7.4640),  # Burgwall
        (51.5185, 7.4665),
        (51.5184, 7.4690),
        (51.5178, 7.4710),  # Schwanenwall
        (51.5168, 7.4730),
        (51.5156, 7.4743),
        (51.5140, 7.4745),  # Ostwall
        (51.5122, 7.4742),
        (51.5108, 7.4735),
        (51.5099, 7.4715),  # Südwall
        (51.5094, 7.4685),
        (51.5094, 7.4650),
        (51.5097, 7.4615),
        (51.5103, 7.4590),  # Hiltropwall
        (51.5115, 7.4568),
        (51.5128, 7.4558),
    ]
)

NORDSTADT = ll(
    [
        (51.5190, 7.4400),  # Hafen / Schützenstraße south
        (51.5186, 7.4550),  # railway north of the Hbf
        (51.5192, 7.4700),
        (51.5198, 7.4850),
        (51.5280, 7.4860),  # Borsigplatz east
        (51.5350, 7.4820),
        (51.5356, 7.4600),  # Fredenbaum / Nordstraße
        (51.5345, 7.4420),
        (51.5265, 7.4380),  # Hafen
    ]
)

KEUNINGPARK = ll(
    [
        (51.5230, 7.4612),
        (51.5250, 7.4615),
        (51.5254, 7.4640),
        (51.5250, 7.4662),
        (51.5231, 7.4660),
        (51.5226, 7.4636),
    ]
)

BRUECKSTRASSENVIERTEL = ll(
    [
        (51.5150, 7.4680),
        (51.5170, 7.4680),
        (51.5170, 7.4722),
        (51.5158, 7.4722),
        (51.5150, 7.4712),
    ]
)


def street_polygon(latlon_line, width_m: float):
    """A narrow polygon (flat ends) of the given width along a (lat, lon) polyline."""
    line = to_utm(LineString(ll(latlon_line)))
    return from_utm(line.buffer(width_m / 2.0, cap_style="flat", join_style="mitre"))


def rect_around(lat: float, lon: float, half_ns_m: float, half_ew_m: float):
    dlat = half_ns_m / 111_200.0
    dlon = half_ew_m / (111_200.0 * math.cos(math.radians(lat)))
    return box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def build_small_areas():
    wallring = Polygon(WALLRING)
    pz_city = from_utm(to_utm(wallring).buffer(150.0, quad_segs=3))
    nordstadt = Polygon(NORDSTADT)
    split_lat = 51.5270  # Mallinckrodtstraße (approximate)
    south_box = box(7.40, 51.50, 7.52, split_lat)
    north_box = box(7.40, split_lat, 7.52, 51.56)
    pz_nord_sued = nordstadt.intersection(south_box).difference(pz_city)
    pz_nord_nord = nordstadt.intersection(north_box)
    pz_kreuz = box(7.4450, 51.5000, 7.4650, 51.5100).difference(pz_city)

    areas = [
        ("focus_area", "wallring", "City (innerhalb des Wallrings)", wallring),
        ("focus_area", "nordstadt", "Nordstadt", nordstadt),
        (
            "focus_area",
            "westenhellweg",
            "Westenhellweg",
            street_polygon([(51.5140, 7.4560), (51.5137, 7.4660)], 30.0),
        ),
        (
            "focus_area",
            "platz-von-leeds",
            "Platz von Leeds",
            rect_around(51.5147, 7.4636, 45.0, 45.0),
        ),
        ("focus_area", "nordmarkt", "Nordmarkt", rect_around(51.5268, 7.4545, 65.0, 60.0)),
        (
            "focus_area",
            "hauptbahnhof",
            "Hauptbahnhof (Bahnhofsvorplatz / Königswall)",
            rect_around(51.5178, 7.4593, 75.0, 100.0),
        ),
        ("video_area", "keuningpark", "Keuningpark", Polygon(KEUNINGPARK)),
        (
            "video_area",
            "muensterstrasse",
            "Münsterstraße",
            street_polygon([(51.5225, 7.4575), (51.5305, 7.4560)], 64.0),
        ),
        (
            "video_area",
            "brueckstrassenviertel",
            "Brückstraßenviertel",
            Polygon(BRUECKSTRASSENVIERTEL),
        ),
        ("patrol_zone", "pz-city", "Streifenbereich City (Wallring + 150 m)", pz_city),
        ("patrol_zone", "pz-nordstadt-sued", "Streifenbereich Nordstadt-Süd", pz_nord_sued),
        ("patrol_zone", "pz-nordstadt-nord", "Streifenbereich Nordstadt-Nord", pz_nord_nord),
        ("patrol_zone", "pz-kreuzviertel", "Streifenbereich Kreuzviertel", pz_kreuz),
    ]
    return [(kind, code, name, snap(geom)) for kind, code, name, geom in areas]


# ---------------------------------------------------------------------------
# 4. Gazetteer: (name, kind, lat, lon, aliases, area codes the point must lie in)
# ---------------------------------------------------------------------------
PLACES = [
    ("Westenhellweg", "street", 51.5137, 7.4635, ["Westen-Hellweg"], ["westenhellweg", "01"]),
    ("Ostenhellweg", "street", 51.5142, 7.4700, ["Osten-Hellweg"], ["wallring", "01"]),
    ("Kampstraße", "street", 51.5158, 7.4640, ["Kampstr.", "Kampstrasse"], ["wallring"]),
    (
        "Platz von Leeds",
        "place",
        51.5147,
        7.4636,
        ["Leeds-Platz", "Platz v. Leeds"],
        ["platz-von-leeds", "wallring"],
    ),
    ("Hansaplatz", "place", 51.5123, 7.4655, ["Hansa-Platz"], ["wallring"]),
    ("Alter Markt", "place", 51.5133, 7.4648, ["Alten Markt"], ["wallring"]),
    ("Friedensplatz", "place", 51.5109, 7.4660, ["Rathaus", "Stadthaus"], ["wallring"]),
    (
        "Reinoldikirche",
        "facility",
        51.5140,
        7.4665,
        ["St. Reinoldi", "Reinoldi", "Sankt Reinoldi"],
        ["wallring"],
    ),
    (
        "Hauptbahnhof",
        "station",
        51.5178,
        7.4593,
        ["Hbf", "Dortmund Hbf", "Dortmund Hauptbahnhof", "Bahnhofsvorplatz"],
        ["hauptbahnhof", "02"],
    ),
    ("Königswall", "street", 51.5168, 7.4575, ["Koenigswall", "Königswall (Hbf)"], ["pz-city"]),
    ("Burgwall", "street", 51.5182, 7.4665, ["Burgwall (Wallring)"], ["wallring", "01"]),
    ("Ostwall", "street", 51.5132, 7.4744, ["Ostwall (Wallring)"], ["pz-city"]),
    ("Südwall", "street", 51.5096, 7.4640, ["Suedwall", "Südwall (Wallring)"], ["pz-city"]),
    (
        "Brückstraße",
        "street",
        51.5155,
        7.4700,
        ["Brückstr.", "Brueckstrasse", "Brückstraßenviertel", "Brückviertel"],
        ["brueckstrassenviertel", "wallring", "01"],
    ),
    (
        "Keuningpark",
        "place",
        51.5240,
        7.4636,
        ["Keuning-Park", "Keuninghaus"],
        ["keuningpark", "nordstadt", "02"],
    ),
    (
        "Münsterstraße",
        "street",
        51.5262,
        7.4572,
        ["Münsterstr.", "Muensterstrasse"],
        ["muensterstrasse", "nordstadt", "02"],
    ),
    ("Nordmarkt", "place", 51.5268, 7.4545, ["Nord-Markt"], ["nordmarkt", "nordstadt", "02"]),
    (
        "Mallinckrodtstraße",
        "street",
        51.5272,
        7.4620,
        ["Mallinckrodtstr.", "Mallinckrodtstrasse"],
        ["nordstadt", "02"],
    ),
    (
        "Schleswiger Straße",
        "street",
        51.5290,
        7.4610,
        ["Schleswiger Str.", "Schleswiger Strasse"],
        ["nordstadt", "02"],
    ),
    ("Borsigplatz", "place", 51.5236, 7.4790, ["Borsig-Platz"], ["nordstadt", "02"]),
    ("Stadtgarten", "place", 51.5100, 7.4680, ["Stadtgarten Dortmund"], ["wallring"]),
    (
        "Citywache",
        "facility",
        51.5163,
        7.4700,
        ["Polizeiwache City", "Brüderweg 6-8", "Brüderweg"],
        ["brueckstrassenviertel", "wallring", "01"],
    ),
    (
        "Drogenkonsumraum Kick",
        "facility",
        51.5122,
        7.4625,
        ["Kick", "Eisenmarkt", "Drogenhilfeeinrichtung Kick"],
        ["wallring"],
    ),
    ("Westpark", "place", 51.5085, 7.4480, ["West-Park"], ["01"]),
    (
        "Dortmunder U",
        "facility",
        51.5150,
        7.4535,
        ["U-Turm", "Dortmunder U-Turm", "Leonie-Reygers-Terrasse"],
        ["01"],
    ),
    (
        "Hafen",
        "place",
        51.5280,
        7.4420,
        ["Speicherstraße", "Speicherstr.", "Stadthafen", "Dortmunder Hafen"],
        ["02"],
    ),
    ("Phoenix-See", "place", 51.4878, 7.5090, ["Phoenixsee", "Phoenix See"], ["08"]),
    (
        "Hörder Bahnhof",
        "station",
        51.4905,
        7.4985,
        ["Bahnhof Hörde", "Dortmund-Hörde", "Hörde Bf"],
        ["08"],
    ),
]


def feature(geom, props):
    if geom.geom_type == "Polygon":
        geom = orient(geom, sign=1.0)  # RFC 7946: exterior ring counter-clockwise
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def _jsonable(obj):
    """mapping() yields tuples; make lists (and rounded floats) for stable JSON."""
    if isinstance(obj, (list, tuple)):
        return [_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, float):
        return round(obj, DECIMALS)
    return obj


def write_geojson(path: Path, features) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # One feature per line: compact, yet diff-friendly.
    lines = [json.dumps(f, ensure_ascii=False) for f in _jsonable(features)]
    text = '{"type": "FeatureCollection", "features": [\n' + ",\n".join(lines) + "\n]}\n"
    json.loads(text)  # sanity
    path.write_text(text, encoding="utf-8")


def main() -> None:
    city, districts = build_districts()
    small = build_small_areas()

    area_features = [
        feature(
            city,
            {
                "kind": "city",
                "code": "dortmund",
                "name": "Stadt Dortmund",
                "approximate": True,
                "source": SOURCE,
            },
        )
    ]
    for code, name in DISTRICTS:
        area_features.append(
            feature(
                districts[code],
                {
                    "kind": "district",
                    "code": code,
                    "name": name,
                    "approximate": True,
                    "source": SOURCE,
                },
            )
        )
    for kind, code, name, geom in small:
        area_features.append(
            feature(
                geom,
                {"kind": kind, "code": code, "name": name, "approximate": True, "source": SOURCE},
            )
        )
    place_features = [
        feature(
            Point(round(lon, DECIMALS), round(lat, DECIMALS)),
            {"name": name, "kind": kind, "aliases": aliases},
        )
        for name, kind, lat, lon, aliases, _must in PLACES
    ]
    write_geojson(AREAS_PATH, area_features)
    write_geojson(PLACES_PATH, place_features)
    self_check()


# ---------------------------------------------------------------------------
# 5. Self-check (re-reads the written files).
# ---------------------------------------------------------------------------
def self_check() -> None:
    from shapely.geometry import shape

    areas = json.loads(AREAS_PATH.read_text(encoding="utf-8"))["features"]
    places = json.loads(PLACES_PATH.read_text(encoding="utf-8"))["features"]
    geoms = {}
    counts: dict[str, int] = {}
    for f in areas:
        p = f["properties"]
        assert set(p) >= {"kind", "code", "name", "approximate", "source"}, p
        assert p["approximate"] is True and p["source"], p
        g = shape(f["geometry"])
        assert g.is_valid, (p["code"], shapely.is_valid_reason(g))
        assert g.geom_type == "Polygon", (p["code"], g.geom_type)
        assert g.exterior.is_ccw, p["code"]
        for x, y in shapely.get_coordinates(g):
            assert round(x, DECIMALS) == x and round(y, DECIMALS) == y, p["code"]
        assert p["code"] not in geoms, f"duplicate code {p['code']}"
        geoms[p["code"]] = g
        counts[p["kind"]] = counts.get(p["kind"], 0) + 1

    city = geoms["dortmund"]
    district_codes = [f"{i:02d}" for i in range(1, 13)]
    assert counts == {
        "city": 1,
        "district": 12,
        "focus_area": 6,
        "video_area": 3,
        "patrol_zone": 4,
    }, counts
    names = {f["properties"]["code"]: f["properties"]["name"] for f in areas}
    assert {names[c] for c in district_codes} == {n for _, n in DISTRICTS}

    # Tiling: pairwise overlaps ~0, union == city.
    max_overlap = 0.0
    for i, a in enumerate(district_codes):
        for b in district_codes[i + 1 :]:
            max_overlap = max(max_overlap, geoms[a].intersection(geoms[b]).area)
    assert max_overlap < 1e-12, max_overlap
    union = unary_union([geoms[c] for c in district_codes])
    symdiff = union.symmetric_difference(city).area
    assert symdiff < 1e-9, symdiff

    # Everything lies inside the city.
    for code, g in geoms.items():
        assert city.covers(g), code

    # Checkpoints from the brief.
    def district_of(lat, lon):
        pt = Point(lon, lat)
        hits = [c for c in district_codes if geoms[c].covers(pt)]
        assert len(hits) == 1, (lat, lon, hits)
        return NAME_BY_CODE[hits[0]]

    for lat, lon in [(51.5178, 7.4593), (51.5268, 7.4545), (51.5240, 7.4636), (51.5262, 7.4572)]:
        assert district_of(lat, lon) == "Innenstadt-Nord", (lat, lon)
    for lat, lon in [(51.5137, 7.4635), (51.5147, 7.4636), (51.5155, 7.4700)]:
        assert district_of(lat, lon) in {"Innenstadt-West", "Innenstadt-Ost"}, (lat, lon)

    # Places: inside the city and inside their named areas.
    assert len(places) >= 25
    kinds = {"street", "place", "facility", "station"}
    by_name = {n: must for n, _k, _la, _lo, _a, must in PLACES}
    for f in places:
        p = f["properties"]
        assert p["kind"] in kinds and isinstance(p["aliases"], list), p
        assert all(isinstance(a, str) and a and a != p["name"] for a in p["aliases"]), p
        pt = shape(f["geometry"])
        assert city.contains(pt), p["name"]
        for code in by_name[p["name"]]:
            assert geoms[code].contains(pt), (p["name"], code)

    # Report.
    print(f"wrote {AREAS_PATH.relative_to(ROOT)} and {PLACES_PATH.relative_to(ROOT)}")
    print("features per kind:", counts, "| places:", len(places))
    n_city = len(city.exterior.coords) - 1
    print(f"city: {area_km2(city):.1f} km² (EPSG:25832), {n_city} vertices, bounds {city.bounds}")
    print(f"tiling: max pairwise overlap {max_overlap:.2e} deg², symdiff {symdiff:.2e} deg²")
    for c in district_codes:
        ref = REFERENCE_AREA_KM2[c]
        print(f"  {c} {NAME_BY_CODE[c]:<16} {area_km2(geoms[c]):6.1f} km² (real ~{ref})")
    for f in areas:
        p = f["properties"]
        if p["kind"] not in {"city", "district"}:
            print(f"  {p['kind']:<11} {p['code']:<22} {area_km2(geoms[p['code']]):.3f} km²")
    print("self-check OK")


if __name__ == "__main__":
    main()
