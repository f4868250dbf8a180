"""Export of filtered incidents, streamed page by page, in three formats:

* ``csv``: the import format (English column names and codes such as ``caution_fee:35``), so an
  export can be edited and imported again;
* ``tabelle``: a table for people (German headers, number, authority, category name, measures
  in words with amounts, Stadtbezirk and other areas, local date and time), which Excel opens
  as it is and which is not meant to be imported;
* ``geojson``: points for map programs.

Both CSV files are UTF-8 with a byte order mark, so Excel shows umlauts right on a double click
(the importer skips the mark). In every CSV variant a text cell that a spreadsheet would run as a
formula (``=``, ``+``, ``-``, ``@``, tab, CR at the start) gets a leading quote
(:mod:`lagebild.core.csvsafe`); the importer takes it off again. Every format is produced as an
iterator of text chunks, so a view can stream 100,000 incidents without holding them in memory.
Each page is read inside the exporting user's authority scope (a streaming response is consumed
after the view returned, when the request's scope is no longer active). Nothing about persons is
exported: no pseudonyms, no measure notes, no names of officers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from lagebild.core import audit
from lagebild.core.csvsafe import guard
from lagebild.core.localtime import is_ambiguous
from lagebild.core.models import User
from lagebild.core.scoping import authority_scope
from lagebild.geo.models import Area

from .filters import filters_to_dict
from .importer import COLUMNS, EXPORT_ID_PREFIX
from .models import Incident, IncidentArea, Measure, MeasureType
from .selectors import IncidentFilter, incident_list, may_view_free_text

PAGE_SIZE = 2000
MEASURE_LABELS = dict(MeasureType.choices)
SEIZURE_LABELS = dict(Measure.SeizureKind.choices)
REFERRAL_LABELS = dict(Measure.ReferralService.choices)
SOURCE_LABELS = dict(Incident.Source.choices)
FORMATS = ("csv", "tabelle", "geojson")
BOM = "\ufeff"

# Every area kind but the city (every record lies in it) gets a column of its own, named as
# the kind is named everywhere else, so the header is the same whatever areas exist.
TABLE_AREA_KINDS = tuple(kind for kind in Area.Kind if kind != Area.Kind.CITY)
TABLE_COLUMNS = (
    "Nr.",
    "Datum",
    "Uhrzeit",
    "Behörde",
    "Gemeinsam mit Partnerbehörde",
    "Sachverhalt",
    "Maßnahmen",
    "Verwarnungsgeld in €",
    "Ortsangabe",
    *(kind.label for kind in TABLE_AREA_KINDS),
    "Quelle",
    "Beschreibung",
    "Breite (WGS84)",
    "Länge (WGS84)",
    "Importkennung",
)

_INCIDENT_VALUES = (
    "id",
    "external_id",
    "occurred_at",
    "lat",
    "lon",
    "address_text",
    "category__code",
    "category__name",
    "source",
    "description",
    "joint",
    "authority__code",
    "authority__name",
)


@dataclass(frozen=True)
class CsvDialect:
    """``excel`` = German Excel: semicolon, decimal comma, „ja“/„nein“ (both: BOM, formula guard)."""

    delimiter: str = ","
    excel: bool = False

    @classmethod
    def from_param(cls, value: str | None) -> CsvDialect:
        if (value or "").strip().lower() in ("semicolon", "excel", ";", "semikolon"):
            return cls(delimiter=";", excel=True)
        return cls()


def export_count(filters: IncidentFilter) -> int:
    return incident_list(filters).count()


def log_export(*, user: User, filters: IncidentFilter, fmt: str, count: int) -> None:
    audit.log(
        "field.incidents.exported",
        user=user,
        object_type="field.incident",
        format=fmt,
        count=count,
        filters=filters_to_dict(filters),
    )


def _pages(user: User, filters: IncidentFilter, *, with_areas: bool) -> Iterator[list[dict]]:
    """Pages of incident dicts in time order, each with its measures (and areas: kind, code, name)."""
    last: tuple[dt.datetime, int] | None = None
    # Analysts export place and time but no free text (data minimisation, issue 13).
    free_text = may_view_free_text(user)
    while True:
        # Keyset pagination: every page is a short query of its own, so the stream holds
        # no open cursor and each page activates the exporting user's scope itself.
        with authority_scope(user.authority_id):
            queryset = incident_list(filters).order_by("occurred_at", "id")
            if last is not None:
                queryset = queryset.filter(
                    Q(occurred_at__gt=last[0]) | Q(occurred_at=last[0], id__gt=last[1])
                )
            page = list(queryset.values(*_INCIDENT_VALUES)[:PAGE_SIZE])
            if not page:
                return
            ids = [row["id"] for row in page]
            measures: dict[int, list[dict]] = {}
            for measure in (
                Measure.objects.filter(incident_id__in=ids)
                .order_by("incident_id", "taken_at", "id")
                .values(
                    "incident_id",
                    "type",
                    "amount",
                    "seizure_kind",
                    "quantity",
                    "quantity_unit",
                    "referral_service",
                )
            ):
                measures.setdefault(measure["incident_id"], []).append(measure)
            areas: dict[int, list[tuple[str, str, str]]] = {}
            if with_areas:
                for incident_id, kind, code, name in (
                    IncidentArea.objects.filter(incident_id__in=ids)
                    .order_by("incident_id", "area__kind", "area__code")
                    .values_list("incident_id", "area__kind", "area__code", "area__name")
                ):
                    areas.setdefault(incident_id, []).append((kind, code, name))
        for row in page:
            row["measures"] = measures.get(row["id"], [])
            row["areas"] = areas.get(row["id"], [])
            if not free_text:
                row["description"] = row["address_text"] = ""
        yield page
        if len(page) < PAGE_SIZE:
            return
        last = (page[-1]["occurred_at"], page[-1]["id"])


# --- CSV ----------------------------------------------------------------------------------


def _number(value: Decimal | float, comma: bool) -> str:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
    else:
        text = repr(float(value))
        if text.endswith(".0"):
            text = text[:-2]
    return text.replace(".", ",") if comma else text


def _unit(text: str) -> str:
    # ":" and "|" separate measures and their values; a unit never needs them.
    return text.replace(":", "").replace("|", "").strip()


def format_measure(measure: dict, *, comma: bool = False) -> str:
    """One measure in the import notation (``caution_fee:35``, ``seizure:cash:1200`` …)."""
    kind = measure["type"]
    if kind == MeasureType.CAUTION_FEE:
        return f"caution_fee:{_number(measure['amount'], comma)}" if measure["amount"] is not None else kind
    if kind == MeasureType.SEIZURE:
        what = measure["seizure_kind"] or Measure.SeizureKind.OTHER
        if what == Measure.SeizureKind.CASH and measure["amount"] is not None:
            return f"seizure:cash:{_number(measure['amount'], comma)}"
        if measure["quantity"] is not None:
            return f"seizure:{what}:{_number(measure['quantity'], comma)}{_unit(measure['quantity_unit'])}"
        return f"seizure:{what}"
    if kind == MeasureType.REFERRAL and measure["referral_service"]:
        return f"referral:{measure['referral_service']}"
    return kind


def _guard(text: str) -> str:
    # Both dialects: the comma file is opened in spreadsheets just as often (issue 13).
    return guard(text)


def csv_chunks(user: User, filters: IncidentFilter, dialect: CsvDialect | None = None) -> Iterator[str]:
    """The CSV export in the import format; the first chunk carries the BOM and the header."""
    dialect = dialect or CsvDialect()
    excel = dialect.excel
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    header = BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    yield header
    tz = timezone.get_current_timezone()
    yes, no = ("ja", "nein") if excel else ("true", "false")
    for page in _pages(user, filters, with_areas=False):
        for row in page:
            writer.writerow(
                (
                    _guard(row["external_id"] or f"{EXPORT_ID_PREFIX}{row['id']}"),
                    row["occurred_at"].astimezone(tz).isoformat(timespec="seconds"),
                    _number(row["lat"], excel),
                    _number(row["lon"], excel),
                    _guard(row["address_text"]),
                    row["category__code"],
                    row["source"],
                    _guard(row["description"]),
                    yes if row["joint"] else no,
                    "|".join(format_measure(m, comma=excel) for m in row["measures"]),
                )
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


# --- the readable table --------------------------------------------------------------------


def _german_digits(text: str) -> str:
    # Python writes 1,200.5; German is 1.200,5.
    return text.translate(str.maketrans({",": ".", ".": ","}))


def german_number(value: Decimal | float, *, thousands: bool = False) -> str:
    """``1200`` → ``1200`` (or ``1.200``), ``12.50`` → ``12,5``: no trailing zeros."""
    number = (value if isinstance(value, Decimal) else Decimal(repr(float(value)))).normalize()
    return _german_digits(format(number, ",f" if thousands else "f"))


def euro(amount: Decimal) -> str:
    """``35`` → ``35 €``, ``12.5`` → ``12,50 €``, ``1200`` → ``1.200 €``."""
    if amount == amount.to_integral_value():
        return f"{german_number(amount, thousands=True)} €"
    return f"{_german_digits(format(amount.quantize(Decimal('0.01')), ',f'))} €"


def measure_in_words(measure: dict) -> str:
    """One measure as a reader says it: ``Verwarnung mit Verwarnungsgeld (35 €)``."""
    kind = measure["type"]
    label = MEASURE_LABELS.get(kind, kind)
    details: list[str] = []
    if kind == MeasureType.SEIZURE and measure["seizure_kind"]:
        details.append(SEIZURE_LABELS.get(measure["seizure_kind"], measure["seizure_kind"]))
    if measure["quantity"] is not None:
        unit = (measure["quantity_unit"] or "").strip()
        details.append(f"{german_number(measure['quantity'])} {unit}".strip())
    if measure["amount"] is not None:
        details.append(euro(measure["amount"]))
    if kind == MeasureType.REFERRAL and measure["referral_service"]:
        details.append(REFERRAL_LABELS.get(measure["referral_service"], measure["referral_service"]))
    return f"{label} ({', '.join(details)})" if details else label


def local_time_text(instant: dt.datetime, zone: dt.tzinfo) -> tuple[str, str]:
    """Local date and time as written in Germany; the hour that occurs twice in October says which."""
    local = instant.astimezone(zone)
    time_text = f"{local:%H:%M}"
    if is_ambiguous(local.replace(tzinfo=None), zone):
        time_text += " Sommerzeit" if local.dst() else " Winterzeit"
    return f"{local:%d.%m.%Y}", time_text


def table_row(row: dict, zone: dt.tzinfo) -> list[str]:
    """One incident as a row of :data:`TABLE_COLUMNS` (text cells guarded against formulas)."""
    day, time_text = local_time_text(row["occurred_at"], zone)
    areas: dict[str, list[str]] = {}
    for kind, _code, name in row["areas"]:
        areas.setdefault(kind, []).append(name)
    caution_fees = [
        m["amount"] for m in row["measures"] if m["type"] == MeasureType.CAUTION_FEE and m["amount"]
    ]
    return [
        str(row["id"]),
        day,
        time_text,
        _guard(row["authority__name"]),
        "ja" if row["joint"] else "nein",
        _guard(row["category__name"]),
        "; ".join(measure_in_words(m) for m in row["measures"]),
        german_number(sum(caution_fees, Decimal(0))) if caution_fees else "",
        _guard(row["address_text"]),
        *(_guard(", ".join(areas.get(kind, []))) for kind in TABLE_AREA_KINDS),
        SOURCE_LABELS.get(row["source"], row["source"]),
        _guard(row["description"]),
        german_number(row["lat"]),
        german_number(row["lon"]),
        _guard(row["external_id"]),
    ]


def table_chunks(user: User, filters: IncidentFilter) -> Iterator[str]:
    """The readable export for Excel: German headers and words, semicolons, decimal comma, BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(TABLE_COLUMNS)
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    zone = timezone.get_current_timezone()
    for page in _pages(user, filters, with_areas=True):
        writer.writerows(table_row(row, zone) for row in page)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


# --- GeoJSON ------------------------------------------------------------------------------


def _measure_json(measure: dict) -> dict:
    data: dict[str, object] = {"type": measure["type"], "label": MEASURE_LABELS.get(measure["type"], "")}
    if measure["amount"] is not None:
        data["amount"] = float(measure["amount"])
    if measure["seizure_kind"]:
        data["seizure_kind"] = measure["seizure_kind"]
    if measure["quantity"] is not None:
        data["quantity"] = float(measure["quantity"])
        if measure["quantity_unit"]:
            data["quantity_unit"] = measure["quantity_unit"]
    if measure["referral_service"]:
        data["referral_service"] = measure["referral_service"]
    return data


def geojson_chunks(user: User, filters: IncidentFilter) -> Iterator[str]:
    """A GeoJSON FeatureCollection of points (WGS84), streamed feature by feature."""
    tz = timezone.get_current_timezone()
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    for page in _pages(user, filters, with_areas=True):
        parts = []
        for row in page:
            feature = {
                "type": "Feature",
                "id": row["id"],
                "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                "properties": {
                    "id": row["id"],
                    "external_id": row["external_id"],
                    "occurred_at": row["occurred_at"].astimezone(tz).isoformat(timespec="seconds"),
                    "category": row["category__code"],
                    "category_name": row["category__name"],
                    "source": row["source"],
                    "authority": row["authority__code"],
                    "authority_name": row["authority__name"],
                    "joint": row["joint"],
                    "address_text": row["address_text"],
                    "measures": [_measure_json(m) for m in row["measures"]],
                    "areas": [code for _kind, code, _name in row["areas"]],
                },
            }
            parts.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
        if parts:
            yield ("" if first else ",") + "\n" + ",\n".join(parts)
            first = False
    yield "\n]}\n"


def export_chunks(
    user: User, filters: IncidentFilter, fmt: str, dialect: CsvDialect | None = None
) -> Iterator[str]:
    if fmt == "geojson":
        return geojson_chunks(user, filters)
    if fmt == "tabelle":
        return table_chunks(user, filters)
    return csv_chunks(user, filters, dialect)
