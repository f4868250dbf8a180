"""Bulk import of incidents with their measures from CSV (format: docs/import-export.md).

The importer is a service: it checks every row against the same rules as
:func:`lagebild.field.services.incident_create` (same German messages) and writes all
valid rows in one transaction – all or nothing, unless invalid rows are to be skipped.

It is built for files of tens of thousands of rows (at least 10,000 rows/s end to end):
no query per row (catalogue and rules are read once, stored external ids once per batch
of 2,000), coordinates are transformed vectorised (:func:`geo.services.locate_many`),
rows go in with a lean bulk insert (binary ``COPY`` / multi-row ``INSERT``, see
:class:`_RowInserter`), and a worker thread reads and checks batch n + 1 (on PostgreSQL
it also formats its ``COPY`` data) while the database stores batch n.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from lagebild.analytics import aggregates
from lagebild.catalog.models import Category
from lagebild.catalog.selectors import pick_rule, rules_by_category
from lagebild.core import audit
from lagebild.core.csvsafe import FORMULA_START
from lagebild.core.models import User
from lagebild.core.scoping import authority_scope
from lagebild.geo import points
from lagebild.geo.geometry import AreaIndex
from lagebild.geo.services import area_index, locate_many, outside_message

from .measures import MEASURE_LABELS, MeasureInput, measure_errors, parse_decimal
from .models import Incident, IncidentArea, Measure, MeasureType
from .services import EARLIEST_RECORD, FUTURE_TOLERANCE

COLUMNS = (
    "external_id",
    "occurred_at",
    "lat",
    "lon",
    "address_text",
    "category",
    "source",
    "description",
    "joint",
    "measures",
)
REQUIRED_COLUMNS = ("occurred_at", "lat", "lon", "category")
MAX_FILE_BYTES = 20 * 1024 * 1024
BATCH_SIZE = 2000
PROGRESS_EVERY = 10_000
MAX_EXTERNAL_ID = 64
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 200
# Exports without an external id carry this reference, so re-importing an export into the
# same installation is recognised instead of duplicating the incident.
EXPORT_ID_PREFIX = "lagebild-"
_EXPORT_ID = re.compile(rf"^{EXPORT_ID_PREFIX}(\d{{1,18}})$")

TRUE_WORDS = frozenset({"1", "ja", "j", "true", "wahr", "yes", "y", "x"})
FALSE_WORDS = frozenset({"", "0", "nein", "n", "false", "falsch", "no"})
# Leading characters that spreadsheet programs execute as formulas; the export puts an
# apostrophe in front of such text cells for Excel, the import takes it off again.

SEIZURE_ALIASES = {
    "bargeld": "cash",
    "geld": "cash",
    "waffe": "weapon",
    "waffen": "weapon",
    "drogen": "drugs",
    "btm": "drugs",
    "betaeubungsmittel": "drugs",
    "betäubungsmittel": "drugs",
    "sonstiges": "other",
}
_NUMBER_WITH_UNIT = re.compile(r"^([+-]?\d+(?:[.,]\d+)?)\s*([^\d\s].{0,19})?$")
_GERMAN_DATETIME = re.compile(
    r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+|\s*,\s*|T)(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*Uhr)?$"
)

ProgressCallback = Callable[[int, int, str], None]
"""Called as ``progress(done, total, phase)``; phase is ``"validated"`` or ``"written"``."""


class ImportFileError(ValueError):
    """The upload as a whole cannot be read (encoding, not CSV, missing columns …)."""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"Zeile {self.line}" + (f", Spalte {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    file_name: str = ""
    rows: int = 0
    imported: int = 0
    measures: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.errors

    @property
    def invalid_rows(self) -> int:
        return len({error.line for error in self.errors})

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass(slots=True)
class _Row:
    line: int
    external_id: str
    occurred_at: dt.datetime | None
    lat: float | None
    lon: float | None
    address_text: str
    category_id: int | None
    rule_id: int | None
    source: str
    description: str
    joint: bool
    measures: list[MeasureInput]
    x_utm: float = 0.0
    y_utm: float = 0.0
    h3_cell: str = ""
    area_ids: list[int] = field(default_factory=list)


# --- reading the file ---------------------------------------------------------------------


def decode_csv_bytes(data: bytes) -> str:
    """UTF-8 text of an upload (with or without BOM), or a German explanation why not."""
    if not data.strip():
        raise ImportFileError("Die Datei ist leer.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "Die Datei ist UTF-16-kodiert. Bitte als „CSV UTF-8 (durch Trennzeichen getrennt)“ speichern."
        )
    if b"\x00" in data:
        raise ImportFileError("Die Datei ist keine Textdatei. Bitte eine CSV-Datei hochladen.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"Die Datei ist nicht UTF-8-kodiert (erstes ungültiges Zeichen in Zeile {line}). "
            "Bitte in Excel „CSV UTF-8 (durch Trennzeichen getrennt)“ wählen "
            "oder die Datei als UTF-8 speichern."
        ) from exc


def detect_delimiter(text: str) -> str:
    """``;`` (German Excel) or ``,``, decided by the header line."""
    for line in text.splitlines():
        if line.strip():
            return ";" if line.count(";") > line.count(",") else ","
    return ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line number they start on; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                limit = f"{csv.field_size_limit():,}".replace(",", ".")
                raise ImportFileError(
                    f"Zeile {line}: Ein Feld ist zu lang (über {limit} Zeichen). "
                    "Ist ein Anführungszeichen nicht geschlossen?"
                ) from exc
            raise ImportFileError(f"Zeile {line}: Die Zeile ist kein gültiges CSV ({exc}).") from exc
        if record and any(cell.strip() for cell in record):
            yield line, record
        line = reader.line_num + 1


def _header(line: int, record: list[str]) -> tuple[dict[str, int], list[RowError]]:
    names = [cell.strip().lstrip("\ufeff").strip().lower() for cell in record]
    if {"nr.", "sachverhalt", "maßnahmen"} <= set(names):
        # The readable table of the export looks like an import file to a user, but is not one.
        return {}, [
            RowError(
                line,
                "",
                "Diese Datei ist die lesbare Tabelle aus dem Export und lässt sich nicht importieren. "
                "Bitte beim Export „Importformat (CSV)“ wählen.",
            )
        ]
    errors: list[RowError] = []
    positions: dict[str, int] = {}
    for position, name in enumerate(names):
        if not name:
            continue
        if name in positions:
            errors.append(RowError(line, name, f"Die Spalte „{name}“ kommt in der Kopfzeile doppelt vor."))
        positions.setdefault(name, position)
    for name in REQUIRED_COLUMNS:
        if name not in positions:
            errors.append(RowError(line, name, f"Die Pflichtspalte „{name}“ fehlt in der Kopfzeile."))
    return positions, errors


# --- parsing single values ----------------------------------------------------------------


def parse_occurred_at(text: str) -> dt.datetime:
    """ISO 8601 (naive = local time of the installation) or German ``22.11.2026 14:30``."""
    value = text.strip()
    try:
        if len(value) > 10 and value[4] == "-":
            parsed = dt.datetime.fromisoformat(value)
        elif (
            len(value) == 16 and value[2] == "." and value[5] == "." and value[10] == " " and value[13] == ":"
        ):
            # The common German form "22.11.2026 14:30" without the regular expression.
            parsed = dt.datetime(
                int(value[6:10]), int(value[3:5]), int(value[:2]), int(value[11:13]), int(value[14:16])
            )
        else:
            german = _GERMAN_DATETIME.match(value)
            if not german:
                raise ValueError
            day, month, year, hour, minute, second = german.groups()
            parsed = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        if not value:
            raise ValueError("Bitte den Zeitpunkt angeben.") from None
        raise ValueError(
            f"Ungültiger Zeitpunkt „{value[:40]}“. Erwartet wird Datum mit Uhrzeit, "
            "z. B. 2026-11-22T14:30:00+01:00 oder 22.11.2026 14:30."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.get_default_timezone())
    return parsed


def _plain_text(value: str) -> str:
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def _number_and_unit(text: str, *, label: str) -> tuple[Decimal, str]:
    match = _NUMBER_WITH_UNIT.match(text.strip())
    if not match:
        raise ValueError(f"{label} ist keine Zahl.")
    number = parse_decimal(match.group(1), label=label)
    assert number is not None
    return number, (match.group(2) or "").strip()


def parse_measure(item: str) -> MeasureInput:
    """One measure in the ``type[:value[:value]]`` notation; ValueError with a German message."""
    parts = [part.strip() for part in item.split(":")]
    kind = parts[0].lower()
    args = parts[1:]
    measure = MeasureInput(type=kind)
    if kind not in MEASURE_LABELS:
        return measure  # measure_errors reports the unknown type
    label = MEASURE_LABELS[kind]
    if kind == MeasureType.CAUTION_FEE:
        if len(args) > 1:
            raise ValueError(f"{label}: Bitte nur den Betrag angeben, z. B. caution_fee:35.")
        if args and args[0]:
            amount, unit = _number_and_unit(args[0], label="Das Verwarnungsgeld")
            if unit.lower() not in ("", "€", "eur", "euro"):
                raise ValueError(f"{label}: Der Betrag ist in Euro anzugeben.")
            measure.amount = amount
    elif kind == MeasureType.SEIZURE:
        if not args or not args[0]:
            raise ValueError(
                f"{label}: Bitte die Art angeben, z. B. seizure:weapon:1 oder seizure:cash:1200."
            )
        if len(args) > 2:
            raise ValueError(f"{label}: Zu viele Angaben; erwartet wird seizure:Art:Menge.")
        seizure_kind = SEIZURE_ALIASES.get(args[0].lower(), args[0].lower())
        measure.seizure_kind = seizure_kind
        if len(args) == 2 and args[1]:
            number, unit = _number_and_unit(args[1], label="Die Menge")
            if seizure_kind == Measure.SeizureKind.CASH:
                if unit.lower() not in ("", "€", "eur", "euro"):
                    raise ValueError(f"{label}: Bargeld ist in Euro anzugeben.")
                measure.amount = number
            else:
                measure.quantity = number
                measure.quantity_unit = unit
    elif kind == MeasureType.REFERRAL:
        if len(args) != 1 or not args[0]:
            raise ValueError(f"{label}: Bitte das Hilfeangebot angeben, z. B. referral:addiction_help.")
        measure.referral_service = args[0].lower()
    elif any(args):
        raise ValueError(f"{label}: Für diese Maßnahme ist kein Wert vorgesehen.")
    return measure


def parse_measures(text: str) -> tuple[list[MeasureInput], list[str]]:
    measures: list[MeasureInput] = []
    messages: list[str] = []
    for item in text.split("|"):
        item = item.strip()
        if not item:
            continue
        try:
            measures.append(parse_measure(item))
        except ValueError as exc:
            messages.append(f"Maßnahme {len(measures) + 1} „{item[:60]}“: {exc}")
            measures.append(MeasureInput(type="__invalid__"))
    return measures, messages


# --- validation ---------------------------------------------------------------------------


class _Validator:
    """Holds everything read once from the database and checks rows without queries."""

    def __init__(self, user: User, now: dt.datetime) -> None:
        self.is_police = user.authority.is_police
        self.now_limit = now + FUTURE_TOLERANCE
        self.tz = timezone.get_default_timezone()
        # code → (id, active); the lower-case code as a fallback key
        self.categories: dict[str, tuple[int, bool]] = {}
        for pk, code, active in Category.objects.values_list("pk", "code", "active"):
            self.categories[code] = (pk, active)
            self.categories.setdefault(code.lower(), (pk, active))
        self.rules = rules_by_category()
        self.sources: dict[str, str] = {}
        for code, label in Incident.Source.choices:
            self.sources[code] = code
            self.sources[str(label).lower()] = code
        self._rule_cache: dict[tuple[int, dt.date], tuple[int | None, bool, Decimal | None]] = {}
        self._measure_cache: dict[tuple[str, bool, Decimal | None], tuple[list[MeasureInput], list[str]]] = {}

    def rule(self, category_id: int, day: dt.date) -> tuple[int | None, bool, Decimal | None]:
        key = (category_id, day)
        cached = self._rule_cache.get(key)
        if cached is None:
            rule = pick_rule(self.rules.get(category_id, []), day)
            cached = (rule.pk, rule.caution_allowed, rule.caution_amount) if rule else (None, False, None)
            self._rule_cache[key] = cached
        return cached

    def measures(
        self, text: str, caution_allowed: bool, caution_amount: Decimal | None
    ) -> tuple[list[MeasureInput], list[str]]:
        """Parsed and checked measures; the same text under the same rule is checked once."""
        key = (text, caution_allowed, caution_amount)
        cached = self._measure_cache.get(key)
        if cached is not None:
            return cached
        measures, messages = parse_measures(text)
        for number, measure in enumerate(measures, start=1):
            if measure.type == "__invalid__":
                continue
            if measure.type == MeasureType.CAUTION_FEE and measure.amount is None and caution_amount:
                measure.amount = caution_amount
            messages.extend(
                f"Maßnahme {number}: {message}"
                for message in measure_errors(
                    measure, authority_is_police=self.is_police, caution_allowed=caution_allowed
                )
            )
        messages.sort(key=lambda message: int(message.split()[1].rstrip(":")))
        result = ([m for m in measures if m.type != "__invalid__"], messages)
        if len(self._measure_cache) < 50_000:
            self._measure_cache[key] = result
        return result

    def use_columns(self, positions: dict[str, int], width: int) -> None:
        """Column positions in the padded records; absent columns point at a trailing ""."""
        get = positions.get
        self.i_external = get("external_id", width)
        self.i_occurred = get("occurred_at", width)
        self.i_lat = get("lat", width)
        self.i_lon = get("lon", width)
        self.i_address = get("address_text", width)
        self.i_category = get("category", width)
        self.i_source = get("source", width)
        self.i_description = get("description", width)
        self.i_joint = get("joint", width)
        self.i_measures = get("measures", width)

    def row(self, line: int, record: list[str], errors: list[RowError]) -> _Row:
        """Check one padded record; every problem is appended to ``errors``.

        Written for speed (it runs for every row of a file): no queries, cached rule and
        measure checks, fast paths for well-formed values with the canonical parsers as
        fallback, so messages are the same as for single records.
        """
        add = errors.append
        external_id = record[self.i_external].strip()
        if external_id[:1] == "'":
            external_id = _plain_text(external_id)
        if len(external_id) > MAX_EXTERNAL_ID:
            add(
                RowError(
                    line,
                    "external_id",
                    f"Die externe Kennung ist zu lang (höchstens {MAX_EXTERNAL_ID} Zeichen).",
                )
            )

        occurred_at: dt.datetime | None = None
        try:
            occurred_at = parse_occurred_at(record[self.i_occurred])
        except ValueError as exc:
            add(RowError(line, "occurred_at", str(exc)))
        else:
            if occurred_at > self.now_limit:
                add(RowError(line, "occurred_at", "Der Zeitpunkt liegt in der Zukunft."))
                occurred_at = None
            elif occurred_at < EARLIEST_RECORD:
                add(RowError(line, "occurred_at", "Der Zeitpunkt liegt vor dem Jahr 2000."))
                occurred_at = None

        lat = lon = None
        try:
            lat = _coordinate(record[self.i_lat], "Breite", 90.0)
        except points.InvalidCoordinate as exc:
            add(RowError(line, "lat", str(exc)))
        try:
            lon = _coordinate(record[self.i_lon], "Länge", 180.0)
        except points.InvalidCoordinate as exc:
            add(RowError(line, "lon", str(exc)))

        code = record[self.i_category].strip()
        category = self.categories.get(code) or self.categories.get(code.lower())
        category_id = rule_id = None
        caution_allowed, caution_amount = False, None
        if not code:
            add(RowError(line, "category", "Bitte einen Sachverhalt angeben."))
        elif category is None:
            add(RowError(line, "category", f"Unbekannter Sachverhalt „{code[:60]}“."))
        elif not category[1]:
            add(RowError(line, "category", "Dieser Sachverhalt wird nicht mehr verwendet."))
        else:
            category_id = category[0]
            if occurred_at is not None:
                tz = self.tz
                local_day = (occurred_at if occurred_at.tzinfo is tz else occurred_at.astimezone(tz)).date()
                rule_id, caution_allowed, caution_amount = self.rule(category_id, local_day)

        source_text = record[self.i_source].strip()
        if not source_text:
            source = Incident.Source.PATROL.value
        else:
            source = self.sources.get(source_text) or self.sources.get(source_text.lower(), "")
            if not source:
                add(RowError(line, "source", f"Unbekannte Quelle „{source_text[:40]}“."))

        description = record[self.i_description].strip()
        if description[:1] == "'":
            description = _plain_text(description)
        if len(description) > MAX_DESCRIPTION:
            add(
                RowError(
                    line,
                    "description",
                    f"Die Beschreibung ist zu lang (höchstens {MAX_DESCRIPTION} Zeichen).",
                )
            )
        address_text = record[self.i_address].strip()
        if address_text[:1] == "'":
            address_text = _plain_text(address_text)
        if len(address_text) > MAX_ADDRESS:
            add(
                RowError(
                    line, "address_text", f"Die Ortsangabe ist zu lang (höchstens {MAX_ADDRESS} Zeichen)."
                )
            )

        joint_text = record[self.i_joint].strip().lower()
        joint = joint_text in TRUE_WORDS
        if not joint and joint_text not in FALSE_WORDS:
            add(RowError(line, "joint", "Bitte „ja“ oder „nein“ angeben."))

        measures: list[MeasureInput] = []
        measures_text = record[self.i_measures]
        if measures_text:
            measures, messages = self.measures(measures_text.strip(), caution_allowed, caution_amount)
            for message in messages:
                add(RowError(line, "measures", message))

        return _Row(
            line,
            external_id,
            occurred_at,
            lat,
            lon,
            address_text,
            category_id,
            rule_id,
            source,
            description,
            joint,
            measures,
        )


def _coordinate(text: str, kind: str, limit: float) -> float:
    """Fast path for plain numbers; anything else goes through ``points.parse_coordinate``."""
    try:
        number = float(text)
    except ValueError:
        return points.parse_coordinate(text, kind=kind)
    if -limit <= number <= limit:
        return round(number, points.COORDINATE_DECIMALS)
    return points.parse_coordinate(text, kind=kind)


def _new_external_ids(rows: list[_Row], errors: list[RowError], seen: dict[str, int]) -> dict[str, _Row]:
    """Duplicates within the file (``seen`` spans all batches); the ids seen first here.

    ``rows`` in file order, so the first occurrence is the one kept. No queries: the
    checking thread runs this, batch after batch.
    """
    new: dict[str, _Row] = {}
    for row in rows:
        external_id = row.external_id
        if not external_id:
            continue
        if external_id in seen:
            errors.append(
                RowError(
                    row.line,
                    "external_id",
                    f"Die externe Kennung „{external_id}“ kommt in der Datei mehrfach vor "
                    f"(zuerst in Zeile {seen[external_id]}).",
                )
            )
        else:
            seen[external_id] = row.line
            new[external_id] = row
    return new


def _check_external_ids(new: dict[str, _Row], authority_id: int, errors: list[RowError]) -> None:
    """Ids of ``new`` (from :func:`_new_external_ids`) that the authority already has."""
    if not new:
        return
    stored = _stored_external_ids(authority_id, list(new))
    # An export of this installation names incidents without external id "lagebild-<pk>";
    # the same incident (same id, time and category) is recognised as already stored.
    exported = {
        int(match.group(1)): external_id
        for external_id in new
        if external_id not in stored and (match := _EXPORT_ID.match(external_id))
    }
    if exported:
        for pk, occurred_at, category_id in (
            Incident.objects.filter(pk__in=list(exported))
            .order_by()
            .values_list("pk", "occurred_at", "category_id")
        ):
            row = new[exported[pk]]
            same_time = row.occurred_at is not None and row.occurred_at.replace(
                microsecond=0
            ) == occurred_at.replace(microsecond=0)
            if same_time and row.category_id == category_id:
                stored.add(exported[pk])
    for external_id in stored:
        errors.append(
            RowError(
                new[external_id].line,
                "external_id",
                f"Die Feststellung „{external_id}“ wurde bereits importiert.",
            )
        )


def _stored_external_ids(authority_id: int, external_ids: list[str]) -> set[str]:
    """Which of these external ids the authority already has (one indexed query).

    The ids travel as one parameter (a list of 2,000 becomes 2,000 query parameters
    otherwise, which Django and psycopg prepare one by one in Python), and the query
    repeats the condition of the partial unique index without the model's ordering, so
    the database probes that index instead of scanning all incidents of the authority.
    """
    queryset = Incident.objects.filter(authority_id=authority_id).exclude(external_id="").order_by()
    if connection.vendor == "postgresql":
        column = (
            f"{connection.ops.quote_name(Incident._meta.db_table)}.{connection.ops.quote_name('external_id')}"
        )
        queryset = queryset.filter(
            RawSQL(f"{column} = ANY(%s)", [external_ids], output_field=models.BooleanField())
        )
    elif connection.vendor == "sqlite":
        queryset = queryset.filter(
            external_id__in=RawSQL("SELECT value FROM json_each(%s)", [json.dumps(external_ids)])
        )
    else:
        queryset = queryset.filter(external_id__in=external_ids)
    return set(queryset.values_list("external_id", flat=True))


def _locate(rows: list[_Row], errors: list[RowError], index: AreaIndex, outside: str) -> None:
    with_point = [row for row in rows if row.lat is not None and row.lon is not None]
    if not with_point:
        return
    lats = np.fromiter((row.lat for row in with_point), dtype=float, count=len(with_point))
    lons = np.fromiter((row.lon for row in with_point), dtype=float, count=len(with_point))
    located = locate_many(lats, lons, index)
    xs, ys, inside = located.x_utm.tolist(), located.y_utm.tolist(), located.inside.tolist()
    for i, row in enumerate(with_point):
        if not inside[i]:
            errors.append(RowError(row.line, "lat", outside))
            continue
        row.x_utm, row.y_utm = xs[i], ys[i]
        row.h3_cell = located.h3_cells[i]
        row.area_ids = located.area_ids[i]


# --- writing ------------------------------------------------------------------------------


class _RowInserter:
    """A lean ``bulk_create`` for validated rows of plain values.

    Django's ``bulk_create`` spends about 90 % of an import in per-value field preparation
    (measured: ~2,200 rows/s for incidents with measures on SQLite), and psycopg's
    client-side binding of large multi-row statements is as slow on PostgreSQL. Both are
    far below the 10,000 rows/s an import must reach, so rows go in by the cheapest path
    each backend offers; values are already validated and adapted (datetimes via
    ``connection.ops``):

    * PostgreSQL: binary ``COPY … FROM STDIN``; pks are drawn from the table's sequence
      first (:meth:`reserve`). The data can be formatted apart from sending it
      (:meth:`copy_data`, :meth:`insert_copy_data`), so the checking thread does it.
    * SQLite: one prepared statement for all rows (``executemany``); with pks, multi-row
      ``INSERT … RETURNING``, which returns them in row order on SQLite ≥ 3.35 (what
      ``bulk_create`` itself relies on).
    * Other backends: multi-row ``INSERT … RETURNING`` through Django's cursor.

    Columns not named get NULL, so every NOT NULL column of the model must be listed (the
    tests fail otherwise).
    """

    def __init__(
        self, model: type[models.Model], field_names: Sequence[str], *, returning: bool = False
    ) -> None:
        meta = model._meta
        quote = connection.ops.quote_name
        self.vendor = connection.vendor
        self.table = meta.db_table
        self.pk_column = meta.pk.column
        self.columns = [meta.get_field(name).column for name in field_names]
        self.returning = returning
        width = len(self.columns)
        limit = connection.features.max_query_params or 65_000
        getlimit = getattr(connection.connection, "getlimit", None)
        if self.vendor == "sqlite" and getlimit is not None:
            # The compiled limit (32766 since SQLite 3.32) instead of Django's cautious 999.
            import sqlite3

            limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self.rows_per_statement = max(1, min(500, limit // width))
        mark = "?" if self.vendor == "sqlite" else "%s"
        self.prefix = f"INSERT INTO {quote(self.table)} ({', '.join(quote(c) for c in self.columns)}) VALUES "
        self.placeholder = "(" + ", ".join([mark] * width) + ")"
        self.suffix = f" RETURNING {quote(self.pk_column)}"
        self.copy_columns = [self.pk_column, *self.columns] if returning else self.columns
        self.copy_sql = (
            f"COPY {quote(self.table)} ({', '.join(quote(c) for c in self.copy_columns)}) "
            "FROM STDIN (FORMAT BINARY)"
        )
        self.copy_types: list[int] = []
        self.sequence: str | None = None
        self.driver_connection: Any = None
        if self.vendor == "postgresql":
            self._load_copy_types()

    def insert(self, rows: list[tuple], pks: Sequence[int] = ()) -> list[int]:
        """Insert ``rows``; with ``returning``, their new pks (PostgreSQL: ``pks`` if given)."""
        if not rows:
            return []
        if self.vendor == "postgresql":
            if not self.returning:
                self.insert_copy_data(self.copy_data(rows))
                return []
            pks = list(pks) or self.reserve(len(rows))
            self.insert_copy_data(self.copy_data((pk, *row) for pk, row in zip(pks, rows, strict=True)))
            return pks
        # The driver's cursor, with its errors translated to Django's (IntegrityError …).
        with connection.cursor() as wrapper, connection.wrap_database_errors:
            cursor = wrapper.cursor
            if self.vendor == "sqlite":
                import sqlite3

                # The driver's own method: Django's wrapper would first rewrite every "%s"
                # of the long statements with a regular expression.
                def execute(sql: str, params: list) -> Any:
                    return sqlite3.Cursor.execute(cursor, sql, params)

            else:
                execute = wrapper.execute
            return self._statements(execute, rows)

    def _statements(self, execute: Callable[[str, list], Any], rows: list[tuple]) -> list[int]:
        # Multi-row statements rather than executemany: the driver releases the GIL once
        # per statement instead of once per row, so the checking thread can run meanwhile.
        pks: list[int] = []
        suffix = self.suffix if self.returning else ""
        full_sql = ""
        for start in range(0, len(rows), self.rows_per_statement):
            chunk = rows[start : start + self.rows_per_statement]
            if len(chunk) == self.rows_per_statement and full_sql:
                sql = full_sql
            else:
                sql = self.prefix + ", ".join([self.placeholder] * len(chunk)) + suffix
                if len(chunk) == self.rows_per_statement:
                    full_sql = sql
            cursor = execute(sql, [value for row in chunk for value in row])
            if self.returning:
                pks.extend(pk for (pk,) in cursor.fetchall())
        if self.returning and len(pks) != len(rows):
            raise IntegrityError("Die Datenbank hat nicht für jede Zeile eine Kennung zurückgegeben.")
        return pks

    # --- PostgreSQL ---

    def reserve(self, count: int) -> list[int]:
        """``count`` new pks from the table's sequence (PostgreSQL)."""
        with connection.cursor() as cursor:
            # The sequence as a constant: pg_get_serial_sequence() in this statement would
            # search the catalogue once per row (measured: 0.3 s of 50,000 rows).
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self.sequence, count])
            return [pk for (pk,) in cursor.fetchall()]

    def _load_copy_types(self) -> None:
        """Type oids of the copied columns, as the table has them, and the pk sequence.

        Binary ``COPY`` needs them up front; in return psycopg dumps every value with the
        C dumper of its column instead of choosing an adapter per value (measured: a
        third of the client time of text ``COPY`` with ``write_row``), and the server
        reads numbers and times without parsing text.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [connection.ops.quote_name(self.table)],
            )
            oids = dict(cursor.fetchall())
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [self.table, self.pk_column])
            (self.sequence,) = cursor.fetchone()
        self.copy_types = [oids[column] for column in self.copy_columns]
        self.driver_connection = connection.connection

    def copy_data(self, rows: Iterable[tuple]) -> bytes:
        """``rows`` (in the order of ``copy_columns``) as binary ``COPY`` data.

        Talks to no server: psycopg formats into a buffer with the adapters of the
        connection (documented use of ``Copy`` with a ``FileWriter``). A fresh cursor
        per call, so the checking thread and the request's thread never share one.
        """
        import psycopg
        from psycopg.copy import FileWriter

        buffer = io.BytesIO()
        with (
            psycopg.Cursor(self.driver_connection) as cursor,
            psycopg.Copy(cursor, binary=True, writer=FileWriter(buffer)) as copy,
        ):
            copy.set_types(self.copy_types)
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        return buffer.getvalue()

    def insert_copy_data(self, data: bytes) -> None:
        # The driver's cursor, with its errors translated to Django's (IntegrityError …).
        with (
            connection.cursor() as wrapper,
            connection.wrap_database_errors,
            wrapper.cursor.copy(self.copy_sql) as copy,
        ):
            copy.write(data)


INCIDENT_FIELDS = (
    "authority",
    "joint",
    "occurred_at",
    "recorded_at",
    "recorded_by",
    "patrol",
    "category",
    "category_rule",
    "source",
    "description",
    "address_text",
    "lat",
    "lon",
    "x_utm",
    "y_utm",
    "h3_cell",
    "external_id",
)
MEASURE_FIELDS = (
    "incident",
    "type",
    "authority",
    "taken_by",
    "taken_at",
    "person",
    "amount",
    "seizure_kind",
    "quantity",
    "quantity_unit",
    "referral_service",
    "note",
)


def _datetime_adapter() -> Callable[[dt.datetime], object]:
    """The backend's datetime adapter; for SQLite in UTC a shortcut with the same result.

    Django's adapter costs a fifth of the preparation time of a row on SQLite; the
    shortcut gives the identical text (the tests compare both).
    """
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor != "sqlite" or not settings.USE_TZ or connection.timezone_name != "UTC":
        return adapt
    utc = dt.UTC

    def adapt_utc(value: dt.datetime) -> str:
        return str(value.astimezone(utc).replace(tzinfo=None))

    return adapt_utc


@dataclass
class _Prepared:
    """A batch in database form; links and measures refer to their incident by position.

    On PostgreSQL the checking thread also formats the ``COPY`` data of the rows without
    errors (``copy_data``: incidents, links, measures; ``left_out``: lines not in it),
    with pks reserved beforehand (``pks``, by position), so that writing the batch is
    little more than sending it.
    """

    rows: list[_Row]
    errors: list[RowError]
    incidents: list[tuple]
    links: list[tuple[int, int]]
    measures: list[tuple[int, tuple]]
    pks: list[int] = field(default_factory=list)
    copy_data: tuple[bytes, bytes, bytes] | None = None
    left_out: set[int] = field(default_factory=set)
    copied_ids: list[int] = field(default_factory=list)
    copied: tuple[int, int] = (0, 0)
    new_ids: dict[str, _Row] = field(default_factory=dict)


class _Writer:
    """Writes batches of valid rows: incidents, their area links and their measures.

    :meth:`prepare` talks to no database (backend adapters only) so the worker thread
    can run it; :meth:`reserve` and :meth:`write` do and run in the request's thread.
    """

    def __init__(self, user: User) -> None:
        self.authority_id = user.authority_id
        self.user_id = user.pk
        ops = connection.ops
        self.adapt_datetime = _datetime_adapter()
        self.adapt_decimal = ops.adapt_decimalfield_value
        self.recorded_at = self.adapt_datetime(timezone.now())
        self.incidents = _RowInserter(Incident, INCIDENT_FIELDS, returning=True)
        self.links = _RowInserter(IncidentArea, ("incident", "area"))
        self.measures = _RowInserter(Measure, MEASURE_FIELDS)
        self.incident_count = 0
        self.measure_count = 0
        self.written_ids: list[int] = []

    def reserve(self) -> list[int]:
        """Pks for the incidents of the next batch where the database gives them up front.

        Drawn before the batch is checked, so the checking thread can format its
        ``COPY`` data; pks of rows that are not written stay unused (sequences have gaps
        anyway).
        """
        if connection.vendor != "postgresql":
            return []
        return self.incidents.reserve(BATCH_SIZE)

    def prepare(self, rows: list[_Row], errors: list[RowError], pks: list[int]) -> _Prepared:
        authority_id, user_id, recorded_at = self.authority_id, self.user_id, self.recorded_at
        adapt_datetime, adapt_decimal = self.adapt_datetime, self.adapt_decimal
        incidents = []
        links = []
        measures = []
        for position, row in enumerate(rows):
            occurred_at = None if row.occurred_at is None else adapt_datetime(row.occurred_at)
            incidents.append(
                (
                    authority_id,
                    row.joint,
                    occurred_at,
                    recorded_at,
                    user_id,
                    None,
                    row.category_id,
                    row.rule_id,
                    row.source,
                    row.description,
                    row.address_text,
                    row.lat,
                    row.lon,
                    row.x_utm,
                    row.y_utm,
                    row.h3_cell,
                    row.external_id,
                )
            )
            for area_id in row.area_ids:
                links.append((position, area_id))
            for measure in row.measures:
                measures.append(
                    (
                        position,
                        (
                            str(measure.type),
                            authority_id,
                            user_id,
                            occurred_at,
                            None,
                            None if measure.amount is None else adapt_decimal(measure.amount, 12, 2),
                            measure.seizure_kind,
                            None if measure.quantity is None else adapt_decimal(measure.quantity, 12, 3),
                            measure.quantity_unit[:20],
                            measure.referral_service,
                            "",
                        ),
                    )
                )
        batch = _Prepared(rows, errors, incidents, links, measures, pks=pks[: len(rows)])
        if batch.pks:
            # Rows with errors are never written, so they are left out here already: the
            # data fits unless the request's thread finds further errors in this batch.
            batch.left_out = {error.line for error in errors}
            pk_at = {p: batch.pks[p] for p in self._kept(batch, batch.left_out)}
            link_rows, measure_rows = self._linked(batch, pk_at)
            batch.copy_data = (
                self.incidents.copy_data((pk, *incidents[p]) for p, pk in pk_at.items()),
                self.links.copy_data(link_rows),
                self.measures.copy_data(measure_rows),
            )
            batch.copied = (len(pk_at), len(measure_rows))
            batch.copied_ids = list(pk_at.values())
        return batch

    @staticmethod
    def _kept(batch: _Prepared, skip_lines: set[int]) -> list[int]:
        """Positions of the rows to write."""
        if not skip_lines:
            return list(range(len(batch.rows)))
        return [p for p, row in enumerate(batch.rows) if row.line not in skip_lines]

    @staticmethod
    def _linked(batch: _Prepared, pk_at: dict[int, int]) -> tuple[list[tuple], list[tuple]]:
        """Area links and measures of the written incidents (``pk_at``: position → pk)."""
        return (
            [(pk_at[p], area_id) for p, area_id in batch.links if p in pk_at],
            [(pk_at[p], *values) for p, values in batch.measures if p in pk_at],
        )

    def write(self, batch: _Prepared, skip_lines: set[int]) -> None:
        if batch.copy_data is not None and skip_lines <= batch.left_out:
            incidents, links, measures = batch.copy_data
            if batch.copied[0]:
                self.incidents.insert_copy_data(incidents)
                self.links.insert_copy_data(links)
                self.measures.insert_copy_data(measures)
            self.incident_count += batch.copied[0]
            self.measure_count += batch.copied[1]
            self.written_ids.extend(batch.copied_ids)
            return
        keep = self._kept(batch, skip_lines)
        if not keep:
            return
        pks = self.incidents.insert(
            [batch.incidents[p] for p in keep], [batch.pks[p] for p in keep] if batch.pks else ()
        )
        links, measures = self._linked(batch, dict(zip(keep, pks, strict=True)))
        self.links.insert(links)
        self.measures.insert(measures)
        self.written_ids.extend(pks)
        self.incident_count += len(keep)
        self.measure_count += len(measures)


# --- the service --------------------------------------------------------------------------


def import_incidents(
    *,
    user: User,
    data: bytes | str,
    file_name: str = "",
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Check and import a CSV file of incidents for ``user``'s authority.

    All or nothing: if any row is invalid nothing is written and every error is reported,
    unless ``skip_invalid`` is set, then the valid rows are written and the bad ones
    reported. ``dry_run`` only checks. File-level problems end up in ``file_error``.
    """
    if not user.has_perm("field.import_incidents"):
        raise PermissionDenied("Ihre Rolle erlaubt keinen Import.")
    started = time.perf_counter()  # a duration: the wall clock may jump (NTP, DST-naive hosts)
    result = ImportResult(file_name=file_name, dry_run=dry_run)
    with authority_scope(user.authority_id):
        try:
            _run(user, data, result, skip_invalid=skip_invalid, dry_run=dry_run, progress=progress)
        except ImportFileError as exc:
            result.file_error = str(exc)
            result.imported = result.measures = 0
    result.seconds = time.perf_counter() - started
    return result


def _run(
    user: User,
    data: bytes | str,
    result: ImportResult,
    *,
    skip_invalid: bool,
    dry_run: bool,
    progress: ProgressCallback | None,
) -> None:
    text = decode_csv_bytes(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    if not text.strip():
        raise ImportFileError("Die Datei ist leer.")
    records = _records(text, detect_delimiter(text))
    first = next(records, None)
    if first is None:
        raise ImportFileError("Die Datei ist leer.")
    positions, header_errors = _header(*first)
    if header_errors:
        # Reported once for the file, not for every row.
        result.errors = header_errors
        return
    # Progress needs a total before the rows are parsed; lines are exact unless a quoted
    # text spans several lines (then the last message corrects it).
    estimate = max(text.count("\n", text.find("\n") + 1) + (not text.endswith("\n")), 1)

    validator = _Validator(user, timezone.now())
    width = len(first[1])
    validator.use_columns(positions, width)
    index = area_index()
    outside = outside_message()
    padding = [""] * (width + 1)
    writer = _Writer(user)

    def check_batch(pks: list[int]) -> _Prepared | None:
        """Read, validate, locate and prepare the next batch; no queries (worker thread)."""
        batch = list(islice(records, BATCH_SIZE))
        if not batch:
            return None
        errors: list[RowError] = []
        check = validator.row
        rows = []
        for line, record in batch:
            size = len(record)
            if size > width:
                if any(cell.strip() for cell in record[width:]):
                    errors.append(
                        RowError(
                            line,
                            "",
                            f"Die Zeile hat {size} Spalten, die Kopfzeile nur {width}. "
                            "Enthält ein Text das Trennzeichen ohne Anführungszeichen?",
                        )
                    )
                del record[width:]
            # One empty cell at position ``width`` stands in for every absent column.
            record.extend(padding[size if size < width else width :])
            rows.append(check(line, record, errors))
        _locate(rows, errors, index, outside)
        new_ids = _new_external_ids(rows, errors, seen)
        # In time order the inserts touch neighbouring pages of the time indexes.
        rows.sort(key=_time_order)
        batch = writer.prepare(rows, errors, pks)
        batch.new_ids = new_ids
        return batch

    errors: list[RowError] = []
    seen: dict[str, int] = {}
    total = 0
    try:
        with ExitStack() as stack:
            if not dry_run:
                stack.enter_context(transaction.atomic())
                stack.enter_context(_bulk_session())
            # While the database stores batch n (it releases the GIL meanwhile), a worker
            # thread reads and checks batch n + 1: on two cores this hides most of the
            # checking time. The worker never queries the database.
            pool = stack.enter_context(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="lagebild-import")
            )
            stack.enter_context(_short_switch_interval())

            def next_pks() -> list[int]:
                writing = not dry_run and (skip_invalid or not errors)
                return writer.reserve() if writing else []

            upcoming = pool.submit(check_batch, next_pks())
            while (batch := upcoming.result()) is not None:
                upcoming = pool.submit(check_batch, next_pks())
                _check_external_ids(batch.new_ids, user.authority_id, batch.errors)
                errors.extend(batch.errors)
                total += len(batch.rows)
                if progress and total % PROGRESS_EVERY < len(batch.rows):
                    progress(total, max(total, estimate), "validated")
                if dry_run or (errors and not skip_invalid):
                    continue  # keep checking to report every error, but write nothing more
                written_before = writer.incident_count
                writer.write(batch, {error.line for error in batch.errors})
                if progress and writer.incident_count // PROGRESS_EVERY > written_before // PROGRESS_EVERY:
                    progress(writer.incident_count, max(total, estimate), "written")
            result.rows = total
            if progress and total % PROGRESS_EVERY:
                progress(total, total, "validated")
            if total == 0:
                raise ImportFileError("Die Datei enthält nur die Kopfzeile, aber keine Feststellungen.")
            if dry_run or (errors and not skip_invalid) or not writer.incident_count:
                raise _NothingToKeep
            if progress and writer.incident_count % PROGRESS_EVERY:
                progress(writer.incident_count, writer.incident_count, "written")
            # Large files leave their counts to the next analytic read (aggregates.catch_up), which
            # halves the time an import takes; small ones update the counts right away.
            if len(writer.written_ids) > aggregates.BULK:
                aggregates.defer_incidents(writer.written_ids)
            else:
                aggregates.apply_incidents(writer.written_ids)
            audit.log(
                "field.incidents.imported",
                user=user,
                object_type="field.incident",
                file=file_name_or_default(result.file_name),
                rows=total,
                imported=writer.incident_count,
                measures=writer.measure_count,
                skipped=total - writer.incident_count,
                errors=len(errors),
            )
            result.imported, result.measures = writer.incident_count, writer.measure_count
    except _NothingToKeep:
        result.imported = result.measures = 0
    except IntegrityError as exc:
        result.imported = result.measures = 0
        raise ImportFileError(
            "Beim Speichern wurden einige externe Kennungen gleichzeitig von einem anderen Import angelegt. "
            "Es wurde nichts importiert; bitte die Datei erneut hochladen."
        ) from exc
    errors.sort(key=lambda e: (e.line, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    result.errors = errors
    if skip_invalid or not errors:
        result.skipped = len({error.line for error in errors})


def _time_order(row: _Row) -> float:
    return row.occurred_at.timestamp() if row.occurred_at is not None else 0.0


class _NothingToKeep(Exception):
    pass


@contextmanager
def _short_switch_interval(seconds: float = 0.0005) -> Iterator[None]:
    """Hand the GIL back sooner while the worker thread checks rows.

    Each time the database driver returns, the writing thread waits for the GIL; with the
    default interval of 5 ms that wait, not the database, dominated on PostgreSQL.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, seconds))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@contextmanager
def _bulk_session() -> Iterator[None]:
    """Session settings for a bulk write, restored afterwards.

    SQLite: a 64 MB page cache instead of 2 MB; with the default, index pages of a large
    table fall out of the cache between rows and the incident insert alone costs three
    times as much (measured with 50,000 rows).

    PostgreSQL: foreign keys checked per batch instead of all at commit. Django declares
    them DEFERRABLE INITIALLY DEFERRED; deferred, ~13 checks per row pile up and run
    after the last batch, when the checking thread has nothing left to overlap with.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size")
            (previous,) = cursor.fetchone()
            cursor.execute("PRAGMA cache_size = -65536")
        elif connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    try:
        yield
    except BaseException:
        # A failed PostgreSQL transaction accepts no more statements; its rollback undoes
        # SET CONSTRAINTS anyway. The SQLite cache is a connection setting: restore it.
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(previous)}")
        raise
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")
        elif connection.vendor == "postgresql":
            # Back to Django's declared default for the rest of an enclosing transaction.
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def file_name_or_default(name: str) -> str:
    return (name or "(ohne Namen)")[:200]


# --- sample data for tests and benchmarks -------------------------------------------------

_SAMPLE_MEASURES = (
    "dispersal_order",
    "contact",
    "offence_report",
    "criminal_complaint",
    "referral:addiction_help",
    "referral:street_social_work",
    "seizure:drugs:2,5g",
    "seizure:cash:150",
    "seizure:weapon:1",
)
_SAMPLE_PLACES = (
    "Westenhellweg",
    "Platz von Leeds",
    "Nordmarkt",
    "Hauptbahnhof",
    "Keuningpark",
    "Münsterstraße",
)
_SAMPLE_TEXTS = (
    "Personengruppe, Lärm",
    "Konsum beobachtet",
    "Ansprache, Person einsichtig",
    "Hinweis aus der Bevölkerung",
    "",
)


def sample_csv(
    rows: int,
    seed: int = 0,
    categories: Sequence[str] = (),
    bounds: tuple[float, float, float, float] | None = None,
    *,
    delimiter: str = ",",
    caution_categories: Sequence[str] = (),
    end: dt.datetime | None = None,
    id_prefix: str = "sample",
) -> str:
    """A valid, reproducible import file of ``rows`` incidents (for tests and benchmarks).

    ``categories`` are category codes to draw from; ``caution_categories`` the subset whose
    rule allows a caution fee (only those get ``caution_fee``). ``bounds`` is
    ``(min_lon, min_lat, max_lon, max_lat)`` of a box inside the city; with ``None`` the
    points are drawn inside the active city boundary (reads the area index). Times are
    spread over the year before ``end`` (default 30 June 2025, 12:00 local) and written in
    all three accepted formats. Only measures a city user may take are used, so the file
    imports for both authorities. External ids are ``{id_prefix}-{seed}-{n}``.
    """
    if not categories:
        raise ValueError("sample_csv needs at least one category code")
    rng = random.Random(seed)
    lats, lons = _sample_points(rows, rng, bounds)
    tz = timezone.get_default_timezone()
    end = end or dt.datetime(2025, 6, 30, 12, 0, tzinfo=tz)
    caution = set(caution_categories)
    decimal_comma = delimiter == ";"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(COLUMNS)
    for n in range(rows):
        category = rng.choice(categories)
        occurred = (end - dt.timedelta(seconds=rng.randrange(365 * 24 * 3600))).astimezone(tz)
        style = n % 3
        if style == 0:
            when = occurred.isoformat(timespec="seconds")
        elif style == 1:
            when = occurred.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
        else:
            when = occurred.strftime("%d.%m.%Y %H:%M")
        measures = rng.sample(_SAMPLE_MEASURES, rng.choice((0, 1, 1, 2, 2, 3)))
        if category in caution and rng.random() < 0.3:
            measures.append("caution_fee:35")
        lat, lon = f"{lats[n]:.6f}", f"{lons[n]:.6f}"
        if decimal_comma:
            lat, lon = lat.replace(".", ","), lon.replace(".", ",")
        writer.writerow(
            (
                f"{id_prefix}-{seed}-{n}",
                when,
                lat,
                lon,
                rng.choice(_SAMPLE_PLACES),
                category,
                "patrol" if rng.random() < 0.8 else "citizen_report",
                rng.choice(_SAMPLE_TEXTS),
                "ja" if rng.random() < 0.2 else "nein",
                "|".join(measures),
            )
        )
    return out.getvalue()


def _sample_points(
    rows: int, rng: random.Random, bounds: tuple[float, float, float, float] | None
) -> tuple[list[float], list[float]]:
    generator = np.random.default_rng(rng.randrange(2**32))
    if bounds is not None:
        min_lon, min_lat, max_lon, max_lat = bounds
        return (
            generator.uniform(min_lat, max_lat, rows).tolist(),
            generator.uniform(min_lon, max_lon, rows).tolist(),
        )
    index = area_index()
    if index.boundary is None:
        raise ValueError("No city boundary: import areas first or pass bounds")
    min_lon, min_lat, max_lon, max_lat = index.boundary.bounds
    lats: list[float] = []
    lons: list[float] = []
    while len(lats) < rows:
        need = (rows - len(lats)) * 2 + 16
        # Rounded as written to the file, so no point slips over the boundary by rounding.
        cand_lon = np.round(generator.uniform(min_lon, max_lon, need), 6)
        cand_lat = np.round(generator.uniform(min_lat, max_lat, need), 6)
        inside = index.inside_boundary_many(cand_lon, cand_lat)
        lats.extend(cand_lat[inside].tolist())
        lons.extend(cand_lon[inside].tolist())
    return lats[:rows], lons[:rows]
