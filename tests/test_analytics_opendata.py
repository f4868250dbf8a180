"""Open data: monthly counts per Stadtbezirk × Sachverhalt, public, with small counts protected.

The protection is checked the way an attacker would work: from the published CSV (cells and totals), the
smallest and largest value every suppressed cell can take is computed with a linear programme
(``scipy.optimize.linprog``); no suppressed cell may be pinned to one value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.utils import timezone
from scipy.optimize import linprog

from lagebild.analytics import opendata
from lagebild.analytics.models import CITY_AREA, DailyCount, Fact, MonthlyCount
from lagebild.catalog.models import Category
from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field
from lagebild.field.models import Incident, IncidentArea
from lagebild.geo.models import Area

from .citizen_fixtures import *  # noqa: F403
from .conftest import _box

BERLIN = ZoneInfo("Europe/Berlin")
WEST = (51.53, 7.43)  # district "Bezirk West"
EAST = (51.514, 7.49)  # district "Bezirk Ost"


def _record(user, category, local: dt.datetime, lat_lon=WEST, **extra) -> Incident:
    with authority_scope(user.authority_id):
        return field.incident_create(
            user=user,
            category=category,
            occurred_at=local.replace(tzinfo=BERLIN),
            lat=lat_lon[0],
            lon=lat_lon[1],
            **extra,
        )


def _csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so that Excel shows umlauts"
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";")
    assert tuple(reader.fieldnames or ()) == opendata.CSV_HEADER
    return list(reader)


def _value(text: str) -> int | None:
    return None if text == "" else int(text)


class Published:
    """A month rebuilt from the long-format CSV: cells (None = suppressed) and the three kinds of totals."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        summary = opendata.SUMMARY_KEY
        self.row_keys = list(
            dict.fromkeys(r["bezirk_schluessel"] for r in rows if r["bezirk_schluessel"] != summary)
        )
        self.column_keys = list(
            dict.fromkeys(r["sachverhalt_schluessel"] for r in rows if r["sachverhalt_schluessel"] != summary)
        )
        self.cells: list[list[int | None]] = [[None] * len(self.column_keys) for _ in self.row_keys]
        self.row_totals: list[int | None] = [None] * len(self.row_keys)
        self.column_totals: list[int | None] = [None] * len(self.column_keys)
        self.grand_total: int | None = None
        self.flags: set[str] = set()
        for r in rows:
            value = _value(r["anzahl"])
            self.flags.add(r["geheimhaltung"])
            assert (value is None) == (r["geheimhaltung"] != ""), r
            row_key, column_key = r["bezirk_schluessel"], r["sachverhalt_schluessel"]
            if row_key == summary and column_key == summary:
                self.grand_total = value
            elif row_key == summary:
                self.column_totals[self.column_keys.index(column_key)] = value
            elif column_key == summary:
                self.row_totals[self.row_keys.index(row_key)] = value
            else:
                self.cells[self.row_keys.index(row_key)][self.column_keys.index(column_key)] = value

    def suppressed(self) -> list[tuple[int, int]]:
        return [(i, j) for i, row in enumerate(self.cells) for j, value in enumerate(row) if value is None]

    def attacker_intervals(self) -> dict[tuple[int, int], tuple[float, float]]:
        """Min and max of each suppressed cell over all non-negative tables matching the publication."""
        unknown = self.suppressed()
        index = {cell: k for k, cell in enumerate(unknown)}
        equations: list[tuple[list[int], int]] = []
        for i, total in enumerate(self.row_totals):
            if total is not None:
                known = sum(v for v in self.cells[i] if v is not None)
                equations.append(
                    ([index[(i, j)] for j in range(len(self.column_keys)) if (i, j) in index], total - known)
                )
        for j, total in enumerate(self.column_totals):
            if total is not None:
                known = sum(row[j] for row in self.cells if row[j] is not None)
                equations.append(
                    ([index[(i, j)] for i in range(len(self.row_keys)) if (i, j) in index], total - known)
                )
        assert self.grand_total is not None, "the grand total is always published"
        known = sum(v for row in self.cells for v in row if v is not None)
        equations.append((list(range(len(unknown))), self.grand_total - known))
        a_eq = np.zeros((len(equations), len(unknown)))
        b_eq = np.zeros(len(equations))
        for e, (members, rhs) in enumerate(equations):
            a_eq[e, members] = 1
            b_eq[e] = rhs
        intervals = {}
        for cell, k in index.items():
            objective = np.zeros(len(unknown))
            objective[k] = 1
            low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            assert low.status == 0, "the publication must be consistent"
            intervals[cell] = (low.fun, -high.fun if high.status == 0 else float("inf"))
        return intervals


# --- real records through the services --------------------------------------------------------


def _direct_counts(year: int, month: int) -> tuple[Counter, Counter]:
    """Incidents per (district code, category code) and per category in a local month, from the records."""
    districts = dict(Area.objects.filter(kind=Area.Kind.DISTRICT).values_list("pk", "code"))
    per_cell, per_category = Counter(), Counter()
    with unscoped():
        links = defaultdict(list)
        for incident_id, area_id in IncidentArea.objects.values_list("incident_id", "area_id"):
            links[incident_id].append(area_id)
        for incident in Incident.objects.select_related("category"):
            local_day = timezone.localtime(incident.occurred_at, BERLIN).date()
            if (local_day.year, local_day.month) != (year, month):
                continue
            per_category[incident.category.code] += 1
            for area_id in links[incident.pk]:
                if area_id in districts:
                    per_cell[(districts[area_id], incident.category.code)] += 1
    return per_cell, per_category


def test_counts_equal_a_direct_count_of_the_local_month_for_police_and_city_records(world, kod, polizei):
    categories = world["categories"]
    begging, drugs, dealing = categories["begging"], categories["drugs"], categories["dealing"]
    # Local month edges (31 March 2024 is the switch to summer time): by local day, not UTC.
    _record(kod, begging, dt.datetime(2024, 3, 1, 0, 30))  # 29 Feb 23:30 UTC: March
    _record(kod, begging, dt.datetime(2024, 2, 29, 23, 45))  # 22:45 UTC: February
    _record(polizei, dealing, dt.datetime(2024, 3, 31, 23, 30), EAST)  # 21:30 UTC: March
    _record(polizei, dealing, dt.datetime(2024, 4, 1, 0, 15), EAST)  # 31 Mar 22:15 UTC: April
    for day in range(2, 9):  # police-only and city-only records of the same categories
        _record(kod, drugs, dt.datetime(2024, 3, day, 14))
        _record(polizei, drugs, dt.datetime(2024, 3, day, 15), EAST)
        _record(polizei, dealing, dt.datetime(2024, 3, day, 16), EAST)

    table = opendata.monthly_table(2024, 3)
    per_cell, per_category = _direct_counts(2024, 3)

    assert [row.name for row in table.rows] == ["Bezirk Ost", "Bezirk West"]
    # Catalogue group order, then name: drugs, nuisance, environment, crime.
    assert [column.key for column in table.columns] == [
        "drug-consumption-public", "aggressive-begging", "littering", "drug-dealing",
    ]  # fmt: skip
    for i, row in enumerate(table.rows):
        for j, column in enumerate(table.columns):
            assert table.counts[i, j] == per_cell[(row.key, column.key)], (row.key, column.key)
    assert table.grand_total == sum(per_category.values()) == 1 + 14 + 8
    assert table.column_totals == [per_category[c.key] for c in table.columns]
    # Both partners' records are in the shared figures: 7 city-only + 7 police-only drug records.
    assert table.column_totals[0] == 14
    assert table.counts[[r.key for r in table.rows].index("west"), 0] == 7


def test_city_police_and_anonymous_visitors_get_the_same_files_without_record_details(
    world, client, kod, polizei
):
    drugs, dealing = world["categories"]["drugs"], world["categories"]["dealing"]
    for day in range(1, 6):
        _record(kod, drugs, dt.datetime(2024, 5, day, 12), description="Nur für die Stadt sichtbar")
        _record(polizei, dealing, dt.datetime(2024, 5, day, 13), EAST, description="Vertraulich Polizei")
    police_only = _record(polizei, drugs, dt.datetime(2024, 5, 20, 22), EAST, description="Vertraulich")

    files = {}
    for user in (None, kod, polizei):
        client.logout()
        if user is not None:
            client.force_login(user)
        files[user] = (
            client.get("/offene-daten/feststellungen-2024-05.csv").content,
            json.loads(client.get("/offene-daten/feststellungen-2024-05.geojson").content)["features"],
        )
    assert files[None] == files[kod] == files[polizei]

    text = files[None][0].decode("utf-8-sig")
    for secret in ("Vertraulich", "sichtbar", "Streife", "Kim"):  # descriptions and officers' names
        assert secret not in text
    assert police_only.pk, "the police-only record exists and is counted below"
    published = Published(list(csv.DictReader(io.StringIO(text), delimiter=";")))
    east = published.row_keys.index("east")
    # The single police-only drug record in the east is a count of 1: counted in the totals, not shown.
    assert published.cells[east][published.column_keys.index("drug-consumption-public")] is None
    assert published.column_totals[published.column_keys.index("drug-consumption-public")] == 6
    assert published.row_totals[east] == 6


def test_records_outside_every_district_form_a_row_that_is_protected_as_well(world, kod):
    begging, litter = world["categories"]["begging"], world["categories"]["litter"]
    for day in range(1, 5):
        _record(kod, begging, dt.datetime(2024, 6, day, 10))
        _record(kod, begging, dt.datetime(2024, 6, day, 11), EAST)
    _record(kod, litter, dt.datetime(2024, 6, 9, 12), EAST)
    # The east district is retired: its records now lie in no (active) district.
    Area.objects.filter(code="east").update(active=False)

    table = opendata.monthly_table(2024, 6)

    assert [row.name for row in table.rows] == ["Bezirk West", opendata.UNASSIGNED_NAME]
    assert table.counts.tolist() == [[0, 4, 0, 0], [0, 4, 1, 0]]
    assert table.grand_total == 9
    assert table.row_totals == [4, 5]
    assert table.cell(1, 2) is None, "the single record outside the districts is a small count"
    assert table.suppressed_count >= 2

    # Without the row the totals would not add up; with it, a small count there would be protected too.
    empty = opendata.monthly_table(2024, 7)
    assert opendata.UNASSIGNED_NAME not in [row.name for row in empty.rows]


# --- many random months: the published files protect every suppressed cell ----------------------


Truth = dict[tuple[str, str], int]  # (district code or "ohne", category code) -> count


@pytest.fixture
def random_months(world, city, police) -> dict[tuple[int, int], Truth]:
    """Random count tables written straight into the daily counts and their monthly roll-up (the open
    data read the monthly rows, which ``aggregates`` keeps equal to the sums of the daily ones)."""
    for number in range(3, 7):
        Area.objects.create(
            kind=Area.Kind.DISTRICT,
            code=f"bezirk-{number}",
            name=f"Bezirk {number}",
            geometry=_box(7.40 + number * 0.01, 51.40, 7.405 + number * 0.01, 51.41),
        )
    for code in ("graffiti", "noise", "camping"):
        Category.objects.create(code=code, name=code.title(), group="order")
    Category.objects.create(code="retired", name="Alter Sachverhalt", group="other", active=False)
    districts = list(Area.objects.filter(kind=Area.Kind.DISTRICT).values_list("pk", "code"))
    categories = list(Category.objects.values_list("pk", "code"))
    rng = np.random.default_rng(20240401)
    usual = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 7, 12, 30])
    sparse = np.array([0] * 12 + [1, 2, 3])
    truth: dict[tuple[int, int], Truth] = {}
    rows: dict[tuple, int] = defaultdict(int)
    authorities = (city.pk, police.pk)
    for k in range(30):
        year, month = 2019 + k // 12, k % 12 + 1
        # Every fifth month is nearly empty (the hard cases); every third has records outside the districts.
        table = rng.choice(sparse if k % 5 == 4 else usual, size=(len(districts) + 1, len(categories)))
        if k % 3:
            table[-1] = 0
        if k == 29:  # all records in one district: a month that cannot be broken down safely
            table[1:] = 0
            table[0, :2] = (1, 6)
        month_truth: Truth = {}
        for i, (area_id, area_code) in enumerate([*districts, (None, opendata.UNASSIGNED_KEY)]):
            for j, (category_id, category_code) in enumerate(categories):
                month_truth[(area_code, category_code)] = int(table[i, j])
                # Spread each count over days and both partners, as real records are.
                for _ in range(int(table[i, j])):
                    day = dt.date(year, month, int(rng.integers(1, 29)))
                    authority = authorities[int(rng.integers(0, 2))]
                    if area_id is not None:
                        rows[(area_id, day, category_id, authority)] += 1
                    rows[(CITY_AREA, day, category_id, authority)] += 1
        truth[(year, month)] = month_truth
    DailyCount.objects.bulk_create(
        DailyCount(
            day=day, area_id=area_id, fact=Fact.INCIDENT, category_id=category_id, authority_id=authority_id,
            count=count,
        )
        for (area_id, day, category_id, authority_id), count in rows.items()
    )  # fmt: skip
    monthly: dict[tuple, int] = defaultdict(int)
    for (area_id, day, category_id, authority_id), count in rows.items():
        monthly[(area_id, day.replace(day=1), category_id, authority_id)] += count
    MonthlyCount.objects.bulk_create(
        MonthlyCount(
            month=month, area_id=area_id, fact=Fact.INCIDENT, category_id=category_id,
            authority_id=authority_id, count=count,
        )
        for (area_id, month, category_id, authority_id), count in monthly.items()
    )  # fmt: skip
    return truth


def _aligned(published: Published, truth: Truth) -> np.ndarray:
    """The true counts in the published row and column order; what is left out must be empty."""
    matrix = np.array([[truth[(r, c)] for c in published.column_keys] for r in published.row_keys])
    assert matrix.sum() == sum(truth.values()), "rows or columns with records are missing"
    return matrix


def test_no_small_count_is_published_and_no_suppressed_cell_can_be_recovered(client, random_months):
    suppressed_cells = withheld_months = 0
    for (year, month), truth in random_months.items():
        published = Published(_csv_rows(client.get(f"/offene-daten/feststellungen-{year}-{month:02d}.csv")))
        # The file never says which suppressed cells are the small ones.
        assert published.flags <= {"", opendata.SUPPRESSED_FLAG}
        true_rows = _aligned(published, truth)
        for i, row in enumerate(published.cells):
            for j, value in enumerate(row):
                assert value not in (1, 2), (year, month, i, j)
                if value is not None:
                    assert value == true_rows[i, j]
        withheld = all(total is None for total in published.row_totals)
        withheld_months += withheld
        intervals = published.attacker_intervals()
        suppressed_cells += len(intervals)
        for (i, j), (low, high) in intervals.items():
            assert high - low >= 1 - 1e-6, f"{year}-{month:02d} cell {(i, j)} is pinned to {low}"
            value = int(true_rows[i, j])
            assert low - 1e-6 <= value <= high + 1e-6
            if 1 <= value <= 2 and not withheld:
                # The publication never proves that the cell is a small count.
                reachable = min(3, true_rows[i].sum(), true_rows[:, j].sum())
                assert high >= reachable - 1e-6, (year, month, i, j)
    assert suppressed_cells > 100, "the random months must exercise the protection"
    assert withheld_months >= 1, "the sparse months include one that cannot be broken down"


def test_totals_are_exact_and_the_year_file_repeats_the_monthly_files(client, random_months):
    year_rows = _csv_rows(client.get("/offene-daten/feststellungen-2019.csv"))
    for (year, month), truth in random_months.items():
        rows = _csv_rows(client.get(f"/offene-daten/feststellungen-{year}-{month:02d}.csv"))
        published = Published(rows)
        true_rows = _aligned(published, truth)
        assert published.grand_total == sum(truth.values())
        if any(total is not None for total in published.row_totals):
            assert published.row_totals == true_rows.sum(axis=1).tolist()
            assert published.column_totals == true_rows.sum(axis=0).tolist()
        if year == 2019:
            assert [r for r in year_rows if r["monat"] == f"{year}-{month:02d}"] == rows
    assert {r["monat"] for r in year_rows} == {f"2019-{m:02d}" for m in range(1, 13)}


def test_a_month_that_cannot_be_broken_down_safely_publishes_only_its_grand_total(world, client, kod):
    begging, drugs = world["categories"]["begging"], world["categories"]["drugs"]
    # Every record of the month in one district: the district total would give each small cell away.
    for day in range(1, 6):
        _record(kod, begging, dt.datetime(2024, 8, day, 10))
    _record(kod, drugs, dt.datetime(2024, 8, 7, 10))

    published = Published(_csv_rows(client.get("/offene-daten/feststellungen-2024-08.csv")))

    assert published.grand_total == 6
    assert all(value is None for row in published.cells for value in row)
    assert published.row_totals == [None, None] and set(published.column_totals) == {None}
    page = client.get("/offene-daten/?monat=2024-08").content.decode()
    assert "nur die Gesamtsumme" in page


# --- files and page -----------------------------------------------------------------------------


def test_csv_and_geojson_are_well_formed_open_data(world, client, kod, polizei, settings):
    settings.CITY_NAME = "Teststadt"
    begging, dealing = world["categories"]["begging"], world["categories"]["dealing"]
    for day in range(1, 8):
        _record(kod, begging, dt.datetime(2024, 9, day, 10))
        _record(polizei, dealing, dt.datetime(2024, 9, day, 11), EAST)

    rows = _csv_rows(client.get("/offene-daten/feststellungen-2024-09.csv"))
    summary_rows = [r for r in rows if "summe" in (r["bezirk_schluessel"], r["sachverhalt_schluessel"])]
    assert all(r["stadtbezirk"] == "Summe" or r["sachverhalt"] == "Summe" for r in summary_rows)
    assert len(rows) == 2 * 4 + 2 + 4 + 1  # cells, district totals, category totals, grand total
    assert {r["monat"] for r in rows} == {"2024-09"}

    response = client.get("/offene-daten/feststellungen-2024-09.geojson")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    document = json.loads(response.content)
    assert document["type"] == "FeatureCollection"
    assert [f["properties"]["stadtbezirk"] for f in document["features"]] == ["Bezirk Ost", "Bezirk West"]
    east = document["features"][0]
    assert east["geometry"]["type"] == "Polygon"
    assert all(round(x, 5) == x for ring in east["geometry"]["coordinates"] for p in ring for x in p)
    # Attribute names are German like the CSV headers: each category under its name, as in the
    # CSV column "sachverhalt", not its English key.
    assert east["properties"]["Rauschgifthandel"] == 7 and east["properties"]["summe"] == 7
    assert east["properties"]["Aggressives Betteln"] == 0
    category_names = {r["sachverhalt"] for r in rows} - {"Summe"}
    fixed = {"stadtbezirk", "bezirk_schluessel", "monat", "summe", "geheim_gehalten"}
    assert set(east["properties"]) == fixed | category_names
    assert not any("-" in key for f in document["features"] for key in f["properties"])
    metadata = document["metadata"]
    assert {
        "attribut": "Rauschgifthandel",
        "schluessel": "drug-dealing",
        "name": "Rauschgifthandel",
        "summe": 7,
    } in (metadata["sachverhalte"])
    assert metadata["zeitraum"] == {"von": "2024-09-01", "bis": "2024-09-30"}
    assert metadata["lizenz"]["kennung"] == "dl-de/by-2-0"
    assert "Stadt Teststadt" in metadata["quelle"]
    assert "1 oder 2" in metadata["geheimhaltung"] and metadata["stand"]
    assert metadata["summe"] == 14
    assert response["Access-Control-Allow-Origin"] == "*"


def test_anonymous_visitors_get_the_public_page_with_licence_rule_and_months(world, client, kod, settings):
    settings.CITY_NAME = "Teststadt"
    begging, drugs = world["categories"]["begging"], world["categories"]["drugs"]
    for day in range(1, 6):
        _record(kod, begging, dt.datetime(2024, 3, day, 10))
    for day in range(1, 5):
        _record(kod, drugs, dt.datetime(2024, 3, day, 11))
        _record(kod, drugs, dt.datetime(2024, 3, day, 12), EAST)
    _record(kod, begging, dt.datetime(2024, 3, 9, 10), EAST)

    response = client.get("/offene-daten/?monat=2024-03")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and "max-age=3600" in response["Cache-Control"]
    assert not response.cookies, "a publicly cached page must not set cookies"
    page = response.content.decode()
    assert "Datenlizenz Deutschland – Namensnennung – Version 2.0" in page
    assert "Datenquelle: Stadt Teststadt" in page
    assert "Werte von 1 oder 2 werden nicht veröffentlicht" in page
    assert "Legende" in page and "•" in page and "geheim gehalten" in page
    assert "<caption" in page and 'scope="col"' in page and 'scope="row"' in page
    # The month of the first record up to the last complete month can be downloaded.
    last_year, last_month = opendata.last_complete_month()
    assert "/offene-daten/feststellungen-2024-03.csv" in page
    assert f"/offene-daten/feststellungen-{last_year}-{last_month:02d}.geojson" in page
    assert "/offene-daten/feststellungen-2024-02.csv" not in page
    assert "/offene-daten/feststellungen-2024.csv" in page
    # The single record in the east is suppressed on the page as in the file.
    assert 'class="num suppressed"' in page

    assert client.get("/offene-daten/").status_code == 200


def test_public_page_reads_the_monthly_counts_with_a_fixed_number_of_queries(
    world, client, kod, django_assert_max_num_queries
):
    begging = world["categories"]["begging"]
    for month in (1, 2, 3):
        _record(kod, begging, dt.datetime(2024, month, 5, 10))
        _record(kod, begging, dt.datetime(2024, month, 6, 10), EAST)
    client.get("/offene-daten/")  # session and other one-off reads out of the count
    with django_assert_max_num_queries(8) as captured:
        response = client.get("/offene-daten/?monat=2024-02")
    assert response.status_code == 200
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    # One read of the month's counts, from the monthly table (not the ~30 times larger daily one).
    assert sql.count('FROM "analytics_monthlycount"') == 3  # first month of both datasets, the month's sums
    assert "analytics_dailycount" not in sql
    assert "geo_area" in sql and '"geo_area"."geometry"' not in sql


def test_geojson_category_attributes_stay_unique_when_names_repeat():
    columns = [
        opendata.Line(key="littering", name="Vermüllung"),
        opendata.Line(key="littering-old", name="Vermüllung"),
        opendata.Line(key="sum-category", name="SUMME"),
        opendata.Line(key="aggressive-begging", name="Aggressives Betteln"),
    ]
    assert opendata.category_property_keys(columns) == [
        "Vermüllung (littering)",
        "Vermüllung (littering-old)",
        "SUMME (sum-category)",
        "Aggressives Betteln",
    ]


def test_months_before_the_first_record_give_an_empty_but_valid_file(world, client):
    rows = _csv_rows(client.get("/offene-daten/feststellungen-2001-01.csv"))
    assert rows and {r["anzahl"] for r in rows} == {"0"} and {r["geheimhaltung"] for r in rows} == {""}
    document = json.loads(client.get("/offene-daten/feststellungen-2001-01.geojson").content)
    assert document["type"] == "FeatureCollection" and document["metadata"]["summe"] == 0
    assert client.get("/offene-daten/").status_code == 200


def test_bad_or_unpublished_months_are_a_german_404(world, client):
    today = timezone.localdate()
    next_month = (today.replace(day=28) + dt.timedelta(days=7)).replace(day=1)
    cases = {
        "/offene-daten/feststellungen-2024-13.csv": "Monat 13",
        "/offene-daten/feststellungen-2024-00.geojson": "Monat 0",
        "/offene-daten/feststellungen-1800-01.csv": "ab dem Jahr 2000",
        "/offene-daten/feststellungen-1800.csv": "ab dem Jahr 2000",
        f"/offene-daten/feststellungen-{today.year}-{today.month:02d}.csv": "noch nicht abgeschlossen",
        f"/offene-daten/feststellungen-{next_month.year}-{next_month.month:02d}.geojson": None,
        f"/offene-daten/feststellungen-{today.year + 1}.csv": "in der Zukunft",
        "/offene-daten/feststellungen-99999-01.csv": "in der Zukunft",
        "/offene-daten/unbekannt-2024-01.csv": "Datensatz",
        "/offene-daten/?monat=2024-13": "Monat 13",
        "/offene-daten/?monat=März": "JJJJ-MM",
    }
    for url, message in cases.items():
        response = client.get(url)
        assert response.status_code == 404, url
        page = response.content.decode()
        assert '<html lang="de">' in page
        if message:
            assert message in page, url
        else:
            assert "noch nicht abgeschlossen" in page or "in der Zukunft" in page


def test_citizen_reports_received_are_a_second_protected_dataset(world, services, client):
    requested = dt.datetime(2024, 10, 7, 10, tzinfo=BERLIN)
    for offset in range(4):
        intake.report_create(
            service=services["begging"],
            channel=Channel.WEB,
            lat=WEST[0],
            lon=WEST[1],
            description="Betteln am Eingang.",
            attributes={"personen": "2"},
            requested_at=requested + dt.timedelta(days=offset),
        )
    for offset in range(3):  # no category and no location: both go to their own line
        intake.report_create(
            service=services["waste"],
            channel=Channel.WEB,
            address_text="Hinter dem Bahnhof",
            description="Müll.",
            requested_at=requested + dt.timedelta(days=offset),
        )

    published = Published(_csv_rows(client.get("/offene-daten/hinweise-2024-10.csv")))

    assert published.grand_total == 7
    assert opendata.UNASSIGNED_KEY in published.row_keys and opendata.UNASSIGNED_KEY in published.column_keys
    cell = published.cells[published.row_keys.index(opendata.UNASSIGNED_KEY)][
        published.column_keys.index(opendata.UNASSIGNED_KEY)
    ]
    assert cell == 3
    assert (
        published.cells[published.row_keys.index("west")][published.column_keys.index("aggressive-begging")]
        == 4
    )
