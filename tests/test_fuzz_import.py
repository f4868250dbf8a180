"""CSV import of incidents, fuzzed with hypothesis: any upload ends in a clean import or in a
report of every bad row with its reason (or one file-level message), never in an exception, and
never in a partial import unless invalid rows are to be skipped.

Inputs: arbitrary bytes; CSV files built from the real columns in any order, some missing,
unknown extra columns, ``,`` or ``;`` as delimiter, UTF-8 with or without BOM, UTF-16,
Latin-1 and Windows-1252, cells that are valid, empty, formulas (``=HYPERLINK(...)``,
``+1``, ``@SUM``), huge, multi-line, NUL or control characters, quotes that never close.
Deterministic (derandomize) and bounded; each example runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lagebild.core.scoping import unscoped
from lagebild.field.importer import COLUMNS, REQUIRED_COLUMNS, import_incidents
from lagebild.field.models import Incident, Measure

from .conftest import INSIDE, OUTSIDE

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

GOOD = {
    "external_id": st.sampled_from(["", "E-1", "E-2", "lagebild-1", "x" * 64]),
    "occurred_at": st.sampled_from(
        ["2025-03-01T10:00:00+01:00", "01.03.2025 10:00", "2025-03-01 10:00", "1.3.2025, 10:00 Uhr"]
    ),
    "lat": st.sampled_from([str(INSIDE[0]), str(INSIDE[0]).replace(".", ",")]),
    "lon": st.sampled_from([str(INSIDE[1]), str(INSIDE[1]).replace(".", ",")]),
    "address_text": st.sampled_from(["", "Platz von Leeds", "Katharinenstraße 1"]),
    "category": st.sampled_from(["aggressive-begging", "drug-consumption-public"]),
    "source": st.sampled_from(["", "patrol", "citizen"]),
    "description": st.sampled_from(["", "Person bettelt aggressiv.", "Zeile 1\nZeile 2"]),
    "joint": st.sampled_from(["", "ja", "nein", "0", "1"]),
    "measures": st.sampled_from(["", "dispersal_order", "contact|dispersal_order", "caution_fee:35"]),
}
NASTY = st.one_of(
    st.sampled_from(
        [
            '=HYPERLINK("http://evil.example";"Klick")',
            "=1+2",
            "+49 171 234567",
            "-3",
            "@SUM(A1:A9)",
            "'=1+2",
            "\t=1",
            "\x00",
            "a\x00b",
            "\u202egnirts",
            '"',
            '""',
            "x" * 5000,
            "9" * 400,
            "NaN",
            "inf",
            "1e999",
            "-0",
            "31.02.2025 10:00",
            "2025-13-01T10:00:00",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00",
            str(OUTSIDE[0]),
            "seizure:cash:1e30",
            "caution_fee:9999999999999999",
            "referral:",
            "teleport",
            "custody|custody|" * 30,
            "gibt-es-nicht",
            "drug-dealing",
        ]
    ),
    st.text(max_size=40),
)
CELL = {name: st.one_of(strategy, NASTY) for name, strategy in GOOD.items()}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int]:
    """(file bytes, number of data rows) of a CSV built from the real columns."""
    columns = draw(st.permutations(COLUMNS))
    keep = draw(st.integers(len(REQUIRED_COLUMNS), len(COLUMNS)))
    columns = list(columns[:keep])
    if draw(st.booleans()):
        columns.insert(draw(st.integers(0, len(columns))), draw(st.sampled_from(["bemerkung", "", "lat"])))
    delimiter = draw(st.sampled_from([",", ";"]))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        valid = draw(st.booleans())
        cells = [draw(GOOD[name] if valid and name in GOOD else CELL.get(name, NASTY)) for name in columns]
        if draw(st.integers(0, 9)) == 0:
            cells = cells[: draw(st.integers(0, len(cells)))]  # a short row
        rows.append(cells)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(columns)
    writer.writerows(rows)
    text = buffer.getvalue()
    if draw(st.integers(0, 9)) == 0:
        text += '"nie geschlossen' + delimiter * 3  # an open quote to the end of the file
    encoding = draw(st.sampled_from(ENCODINGS))
    return text.encode(encoding, errors="replace"), len(rows)


def _counts() -> tuple[int, int]:
    with unscoped():
        return Incident.objects.count(), Measure.objects.count()


def _assert_consistent(result, before: tuple[int, int], *, skip_invalid: bool, dry_run: bool) -> None:
    after = _counts()
    added = (after[0] - before[0], after[1] - before[1])
    for error in result.errors:
        assert error.line >= 1 and error.message.strip(), error
        assert error.column in ("", *COLUMNS) or error.column.strip(), error
    if result.file_error:
        # One plain German message for the whole file, nothing written.
        assert added == (0, 0) and result.imported == 0
        assert result.file_error.strip() and not result.file_error.startswith("Traceback")
        return
    if dry_run:
        assert added == (0, 0) and result.imported == 0
        return
    if result.rows == 0:
        # The header itself is wrong (missing or doubled columns): reported, nothing written.
        assert added == (0, 0) and result.imported == 0 and result.errors
        return
    if result.errors and not skip_invalid:
        assert added == (0, 0) and result.imported == 0, "a partial import without skip_invalid"
        return
    # What was imported is in the database, and every row not imported is explained.
    assert added == (result.imported, result.measures)
    assert result.imported + result.skipped == result.rows
    assert result.skipped == result.invalid_rows


def _import(kod_lead, data, *, skip_invalid=False, dry_run=False):
    with transaction.atomic():
        before = _counts()
        result = import_incidents(
            user=kod_lead, data=data, file_name="fuzz.csv", skip_invalid=skip_invalid, dry_run=dry_run
        )
        _assert_consistent(result, before, skip_invalid=skip_invalid, dry_run=dry_run)
        transaction.set_rollback(True)
    return result


@pytest.fixture
def importer(world, kod_lead):
    return kod_lead


@FUZZ
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(importer, data):
    _import(importer, data)


@settings(FUZZ, max_examples=80)
@given(file=csv_files(), skip_invalid=st.booleans(), dry_run=st.sampled_from([False, False, True]))
def test_generated_csv_imports_cleanly_or_reports_every_bad_row(importer, file, skip_invalid, dry_run):
    data, rows = file
    result = _import(importer, data, skip_invalid=skip_invalid, dry_run=dry_run)
    event("file error" if result.file_error else "row errors" if result.errors else "clean")
    event(f"imported > 0: {result.imported > 0}")
    if not result.file_error and not (result.errors and result.errors[0].line == 1):
        assert result.rows == rows


@settings(FUZZ, max_examples=30)
@given(
    cell=st.sampled_from(["description", "address_text", "external_id"]),
    formula=st.sampled_from(["=1+2", '=HYPERLINK("http://x";"y")', "+1", "-1", "@A1", "'=1+2"]),
)
def test_formulas_are_stored_as_text_never_evaluated(importer, cell, formula):
    values = {
        "occurred_at": "2025-03-01T10:00:00+01:00",
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        "category": "aggressive-begging",
        "measures": "dispersal_order",
        cell: formula,
    }
    buffer = io.StringIO()
    csv.writer(buffer).writerows([list(values), list(values.values())])
    with transaction.atomic():
        result = import_incidents(user=importer, data=buffer.getvalue().encode())
        assert result.ok and result.imported == 1, result.errors
        with unscoped():
            stored = getattr(Incident.objects.get(), cell)
        # The import takes off the apostrophe the export puts in front of a formula; else verbatim.
        assert stored == (formula[1:] if formula.startswith("'=") else formula)
        transaction.set_rollback(True)


def test_huge_field_and_missing_columns_give_one_message(importer):
    huge = b"occurred_at,lat,lon,category\n" + b'"' + b"x" * 200_000
    result = _import(importer, huge)
    assert result.file_error or result.errors
    missing = _import(importer, b"lat;lon\n51,5;7,4\n")
    assert [e.column for e in missing.errors] == ["occurred_at", "category"]
