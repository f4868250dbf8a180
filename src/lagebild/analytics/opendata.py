"""Open data: monthly counts per Stadtbezirk and category with small-count protection.

What is published
    For each complete local month (Europe/Berlin) a table Stadtbezirk × Sachverhalt of the records of one
    kind (``incident``: Feststellungen; ``report_received``: citizen reports received), read from the
    pre-aggregated ``MonthlyCount`` rows only (the daily counts rolled up per local month), never from
    the records. Rows are the active districts ordered
    by name, plus a row "ohne Bezirkszuordnung" when records of the month lie in no district (city count
    minus the district counts; it is part of the table and of its suppression, because the totals
    include it). Columns are the active categories (in catalogue group order, then by name), plus
    inactive categories that still have records in the month, so that the totals are complete.

Protection
    Row totals, column totals and the grand total are published exactly (as sums of the true table).
    Cells are protected by :func:`lagebild.analytics.disclosure.suppress`: counts 1–2 are suppressed and
    further cells are suppressed so that no suppressed value can be worked out from the published cells
    and totals. Where that is impossible (the table has a single row or column with a small count, or
    ``suppress`` reports cells it cannot protect, e.g. when every record of the month lies in one
    district) the breakdown of that month is withheld: all cells and the row and column totals are
    suppressed and only the grand total is published.

    The files say *that* a cell is suppressed, never *why* (primary or secondary): a cell marked as a
    primary suppression would be known to be 1 or 2, which is exactly what the rule hides.

    Each month is protected on its own; no other aggregate of the same records (such as yearly sums per
    cell) is published next to it. A month's figures can change later when records are entered late or
    corrected; every file carries its "Stand".

A point on the shared border of two districts counts in both (as in every area count of Lagebild);
then a column's district counts may exceed the city count and the "ohne Bezirkszuordnung" cell is 0.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Min, Q, Sum
from django.utils import timezone

from lagebild.catalog.models import Category
from lagebild.core.csvsafe import guard_row
from lagebild.field.services import EARLIEST_RECORD
from lagebild.geo.models import Area

from .disclosure import suppress
from .models import CITY_AREA, Fact, MonthlyCount

MIN_PROTECTED = 1
MAX_PROTECTED = 2
FIRST_YEAR = EARLIEST_RECORD.year
COORDINATE_DECIMALS = 5  # about 1 m: district borders need no more, and the files stay small
CACHE_SECONDS = 24 * 3600

LICENCE_NAME = "Datenlizenz Deutschland – Namensnennung – Version 2.0"
LICENCE_ID = "dl-de/by-2-0"
LICENCE_URL = "https://www.govdata.de/dl-de/by-2-0"

SUPPRESSION_RULE_DE = (
    "Werte von 1 oder 2 werden nicht veröffentlicht; damit sie sich nicht aus den Summen zurückrechnen "
    "lassen, werden weitere kleine Werte ausgeblendet. Die Zeilen-, Spalten- und Gesamtsummen sind exakt. "
    "Lässt sich ein Monat so nicht schützen (zum Beispiel, wenn alle Fälle in einem Stadtbezirk liegen), "
    "wird nur die Gesamtsumme veröffentlicht."
)
SUMMARY_KEY = "summe"
SUMMARY_NAME = "Summe"
UNASSIGNED_KEY = "ohne"
UNASSIGNED_NAME = "ohne Bezirkszuordnung"
NO_CATEGORY_NAME = "ohne Sachverhalt"
SUPPRESSED_FLAG = "ja"

CSV_HEADER = (
    "monat",
    "stadtbezirk",
    "bezirk_schluessel",
    "sachverhalt",
    "sachverhalt_schluessel",
    "anzahl",
    "geheimhaltung",
)

MONTH_NAMES_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip


class MonthNotPublished(ValueError):
    """A month or year that has no open-data file (invalid, too early, current or future)."""


@dataclass(frozen=True)
class Dataset:
    slug: str  # the file name prefix
    fact: str
    title: str
    description: str


INCIDENTS = Dataset(
    slug="feststellungen",
    fact=Fact.INCIDENT,
    title="Feststellungen",
    description=(
        "Feststellungen des Kommunalen Ordnungsdienstes und der Polizei (Stadt und Polizei zusammen), "
        "gezählt nach dem Tag der Feststellung."
    ),
)
REPORTS = Dataset(
    slug="hinweise",
    fact=Fact.REPORT_RECEIVED,
    title="Bürgerhinweise",
    description=(
        "Eingegangene Hinweise von Bürgerinnen und Bürgern (alle Eingangswege), gezählt nach dem Tag des "
        "Eingangs; Hinweise ohne Ortsangabe stehen in der Zeile „ohne Bezirkszuordnung“."
    ),
)
DATASETS = {dataset.slug: dataset for dataset in (INCIDENTS, REPORTS)}


@dataclass(frozen=True)
class Line:
    """A row (district) or column (category) of a published table."""

    key: str
    name: str
    area_id: int | None = None


@dataclass(frozen=True)
class Publication:
    """What may be published of a rows × columns count table (pure result of the protection)."""

    suppressed: np.ndarray  # bool mask of suppressed cells
    breakdown_withheld: bool  # True: only the grand total is published


@dataclass(frozen=True, eq=False)
class MonthlyTable:
    dataset: Dataset
    year: int
    month: int
    rows: tuple[Line, ...]
    columns: tuple[Line, ...]
    counts: np.ndarray  # the true counts (int64); never published as such, see ``published``
    suppressed: np.ndarray
    breakdown_withheld: bool
    stand: dt.datetime = field(default_factory=timezone.now)

    @property
    def label(self) -> str:
        return month_label(self.year, self.month)

    @property
    def period(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return _next_month(self.year, self.month) - dt.timedelta(days=1)

    @property
    def grand_total(self) -> int:
        return int(self.counts.sum())

    def cell(self, row: int, column: int) -> int | None:
        return None if self.suppressed[row, column] else int(self.counts[row, column])

    def published(self) -> list[list[int | None]]:
        return [[self.cell(i, j) for j in range(len(self.columns))] for i in range(len(self.rows))]

    @property
    def row_totals(self) -> list[int | None]:
        if self.breakdown_withheld:
            return [None] * len(self.rows)
        return [int(value) for value in self.counts.sum(axis=1)]

    @property
    def column_totals(self) -> list[int | None]:
        if self.breakdown_withheld:
            return [None] * len(self.columns)
        return [int(value) for value in self.counts.sum(axis=0)]

    @property
    def suppressed_count(self) -> int:
        return int(np.count_nonzero(self.suppressed))


# --- months ---------------------------------------------------------------------------------


def month_label(year: int, month: int) -> str:
    return f"{MONTH_NAMES_DE[month - 1]} {year}"


def _next_month(year: int, month: int) -> dt.date:
    return dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)


def last_complete_month(today: dt.date | None = None) -> tuple[int, int]:
    """The latest month whose last local day has passed."""
    today = today or timezone.localdate()
    previous = today.replace(day=1) - dt.timedelta(days=1)
    return previous.year, previous.month


def check_month(year: int, month: int, today: dt.date | None = None) -> None:
    """Raise :class:`MonthNotPublished` (German message) unless the month has an open-data file."""
    today = today or timezone.localdate()
    if not 1 <= month <= 12:
        raise MonthNotPublished(f"Einen Monat {month} gibt es nicht; Monate werden mit 01 bis 12 angegeben.")
    if year < FIRST_YEAR:
        raise MonthNotPublished(f"Zahlen gibt es erst ab dem Jahr {FIRST_YEAR}.")
    if (year, month) > last_complete_month(today):
        if (year, month) == (today.year, today.month):
            following = _next_month(year, month)
            raise MonthNotPublished(
                f"Der {month_label(year, month)} ist noch nicht abgeschlossen. Seine Zahlen erscheinen ab "
                f"dem {following:%d.%m.%Y}."
            )
        raise MonthNotPublished(f"Der {month_label(year, month)} liegt in der Zukunft.")


def months_of_year(year: int, today: dt.date | None = None) -> list[tuple[int, int]]:
    """The complete months of a year; :class:`MonthNotPublished` when there are none."""
    today = today or timezone.localdate()
    if year < FIRST_YEAR:
        raise MonthNotPublished(f"Zahlen gibt es erst ab dem Jahr {FIRST_YEAR}.")
    if year > today.year:
        raise MonthNotPublished(f"Das Jahr {year} liegt in der Zukunft.")
    last = last_complete_month(today)
    months = [(year, month) for month in range(1, 13) if (year, month) <= last]
    if not months:
        raise MonthNotPublished(
            f"Im Jahr {year} ist noch kein Monat abgeschlossen. Die Zahlen für Januar erscheinen ab dem "
            f"01.02.{year}."
        )
    return months


def published_months(dataset: Dataset = INCIDENTS, today: dt.date | None = None) -> list[tuple[int, int]]:
    """From the month of the first record up to the last complete month, newest first."""
    # The monthly rows exist exactly for the months with daily rows, in a table a thirtieth the size.
    first_day = MonthlyCount.objects.filter(fact=dataset.fact, area_id=CITY_AREA).aggregate(
        first=Min("month")
    )["first"]
    if first_day is None:
        return []
    year, month = (first_day.year, first_day.month) if first_day.year >= FIRST_YEAR else (FIRST_YEAR, 1)
    last = last_complete_month(today)
    months = []
    while (year, month) <= last:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months[::-1]


# --- protection (pure) ------------------------------------------------------------------------


def protect(counts: np.ndarray) -> Publication:
    """Suppression mask of a count table, with the fallback of withholding the whole breakdown."""
    counts = np.asarray(counts, dtype=np.int64)
    small = (counts >= MIN_PROTECTED) & (counts <= MAX_PROTECTED)
    if not small.any():
        return Publication(suppressed=np.zeros(counts.shape, dtype=bool), breakdown_withheld=False)
    if counts.shape[0] >= 2 and counts.shape[1] >= 2:
        result = suppress(counts, min_count=MIN_PROTECTED, max_count=MAX_PROTECTED)
        if result.fully_protected:
            return Publication(suppressed=result.suppressed.copy(), breakdown_withheld=False)
    return Publication(suppressed=np.ones(counts.shape, dtype=bool), breakdown_withheld=True)


def _protect_cached(counts: np.ndarray) -> Publication:
    # The secondary search can take a second on a city-sized table; a complete month rarely changes,
    # so the result is kept under a key of the table's contents (a changed count is a new key).
    digest = hashlib.sha256(f"{counts.shape}:{MIN_PROTECTED}:{MAX_PROTECTED}".encode())
    digest.update(np.ascontiguousarray(counts, dtype=np.int64).tobytes())
    key = f"lagebild:opendata:protect:{digest.hexdigest()}"
    stored = cache.get(key)
    if stored is not None:
        mask_bytes, withheld = stored
        mask = np.frombuffer(mask_bytes, dtype=bool).reshape(counts.shape).copy()
        return Publication(suppressed=mask, breakdown_withheld=withheld)
    publication = protect(counts)
    cache.set(key, (publication.suppressed.tobytes(), publication.breakdown_withheld), CACHE_SECONDS)
    return publication


# --- the monthly table ------------------------------------------------------------------------


def district_lines() -> list[Line]:
    # Not the geometries: they are most of a district row's bytes and only the GeoJSON file needs them.
    areas = (
        Area.objects.filter(kind=Area.Kind.DISTRICT, active=True)
        .order_by("name", "code")
        .values_list("pk", "code", "name")
    )
    return [Line(key=code, name=name, area_id=pk) for pk, code, name in areas]


def _category_lines(with_counts: Iterable[int]) -> tuple[list[Line], list[int]]:
    with_counts = set(with_counts)
    group_order = {value: position for position, value in enumerate(Category.Group.values)}
    categories = Category.objects.filter(Q(active=True) | Q(pk__in=with_counts - {0}))
    ordered = sorted(categories, key=lambda c: (group_order.get(c.group, len(group_order)), c.name, c.code))
    lines = [Line(key=c.code, name=c.name) for c in ordered]
    ids = [c.pk for c in ordered]
    if 0 in with_counts:  # citizen reports of a service without catalogue category
        lines.append(Line(key=UNASSIGNED_KEY, name=NO_CATEGORY_NAME))
        ids.append(0)
    return lines, ids


def monthly_table(year: int, month: int, dataset: Dataset = INCIDENTS) -> MonthlyTable:
    """The protected table of one complete month; :class:`MonthNotPublished` for other months."""
    check_month(year, month)
    districts = district_lines()
    district_ids = [line.area_id for line in districts]
    # A whole local month is one row per dimension set in the monthly table (kept equal to the sum of
    # its daily rows by ``aggregates``): about 2,000 index-only rows instead of 25,000 daily rows.
    sums = (
        MonthlyCount.objects.filter(
            fact=dataset.fact, month=dt.date(year, month, 1), area_id__in=[CITY_AREA, *district_ids]
        )
        .values_list("area_id", "category_id")
        .annotate(n=Sum("count"))
        .order_by()
    )
    by_area: dict[tuple[int, int], int] = {(a, c): int(n or 0) for a, c, n in sums}
    nonzero_categories = {c for (a, c), n in by_area.items() if a == CITY_AREA and n}
    columns, category_ids = _category_lines(nonzero_categories)
    column_of = {category_id: j for j, category_id in enumerate(category_ids)}
    row_of = {area_id: i for i, area_id in enumerate(district_ids)}

    in_districts = np.zeros((len(districts), len(columns)), dtype=np.int64)
    city = np.zeros(len(columns), dtype=np.int64)
    for (area_id, category_id), n in by_area.items():
        j = column_of.get(category_id)
        if j is None:
            continue
        if area_id == CITY_AREA:
            city[j] += n
        else:
            in_districts[row_of[area_id], j] += n
    unassigned = np.maximum(city - in_districts.sum(axis=0), 0)
    rows = list(districts)
    counts = in_districts
    if unassigned.any():
        rows.append(Line(key=UNASSIGNED_KEY, name=UNASSIGNED_NAME))
        counts = np.vstack([in_districts, unassigned])
    publication = _protect_cached(counts)
    return MonthlyTable(
        dataset=dataset,
        year=year,
        month=month,
        rows=tuple(rows),
        columns=tuple(columns),
        counts=counts,
        suppressed=publication.suppressed,
        breakdown_withheld=publication.breakdown_withheld,
    )


def year_tables(year: int, dataset: Dataset = INCIDENTS) -> list[MonthlyTable]:
    return [monthly_table(y, m, dataset) for y, m in months_of_year(year)]


# --- files ------------------------------------------------------------------------------------


def attribution() -> str:
    return (
        f"Datenquelle: Stadt {settings.CITY_NAME}, Lagebild der Ordnungspartnerschaft, "
        f"{LICENCE_ID}, {LICENCE_URL}"
    )


def _csv_value(value: int | None) -> tuple[str, str]:
    return ("", SUPPRESSED_FLAG) if value is None else (str(value), "")


def _long_rows(table: MonthlyTable) -> Iterable[tuple[str, ...]]:
    """Cells row by row, each district followed by its total; then the column totals and the grand total."""
    row_totals, column_totals = table.row_totals, table.column_totals
    for i, row in enumerate(table.rows):
        for j, column in enumerate(table.columns):
            yield (table.period, row.name, row.key, column.name, column.key, *_csv_value(table.cell(i, j)))
        yield (table.period, row.name, row.key, SUMMARY_NAME, SUMMARY_KEY, *_csv_value(row_totals[i]))
    for j, column in enumerate(table.columns):
        yield (
            table.period, SUMMARY_NAME, SUMMARY_KEY, column.name, column.key, *_csv_value(column_totals[j])
        )  # fmt: skip
    yield (table.period, SUMMARY_NAME, SUMMARY_KEY, SUMMARY_NAME, SUMMARY_KEY, str(table.grand_total), "")


def csv_bytes(tables: Sequence[MonthlyTable]) -> bytes:
    """Long-format CSV: semicolon separated, UTF-8 with byte order mark, CRLF line ends (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for table in tables:
        writer.writerows(guard_row(row) for row in _long_rows(table))  # names are admin text
    return buffer.getvalue().encode("utf-8-sig")


def _round_ring(ring: Sequence[Sequence[float]]) -> list[list[float]]:
    rounded: list[list[float]] = []
    for position in ring:
        point = [round(float(value), COORDINATE_DECIMALS) for value in position[:2]]
        if not rounded or point != rounded[-1]:
            rounded.append(point)
    if len(rounded) < 4:  # a tiny ring would collapse: keep it as it was
        return [[float(position[0]), float(position[1])] for position in ring]
    return rounded


def rounded_geometry(geometry: dict | None) -> dict | None:
    """A Polygon/MultiPolygon with coordinates rounded to about a metre (WGS84 stays WGS84)."""
    if not geometry:
        return None
    kind = geometry.get("type")
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": [_round_ring(ring) for ring in geometry["coordinates"]]}
    if kind == "MultiPolygon":
        return {
            "type": "MultiPolygon",
            "coordinates": [[_round_ring(ring) for ring in polygon] for polygon in geometry["coordinates"]],
        }
    return None


GEOJSON_FIXED_KEYS = ("stadtbezirk", "bezirk_schluessel", "monat", SUMMARY_KEY, "geheim_gehalten")


def category_property_keys(columns: Sequence[Line]) -> list[str]:
    """The GeoJSON attribute of each category: its German name, as in the CSV column ``sachverhalt``.

    A name that another category also has, or that a fixed attribute has (compared without case,
    as some GIS programs do), gets its key appended: ``Name (schluessel)``.
    """
    taken = {key.casefold() for key in GEOJSON_FIXED_KEYS}
    seen: dict[str, int] = {}
    for column in columns:
        seen[column.name.casefold()] = seen.get(column.name.casefold(), 0) + 1
    return [
        column.name
        if seen[column.name.casefold()] == 1 and column.name.casefold() not in taken
        else f"{column.name} ({column.key})"
        for column in columns
    ]


def geojson_document(table: MonthlyTable) -> dict:
    """One feature per district (and one without geometry for records outside every district).

    Attribute names are German like the CSV headers: one attribute per category named as the
    category (``Aggressives Betteln``), so a map program's attribute table reads as the page does;
    ``metadata.sachverhalte`` gives each name its key.
    """
    area_ids = [row.area_id for row in table.rows if row.area_id is not None]
    geometries = dict(Area.objects.filter(pk__in=area_ids).values_list("pk", "geometry"))
    row_totals, column_totals = table.row_totals, table.column_totals
    category_keys = category_property_keys(table.columns)
    features = []
    for i, row in enumerate(table.rows):
        properties: dict[str, object] = {
            "stadtbezirk": row.name,
            "bezirk_schluessel": row.key,
            "monat": table.period,
            SUMMARY_KEY: row_totals[i],
        }
        for j, key in enumerate(category_keys):
            properties[key] = table.cell(i, j)
        properties["geheim_gehalten"] = [key for j, key in enumerate(category_keys) if table.suppressed[i, j]]
        features.append(
            {
                "type": "Feature",
                "id": row.key,
                "geometry": rounded_geometry(geometries.get(row.area_id)) if row.area_id else None,
                "properties": properties,
            }
        )
    metadata = {
        "titel": f"{table.dataset.title} je Stadtbezirk und Sachverhalt, {table.label}",
        "beschreibung": table.dataset.description,
        "monat": table.period,
        "zeitraum": {"von": table.first_day.isoformat(), "bis": table.last_day.isoformat()},
        "zeitzone": settings.TIME_ZONE,
        "quelle": attribution(),
        "lizenz": {"name": LICENCE_NAME, "kennung": LICENCE_ID, "url": LICENCE_URL},
        "geheimhaltung": SUPPRESSION_RULE_DE,
        "aufschluesselung_zurueckgehalten": table.breakdown_withheld,
        "stand": timezone.localtime(table.stand).isoformat(timespec="seconds"),
        "koordinaten": f"WGS84 (EPSG:4326), auf {COORDINATE_DECIMALS} Nachkommastellen gerundet",
        "sachverhalte": [
            {"attribut": key, "schluessel": column.key, "name": column.name, SUMMARY_KEY: column_totals[j]}
            for j, (column, key) in enumerate(zip(table.columns, category_keys, strict=True))
        ],
        SUMMARY_KEY: table.grand_total,
    }
    return {"type": "FeatureCollection", "metadata": metadata, "features": features}


def geojson_bytes(table: MonthlyTable) -> bytes:
    return json.dumps(geojson_document(table), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
