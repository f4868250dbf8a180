"""Export of filtered incidents as CSV (re-importable) or GeoJSON, streamed page by page.

Both formats are produced as an iterator of text chunks, so a view can stream 100,000
incidents without holding them in memory. Each page is read inside the exporting user's
authority scope (a streaming response is consumed after the view returned, when the
request's scope is no longer active). Nothing about persons is exported: no pseudonyms,
no measure notes, no names of officers.
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
from lagebild.core.models import User
from lagebild.core.scoping import authority_scope

from .filters import filters_to_dict
from .importer import COLUMNS, EXPORT_ID_PREFIX, FORMULA_START
from .models import IncidentArea, Measure, MeasureType
from .selectors import IncidentFilter, incident_list

PAGE_SIZE = 2000
MEASURE_LABELS = dict(MeasureType.choices)
FORMATS = ("csv", "geojson")

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
    """``excel`` = German Excel: semicolon, decimal comma, „ja“/„nein“, BOM, formula guard."""

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
    """Pages of incident dicts in time order, each with its measures (and area codes)."""
    last: tuple[dt.datetime, int] | None = None
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
            areas: dict[int, list[str]] = {}
            if with_areas:
                for incident_id, code in (
                    IncidentArea.objects.filter(incident_id__in=ids)
                    .order_by("incident_id", "area__kind", "area__code")
                    .values_list("incident_id", "area__code")
                ):
                    areas.setdefault(incident_id, []).append(code)
        for row in page:
            row["measures"] = measures.get(row["id"], [])
            row["areas"] = areas.get(row["id"], [])
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


def _guard(text: str, excel: bool) -> str:
    if excel and text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_chunks(user: User, filters: IncidentFilter, dialect: CsvDialect | None = None) -> Iterator[str]:
    """The CSV export in the import format; the first chunk carries the header (and BOM)."""
    dialect = dialect or CsvDialect()
    excel = dialect.excel
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    header = ("\ufeff" if excel else "") + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    yield header
    tz = timezone.get_current_timezone()
    yes, no = ("ja", "nein") if excel else ("true", "false")
    for page in _pages(user, filters, with_areas=False):
        for row in page:
            writer.writerow(
                (
                    _guard(row["external_id"] or f"{EXPORT_ID_PREFIX}{row['id']}", excel),
                    row["occurred_at"].astimezone(tz).isoformat(timespec="seconds"),
                    _number(row["lat"], excel),
                    _number(row["lon"], excel),
                    _guard(row["address_text"], excel),
                    row["category__code"],
                    row["source"],
                    _guard(row["description"], excel),
                    yes if row["joint"] else no,
                    "|".join(format_measure(m, comma=excel) for m in row["measures"]),
                )
            )
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
                    "areas": row["areas"],
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
    return csv_chunks(user, filters, dialect)
