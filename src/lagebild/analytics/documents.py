"""Shared building blocks for the analytic PDF (ReportLab) and XLSX (XlsxWriter) documents.

Every report looks the same: title, subtitle (area and period), data vintage ("Stand"),
German number formatting, page numbers, and the same table and chart styles.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SERIES_COLOURS = [
    colors.HexColor("#1d4ed8"),
    colors.HexColor("#b45309"),
    colors.HexColor("#047857"),
    colors.HexColor("#b91c1c"),
    colors.HexColor("#6d28d9"),
]

_styles = getSampleStyleSheet()
STYLE_TITLE = ParagraphStyle("lb-title", parent=_styles["Title"], fontSize=16, leading=20, spaceAfter=2 * mm)
STYLE_H2 = ParagraphStyle("lb-h2", parent=_styles["Heading2"], fontSize=12, leading=15, spaceBefore=4 * mm)
STYLE_BODY = ParagraphStyle("lb-body", parent=_styles["BodyText"], fontSize=9, leading=12)
STYLE_LEAD = ParagraphStyle("lb-lead", parent=STYLE_BODY, fontSize=13, leading=17, spaceAfter=1 * mm)
STYLE_SMALL = ParagraphStyle("lb-small", parent=STYLE_BODY, fontSize=7.5, leading=9, textColor=colors.grey)
STYLE_CELL = ParagraphStyle("lb-cell", parent=STYLE_BODY, fontSize=8, leading=10)
STYLE_CELL_RIGHT = ParagraphStyle("lb-cell-r", parent=STYLE_CELL, alignment=TA_RIGHT)


# --- German number formatting -------------------------------------------------------------


def number_de(value: float | int | None, decimals: int = 0, *, sign: bool = False) -> str:
    """``1234.5`` → ``1.234,5``; ``None`` → ``–``."""
    if value is None:
        return "–"
    text = f"{value:+,.{decimals}f}" if sign else f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent_de(value: float | None, decimals: int = 0) -> str:
    return "–" if value is None else f"{number_de(value, decimals, sign=True)} %"


def date_de(day: dt.date) -> str:
    return f"{day:%d.%m.%Y}"


def stand_de(at: dt.datetime | None = None) -> str:
    """The data vintage shown on every page and document."""
    at = timezone.localtime(at or timezone.now())
    return f"Stand: {at:%d.%m.%Y, %H:%M} Uhr"


# --- PDF ------------------------------------------------------------------------------------


def heading(text: str) -> Paragraph:
    return Paragraph(escape(text), STYLE_H2)


def paragraph(text: str, *, small: bool = False) -> Paragraph:
    return Paragraph(escape(text), STYLE_SMALL if small else STYLE_BODY)


def lead(text: str, colour: str | None = None) -> Paragraph:
    """A large bold line (a result's headline), in ``colour`` when given."""
    style = STYLE_LEAD if colour is None else ParagraphStyle("lb-lead-c", parent=STYLE_LEAD, textColor=colour)
    return Paragraph(f"<b>{escape(text)}</b>", style)


def spacer(height_mm: float = 3) -> Spacer:
    return Spacer(1, height_mm * mm)


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    col_widths_mm: Sequence[float] | None = None,
    right_from: int = 1,
    highlight: Mapping[tuple[int, int], str] | None = None,
    bold_rows: Sequence[int] = (),
) -> Table:
    """A zebra table; columns from ``right_from`` are right-aligned (numbers).

    ``highlight`` maps (row, column) of ``rows`` to a background colour, e.g. for flagged changes.
    """

    def cell(value: object, column: int) -> Paragraph:
        style = STYLE_CELL_RIGHT if column >= right_from else STYLE_CELL
        return Paragraph(escape(str(value)), style)

    data = [[Paragraph(f"<b>{escape(h)}</b>", STYLE_CELL) for h in header]]
    data += [[cell(v, c) for c, v in enumerate(row)] for row in rows]
    widths = [w * mm for w in col_widths_mm] if col_widths_mm else None
    result = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    commands: list[tuple] = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#374151")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    for r in range(1, len(data)):
        if r % 2 == 0:
            commands.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f9fafb")))
    for (r, c), colour in (highlight or {}).items():
        commands.append(("BACKGROUND", (c, r + 1), (c, r + 1), colors.HexColor(colour)))
    for r in bold_rows:
        commands.append(("LINEABOVE", (0, r + 1), (-1, r + 1), 0.6, colors.HexColor("#374151")))
    result.setStyle(TableStyle(commands))
    return result


def fitted_widths_mm(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    total_mm: float,
    flexible: int = 0,
    min_flexible_mm: float = 35,
    padding_pt: float = 12,
) -> list[float]:
    """Column widths for :func:`table` that keep every cell except the ``flexible`` column on one line.

    Each column is as wide as its widest cell (header in bold) plus ``padding_pt`` (left + right
    padding of the table); the ``flexible`` column (e.g. names, which may wrap) gets the rest of
    ``total_mm``. Numbers such as "+42.212 %" then never break inside a cell.
    """
    size = STYLE_CELL.fontSize
    needed = [stringWidth(str(text), "Helvetica-Bold", size) for text in header]
    for row in rows:
        for column, value in enumerate(row):
            needed[column] = max(needed[column], stringWidth(str(value), STYLE_CELL.fontName, size))
    widths = [(width + padding_pt + 1) / mm for width in needed]
    rest = total_mm - sum(w for column, w in enumerate(widths) if column != flexible)
    widths[flexible] = max(rest, min_flexible_mm)
    return widths


def _axis_label(value: float) -> str:
    return number_de(value, 0 if float(value).is_integer() else 1)


def _legend(drawing: Drawing, names: Sequence[str], x: float, y: float) -> None:
    """A one-line legend starting at the left edge, spaced by the longest name."""
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontSize = 7
    legend.columnMaximum = 1
    legend.alignment = "right"  # swatch left of the text
    legend.deltax = max(len(n) for n in names) * 3.6 + 24
    legend.colorNamePairs = [(SERIES_COLOURS[i % len(SERIES_COLOURS)], n) for i, n in enumerate(names)]
    drawing.add(legend)


def bar_chart(
    labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str = "", width_mm: float = 170
) -> Drawing:
    """Grouped vertical bars, one colour per series."""
    width, height = width_mm * mm, 62 * mm
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 32, 28, width - 45, height - 58
    chart.data = [list(v) or [0] for v in series.values()] or [[0]]
    chart.categoryAxis.categoryNames = list(labels)
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 30 if len(labels) > 8 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 8 else "n"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = _axis_label
    for i in range(len(chart.data)):
        chart.bars[i].fillColor = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    if title:
        drawing.add(String(0, height - 10, title, fontSize=9, fontName="Helvetica-Bold"))
    if len(series) > 1:
        _legend(drawing, list(series), 32, height - 16)
    return drawing


def line_chart(
    labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str = "", width_mm: float = 170
) -> Drawing:
    """Lines over a category axis (weeks, days), one colour per series; every n-th label shown."""
    width, height = width_mm * mm, 62 * mm
    drawing = Drawing(width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 32, 22, width - 45, height - 52
    chart.data = [list(v) or [0] for v in series.values()] or [[0]]
    step = max(1, len(labels) // 12)
    chart.categoryAxis.categoryNames = [label if i % step == 0 else "" for i, label in enumerate(labels)]
    chart.categoryAxis.labels.fontSize = 6.5
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = _axis_label
    for i in range(len(chart.data)):
        chart.lines[i].strokeColor = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        chart.lines[i].strokeWidth = 1.4
    drawing.add(chart)
    if title:
        drawing.add(String(0, height - 10, title, fontSize=9, fontName="Helvetica-Bold"))
    if len(series) > 1:
        _legend(drawing, list(series), 32, height - 16)
    return drawing


def keep(*flowables: Flowable) -> KeepTogether:
    return KeepTogether(list(flowables))


def pdf_document(
    title: str, subtitle: str, story: Sequence[Flowable], *, landscape_pages: bool = False, stand: str = ""
) -> bytes:
    """Render a report with title block, footer (city, data vintage, page number) and ``story``."""
    buffer = io.BytesIO()
    pagesize = landscape(A4) if landscape_pages else A4
    stand = stand or stand_de()
    footer = f"Lagebild {settings.CITY_NAME} · {title} · {stand}"

    def on_page(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(15 * mm, 9 * mm, footer)
        canvas.drawRightString(pagesize[0] - 15 * mm, 9 * mm, f"Seite {document.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=f"Lagebild {settings.CITY_NAME}",
        lang="de-DE",
    )
    head = [
        Paragraph(escape(title), STYLE_TITLE),
        paragraph(subtitle),
        paragraph(stand, small=True),
        spacer(2),
    ]
    document.build(head + list(story), onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


# --- XLSX -----------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One worksheet: a title block, a header row and data rows (numbers stay numbers)."""

    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    title_lines: Sequence[str] = ()
    number_formats: Mapping[int, str] = field(default_factory=dict)  # column → Excel format
    column_widths: Mapping[int, float] = field(default_factory=dict)


def xlsx_workbook(sheets: Sequence[Sheet]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True})
    bold = workbook.add_format({"bold": True})
    header_format = workbook.add_format({"bold": True, "bg_color": "#E5E7EB", "bottom": 1, "text_wrap": True})
    date_format = workbook.add_format({"num_format": "dd.mm.yyyy"})
    formats = {}
    for sheet in sheets:
        worksheet = workbook.add_worksheet(sheet.name[:31])
        row = 0
        for line in sheet.title_lines:
            worksheet.write(row, 0, line, bold if row == 0 else None)
            row += 1
        if sheet.title_lines:
            row += 1
        worksheet.write_row(row, 0, list(sheet.header), header_format)
        worksheet.freeze_panes(row + 1, 0)
        first_data = row + 1
        for values in sheet.rows:
            row += 1
            for column, value in enumerate(values):
                number_format = sheet.number_formats.get(column)
                if isinstance(value, dt.date):
                    worksheet.write_datetime(row, column, dt.datetime.combine(value, dt.time()), date_format)
                elif value is None:
                    worksheet.write_blank(row, column, None)
                elif number_format and isinstance(value, int | float):
                    fmt = formats.setdefault(
                        number_format, workbook.add_format({"num_format": number_format})
                    )
                    worksheet.write_number(row, column, value, fmt)
                else:
                    worksheet.write(row, column, value)
        if sheet.rows:
            worksheet.autofilter(first_data - 1, 0, row, max(len(sheet.header) - 1, 0))
        for column in range(len(sheet.header)):
            worksheet.set_column(column, column, sheet.column_widths.get(column, 14 if column else 34))
    workbook.close()
    return buffer.getvalue()


def file_response(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
