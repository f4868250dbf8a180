"""CompStat cockpit: figures equal a direct count over the records, a page never contradicts itself,
z and flags follow Wheeler's check values, both partners see the same figures, PDF/XLSX carry the
page's numbers, and bad parameters are answered in German with HTTP 400."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import re
import zlib
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from lagebild.analytics import cockpit as ck
from lagebild.analytics.documents import number_de
from lagebild.analytics.indicators import TotalsIndex
from lagebild.analytics.indicators import value as indicator_value
from lagebild.analytics.models import CITY_AREA
from lagebild.analytics.periods import Period, compstat_windows
from lagebild.analytics.services import load_indicators
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure
from lagebild.geo.services import area_save

from .conftest import CITY_BOUNDS, _box

BERLIN = ZoneInfo("Europe/Berlin")
WEST = (51.53, 7.43)  # district "west"
CENTRE = (51.514, 7.465)  # district "east" and focus area "centre"
NO_DISTRICT = (51.55, 7.42)  # inside the city, outside every district once "west" is shrunk
SECRET = "Vertraulich: Hinweisgeber Müller"
# The cockpit page: 26 queries on SQLite, 29 on PostgreSQL (the window read's SET LOCAL in a
# savepoint inside the test's transaction); before the form's reads were passed on, 32 and 35.
# In the days after an ISO week 53 (the suite's run on Monday 4 January 2027) the comparison
# with the year before has no week 53 to read from the weekly counts and reads days instead:
# 8 queries more (34 on SQLite; measured at 7 instants, 26 at every other). A query per row
# (about 15 rows) still fails the bound.
QUERIES_PER_PAGE = 29 + 8

INDICATORS = {
    "indicators": [
        {"code": "incidents", "name": "Feststellungen gesamt", "kind": "problem", "fact": "incident"},
        {
            "code": "begging-observed",
            "name": "Aggressives Betteln (festgestellt)",
            "kind": "problem",
            "fact": "incident",
            "categories": ["aggressive-begging"],
        },
        {
            "code": "dispersal-orders",
            "name": "Platzverweise",
            "kind": "activity",
            "fact": "measure",
            "measure_types": ["dispersal_order"],
        },
        {"code": "measures", "name": "Maßnahmen gesamt", "kind": "activity", "fact": "measure"},
        {
            "code": "cash-seized",
            "name": "Sichergestelltes Bargeld",
            "kind": "activity",
            "fact": "measure",
            "measure_types": ["seizure"],
            "details": ["cash"],
            "value": "amount",
            "unit": "€",
        },
        {
            "code": "staff-hours",
            "name": "Personalstunden",
            "kind": "activity",
            "fact": "staff_hours",
            "value": "amount",
            "unit": "Std.",
        },
        {
            "code": "reports-resolved",
            "name": "Bürgerhinweise erledigt",
            "kind": "outcome",
            "fact": "report_closed",
            "details": ["resolved"],
        },
    ],
    "sets": [
        {"code": "wochenlage", "name": "Wochenlage Test", "indicators": "*"},
        {"code": "klein", "name": "Nur Platzverweise", "indicators": ["dispersal-orders"]},
    ],
}


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)


def _last_sunday() -> dt.date:
    """The newest Sunday strictly before today: complete windows whose records all lie in the past."""
    today = timezone.localdate()
    return today - dt.timedelta(days=today.isoweekday())


def _record(user, category, at, *measures, lat_lon=WEST, **extra) -> Incident:
    with authority_scope(user.authority_id):
        return field.incident_create(
            user=user,
            category=category,
            occurred_at=at,
            lat=lat_lon[0],
            lon=lat_lon[1],
            measures=measures,
            **extra,
        )


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight at the start and after the end of a period of local days."""
    return _local(period.start, 0), _local(period.end + dt.timedelta(days=1), 0)


def _count_incidents(period: Period, **filters) -> int:
    start, end = _bounds(period)
    with unscoped():
        return Incident.objects.filter(occurred_at__gte=start, occurred_at__lt=end, **filters).count()


def _count_measures(period: Period, **filters) -> int:
    start, end = _bounds(period)
    with unscoped():
        return Measure.objects.filter(taken_at__gte=start, taken_at__lt=end, **filters).count()


def _sum_cash(period: Period) -> float:
    start, end = _bounds(period)
    with unscoped():
        total = Measure.objects.filter(
            taken_at__gte=start, taken_at__lt=end, type="seizure", seizure_kind="cash"
        ).aggregate(s=Sum("amount"))["s"]
    return float(total or 0)


@pytest.fixture
def indicators(world, tmp_path: Path) -> None:
    path = tmp_path / "indicators.json"
    path.write_text(json.dumps(INDICATORS), encoding="utf-8")
    load_indicators(path)


@pytest.fixture
def as_of() -> dt.date:
    return _last_sunday()


@pytest.fixture
def records(world, indicators, kod, kod_lead, polizei, as_of) -> dict:
    """Records on the edges of every window, one exactly 364 days before another, one in no district."""
    areas = world["areas"]
    min_lon, min_lat, _max_lon, _max_lat = CITY_BOUNDS
    # A strip in the north-west of the city belongs to no district: the "ohne Bezirk" remainder.
    area_save(area=areas["west"], geometry=_box(min_lon, min_lat, 7.46, 51.54))
    begging, drugs = world["categories"]["begging"], world["categories"]["drugs"]
    order = MeasureInput(type="dispersal_order")
    monday = as_of - dt.timedelta(days=6)
    made = {
        "edge_last_day": _record(kod, begging, _local(as_of, 23, 30), order),
        "week_first_minute": _record(
            kod,
            begging,
            _local(monday, 0, 5),
            MeasureInput(type="dispersal_order"),
            MeasureInput(type="contact"),
        ),
        "sunday_before": _record(
            kod, begging, _local(as_of - dt.timedelta(days=7), 23, 30), order, lat_lon=CENTRE
        ),
        "first_of_28": _record(
            polizei,
            drugs,
            _local(as_of - dt.timedelta(days=27), 0, 10),
            MeasureInput(type="dispersal_order"),
            MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("120.50")),
            lat_lon=CENTRE,
        ),
        "before_28": _record(kod, begging, _local(as_of - dt.timedelta(days=28), 23, 30), order),
        "exactly_364_earlier": _record(
            polizei, drugs, _local(as_of - dt.timedelta(days=364), 23, 30), order, lat_lon=CENTRE
        ),
        "after_prior_week": _record(kod, begging, _local(as_of - dt.timedelta(days=363), 0, 30), order),
        "police_only": _record(
            polizei,
            drugs,
            _local(as_of - dt.timedelta(days=2), 12, 0),
            MeasureInput(type="criminal_complaint"),
            lat_lon=NO_DISTRICT,
            description=SECRET,
        ),
    }
    patrol_day = as_of - dt.timedelta(days=3)
    with authority_scope(kod_lead.authority_id):
        shift = field.shift_create(user=kod_lead, date=patrol_day, kind="early")
        patrol = field.patrol_create(
            user=kod_lead,
            shift=shift,
            name="City 1",
            members=[kod, polizei],
            area_id=areas["centre"].pk,
            planned_start=_local(patrol_day, 10),
            planned_end=_local(patrol_day, 14),
        )
        field.patrol_start(user=kod_lead, patrol=patrol, at=_local(patrol_day, 10))
        field.patrol_end(user=kod_lead, patrol=patrol, at=_local(patrol_day, 14))
    return made


# --- (1) the figures equal a direct count over the records ------------------------------------


def test_cockpit_figures_equal_a_direct_count_over_the_records(world, records, as_of):
    cockpit = ck.build_cockpit(CITY_AREA, "wochenlage", as_of)
    begging = world["categories"]["begging"]
    for window in cockpit.windows:
        for period, attribute in ((window.current, "current"), (window.prior, "prior")):
            expected = {
                "incidents": _count_incidents(period),
                "begging-observed": _count_incidents(period, category=begging),
                "dispersal-orders": _count_measures(period, type="dispersal_order"),
                "measures": _count_measures(period),
                "cash-seized": _sum_cash(period),
            }
            for code, count in expected.items():
                figure = cockpit.figure(code, window.key)
                assert getattr(figure, attribute) == pytest.approx(count), (code, window.key, attribute)

    # The edges as constructed: 23:30 on the last day and 00:05 on the Monday count, the Sunday
    # before does not; the 28 days start at 00:10 on day 27 back, not at 23:30 on day 28 back.
    assert cockpit.figure("begging-observed", "week").current == 2
    assert cockpit.figure("begging-observed", "28d").current == 3
    assert cockpit.figure("incidents", "28d").current == 5
    # Exactly 364 days earlier is the last day of the prior week; the day after is in neither.
    assert cockpit.figure("dispersal-orders", "week").prior == 1
    assert cockpit.figure("dispersal-orders", "28d").prior == 1
    assert cockpit.figure("cash-seized", "28d").current == pytest.approx(120.5)
    assert cockpit.figure("staff-hours", "28d").current == pytest.approx(8.0)  # 2 members × 4 hours


def test_a_district_sees_only_its_records(world, records, as_of):
    east = world["areas"]["east"]
    cockpit = ck.build_cockpit(east.pk, "wochenlage", as_of)
    assert cockpit.area_name == "Bezirk Ost"
    assert cockpit.figure("incidents", "28d").current == 2  # sunday_before and first_of_28 (centre)
    assert cockpit.figure("incidents", "week").prior == 1  # exactly_364_earlier


# --- (2) the numbers on a page never contradict each other --------------------------------------


def test_district_drilldown_plus_remainder_equals_the_city_figure(world, records, as_of):
    cockpit = ck.build_cockpit(CITY_AREA, "wochenlage", as_of)
    for code in ("incidents", "measures", "dispersal-orders", "cash-seized", "staff-hours"):
        for window_key in ("week", "28d", "ytd"):
            drill = ck.area_drilldown(cockpit, code, window_key)
            city = cockpit.figure(code, window_key)
            parts = [r.figure.current for r in drill.districts] + [drill.remainder.figure.current]
            assert sum(parts) == pytest.approx(city.current)
            assert drill.total.figure.current == pytest.approx(city.current)
            prior_parts = [r.figure.prior for r in drill.districts] + [drill.remainder.figure.prior]
            assert sum(prior_parts) == pytest.approx(city.prior)
    drill = ck.area_drilldown(cockpit, "incidents", "28d")
    assert drill.remainder.label == "ohne Bezirk"
    assert drill.remainder.figure.current == 1  # the police record in the strip without district
    assert not drill.districts_overlap
    # Focus areas overlap the districts and are listed separately, never added to them.
    assert [r.label for r in drill.focus_areas] == ["Zentrum"]
    assert drill.focus_areas[0].figure.current == 2


def test_category_split_sums_to_the_indicator(world, records, as_of):
    cockpit = ck.build_cockpit(CITY_AREA, "wochenlage", as_of)
    for code in ("incidents", "measures", "dispersal-orders"):
        for window_key in ("week", "28d", "ytd"):
            split = ck.category_drilldown(cockpit, code, window_key)
            figure = cockpit.figure(code, window_key)
            assert sum(r.figure.current for r in split.rows) == pytest.approx(figure.current)
            assert sum(r.figure.prior for r in split.rows) == pytest.approx(figure.prior)
    split = ck.category_drilldown(cockpit, "incidents", "28d")
    assert {r.label: r.figure.current for r in split.rows} == {
        "Aggressives Betteln": 3,
        "Drogenkonsum öffentlich": 2,
    }


def test_weekly_series_matches_the_windows_where_they_cover_the_same_days(records, as_of):
    cockpit = ck.build_cockpit(CITY_AREA, "wochenlage", as_of)
    for code in ("incidents", "measures", "cash-seized", "staff-hours"):
        series = ck.weekly_series(cockpit, code)
        assert len(series.points) == 52
        assert series.points[-1].monday == as_of - dt.timedelta(days=6)
        assert series.points[-1].current == pytest.approx(cockpit.figure(code, "week").current)
        assert series.points[-1].prior == pytest.approx(cockpit.figure(code, "week").prior)
        # as_of is a Sunday: the 28 days are exactly the last four ISO weeks.
        assert sum(p.current for p in series.points[-4:]) == pytest.approx(
            cockpit.figure(code, "28d").current
        )
        assert sum(p.prior for p in series.points[-4:]) == pytest.approx(cockpit.figure(code, "28d").prior)
        assert all(p.prior_monday == p.monday - dt.timedelta(days=364) for p in series.points)


def test_hour_weekday_table_sums_to_the_28_day_figure(records, as_of):
    cockpit = ck.build_cockpit(CITY_AREA, "wochenlage", as_of)
    heat = ck.heat_table(cockpit, "incidents")
    assert heat.total == cockpit.figure("incidents", "28d").current
    # 23:30 local on two Sundays is Sunday, hour 23 (not Monday in UTC or 22 h).
    assert heat.cells[6][23] == 2
    assert heat.cells[0][0] == 2  # Monday 00:05 this week and Monday 00:10 four weeks back
    assert heat.levels[6][23] > 0 and heat.levels[1][5] == 0


def test_staff_hour_normalisation_is_value_per_hours_times_100(records, as_of):
    raw = ck.build_cockpit(CITY_AREA, "wochenlage", as_of)
    normalised = ck.build_cockpit(CITY_AREA, "wochenlage", as_of, per_100_staff_hours=True)
    hours = raw.figure("staff-hours", "28d").current
    assert hours == pytest.approx(8.0)
    for code in ("incidents", "measures", "dispersal-orders"):
        figure = normalised.figure(code, "28d")
        assert figure.current == pytest.approx(raw.figure(code, "28d").current / hours * 100)
        assert figure.prior is None  # no patrol a year earlier: no rate instead of a division by zero
        assert figure.z is None  # rates are not Poisson counts
        assert normalised.row(code).unit == "je 100 Std."
    # Amounts stay as they are.
    assert normalised.figure("cash-seized", "28d").current == raw.figure("cash-seized", "28d").current
    assert normalised.figure("staff-hours", "28d").current == hours


# --- (3) z and flags --------------------------------------------------------------------------------


def test_z_and_flag_for_25_against_16(world, indicators, kod, as_of):
    begging = world["categories"]["begging"]
    _record(kod, begging, _local(as_of, 10), *[MeasureInput(type="dispersal_order") for _ in range(25)])
    _record(
        kod,
        begging,
        _local(as_of - dt.timedelta(days=364), 10),
        *[MeasureInput(type="dispersal_order") for _ in range(16)],
    )
    _record(kod, begging, _local(as_of - dt.timedelta(days=10), 10), *[MeasureInput(type="contact")] * 12)
    _record(kod, begging, _local(as_of - dt.timedelta(days=374), 10), *[MeasureInput(type="contact")] * 7)
    cockpit = ck.build_cockpit(CITY_AREA, "wochenlage", as_of)
    figure = cockpit.figure("dispersal-orders", "week")
    assert (figure.current, figure.prior, figure.delta) == (25, 16, 9)
    assert figure.z == pytest.approx(2.0)
    assert figure.percent == pytest.approx(56.25)
    assert figure.flag == 2 and figure.flag_symbol == "▲"
    assert figure.flag_label == "auffälliger Anstieg (z ≥ 2)"
    # Wheeler's 12 vs 7: z = 1.637, no flag; in the cockpit the 28 days hold 25 + 12 vs 16 + 7 measures.
    contacts = ck.Figure.of(12, 7, is_count=True)
    assert contacts.z == pytest.approx(1.637, abs=1e-3) and contacts.flag == 0 and contacts.flag_symbol == ""
    measures = cockpit.figure("measures", "28d")
    assert (measures.current, measures.prior) == (37, 23)
    assert measures.z == pytest.approx(2 * (37**0.5 - 23**0.5))
    # Amounts get no z and no flag.
    assert cockpit.figure("staff-hours", "week").z is None
    assert ck.Figure.of(40, 25, is_count=True).z == pytest.approx(2.649, abs=1e-3)
    assert ck.Figure.of(0, 25, is_count=True).flag == -3
    assert ck.Figure.of(0, 25, is_count=True).flag_symbol == "▼▼"


# --- (4) web page for both partners, login required -----------------------------------------------


class _TableRows(HTMLParser):
    """Rows of the cockpit table as (row header, [cell texts])."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self._in_table = False
        self._cell: list[str] | None = None
        self._header = ""
        self._cells: list[str] = []
        self._kind = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        classes = dict(attrs).get("class") or ""
        if tag == "table" and "cockpit-table" in classes:
            self._in_table = True
        if not self._in_table:
            return
        if tag == "tr":
            self._header, self._cells = "", []
        if tag in ("th", "td"):
            self._cell, self._kind = [], tag

    def handle_endtag(self, tag: str) -> None:
        if not self._in_table:
            return
        if tag in ("th", "td") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            if tag == "th":
                self._header = text
            else:
                self._cells.append(text)
            self._cell = None
        if tag == "tr" and self._cells:
            self.rows.append((self._header, self._cells))
        if tag == "table":
            self._in_table = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _page_rows(content: bytes) -> dict[str, list[str]]:
    parser = _TableRows()
    parser.feed(content.decode())
    return {header: cells for header, cells in parser.rows}


def test_page_shows_the_same_figures_to_city_and_police(client, records, analyst, polizei, as_of):
    url = f"/auswertung/lage/?date={as_of.isoformat()}&indicator=incidents"
    pages = {}
    for user in (analyst, polizei):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        pages[user.username] = response.content
        client.logout()
    city_rows, police_rows = _page_rows(pages["analyse"]), _page_rows(pages["polizei"])
    assert city_rows and city_rows == police_rows
    # The police-only record counts for the city analyst too, but its details never appear.
    assert city_rows["Feststellungen gesamt"][5] == "5"  # 28 days: current
    for content in pages.values():
        text = content.decode()
        assert SECRET not in text
        assert "Lagebild Stadtgebiet" in text and f"KW {as_of.isocalendar()[1]}/" in text
        assert "Stand:" in text and "Lesehilfe" in text and "ohne Bezirk" in text
        assert 'id="cockpit-map"' in text and "<svg" in text and "heat-table" in text


def test_page_requires_login(client, indicators):
    response = client.get("/auswertung/lage/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get("/auswertung/lage.pdf").status_code == 302
    assert client.get("/auswertung/lage.xlsx").status_code == 302


def test_flags_are_marked_with_symbol_and_spoken_label(client, world, indicators, analyst, kod, as_of):
    begging = world["categories"]["begging"]
    _record(kod, begging, _local(as_of, 10), *[MeasureInput(type="dispersal_order") for _ in range(25)])
    _record(
        kod, begging, _local(as_of - dt.timedelta(days=364), 10), *[MeasureInput(type="dispersal_order")] * 16
    )
    client.force_login(analyst)
    response = client.get(f"/auswertung/lage/?date={as_of.isoformat()}")
    text = response.content.decode()
    assert 'role="img" aria-label="auffälliger Anstieg (z ≥ 2)"' in text
    assert _page_rows(response.content)["Platzverweise"][:5] == ["25", "16", "+9", "+56 %", "▲ +2,00"]


def test_htmx_swaps_only_the_detail_section(client, records, analyst, as_of):
    client.force_login(analyst)
    response = client.get(
        f"/auswertung/lage/?date={as_of.isoformat()}&indicator=measures&part=details", HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<section id="details"') and "<html" not in text
    assert "Details: Maßnahmen gesamt" in text


def test_page_reads_a_fixed_number_of_queries(client, records, analyst, as_of, django_assert_max_num_queries):
    """The page reads the set and its indicators once (the form's read is passed on) and renders
    its cells without a query per row; an N+1 or a second read of the definitions fails here."""
    client.force_login(analyst)
    url = f"/auswertung/lage/?date={as_of.isoformat()}&indicator=incidents"
    client.get(url)
    with django_assert_max_num_queries(QUERIES_PER_PAGE):
        assert client.get(url).status_code == 200


def test_indexed_totals_give_the_values_of_a_scan(records, as_of):
    """``TotalsIndex`` (used for every cockpit figure) equals ``indicators.value`` to the last bit."""
    cockpit = ck.build_cockpit(CITY_AREA, "wochenlage", as_of)
    normalised = ck.build_cockpit(CITY_AREA, "wochenlage", as_of, per_100_staff_hours=True)
    assert cockpit.rows
    for built in (cockpit, normalised):
        for name, totals in built.totals.items():
            index = TotalsIndex(totals)
            for row in built.rows:
                assert index.value(row.indicator) == indicator_value(row.indicator, totals)
                assert built.figure(row.code, name.removesuffix("_prior")) is not None
        for row in built.rows:
            for window in built.windows:
                current, prior = built.totals[window.key], built.totals[f"{window.key}_prior"]
                figure = built.figure(row.code, window.key)
                assert figure.current == indicator_value(row.indicator, current)
                assert figure.prior == indicator_value(row.indicator, prior)


# --- (5) PDF and XLSX ----------------------------------------------------------------------------------


def test_pdf_and_xlsx_carry_the_page_figures(client, records, analyst, as_of):
    openpyxl = pytest.importorskip("openpyxl")
    client.force_login(analyst)
    query = f"?date={as_of.isoformat()}&indicator=incidents&window=28d"
    pdf = client.get("/auswertung/lage.pdf" + query)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    xlsx = client.get("/auswertung/lage.xlsx" + query)
    assert xlsx.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content), data_only=True)
    assert {"Kennzahlen", "Wochenreihe", "Gebiete", "Stunden"} <= set(workbook.sheetnames)
    page_rows = _page_rows(client.get("/auswertung/lage/" + query).content)

    def page_cells(name: str) -> list[str] | None:
        for header, cells in page_rows.items():
            if header == name or header.startswith(f"{name} ("):  # the unit follows the name
                return cells
        return None

    sheet = workbook["Kennzahlen"]
    header_row = next(r for r in sheet.iter_rows(values_only=True) if r and r[0] == "Art")
    assert header_row[3].endswith("aktuell")
    checked = 0
    for values in sheet.iter_rows(values_only=True):
        cells = page_cells(values[1]) if values and values[0] != "Art" else None
        if cells is None:
            continue
        decimals = 0 if values[2] == "Anzahl" else 2
        for window in range(3):
            current, prior = values[3 + window * 6], values[4 + window * 6]
            assert isinstance(current, int | float) and isinstance(prior, int | float)  # numbers, not text
            assert cells[window * 5] == number_de(current, decimals)
            assert cells[window * 5 + 1] == number_de(prior, decimals)
        checked += 1
    assert checked == len(INDICATORS["indicators"])

    cockpit = ck.build_cockpit(CITY_AREA, "wochenlage", as_of)
    areas = {row[0]: row for row in workbook["Gebiete"].iter_rows(values_only=True) if row and row[1]}
    assert areas["ohne Bezirk"][2] == 1
    assert areas["Stadtgebiet Dortmund"][2] == cockpit.figure("incidents", "28d").current == 5
    weeks = [
        row
        for row in workbook["Wochenreihe"].iter_rows(values_only=True)
        if row and str(row[0]).startswith("KW")
    ]
    assert len(weeks) == 52 + 1  # the header "KW" and 52 weeks
    assert sum(row[2] for row in weeks[-4:]) == 5
    hours = [row for row in workbook["Stunden"].iter_rows(values_only=True) if row and row[0] == "Summe"]
    assert hours[-1][-1] == 5


def _pdf_lines(data: bytes) -> list[str]:
    """The lines of text of a ReportLab PDF as drawn (one entry per line), from its content streams.

    A cell whose text wraps in the PDF gives two entries.
    """
    lines = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = stream.strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2])
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        for literal in re.findall(r"\(((?:[^()\\]|\\.)*)\) Tj", raw.decode("latin-1")):
            literal = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), literal)
            # Standard fonts are WinAnsi-encoded: "–" is byte 0x96.
            lines.append(re.sub(r"\\(.)", r"\1", literal).encode("latin-1").decode("cp1252"))
    return lines


def test_running_week_is_marked_in_the_chart_and_named_in_pdf_and_xlsx(
    client, world, indicators, kod, polizei, analyst, as_of
):
    openpyxl = pytest.importorskip("openpyxl")
    # One incident a day (every other one a police record) for two whole weeks and the running week
    # up to a Thursday Stichtag: 7, 7 and 4 so far. A line through 4 would read as a fall by half.
    stichtag = as_of - dt.timedelta(days=3)
    monday = stichtag - dt.timedelta(days=3)
    for offset in range(-14, 4):
        day = monday + dt.timedelta(days=offset)
        _record(polizei if offset % 2 else kod, world["categories"]["begging"], _local(day, 15))
    label = f"laufende Woche, bis {stichtag:%d.%m.}"
    week = f"KW {monday.isocalendar()[1]}/{monday.isocalendar()[0]}"
    query = f"?date={stichtag.isoformat()}&indicator=incidents"

    charts = []
    for user in (analyst, polizei):
        client.force_login(user)
        response = client.get("/auswertung/lage/" + query)
        client.logout()
        assert response.status_code == 200
        html = response.content.decode()
        chart = response.context["chart"]
        charts.append(chart)
        # The solid line ends at the last whole week (7); the running week (4 so far) is an open
        # point on a dotted line with its label, and the table says it is incomplete.
        assert chart.partial is not None and chart.partial.label == label
        last_x, last_y = chart.last_point
        assert chart.current_path.endswith(f"L{last_x} {last_y}")
        partial_x, partial_y = chart.partial.current_point
        assert partial_x > last_x and partial_y > last_y  # 4 is lower on the chart than 7
        assert chart.partial.current_link == f"M{last_x} {last_y} L{partial_x} {partial_y}"
        assert f'data-partial-week="{label}"' in html and f">{label}</text>" in html
        assert 'class="partial-point current"' in html
        assert f"{label} (unvollständig)" in html
        assert f"Letzter Punkt: {label}, unvollständig und deshalb als offener Punkt" in html
    assert charts[0] == charts[1]  # the police records count for the city analyst too
    report = ck.build_report(CITY_AREA, "wochenlage", stichtag, indicator_code="incidents")
    assert [p.current for p in report.series.points[-3:]] == [7, 7, 4]

    client.force_login(analyst)
    lines = _pdf_lines(client.get("/auswertung/lage.pdf" + query).content)
    text = " ".join(lines)
    previous = f"KW {(monday - dt.timedelta(days=7)).isocalendar()[1]}/"
    assert f"Feststellungen gesamt (Anzahl), 51 ganze Wochen bis {previous}" in text
    assert (
        f"Nicht im Diagramm – {week} ist die laufende Woche: Mo {monday:%d.%m.} bis Do "
        f"{stichtag:%d.%m.%Y}, 4 von 7 Tagen" in text
    )
    assert "Wert bisher: 4, Vorjahr dieselben Tage: 0." in text

    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/auswertung/lage.xlsx" + query).content))
    rows = list(workbook["Wochenreihe"].iter_rows(values_only=True))
    header = rows.index(("KW", "Montag", "Wert", "KW Vorjahr", "Montag Vorjahr", "Wert Vorjahr", "Woche"))
    weeks = rows[header + 1 :]
    assert len(weeks) == 52
    assert weeks[-1][0] == week and weeks[-1][2] == 4
    assert weeks[-1][6] == f"{label}, 4 von 7 Tagen (unvollständig)"
    assert {row[6] for row in weeks[:-1]} == {"ganze Woche"}
    assert any(row[0] and str(row[0]).startswith(f"{week} ist die laufende Woche") for row in rows[:header])

    # With a Sunday as Stichtag every week is whole: nothing is marked or left out.
    sunday = client.get(f"/auswertung/lage/?date={as_of.isoformat()}&indicator=incidents")
    assert sunday.context["chart"].partial is None and "laufende Woche" not in sunday.content.decode()
    sunday_pdf = " ".join(_pdf_lines(client.get(f"/auswertung/lage.pdf?date={as_of.isoformat()}").content))
    assert "52 ganze Wochen" in sunday_pdf and "Nicht im Diagramm" not in sunday_pdf


def test_pdf_percent_column_keeps_large_changes_on_one_line(
    client, world, indicators, kod, polizei, analyst, as_of
):
    # 10 € cash seized a year ago, 4.231,20 € now (a police seizure): +42.212 % in all three windows.
    windows = compstat_windows(as_of)
    a_year_ago = max(w.prior.start for w in windows)  # a day in every window's prior period
    assert a_year_ago <= min(w.prior.end for w in windows)
    seizure = MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("10.00"))
    _record(kod, world["categories"]["drugs"], _local(a_year_ago, 11), seizure)
    big = MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("4231.20"))
    _record(polizei, world["categories"]["drugs"], _local(as_of, 11), big)
    client.force_login(analyst)
    response = client.get(f"/auswertung/lage.pdf?date={as_of.isoformat()}")
    assert response.status_code == 200
    lines = _pdf_lines(response.content)
    assert lines.count("+42.212 %") == 3  # week, 28 days, year to date; each on one line
    assert [line for line in lines if "42.212" in line] == ["+42.212 %"] * 3  # never "+42.212" / "%"
    assert lines.count("+4.221") == 3


# --- (6) bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("area=999999", "Dieses Gebiet gibt es nicht."),
        ("area=abc", "Dieses Gebiet gibt es nicht."),
        ("set=gibt-es-nicht", "Dieses Kennzahlen-Set gibt es nicht."),
        ("date=31.02.2026", "gibt es nicht im Kalender"),
        ("date=morgen", "ist kein Datum im Format TT.MM.JJJJ oder JJJJ-MM-TT"),
        ("date=2999-01-01", "Der Stand liegt in der Zukunft"),
        ("date=1899-12-31", "Der Stand darf nicht vor dem 01.01.2000 liegen."),
        ("indicator=unbekannt", "Diese Kennzahl gibt es nicht."),
        ("window=decade", "Bitte Woche, 28 Tage oder Jahr bis Datum wählen."),
    ],
)
def test_bad_parameters_answer_400_with_a_german_message(client, indicators, analyst, query, message):
    client.force_login(analyst)
    for path in ("/auswertung/lage/", "/auswertung/lage.pdf", "/auswertung/lage.xlsx"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, path
        text = response.content.decode()
        assert message in text
        assert 'aria-invalid="true"' in text


def test_defaults_and_german_dates_are_accepted(client, records, analyst, as_of):
    client.force_login(analyst)
    assert client.get("/auswertung/lage/").status_code == 200
    # An indicator left over from another set falls back to the set's first one.
    response = client.get(f"/auswertung/lage/?date={as_of:%d.%m.%Y}&set=klein&indicator=incidents")
    assert response.status_code == 200
    assert list(_page_rows(response.content)) == ["Platzverweise"]
    assert "Details: Platzverweise" in response.content.decode()
    assert re.search(r"Lagebild Stadtgebiet Dortmund – KW \d+/\d{4} \(Mo ", response.content.decode())


def test_week_after_a_53_week_year_says_what_it_is_compared_with(client, indicators, analyst):
    # 2020 had a KW 53: KW 1/2021 is compared with the days 364 days earlier, KW 2/2020.
    client.force_login(analyst)
    response = client.get("/auswertung/lage/?date=2021-01-10")
    text = response.content.decode()
    assert response.status_code == 200
    assert "KW 1/2021 (Mo 04.01. – So 10.01.2021)" in text
    assert "KW 1/2021 wird mit den Tagen 364 Tage zuvor verglichen (KW 2/2020, 06.01.–12.01.2020)" in text
    assert "Vorjahr: 06.01.–12.01.2020" in text


def test_default_date_is_the_last_complete_local_day_just_after_midnight(client, indicators, analyst, clock):
    # 00:15 on 1 January in Dortmund is still 31 December in UTC. The cockpit's default Stichtag
    # is the last complete local day, 31 December (ISO week 53 of 2026), not 30 December (UTC).
    clock.move_to("2027-01-01T00:15:00+01:00")
    client.force_login(analyst)
    text = client.get("/auswertung/lage/").content.decode()
    assert "Woche KW 53/2026 (bis Do 31.12.)" in text
    assert 'value="31.12.2026"' in text or 'value="2026-12-31"' in text
    # Today stays available on request.
    today = client.get("/auswertung/lage/?date=2027-01-01").content.decode()
    assert "Woche KW 53/2026 (bis Fr 01.01.)" in today


def test_default_week_compares_complete_days_with_complete_days(
    client, indicators, analyst, clock, kod, world
):
    # One incident every afternoon: at 09:00 the default week must show no change, although
    # today has only nine hours of records while the same day a year earlier is complete.
    clock.move_to("2026-12-10T09:00:00+01:00")
    today = dt.date(2026, 12, 10)
    for days_back in (*range(1, 4), *range(364, 368)):
        _record(kod, world["categories"]["begging"], _local(today - dt.timedelta(days=days_back), 14))
    _record(kod, world["categories"]["begging"], _local(today, 8))  # today so far
    client.force_login(analyst)
    response = client.get("/auswertung/lage/")
    assert "Woche KW 50/2026 (bis Mi 09.12.)" in response.content.decode()
    # Mo 07.–Mi 09.12.2026 against Mo 08.–Mi 10.12.2025: three complete days each.
    assert _page_rows(response.content)["Feststellungen gesamt"][:3] == ["3", "3", "0"]
