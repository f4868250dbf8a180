"""CompStat cockpit page (/auswertung/lage/), its PDF and its XLSX.

The views only parse the GET form and present :mod:`lagebild.analytics.cockpit`. Page, PDF
and XLSX take the same parameters and show the same figures. Invalid parameters never reach
the figures: the form answers them in German at the field with HTTP 400.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from reportlab.platypus import TableStyle

from lagebild.field.forms import DateInput, LagebildForm
from lagebild.ops.db_router import reads_from_replica

from . import documents, selectors
from .cockpit import (
    DEFAULT_DETAIL_WINDOW,
    SEPARATION_NOTE,
    Choropleth,
    CockpitReport,
    CockpitRow,
    DrillRow,
    Figure,
    WeeklySeries,
    WeekPoint,
    build_report,
)
from .documents import number_de, percent_de
from .models import Indicator, IndicatorSet
from .periods import parse_date

EARLIEST_AS_OF = dt.date(2000, 1, 1)
WINDOW_CHOICES = (("week", "Woche"), ("28d", "28 Tage"), ("ytd", "Jahr bis Datum"))
PREFERRED_SET = "wochenlage"
CHOICE_ERROR = "Bitte einen Eintrag aus der Liste wählen."


# --- form ---------------------------------------------------------------------------------


class CockpitForm(LagebildForm):
    area = forms.TypedChoiceField(
        label="Gebiet",
        coerce=int,
        error_messages={
            "invalid_choice": "Dieses Gebiet gibt es nicht.",
            "required": "Bitte ein Gebiet wählen.",
        },
    )
    set = forms.ChoiceField(
        label="Kennzahlen-Set",
        error_messages={
            "invalid_choice": "Dieses Kennzahlen-Set gibt es nicht.",
            "required": "Bitte ein Kennzahlen-Set wählen.",
        },
    )
    date = forms.CharField(
        label="Stand (Datum)",
        required=False,
        max_length=20,
        help_text="Letzter Tag, der zählt. Ohne Angabe: gestern, der letzte vollständige Tag.",
        widget=DateInput(),
    )
    per_100 = forms.BooleanField(
        label="Je 100 Personalstunden",
        required=False,
        help_text="Teilt jede Anzahl durch die Personalstunden der Streifen im selben Gebiet und Zeitraum.",
    )
    indicator = forms.CharField(label="Kennzahl für die Details", required=False, max_length=60)
    window = forms.ChoiceField(
        label="Zeitraum für die Details",
        required=False,
        choices=WINDOW_CHOICES,
        error_messages={"invalid_choice": "Bitte Woche, 28 Tage oder Jahr bis Datum wählen."},
    )

    def __init__(self, *args: Any, sets: list[IndicatorSet] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[int, str]]] = {}
        for choice in selectors.area_choices():
            groups.setdefault(choice.kind_label, []).append((choice.id, choice.name))
        self.fields["area"].choices = list(groups.items())
        self.sets = selectors.indicator_sets() if sets is None else sets
        self.fields["set"].choices = [(s.code, s.name) for s in self.sets]
        set_code = self.data.get("set") if self.is_bound else None
        if set_code not in {s.code for s in self.sets}:
            set_code = None
        self.set_indicators = selectors.indicators_for(set_code) if set_code else []
        self.fields["indicator"].widget = forms.Select(
            choices=[("", "erste Anzahl des Sets")] + [(d.code, d.name) for d in self.set_indicators]
        )

    def clean_date(self) -> dt.date:
        text = self.cleaned_data.get("date") or ""
        today = timezone.localdate()
        if not text.strip():
            return default_as_of()
        try:
            day = parse_date(text, what="Stand")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if day > today:
            raise forms.ValidationError(
                f"Der Stand liegt in der Zukunft; bitte ein Datum bis heute ({today:%d.%m.%Y}) wählen."
            )
        if day < EARLIEST_AS_OF:
            raise forms.ValidationError(f"Der Stand darf nicht vor dem {EARLIEST_AS_OF:%d.%m.%Y} liegen.")
        return day

    def clean_indicator(self) -> str:
        code = (self.cleaned_data.get("indicator") or "").strip()
        if code and not Indicator.objects.filter(code=code, active=True).exists():
            raise forms.ValidationError("Diese Kennzahl gibt es nicht.")
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # A detail indicator left over from another set is not an error: the set's first one is shown.
        if data.get("indicator") and data["indicator"] not in {d.code for d in self.set_indicators}:
            data["indicator"] = ""
        return data


def default_set_code(sets: Sequence[IndicatorSet] | None = None) -> str:
    codes = [s.code for s in (selectors.indicator_sets() if sets is None else sets)]
    if PREFERRED_SET in codes:
        return PREFERRED_SET
    return codes[0] if codes else ""


def default_as_of() -> dt.date:
    """Yesterday, the last complete local day.

    Today has only the hours so far, while the same day a year earlier is complete: with today
    as the Stichtag every morning's week would look like a fall of up to a seventh (and be
    flagged). Today can still be chosen as the Stichtag.
    """
    return timezone.localdate() - dt.timedelta(days=1)


def _bound_form(request: HttpRequest) -> CockpitForm:
    """The form bound to the GET parameters, with defaults for the ones not given."""
    sets = selectors.indicator_sets()
    data = {
        "area": "0",
        "set": default_set_code(sets),
        "date": default_as_of().isoformat(),
        "window": DEFAULT_DETAIL_WINDOW,
    }
    for key in ("area", "set", "date", "per_100", "indicator", "window"):
        if key in request.GET:
            data[key] = request.GET.get(key, "")
    return CockpitForm(data, sets=sets)


def _report(form: CockpitForm) -> CockpitReport | None:
    """The report for a valid form; German errors on the form otherwise."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        report = build_report(
            data["area"],
            data["set"],
            data["date"],
            data["per_100"],
            data.get("indicator") or "",
            data.get("window") or DEFAULT_DETAIL_WINDOW,
            # The form has just read the set and its indicators: no second read of the same rows.
            definitions=form.set_indicators,
            set_name=next(s.name for s in form.sets if s.code == data["set"]),
        )
    except ValueError as exc:
        form.add_error(None, str(exc))
        return None
    # The form shows what the page shows: the detail indicator chosen by default, too.
    form.data = {**form.data, "indicator": report.row.code, "window": report.window.key}
    return report


def _query(report: CockpitReport, **overrides: str) -> str:
    cockpit = report.cockpit
    params = {
        "area": str(cockpit.area_id),
        "set": cockpit.set_code,
        "date": cockpit.as_of.isoformat(),
        "indicator": report.row.code,
        "window": report.window.key,
    }
    if cockpit.per_100_staff_hours:
        params["per_100"] = "on"
    params.update(overrides)
    return urlencode(params)


# --- presentation helpers -----------------------------------------------------------------


def _signed(value: float | None, decimals: int) -> str:
    if value is None:
        return "–"
    if abs(value) < 0.5 * 10**-decimals:
        return number_de(0, decimals)
    return number_de(value, decimals, sign=True)


def figure_cells(figure: Figure, decimals: int) -> dict[str, Any]:
    """The formatted columns of one figure (aktuell, Vorjahr, Δ, %, z, flag)."""
    return {
        "current": number_de(figure.current, decimals),
        "prior": number_de(figure.prior, decimals),
        "delta": _signed(figure.delta, decimals),
        "percent": percent_de(figure.percent),
        "z": _signed(figure.z, 2),
        "flag": figure.flag,
        "symbol": figure.flag_symbol,
        "css": figure.flag_css,
        "flag_label": figure.flag_label,
        "has_z": figure.z is not None,
    }


def cells_html(c: dict[str, Any]) -> str:
    """The five table cells of one figure (current, prior, Δ, %, z with its flag), escaped.

    Built here rather than by a template include: the page has a few hundred of them, and an
    include per cell group cost more than the rest of the page's rendering.
    The flag is a symbol with a spoken label, not colour alone.
    """
    label = escape(c["flag_label"])
    if c["has_z"]:
        symbol = escape(c["symbol"])
        flag = (
            f'<span class="flag" role="img" aria-label="{label}" title="{label}">{symbol}</span> '
            if symbol
            else ""
        )
        z = f"{flag}{escape(c['z'])}"
    else:
        z = f'<span title="{label}">–</span>'
    return (
        f'<td class="num window-start">{escape(c["current"])}</td>'
        f'<td class="num prior">{escape(c["prior"])}</td>'
        f'<td class="num">{escape(c["delta"])}</td><td class="num">{escape(c["percent"])}</td>'
        f'<td class="num z {escape(c["css"])}">{z}</td>'
    )


def _drill_row_html(r: DrillRow, cells: dict[str, Any]) -> SafeString:
    selected = " selected" if r.selected else ""
    total = " (Summe)" if r.kind == "total" else ""
    badge = ' <span class="badge">gewähltes Gebiet</span>' if r.selected else ""
    return mark_safe(  # every value is escaped above
        f'<tr class="drill-{escape(r.kind)}{selected}"><th scope="row">{escape(r.label)}{total}{badge}</th>'
        f"{cells_html(cells)}</tr>\n"
    )


def _drill_rows(rows: Sequence[DrillRow], decimals: int) -> list[dict[str, Any]]:
    result = []
    for r in rows:
        cells = figure_cells(r.figure, decimals)
        result.append(
            {
                "label": r.label,
                "kind": r.kind,
                "key": r.key,
                "selected": r.selected,
                **cells,
                "html": _drill_row_html(r, cells),
            }
        )
    return result


@dataclass(frozen=True)
class PartialWeekMark:
    """The running week in the chart: open circles joined by dotted lines, with a label."""

    label: str  # "laufende Woche, bis 18.11."
    current_point: tuple[float, float] | None
    prior_point: tuple[float, float] | None
    current_link: str  # dotted path from the last whole week to the running week
    prior_link: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class LineChart:
    """Coordinates of a server-rendered SVG line chart (current year solid, prior year dashed).

    The lines join whole weeks only; the running week (cut at the Stichtag) is ``partial``.
    """

    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    current_path: str
    prior_path: str
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    last_point: tuple[float, float] | None  # the newest whole week
    partial: PartialWeekMark | None = None

    @property
    def right(self) -> int:
        return self.left + self.plot_width

    @property
    def bottom(self) -> int:
        return self.top + self.plot_height

    @property
    def label_y(self) -> int:
        return self.bottom + 18

    @property
    def tick_x(self) -> int:
        return self.left - 6


def _nice_maximum(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def line_chart(series: WeeklySeries, decimals: int) -> LineChart:
    width, height, left, right, top, bottom = 760, 280, 56, 16, 14, 44
    plot_width, plot_height = width - left - right, height - top - bottom
    values = [v for v in series.current_values + series.prior_values if v is not None]
    maximum = _nice_maximum(max(values, default=0.0))
    count = len(series.points)
    running = series.partial_point
    whole = count - 1 if running is not None else count  # points joined by the solid lines

    def x(index: int) -> float:
        return round(left + (index * plot_width / max(count - 1, 1)), 1)

    def y(value: float) -> float:
        return round(top + plot_height - value / maximum * plot_height, 1)

    def path(points: Sequence[float | None]) -> str:
        parts, pen_down = [], False
        for index, value in enumerate(points):
            if value is None:
                pen_down = False
                continue
            parts.append(f"{'L' if pen_down else 'M'}{x(index)} {y(value)}")
            pen_down = True
        return " ".join(parts)

    def link(points: Sequence[float | None]) -> str:
        """The dotted segment from the last whole week to the running week."""
        before, last = points[-2] if count > 1 else None, points[-1]
        if before is None or last is None:
            return ""
        return f"M{x(count - 2)} {y(before)} L{x(count - 1)} {y(last)}"

    y_ticks = [
        (y(maximum * i / 4), number_de(maximum * i / 4, decimals if maximum < 10 else 0)) for i in range(5)
    ]
    step = max(1, count // 8)
    x_ticks = [(x(i), series.points[i].label.split("/")[0]) for i in range(count - 1, -1, -step)][::-1]
    current, prior = series.current_values, series.prior_values
    last = current[whole - 1] if whole > 0 else None
    mark = None
    if running is not None:
        ends = [v for v in (running.current, running.prior) if v is not None]
        mark = PartialWeekMark(
            label=running.partial_label,
            current_point=(x(count - 1), y(running.current)) if running.current is not None else None,
            prior_point=(x(count - 1), y(running.prior)) if running.prior is not None else None,
            current_link=link(current),
            prior_link=link(prior),
            label_x=x(count - 1),
            label_y=max(top + 10, min(y(v) for v in ends) - 12) if ends else top + 10,
        )
    return LineChart(
        width, height, left, top, plot_width, plot_height,
        path(current[:whole]), path(prior[:whole]), y_ticks, x_ticks,
        (x(whole - 1), y(last)) if last is not None else None, mark,
    )  # fmt: skip


def _cockpit_rows(report: CockpitReport, links: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    groups = []
    for group in report.cockpit.groups:
        rows = []
        for row in group.rows:
            cells = [figure_cells(f, row.decimals) for f in row.figures]
            rows.append(
                {
                    "row": row,
                    "selected": row.code == report.row.code,
                    "href": links[row.code][0],
                    "hx": links[row.code][1],
                    "cells": cells,
                    "cells_html": mark_safe("".join(cells_html(c) for c in cells)),  # escaped there
                }
            )
        groups.append(
            {"kind": group.kind, "label": group.label, "explanation": group.explanation, "rows": rows}
        )
    return groups


def _map_context(report: CockpitReport) -> dict[str, Any]:
    def legend(choropleth: Choropleth) -> list[tuple[str, str]]:
        return choropleth.legend

    return {
        "map_values": {
            "district": report.district_map.as_json(),
            "focus_area": report.focus_map.as_json(),
            "selected": report.cockpit.area_id,
        },
        "district_legend": legend(report.district_map),
        "focus_legend": legend(report.focus_map),
    }


def _series_row(p: WeekPoint, decimals: int) -> dict[str, Any]:
    row = {
        "label": p.label,
        "monday": p.monday,
        "current": number_de(p.current, decimals),
        "prior_label": p.prior_label,
        "prior_monday": p.prior_monday,
        "prior": number_de(p.prior, decimals),
        "partial": p.partial,
        "partial_label": p.partial_label,
    }
    partial = f", {escape(p.partial_label)} (unvollständig)" if p.partial else ""
    row["html"] = mark_safe(  # every text is escaped
        f'<tr><th scope="row">{escape(p.label)} <span class="muted small">ab {p.monday:%d.%m.}{partial}'
        f'</span></th><td class="num">{escape(row["current"])}</td><td>{escape(p.prior_label)} '
        f'<span class="muted small">ab {p.prior_monday:%d.%m.%Y}</span></td>'
        f'<td class="num">{escape(row["prior"])}</td></tr>'
    )
    return row


def _context(request: HttpRequest, form: CockpitForm, report: CockpitReport | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "form": form,
        "report": report,
        "current": "analytics",
        "separation_note": SEPARATION_NOTE,
        "has_sets": bool(form.sets),
    }
    if report is None:
        return context
    row = report.row
    decimals = row.decimals
    cockpit = report.cockpit
    by_area = report.by_area
    heat_decimals = 0 if row.original.value == "count" else 2
    base = reverse("analytics:cockpit")

    def links(**overrides: str) -> tuple[str, str]:
        """The page link (to the detail section) and the htmx link (the detail section only)."""
        query = _query(report, **overrides)
        return f"{base}?{query}#details", f"{base}?{query}&part=details"

    context.update(
        cockpit=cockpit,
        groups=_cockpit_rows(report, {r.code: links(indicator=r.code) for r in cockpit.rows}),
        staff_hours=[
            (w, number_de(current, 1), number_de(prior, 1))
            for w, (current, prior) in zip(cockpit.windows, cockpit.staff_hours, strict=True)
        ],
        pdf_url=f"{reverse('analytics:cockpit-pdf')}?{_query(report)}",
        xlsx_url=f"{reverse('analytics:cockpit-xlsx')}?{_query(report)}",
        window_links=[
            (key, label, *links(window=key), key == report.window.key) for key, label in WINDOW_CHOICES
        ],
        area_total=_drill_rows([by_area.total], decimals)[0],
        area_districts=_drill_rows(by_area.districts, decimals),
        area_remainder=_drill_rows([by_area.remainder], decimals)[0],
        area_focus=_drill_rows(by_area.focus_areas, decimals),
        area_others=_drill_rows(by_area.others, decimals),
        category_rows=_drill_rows(report.by_category.rows, decimals),
        category_total=_drill_rows([report.by_category.total], decimals)[0],
        series_rows=[_series_row(p, decimals) for p in report.series.points],
        chart=line_chart(report.series, decimals),
        heat_hours=list(range(24)),
        heat_rows=[
            (
                short,
                full,
                mark_safe(  # numbers and levels only
                    "".join(f'<td class="num heat-{n}">{number_de(v, heat_decimals)}</td>' for v, n in cells)
                ),
                number_de(total, heat_decimals),
            )
            for short, full, cells, total in report.heat.rows
        ],
        heat_column_totals=[number_de(v, heat_decimals) for v in report.heat.column_totals],
        heat_total=number_de(report.heat.total, heat_decimals),
        **_map_context(report),
    )
    return context


def _render(request: HttpRequest, form: CockpitForm, report: CockpitReport | None) -> HttpResponse:
    status = 400 if form.errors else 200
    context = _context(request, form, report)
    if getattr(request, "htmx", False) and report is not None and request.GET.get("part") == "details":
        return render(request, "analytics/cockpit_details.html", context, status=status)
    return render(request, "analytics/cockpit.html", context, status=status)


# --- views ----------------------------------------------------------------------------------


@login_required
@permission_required("analytics.view", raise_exception=True)
@reads_from_replica
def cockpit_page(request: HttpRequest) -> HttpResponse:
    form = _bound_form(request)
    if not form.sets:
        return render(request, "analytics/cockpit.html", _context(request, form, None))
    return _render(request, form, _report(form))


def _file_name(report: CockpitReport, extension: str) -> str:
    cockpit = report.cockpit
    year, week, _ = cockpit.as_of.isocalendar()
    area = slugify(cockpit.area_name) or "gebiet"
    return f"lagebild-{area}-kw{week:02d}-{year}.{extension}"


@login_required
@permission_required("analytics.export", raise_exception=True)
@reads_from_replica
def cockpit_pdf(request: HttpRequest) -> HttpResponse:
    form = _bound_form(request)
    report = _report(form) if form.sets else None
    if report is None:
        return _render(request, form, None) if form.errors else _no_sets(request, form)
    return documents.file_response(pdf_bytes(report), _file_name(report, "pdf"), documents.PDF_TYPE)


@login_required
@permission_required("analytics.export", raise_exception=True)
@reads_from_replica
def cockpit_xlsx(request: HttpRequest) -> HttpResponse:
    form = _bound_form(request)
    report = _report(form) if form.sets else None
    if report is None:
        return _render(request, form, None) if form.errors else _no_sets(request, form)
    return documents.file_response(xlsx_bytes(report), _file_name(report, "xlsx"), documents.XLSX_TYPE)


def _no_sets(request: HttpRequest, form: CockpitForm) -> HttpResponse:
    form.add_error(None, "Es sind noch keine Kennzahlen angelegt.")
    return render(request, "analytics/cockpit.html", _context(request, form, None), status=400)


# --- PDF --------------------------------------------------------------------------------------

_FLAG_COLOURS = {3: "#fca5a5", 2: "#fee2e2", -2: "#dbeafe", -3: "#93c5fd"}
PDF_WIDTH_MM = 267  # A4 landscape less the margins


def _pdf_decimals(row: CockpitRow) -> int:
    """Print is narrower than the screen: rates with one decimal, counts and amounts whole."""
    return 1 if row.indicator.per_100_staff_hours else 0


def _pdf_cells(figure: Figure, decimals: int) -> list[str]:
    cells = figure_cells(figure, decimals)
    z = _signed(figure.z, 1) if figure.z is not None else "–"
    if figure.flag:
        z = f"{z} {figure.flag_text}"
    return [cells["current"], cells["prior"], cells["delta"], cells["percent"], z]


def _window_lines(report: CockpitReport) -> list[str]:
    return [
        f"{w.label}: {w.current.dates_label} gegenüber {w.prior.dates_label}" for w in report.cockpit.windows
    ]


def pdf_bytes(report: CockpitReport) -> bytes:
    """A4 landscape: the table with flags, the weekly chart and the drill-downs of one indicator."""
    cockpit = report.cockpit
    row = report.row
    decimals = _pdf_decimals(row)
    story: list = [documents.paragraph(" · ".join(_window_lines(report)), small=True)]
    if cockpit.per_100_staff_hours:
        story.append(
            documents.paragraph(
                "Ansicht je 100 Personalstunden: jede Anzahl geteilt durch die Personalstunden der Streifen "
                "im selben Gebiet und Zeitraum (Beträge und Stunden unverändert).",
                small=True,
            )
        )
    header = ["Kennzahl"]
    for w in cockpit.windows:
        short = {"week": "Woche", "28d": "28 Tage", "ytd": "Jahr"}[w.key]
        header += [short, "Vorjahr", "Δ", "%", "z"]
    rows: list[list[str]] = []
    highlight: dict[tuple[int, int], str] = {}
    group_rows: list[int] = []
    for group in cockpit.groups:
        group_rows.append(len(rows))
        rows.append([group.label] + [""] * (len(header) - 1))
        for r in group.rows:
            cells = [f"{r.indicator.name} ({r.unit})" if r.unit != "Anzahl" else r.indicator.name]
            for index, figure in enumerate(r.figures):
                cells += _pdf_cells(figure, _pdf_decimals(r))
                if figure.flag:
                    highlight[(len(rows), 1 + index * 5 + 4)] = _FLAG_COLOURS[figure.flag]
            rows.append(cells)
    # Sixteen columns on A4 landscape: narrow paddings, and every number column as wide as its widest
    # value ("+42.212 %" must not break); the indicator names take the rest and may wrap.
    widths = documents.fitted_widths_mm(
        header, [r for i, r in enumerate(rows) if i not in group_rows], total_mm=PDF_WIDTH_MM, padding_pt=4
    )
    indicator_table = documents.table(
        header, rows, col_widths_mm=widths, highlight=highlight, bold_rows=group_rows
    )
    narrow = [("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]
    indicator_table.setStyle(TableStyle(narrow))
    story += [
        documents.heading(f"Kennzahlen – {cockpit.set_name}"),
        indicator_table,
        documents.paragraph(
            "z = 2(√aktuell − √Vorjahr), nur für Anzahlen. ++ / −− : |z| ≥ 3 (starke Veränderung), "
            "+ / − : |z| ≥ 2 (auffällig). " + SEPARATION_NOTE,
            small=True,
        ),
    ]
    for note in [w.note for w in cockpit.windows if w.note] + report.notes:
        story.append(documents.paragraph(note, small=True))
    # The running week is left out of the chart (its few days would read as a fall) and given below.
    series = report.series
    whole = series.complete_points
    chart = documents.line_chart(
        [p.label.split("/")[0] for p in whole],
        {
            f"{cockpit.as_of.year}": [p.current or 0 for p in whole],
            "Vorjahr (364 Tage früher)": [p.prior or 0 for p in whole],
        },
        title=f"Wochenreihe: {row.indicator.name} ({row.unit}), {len(whole)} ganze Wochen"
        + (f" bis {whole[-1].label}" if whole else ""),
        width_mm=250,
    )
    chart_block: list = [documents.heading("Wochenreihe"), chart]
    running = series.partial_point
    if running is not None:
        chart_block.append(
            documents.paragraph(
                f"Nicht im Diagramm – {running.partial_note} Wert bisher: "
                f"{number_de(running.current, decimals)}, Vorjahr dieselben Tage: "
                f"{number_de(running.prior, decimals)}.",
                small=True,
            )
        )
    story.append(documents.keep(*chart_block))
    window = report.window
    area_header = ["Gebiet", "aktuell", "Vorjahr", "Δ", "%", "z"]

    def drill_table(drill_rows: Sequence[DrillRow], total_rows: Sequence[DrillRow] = ()) -> Any:
        data = [[r.label, *_pdf_cells(r.figure, decimals)] for r in (*drill_rows, *total_rows)]
        bold = [len(drill_rows)] if total_rows else []
        return documents.table(area_header, data, col_widths_mm=[80, 25, 25, 25, 25, 25], bold_rows=bold)

    by_area = report.by_area
    story += [
        documents.heading(
            f"Nach Stadtbezirk: {row.indicator.name}, {window.label} ({window.current.dates_label})"
        ),
        drill_table(by_area.districts, (by_area.remainder, by_area.total)),
        documents.paragraph(
            "Die Stadtbezirke teilen das Stadtgebiet auf: Bezirke und „ohne Bezirk“ ergeben zusammen das "
            "Stadtgebiet.",
            small=True,
        ),
    ]
    if by_area.focus_areas:
        story += [
            documents.heading("Schwerpunkträume (liegen in den Bezirken, nicht addieren)"),
            drill_table(by_area.focus_areas),
        ]
    category = report.by_category
    story += [
        documents.heading(f"Nach Sachverhalt: {row.indicator.name}, {window.label}"),
        drill_table(category.rows, (category.total,)),
    ]
    return documents.pdf_document(
        cockpit.title, f"Kennzahlen-Set: {cockpit.set_name}", story, landscape_pages=True, stand=cockpit.stand
    )


# --- XLSX -------------------------------------------------------------------------------------

Z_FORMAT = "+0.00;-0.00;0.00"
PERCENT_FORMAT = '+0.0" %";-0.0" %";0" %"'


def _xlsx_values(figure: Figure) -> list[Any]:
    return [figure.current, figure.prior, figure.delta, figure.percent, figure.z, figure.flag_symbol or None]


def xlsx_bytes(report: CockpitReport) -> bytes:
    """Sheets Kennzahlen, Wochenreihe, Gebiete, Stunden and Sachverhalte; numbers stay numbers."""
    cockpit = report.cockpit
    row = report.row
    title = [cockpit.title, cockpit.stand, f"Kennzahlen-Set: {cockpit.set_name}", *_window_lines(report)]
    if cockpit.per_100_staff_hours:
        title.append("Ansicht je 100 Personalstunden (Beträge und Stunden unverändert).")
    header = ["Art", "Kennzahl", "Einheit"]
    formats: dict[int, str] = {}
    for index, w in enumerate(cockpit.windows):
        header += [f"{w.label} aktuell", f"{w.label} Vorjahr", f"{w.label} Δ", f"{w.label} %", f"{w.label} z",
                   f"{w.label} Signal"]  # fmt: skip
        first = 3 + index * 6
        formats.update({first + 3: PERCENT_FORMAT, first + 4: Z_FORMAT})
    indicator_rows = []
    for group in cockpit.groups:
        for r in group.rows:
            values: list[Any] = [group.label, r.indicator.name, r.unit]
            for figure in r.figures:
                values += _xlsx_values(figure)
            indicator_rows.append(values)
    detail_title = [
        cockpit.title,
        cockpit.stand,
        f"Kennzahl: {row.indicator.name} ({row.unit})",
    ]
    series_rows = [
        [
            p.label,
            p.monday,
            p.current,
            p.prior_label,
            p.prior_monday,
            p.prior,
            f"{p.partial_label}, {p.days} von 7 Tagen (unvollständig)" if p.partial else "ganze Woche",
        ]
        for p in report.series.points
    ]
    running = report.series.partial_point
    series_title = [*detail_title, running.partial_note] if running is not None else detail_title
    window = report.window
    area_rows = []
    by_area = report.by_area
    for label, drill_rows in (
        ("Stadtbezirk", by_area.districts),
        ("Rest", (by_area.remainder,)),
        ("Stadtgebiet", (by_area.total,)),
        ("Schwerpunktraum (überschneidet Bezirke)", by_area.focus_areas),
        ("Gewähltes Gebiet", by_area.others),
    ):
        for r in drill_rows:
            area_rows.append([r.label, label, *_xlsx_values(r.figure)])
    category_rows = [
        [r.label, *_xlsx_values(r.figure)] for r in (*report.by_category.rows, report.by_category.total)
    ]
    heat = report.heat
    hour_rows = [
        [full, *cells, total] for (short, full, _, total), cells in zip(heat.rows, heat.cells, strict=True)
    ]
    hour_rows.append(["Summe", *heat.column_totals, heat.total])
    figure_header = ["aktuell", "Vorjahr", "Δ", "%", "z", "Signal"]
    figure_formats = {3: PERCENT_FORMAT, 4: Z_FORMAT}
    window_line = f"{window.label}: {window.current.dates_label} gegenüber {window.prior.dates_label}"
    sheets = [
        documents.Sheet("Kennzahlen", header, indicator_rows, title, formats, {0: 30, 1: 44}),
        documents.Sheet(
            "Wochenreihe",
            ["KW", "Montag", "Wert", "KW Vorjahr", "Montag Vorjahr", "Wert Vorjahr", "Woche"],
            series_rows,
            series_title,
            {},
            {0: 12, 6: 48},
        ),
        documents.Sheet(
            "Gebiete",
            ["Gebiet", "Art", *figure_header],
            area_rows,
            [*detail_title, window_line],
            {k + 2: v for k, v in figure_formats.items()},
            {1: 36},
        ),
        documents.Sheet(
            "Stunden",
            ["Wochentag", *[f"{h} Uhr" for h in range(24)], "Summe"],
            hour_rows,
            [*detail_title, f"28 Tage: {heat.period.dates_label}, Ortszeit; Rohwerte (nicht je 100 Std.)"],
            {},
            {0: 14, **{c: 7 for c in range(1, 25)}},
        ),
        documents.Sheet(
            "Sachverhalte",
            ["Sachverhalt", *figure_header],
            category_rows,
            [*detail_title, window_line],
            {k + 1: v for k, v in figure_formats.items()},
        ),
    ]
    return documents.xlsx_workbook(sheets)
